# `make app` and `make test` do all the set-up on a fresh machine: they create
# .venv if needed and install the project (and its test tools) into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# torch 2.13: pip takes its CPU build where it finds one (a local wheel folder, or
# PyTorch's CPU index): 0.9 GB installed, against 5.5 GB for the CUDA build that
# plain PyPI gives on Linux and handwrite, which runs on the CPU, never uses.
# `make TORCH=torch` takes the newest release instead.
TORCH ?= torch==2.13.*

.PHONY: app test lint install clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' '$(TORCH)'
	touch $(STAMP)

install: $(STAMP)

app: $(STAMP)
	$(VENV)/bin/handwrite gui

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

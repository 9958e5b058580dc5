"""The import boundary (issue 18): recognition never loads training code, data
synthesis, fonts, torchvision or matplotlib; `handwrite --help` and `--version`
load no torch at all. Each check runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TRAINING_ONLY = ("torchvision", "matplotlib", "HersheyFonts", "wordfreq", "handwrite.training")
# `train --help` and `finetune --help` make their flags from these plain dataclasses (no
# torch, no numpy): loaded only when one of those commands is run.
CLI_OPTIONS = ["handwrite.training", "handwrite.training.options"]


def modules_after(code: str) -> set[str]:
    """The names in sys.modules after running code in a fresh interpreter."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def modules_after_command(*args: str) -> set[str]:
    """The names in sys.modules after `handwrite ARGS` exits 0 (run in-process, so
    nothing the command line's own start loads is missed)."""
    return modules_after(
        "import contextlib, io\n"
        "from handwrite.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        code = main({list(args)!r})\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code\n"
        "assert code == 0, code\n"
    )


def loaded(modules: set[str], prefix: str) -> list[str]:
    return sorted(m for m in modules if m == prefix or m.startswith(prefix + "."))


def test_import_handwrite_loads_no_training_code():
    modules = modules_after("import handwrite")
    for prefix in TRAINING_ONLY:
        assert not loaded(modules, prefix), f"import handwrite loaded {loaded(modules, prefix)}"


def test_recognizing_ink_and_an_image_loads_no_training_code():
    modules = modules_after(
        "import handwrite\n"
        "ink = handwrite.read_ink('data/ink/hello-world.inkml')\n"
        "assert handwrite.load_model().recognize(ink).text\n"
        "assert handwrite.load_model(kind='image').recognize('data/images/hello-world.png').text\n"
    )
    for prefix in TRAINING_ONLY:
        assert not loaded(modules, prefix), f"recognition loaded {loaded(modules, prefix)}"


def test_transcribe_command_loads_no_training_code():
    modules = modules_after_command(
        "transcribe", "--workers", "1", "data/ink/hello-world.inkml", "data/images/hello-world.png"
    )
    for prefix in TRAINING_ONLY:
        assert not loaded(modules, prefix), f"handwrite transcribe loaded {loaded(modules, prefix)}"


def test_help_and_version_load_no_torch():
    for option in ("--help", "--version"):
        modules = modules_after_command(option)
        for heavy in ("torch", "numpy", "PIL", "handwrite.training"):
            assert not loaded(modules, heavy), f"handwrite {option} loaded {heavy}"


def test_the_help_of_each_command_loads_no_torch():
    """A command's flags come from torch-free option dataclasses; training's only for train
    and finetune."""
    for command in ("transcribe", "eval", "train", "finetune", "gui"):
        modules = modules_after_command(command, "--help")
        for heavy in ("torch", "numpy", "PIL", "PyQt6"):
            assert not loaded(modules, heavy), f"handwrite {command} --help loaded {heavy}"
        training = CLI_OPTIONS if command in ("train", "finetune") else []
        assert loaded(modules, "handwrite.training") == training, command


def test_training_commands_still_parse():
    """train and finetune load their code only when they run, yet their options are all there."""
    done = subprocess.run(
        [sys.executable, "-m", "handwrite", "train", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert (done.returncode == 0 and "--epochs" in done.stdout) or "--steps" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "handwrite", "finetune", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "--holdout" in done.stdout


def test_the_app_uses_only_the_librarys_public_api():
    """gui/ imports `handwrite` itself, never its modules (DESIGN: the GUI is a thin layer)."""
    import ast

    for path in sorted((ROOT / "gui").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            inside = [name for name in names if name.startswith("handwrite.")]
            assert not inside, f"{path.name}:{node.lineno} imports {inside}"

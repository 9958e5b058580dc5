"""Batch transcription: files and folders in, one result per input out, in
input order. One bad file never stops the others."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from handwrite.errors import HandwriteError
from handwrite.fileio import atomic_write_text
from handwrite.formats import IMAGE_SUFFIXES, INK_SUFFIXES, read_ink
from handwrite.formats.images import read_image
from handwrite.ink import Ink
from handwrite.recognizer import Recognizer, Result, load_model

INPUT_SUFFIXES = INK_SUFFIXES + IMAGE_SUFFIXES

CHUNK = 64  # inputs read and recognized together
PROGRESS_THRESHOLD = 20  # show a progress bar from this many inputs
PARALLEL_THRESHOLD = 200  # use worker processes from this many inputs


@dataclass(frozen=True)
class Item:
    path: Path
    result: Result | None = None
    error: str | None = None

    def record(self) -> dict:
        if self.error is not None:
            return {"path": str(self.path), "error": self.error}
        assert self.result is not None
        return {"path": str(self.path), "text": self.result.text, "confidence": round(self.result.confidence, 4)}


def collect_inputs(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, Path]]:
    """(input file, the root it was found under) for every file and folder given."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            found += [(p, path) for p in files]
        else:  # a missing or odd file still gets its own error line
            found.append((path, path.parent))
    return found


class ModelChoice:
    """Which model reads which input: ink to the ink model and images to the
    image model (the bundled ones, loaded when first needed), or everything to
    the one model `-m` names."""

    def __init__(self, model_path: str | None = None, decoding: dict | None = None, model: Recognizer | None = None):
        self.model_path, self.decoding = model_path, decoding or {}
        self.loaded: dict[str, Recognizer] = {}
        if model is not None:
            self.loaded[model.kind if model_path is None else "named"] = model

    def for_kind(self, kind: str) -> Recognizer:
        if self.model_path is not None:
            if "named" not in self.loaded:
                self.loaded["named"] = load_model(self.model_path, **self.decoding)
            model = self.loaded["named"]
            if model.kind != kind:
                raise HandwriteError(f"{self.model_path} is an {model.kind} model; it cannot read {kind} input")
            return model
        if kind not in self.loaded:
            self.loaded[kind] = load_model(kind=kind, **self.decoding)
        return self.loaded[kind]


def input_kind(path: Path) -> str:
    return "image" if path.suffix.lower() in IMAGE_SUFFIXES else "ink"


def transcribe_files(
    files: Sequence[Path],
    model: Recognizer | None = None,
    model_path: str | None = None,
    workers: int = 1,
    decoding: dict | None = None,
) -> Iterator[Item]:
    """Results in input order. With workers > 1 each worker process loads its models."""
    chunks = [list(files[i : i + CHUNK]) for i in range(0, len(files), CHUNK)]
    if workers <= 1:
        models = ModelChoice(model_path, decoding, model)
        for chunk in chunks:
            yield from _transcribe_chunk(models, chunk)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(model_path, decoding or {})) as pool:
        for items in pool.imap(_worker_chunk, chunks):
            yield from items


def _transcribe_chunk(models: ModelChoice, paths: list[Path]) -> list[Item]:
    inputs: dict[Path, Ink | Image.Image] = {}
    errors: dict[Path, str] = {}
    for path in paths:
        try:
            inputs[path] = _read_input(path)
        except HandwriteError as exc:
            errors[path] = str(exc)
        except Exception as exc:
            errors[path] = f"{path}: unexpected error reading file ({type(exc).__name__}: {exc})"
    results: dict[Path, Result] = {}
    for kind in ("ink", "image"):
        group = [path for path in inputs if input_kind(path) == kind]
        if not group:
            continue
        try:
            model = models.for_kind(kind)
            results.update(zip(group, model.recognize_batch([inputs[p] for p in group]), strict=True))
        except HandwriteError as exc:
            errors.update({p: str(exc) if str(p) in str(exc) else f"{p}: {exc}" for p in group})
    return [Item(p, results.get(p), errors.get(p)) for p in paths]


def _read_input(path: Path) -> Ink | Image.Image:
    if input_kind(path) == "ink":
        return read_ink(path)
    image = read_image(path)
    image.info["source"] = str(path)
    return image


_worker_models: ModelChoice | None = None


def _init_worker(model_path: str | None, decoding: dict) -> None:
    import torch

    torch.set_num_threads(1)
    global _worker_models
    _worker_models = ModelChoice(model_path, decoding)


def _worker_chunk(paths: list[Path]) -> list[Item]:
    assert _worker_models is not None
    return _transcribe_chunk(_worker_models, paths)


# ---- the command -------------------------------------------------------------


def run_transcribe(args: argparse.Namespace) -> int:
    inputs = collect_inputs(args.paths)
    if not inputs:
        print("handwrite: error: no ink files or images found in the given folders", file=sys.stderr)
        return 1
    files = [path for path, _ in inputs]
    decoding = {"beam_size": args.beam, "language_model": args.lm}
    # fail early, once, on a bad model named with -m; bundled models load when needed
    model = load_model(args.model, **decoding) if args.model else None
    workers = args.workers or (min(2, os.cpu_count() or 1) if len(files) >= PARALLEL_THRESHOLD else 1)
    items = transcribe_files(files, model if workers <= 1 else None, args.model, workers, decoding)
    writer = OutputWriter(args.format, Path(args.output_dir) if args.output_dir else None, len(files) > 1)
    failed = False
    progress = _progress(len(files), args.no_progress)
    for item, (_, root) in zip(items, inputs, strict=True):
        failed |= item.error is not None
        if item.error is not None:
            _report_error(item.error, progress)
        writer.add(item, root)
        if progress:
            progress.update(1)
    if progress:
        progress.close()
    writer.close()
    return 1 if failed else 0


def _progress(total: int, disabled: bool):
    if disabled or total < PROGRESS_THRESHOLD:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True)


def _report_error(message: str, progress: object) -> None:
    line = f"handwrite: {message}"
    if progress is not None:
        progress.write(line, file=sys.stderr)  # type: ignore[attr-defined]
    else:
        print(line, file=sys.stderr)


class OutputWriter:
    """txt, json, jsonl or csv, to stdout or to files in an output folder."""

    def __init__(self, fmt: str, output_dir: Path | None, many: bool) -> None:
        self.fmt, self.output_dir, self.many = fmt, output_dir, many
        self.records: list[dict] = []
        self.csv_rows = io.StringIO()
        self.csv = csv.writer(self.csv_rows, lineterminator="\n")
        self.csv.writerow(["path", "text", "confidence", "error"])

    def add(self, item: Item, root: Path) -> None:
        record = item.record()
        if self.fmt == "csv":
            self.csv.writerow(
                [record["path"], record.get("text", ""), record.get("confidence", ""), record.get("error", "")]
            )
        if self.output_dir is not None:
            if self.fmt in ("txt", "json") and item.result is not None:
                self._write_file(item, root)
            elif self.fmt in ("jsonl", "json"):
                self.records.append(record)
            return
        if self.fmt == "jsonl":
            print(json.dumps(record, ensure_ascii=False), flush=True)
        elif self.fmt == "txt" and item.result is not None:
            print(f"{item.path}\t{item.result.text}" if self.many else item.result.text, flush=True)
        elif self.fmt == "json":
            self.records.append(_full_record(item))

    def _write_file(self, item: Item, root: Path) -> None:
        assert self.output_dir is not None and item.result is not None
        try:
            relative = item.path.relative_to(root)
        except ValueError:
            relative = Path(item.path.name)
        target = self.output_dir / relative.with_suffix("." + self.fmt)
        content = item.result.text + "\n" if self.fmt == "txt" else json.dumps(_full_record(item), indent=2)
        atomic_write_text(target, content)

    def close(self) -> None:
        if self.fmt == "csv":
            self._emit("results.csv", self.csv_rows.getvalue())
        elif self.fmt == "jsonl" and self.output_dir is not None:
            self._emit("results.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.records))
        elif self.fmt == "json" and self.output_dir is None:
            print(json.dumps(self.records, indent=2, ensure_ascii=False))
        elif self.fmt == "json" and self.records:  # failures, beside the per-file results
            self._emit("errors.json", json.dumps(self.records, indent=2, ensure_ascii=False))

    def _emit(self, name: str, content: str) -> None:
        if self.output_dir is None:
            sys.stdout.write(content)
        else:
            atomic_write_text(self.output_dir / name, content)


def _full_record(item: Item) -> dict:
    record = item.record()
    if item.result is not None:
        record["alternatives"] = [
            {"text": a.text, "confidence": round(a.confidence, 4)} for a in item.result.alternatives
        ]
        record["words"] = [{"text": w.text, "confidence": round(w.confidence, 4)} for w in item.result.words]
    return record

"""Batch transcription: files and folders in, one result per input out, in
input order. One bad file never stops the others, nor does a worker process
that dies (killed, out of memory): its files are reported as failed and the
batch goes on.

Output goes through one writer per format (`WRITERS`: txt, json, jsonl, csv,
pdf), to stdout or, with `-o`, to files in an output folder (`OutputFolder`):
one file per input named after the whole input name (`note.inkml.txt`,
`note.png.txt`), each root given mirrored under its own name when there are
several, and never over a file this run did not write: per-input files that
already exist stop the run before it starts (unless `--overwrite`; an input
file is never replaced), and a results file that exists gets the next free
name (`results-2.jsonl`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from handwrite.cli import UsageError, max_workers
from handwrite.errors import HandwriteError
from handwrite.fileio import atomic_path, atomic_write_text, remove_stale_temporaries
from handwrite.formats import IMAGE_SUFFIXES, INK_SUFFIXES, read_ink
from handwrite.formats.images import read_image
from handwrite.ink import Ink
from handwrite.recognizer import Recognizer, load_model
from handwrite.results import Result, rounded_confidence

INPUT_SUFFIXES = INK_SUFFIXES + IMAGE_SUFFIXES

CHUNK = 64  # inputs read and recognized together
PROGRESS_THRESHOLD = 20  # show a progress bar from this many inputs
PARALLEL_THRESHOLD = 200  # use worker processes from this many inputs
MAX_FOLDER_DEPTH = 100  # folders below this many levels are not searched (an error says so)

WORKER_DIED = "worker process died (killed? out of memory?) while reading this file's batch of {n}; not transcribed"


# ---- inputs -------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """An input found: a file, the root (PATH argument) it was found under, or a
    folder that could not be searched, with the error."""

    path: Path
    root: Path
    error: str | None = None


def collect_inputs(paths: Sequence[str | os.PathLike[str]], skip: Path | None = None) -> list[Source]:
    """Every file given, and every ink file or image in the folders given (searched
    recursively, each root's files sorted); folders that cannot be searched come as
    errors. ``skip``: a folder not to search (the output folder)."""
    skipped = _identity(skip) if skip is not None else None
    found: list[Source] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(_walk(path, skipped), key=lambda source: source.path)
        else:  # a missing or odd file still gets its own error line
            found.append(Source(path, path.parent))
    return found


def _walk(root: Path, skipped: tuple[int, int] | None) -> Iterator[Source]:
    """Files with an input suffix under ``root`` (any kind but folders: a FIFO or a
    broken link named like ink gets its error from the reader), without recursion,
    at most MAX_FOLDER_DEPTH deep, each folder once (links may loop)."""
    seen: set[tuple[int, int]] = set()
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            identity = _identity(folder)
            if identity in seen or (depth > 0 and identity == skipped):
                continue
            seen.add(identity)
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError as exc:
            yield Source(folder, root, f"{_shown(folder)}: folder not searched ({exc.strerror or exc})")
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                is_folder = entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder and depth + 1 > MAX_FOLDER_DEPTH:
                yield Source(path, root, f"{_shown(path)}: more than {MAX_FOLDER_DEPTH} folders deep; not searched")
            elif is_folder:
                stack.append((path, depth + 1))
            elif path.suffix.lower() in INPUT_SUFFIXES:
                yield Source(path, root)


def _identity(folder: Path) -> tuple[int, int]:
    info = os.stat(folder)
    return info.st_dev, info.st_ino


# ---- transcription --------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    path: Path
    result: Result | None = None
    error: str | None = None
    source: Ink | Image.Image | None = None  # what was read, for writers that draw it (pdf)

    def record(self) -> dict:
        """The jsonl/csv record: path, text, confidence; or path, error."""
        if self.error is not None:
            return {"path": _shown(self.path), "error": _printable(self.error)}
        assert self.result is not None
        return {
            "path": _shown(self.path),
            "text": self.result.text,
            "confidence": rounded_confidence(self.result.confidence),
        }


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
    keep_sources: bool = False,
) -> Iterator[Item]:
    """Results in input order. With workers > 1 each worker process loads its models;
    a worker that dies fails its files, not the batch."""
    chunks = [list(files[i : i + CHUNK]) for i in range(0, len(files), CHUNK)]
    if workers <= 1:
        models = ModelChoice(model_path, decoding, model)
        for chunk in chunks:
            yield from _transcribe_chunk(models, chunk, keep_sources)
        return
    yield from _transcribe_in_workers(chunks, workers, (model_path, decoding or {}, keep_sources))


def _transcribe_in_workers(chunks: list[list[Path]], workers: int, setup: tuple) -> Iterator[Item]:
    """Chunks through a pool of `workers` spawned processes, results in order.

    When a worker dies, the pool breaks and every chunk in flight with it; a chunk
    that was alone in flight is reported as failed, the others are run again one at a
    time in a new pool (so the one that kills its worker is found), then the rest as
    before."""
    context = multiprocessing.get_context("spawn")
    queue = deque(range(len(chunks)))  # chunks not yet run
    suspects: deque[int] = deque()  # in flight when a worker died: run alone
    done: dict[int, list[Item]] = {}
    running: dict[Future, int] = {}
    window = 4 * workers  # chunks done ahead of the one to yield next, at most
    pool: ProcessPoolExecutor | None = None
    next_chunk = 0
    try:
        while next_chunk < len(chunks):
            if next_chunk in done:
                yield from done.pop(next_chunk)
                next_chunk += 1
                continue
            if pool is None:
                pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=setup)
            pool_broke = False
            try:
                if suspects:
                    if not running:
                        index = suspects.popleft()
                        running[pool.submit(_worker_chunk, chunks[index])] = index
                else:
                    while queue and len(running) < workers and queue[0] < next_chunk + window:
                        index = queue.popleft()
                        running[pool.submit(_worker_chunk, chunks[index])] = index
            except BrokenProcessPool:  # a worker died since the last wait; this chunk was not sent
                (suspects if suspects else queue).appendleft(index)
                pool_broke = True
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = []
            for future in finished:
                index = running.pop(future)
                try:
                    done[index] = future.result()
                except BrokenProcessPool:
                    broken.append(index)
            if broken or pool_broke:
                for future, index in running.items():  # a broken pool fails all it holds
                    try:
                        done[index] = future.result()
                    except BrokenProcessPool:
                        broken.append(index)
                running.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None
                if len(broken) == 1:
                    done[broken[0]] = _died(chunks[broken[0]])
                else:
                    suspects.extend(sorted(broken))
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _died(paths: list[Path]) -> list[Item]:
    message = WORKER_DIED.format(n=len(paths))
    return [Item(path, error=f"{path}: {message}") for path in paths]


def _transcribe_chunk(models: ModelChoice, paths: list[Path], keep_sources: bool = False) -> list[Item]:
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
        except HandwriteError as exc:  # no model for these inputs: each of them fails
            errors.update({p: str(exc) if str(p) in str(exc) else f"{p}: {exc}" for p in group})
            continue
        except Exception as exc:
            errors.update({p: f"{p}: could not load the {kind} model ({type(exc).__name__}: {exc})" for p in group})
            continue
        try:
            read: list[Result | None] = list(model.recognize_batch([inputs[p] for p in group]))
        except Exception as exc:  # one input the network cannot take must not fail the batch
            read = _one_by_one(model, group, inputs, errors, exc)
        for path, result in zip(group, read, strict=True):
            if result is None:
                continue
            if math.isfinite(result.confidence):
                results[path] = result
            else:
                errors[path] = f"{path}: the model gave scores that are not numbers (is the model file damaged?)"
    return [
        Item(p, results.get(p), errors.get(p), inputs.get(p) if keep_sources and p in results else None) for p in paths
    ]


def _one_by_one(
    model: Recognizer, group: list[Path], inputs: dict, errors: dict[Path, str], first: Exception
) -> list[Result | None]:
    """After a batch failed with an unexpected error: each input alone, so only the
    culprit fails."""
    if len(group) == 1:
        errors[group[0]] = _recognition_failed(group[0], first)
        return [None]
    read: list[Result | None] = []
    for path in group:
        try:
            read.append(model.recognize_batch([inputs[path]])[0])
        except Exception as exc:
            errors[path] = _recognition_failed(path, exc)
            read.append(None)
    return read


def _recognition_failed(path: Path, exc: Exception) -> str:
    if isinstance(exc, HandwriteError):  # says what went wrong already
        return str(exc) if str(path) in str(exc) else f"{path}: {exc}"
    return f"{path}: recognition failed ({type(exc).__name__}: {exc})"


def _read_input(path: Path) -> Ink | Image.Image:
    if input_kind(path) == "ink":
        return read_ink(path)
    image = read_image(path)
    image.info["source"] = str(path)
    return image


_worker_models: ModelChoice | None = None
_worker_keep_sources = False
_worker_failure: str | None = None


def _init_worker(model_path: str | None, decoding: dict, keep_sources: bool) -> None:
    """Never raises: a failing initializer would look like a dead worker; the failure
    is reported for each file instead."""
    global _worker_models, _worker_keep_sources, _worker_failure
    try:
        import torch

        torch.set_num_threads(1)
        _worker_models = ModelChoice(model_path, decoding)
        _worker_keep_sources = keep_sources
    except Exception as exc:
        _worker_failure = f"worker process could not start ({type(exc).__name__}: {exc})"


def _worker_chunk(paths: list[Path]) -> list[Item]:
    if _worker_models is None:
        return [Item(path, error=f"{path}: {_worker_failure}") for path in paths]
    return _transcribe_chunk(_worker_models, paths, _worker_keep_sources)


# ---- the command -------------------------------------------------------------


def run_transcribe(args: argparse.Namespace) -> int:
    writer_class = WRITERS[args.format]
    output_dir = Path(args.output_dir) if args.output_dir else None
    writer_class.check(output_dir)
    if output_dir is not None and os.path.lexists(output_dir) and not output_dir.is_dir():
        raise UsageError(f"{output_dir}: not a folder (-o names the folder to write into)")
    sources = collect_inputs(args.paths, skip=output_dir if output_dir is not None and output_dir.is_dir() else None)
    if not sources:
        raise UsageError(f"no ink files or images found in {', '.join(map(_shown, map(Path, args.paths)))}")
    folder = OutputFolder(output_dir, sources, getattr(args, "overwrite", False)) if output_dir else None
    writer = writer_class(folder, many=len(sources) > 1)
    if folder is not None:
        folder.check_targets(writer.per_input_suffix)
    decoding = {"beam_size": args.beam, "language_model": args.lm}
    # fail early, once, on a bad model named with -m; bundled models load when needed
    model = load_model(args.model, **decoding) if args.model else None
    readable = [source.path for source in sources if source.error is None]
    workers = args.workers or (min(2, max_workers()) if len(readable) >= PARALLEL_THRESHOLD else 1)
    results = transcribe_files(
        readable, model if workers <= 1 else None, args.model, workers, decoding, writer.needs_sources
    )
    failed = False
    progress = _progress(len(sources), args.no_progress)
    for source in sources:
        item = Item(source.path, error=source.error) if source.error is not None else next(results)
        write_error = writer.add(item, source.root)
        error = item.error or write_error
        if error is not None:
            failed = True
            _report_error(error, progress)
        if progress:
            progress.update(1)
    if progress:
        progress.close()
    writer.close()
    if folder is not None:
        print(f"handwrite: {folder.summary()}", file=sys.stderr)
    return 1 if failed else 0


def _progress(total: int, disabled: bool):
    if disabled or total < PROGRESS_THRESHOLD:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True)


def _report_error(message: str, progress: object) -> None:
    line = f"handwrite: {_printable(message)}"
    if progress is not None:
        progress.write(line, file=sys.stderr)  # type: ignore[attr-defined]
    else:
        print(line, file=sys.stderr)


# ---- where output goes -------------------------------------------------------------


class OutputFolder:
    """The `-o` folder: per-input names, no overwriting, what was written.

    An input's file is named after the input's whole name plus the format's suffix,
    at the input's place under its root; with several roots each is mirrored under
    its own name (`a/`, `b/`, `b-2/` for a second root named b)."""

    def __init__(self, folder: Path, sources: Sequence[Source], overwrite: bool = False) -> None:
        self.folder, self.overwrite = folder, overwrite
        self.inputs = {_key(source.path) for source in sources if source.error is None}
        roots = list(dict.fromkeys(source.root for source in sources))
        self.places: dict[Path, Path] = {roots[0]: folder} if len(roots) == 1 else {}
        taken: set[str] = set()
        for root in roots if len(roots) > 1 else ():
            label = root.name or Path(os.path.abspath(root)).name or "root"
            name, n = label, 1
            while name in taken:
                n += 1
                name = f"{label}-{n}"
            taken.add(name)
            self.places[root] = folder / name
        self.sources = [source for source in sources if source.error is None]
        self.written: list[Path] = []  # in the order written
        self.run_files: list[Path] = []  # of those, the files for the whole run (results.jsonl)
        self.created: set[Path] = set()
        self.cleaned: set[Path] = set()

    def target(self, path: Path, root: Path, suffix: str) -> Path:
        try:
            relative = path.relative_to(root)
        except ValueError:
            relative = Path(path.name)
        return self.places.get(root, self.folder) / relative.parent / (relative.name + suffix)

    def check_targets(self, suffix: str | None) -> None:
        """Before any work: refuse to replace files this run did not write."""
        if suffix is None:
            return
        clashes = []
        for source in self.sources:
            target = self.target(source.path, source.root, suffix)
            if _key(target) in self.inputs or (not self.overwrite and os.path.lexists(target)):
                clashes.append(target)
        if not clashes:
            return
        inputs = [t for t in clashes if _key(t) in self.inputs]
        shown = ", ".join(_shown(t) for t in (inputs or clashes)[:3]) + (" ..." if len(clashes) > 3 else "")
        if inputs:
            raise UsageError(f"{shown}: an input file would be written over; choose another output folder")
        raise UsageError(
            f"{len(clashes)} of the files to write already exist ({shown}); nothing written. "
            "Choose an empty output folder, or add --overwrite to replace them"
        )

    def write(self, target: Path, content: str | Callable[[Path], None]) -> None:
        """One per-input file: text, or a function that writes the file at the path it is given."""
        replace = target in self.created or (self.overwrite and _key(target) not in self.inputs)
        self._clean(target.parent)
        with atomic_path(target, replace=replace) as tmp:
            if callable(content):
                content(tmp)
            else:
                tmp.write_bytes(content.encode("utf-8", "backslashreplace"))
        self._wrote(target)

    def write_new(self, name: str, content: str) -> Path:
        """A file for the whole run (results.jsonl): the name, or name-2, name-3, ...
        when it exists (unless --overwrite)."""
        stem, dot, suffix = name.partition(".")
        self._clean(self.folder)
        for n in range(1, 10_000):
            target = self.folder / (name if n == 1 else f"{stem}-{n}{dot}{suffix}")
            if self.overwrite and n == 1 and _key(target) not in self.inputs:
                atomic_write_text(target, content)
                break
            try:
                atomic_write_text(target, content, replace=False)
                break
            except FileExistsError:
                continue
        else:
            raise HandwriteError(f"{self.folder}: {name} and 9999 numbered versions of it exist; nothing written")
        self._wrote(target)
        self.run_files.append(target)
        return target

    def _wrote(self, target: Path) -> None:
        if target not in self.created:
            self.created.add(target)
            self.written.append(target)

    def _clean(self, folder: Path) -> None:
        if folder not in self.cleaned:
            self.cleaned.add(folder)
            remove_stale_temporaries(folder)

    def summary(self) -> str:
        """What was written, for stderr: "wrote OUT/results.jsonl", "wrote 12 files to OUT"."""
        per_input = [path for path in self.written if path not in self.run_files]
        if not per_input:
            return (
                f"wrote {', '.join(map(_shown, self.run_files))}"
                if self.run_files
                else f"nothing written to {_shown(self.folder)}"
            )
        line = f"wrote {len(per_input)} file{'s' if len(per_input) != 1 else ''} to {_shown(self.folder)}"
        return line + (f" (failures in {', '.join(map(_shown, self.run_files))})" if self.run_files else "")


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


# ---- one writer per format -------------------------------------------------------


class Writer:
    """An output format: `add` each item in input order, `close` at the end.

    `per_input_suffix`: the suffix of the file written per input under `-o`
    (None: one file for the whole run, or stdout). `add` returns an error message
    when the item's output could not be written (the input then counts as failed).
    """

    per_input_suffix: str | None = None
    needs_sources = False  # keep what was read (an Ink or image) on each item

    def __init__(self, folder: OutputFolder | None, many: bool) -> None:
        self.folder, self.many = folder, many

    @classmethod
    def check(cls, output_dir: Path | None) -> None:
        """Raise UsageError when this format cannot be written as asked."""

    def add(self, item: Item, root: Path) -> str | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _write_for(self, item: Item, root: Path, content: str | Callable[[Path], None]) -> str | None:
        assert self.folder is not None and self.per_input_suffix is not None
        target = self.folder.target(item.path, root, self.per_input_suffix)
        try:
            self.folder.write(target, content)
        except OSError as exc:
            where = exc.filename if exc.filename is not None else target
            return f"{_shown(item.path)}: could not write {_shown(Path(where))} ({exc.strerror or exc})"
        return None


class TxtWriter(Writer):
    """The text: to stdout (with the path and a tab before it when there are several
    inputs), or one NAME.txt per input."""

    def __init__(self, folder: OutputFolder | None, many: bool) -> None:
        super().__init__(folder, many)
        if folder is not None:
            self.per_input_suffix = ".txt"

    def add(self, item: Item, root: Path) -> str | None:
        if item.result is None:
            return None
        if self.folder is not None:
            return self._write_for(item, root, item.result.text + "\n")
        print(f"{_shown(item.path)}\t{item.result.text}" if self.many else item.result.text, flush=True)
        return None


class JsonWriter(Writer):
    """The page schema of DESIGN.md plus "alternatives": a list of them on stdout,
    or one NAME.json per input (and errors.json for the inputs that failed)."""

    def __init__(self, folder: OutputFolder | None, many: bool) -> None:
        super().__init__(folder, many)
        if folder is not None:
            self.per_input_suffix = ".json"
        self.records: list[dict] = []

    def add(self, item: Item, root: Path) -> str | None:
        record = full_record(item)
        if self.folder is not None and item.result is not None:
            return self._write_for(item, root, _json(record, indent=2) + "\n")
        self.records.append(record)
        return None

    def close(self) -> None:
        if self.folder is None:
            print(_json(self.records, indent=2))
        elif self.records:  # failures, beside the per-input results
            self.folder.write_new("errors.json", _json(self.records, indent=2) + "\n")


class JsonlWriter(Writer):
    """One record per input: printed as it comes, or results.jsonl."""

    def __init__(self, folder: OutputFolder | None, many: bool) -> None:
        super().__init__(folder, many)
        self.lines: list[str] = []

    def add(self, item: Item, root: Path) -> str | None:
        line = _json(item.record())
        if self.folder is None:
            print(line, flush=True)
        else:
            self.lines.append(line + "\n")
        return None

    def close(self) -> None:
        if self.folder is not None:
            self.folder.write_new("results.jsonl", "".join(self.lines))


class CsvWriter(Writer):
    """path, text, confidence, error: to stdout or results.csv."""

    def __init__(self, folder: OutputFolder | None, many: bool) -> None:
        super().__init__(folder, many)
        self.rows = io.StringIO()
        self.csv = csv.writer(self.rows, lineterminator="\n")
        self.csv.writerow(["path", "text", "confidence", "error"])

    def add(self, item: Item, root: Path) -> str | None:
        record = item.record()
        self.csv.writerow(
            [record["path"], record.get("text", ""), record.get("confidence", ""), record.get("error", "")]
        )
        return None

    def close(self) -> None:
        if self.folder is None:
            sys.stdout.write(self.rows.getvalue())
        else:
            self.folder.write_new("results.csv", self.rows.getvalue())


class PdfWriter(Writer):
    """A searchable PDF per input (NAME.pdf): the ink drawn, or the image, with the
    text invisible on each word. Needs `-o` and handwrite.pdf."""

    per_input_suffix = ".pdf"
    needs_sources = True

    @classmethod
    def check(cls, output_dir: Path | None) -> None:
        if output_dir is None:
            raise UsageError("-f pdf writes one PDF per input: name the folder with -o OUTDIR")
        if _pdf_writer() is None:
            raise UsageError("-f pdf: PDF output is not available in this version (no handwrite.pdf)")

    def add(self, item: Item, root: Path) -> str | None:
        if item.result is None:
            return None
        write_pdf = _pdf_writer()
        assert write_pdf is not None and item.source is not None
        result, source = item.result, item.source
        try:
            return self._write_for(item, root, lambda tmp: write_pdf(tmp, result, source))
        except HandwriteError as exc:
            return str(exc) if str(item.path) in str(exc) else f"{_shown(item.path)}: {exc}"
        except Exception as exc:  # one page the PDF library cannot take must not stop the batch
            return f"{_shown(item.path)}: could not make the PDF ({type(exc).__name__}: {exc})"


def _pdf_writer() -> Callable[[Path, Result, Ink | Image.Image], None] | None:
    try:
        from handwrite.pdf import write_searchable_pdf  # type: ignore[import-not-found]
    except ImportError:
        return None
    return write_searchable_pdf


WRITERS: dict[str, type[Writer]] = {
    "txt": TxtWriter,
    "json": JsonWriter,
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "pdf": PdfWriter,
}


def full_record(item: Item) -> dict:
    """`-f json`: {"path", **Result.to_dict() (the page schema), "alternatives", "words"};
    or {"path", "error"}."""
    record = item.record()
    if item.result is None:
        return record
    result = item.result
    record.update(result.to_dict())
    record["alternatives"] = [
        {"text": a.text, "confidence": rounded_confidence(a.confidence)} for a in result.alternatives
    ]
    record["words"] = [{"text": w.text, "confidence": rounded_confidence(w.confidence)} for w in result.words]
    return record


def _json(value: object, indent: int | None = None) -> str:
    """Strict JSON: a number that is not finite (a box from a broken model) is null,
    never `NaN` or `Infinity` in the output."""
    return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, indent=indent)


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _shown(path: Path | str) -> str:
    """A path as text that can be written anywhere: bytes of a file name that are not
    UTF-8 appear as \\xNN."""
    return _printable(os.fspath(path))


def _printable(text: str) -> str:
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")

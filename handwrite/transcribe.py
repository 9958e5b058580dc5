"""Batch transcription: files and folders in, one result per input out, in
input order. One bad file never stops the others, nor does a worker process
that dies (killed, out of memory): its files are reported as failed and the
batch goes on.

The `transcribe` command (handwrite/commands/transcribe.py) runs this and hands
each `Item` to a writer (handwrite/writers.py).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from handwrite.errors import HandwriteError
from handwrite.formats import IMAGE_SUFFIXES, INK_SUFFIXES, read_ink
from handwrite.formats.images import read_image
from handwrite.ink import Ink
from handwrite.output_folder import is_transcription_output
from handwrite.printable import shown
from handwrite.recognizer import Recognizer, load_model
from handwrite.results import Result

INPUT_SUFFIXES = INK_SUFFIXES + IMAGE_SUFFIXES

CHUNK = 8  # inputs read and recognized together: a line reads alone anyway (onnxruntime), and
# small chunks keep the progress bar moving and lose little to an interrupt (64 and 8: the same speed)
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
    at most MAX_FOLDER_DEPTH deep, each folder once; links to folders inside it are
    not followed (the root may be one)."""
    seen: set[tuple[int, int]] = set()
    stack = [(root, 0)]
    links_to_folders = 0
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
            yield Source(folder, root, f"{shown(folder)}: folder not searched ({exc.strerror or exc})")
            continue
        for entry in entries:
            path = Path(entry.path)
            try:  # a link to a folder is not followed (as find does): one to / or /proc walked the machine
                is_folder = entry.is_dir(follow_symlinks=False)
                links_to_folders += not is_folder and entry.is_symlink() and entry.is_dir()
            except OSError:
                is_folder = False
            if is_folder and depth + 1 > MAX_FOLDER_DEPTH:
                yield Source(path, root, f"{shown(path)}: more than {MAX_FOLDER_DEPTH} folders deep; not searched")
            elif is_folder:
                stack.append((path, depth + 1))
            elif path.suffix.lower() in INPUT_SUFFIXES and not is_transcription_output(path, INPUT_SUFFIXES):
                yield Source(path, root)
    if links_to_folders:  # said, so that a user who meant them knows to name them
        message = f"{shown(root)}: {links_to_folders} link(s) to folders not followed; name them to read them"
        warnings.warn(message, stacklevel=3)


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
                started_by = (os.getpid(),)  # a worker compares: its parent may be gone before it starts
                pool = ProcessPoolExecutor(
                    workers, mp_context=context, initializer=_init_worker, initargs=started_by + setup
                )
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


def _init_worker(parent: int, model_path: str | None, decoding: dict, keep_sources: bool) -> None:
    """Never raises: a failing initializer would look like a dead worker; the failure
    is reported for each file instead."""
    global _worker_models, _worker_keep_sources, _worker_failure
    _end_with_parent(parent)
    try:
        import torch

        torch.set_num_threads(1)
        _worker_models = ModelChoice(model_path, decoding)
        _worker_keep_sources = keep_sources
    except Exception as exc:
        _worker_failure = f"worker process could not start ({type(exc).__name__}: {exc})"


def _end_with_parent(parent: int, every_s: float = 0.5) -> None:
    """A worker ends when `parent`, the process that started it, is gone: killed (SIGKILL
    runs no cleanup), its workers lived on, each holding its models' memory, for good."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _worker_chunk(paths: list[Path]) -> list[Item]:
    if _worker_models is None:
        return [Item(path, error=f"{path}: {_worker_failure}") for path in paths]
    return _transcribe_chunk(_worker_models, paths, _worker_keep_sources)

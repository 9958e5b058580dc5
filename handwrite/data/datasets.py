"""Labelled ink for training and evaluation: IAM-OnDB splits and folders of
labelled files (InkML with truth, ink JSON with text)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from handwrite.errors import HandwriteError
from handwrite.formats import INK_SUFFIXES, iamondb, read_ink
from handwrite.ink import Ink


def find_iam_split_file(root: Path, split: str) -> Path | None:
    for candidate in (root / "splits" / f"{split}.txt", root / f"{split}.txt"):
        if candidate.is_file():
            return candidate
    return None


def load_iam_split(root: str | Path, split: str, limit: int | None = None) -> list[Ink]:
    """Lines of one IAM-OnDB split, in form order."""
    root = Path(root)
    split_file = find_iam_split_file(root, split)
    if split_file is None:
        raise HandwriteError(f"{root}: no splits/{split}.txt")
    forms = set(iamondb.read_split(split_file))
    inks = []
    for line in iamondb.iter_lines(root, forms):
        line.ink.source = line.line_id
        inks.append(line.ink)
        if limit and len(inks) >= limit:
            break
    return inks


def iter_ink_files(paths: Iterable[str | Path], suffixes: tuple[str, ...] = INK_SUFFIXES) -> Iterator[Path]:
    """Files under the given files and folders (folders searched recursively, sorted)."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
        else:
            yield path


def load_labelled_inks(paths: Iterable[str | Path]) -> list[Ink]:
    """Labelled ink files; unreadable or unlabelled ones are skipped with a warning."""
    inks = []
    for path in iter_ink_files(paths):
        try:
            ink = read_ink(path)
        except HandwriteError as exc:
            warnings.warn(f"skipped: {exc}", stacklevel=2)
            continue
        if not ink.text:
            warnings.warn(f"skipped: {path}: no transcription (truth annotation or text)", stacklevel=2)
            continue
        inks.append(ink)
    return inks


def spread_subset(items: list, count: int) -> list:
    """`count` items spread evenly over the list (so every form is represented)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]

"""Labelled data for training and evaluation: IAM-OnDB splits and folders of
labelled files (InkML with truth, ink JSON with text, images with .gt.txt)."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from PIL import Image

from handwrite.errors import HandwriteError
from handwrite.formats import IMAGE_SUFFIXES, INK_SUFFIXES, iamondb, read_ink
from handwrite.formats.images import read_ground_truth, read_image
from handwrite.ink import Ink
from handwrite.output_folder import is_transcription_output


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
    """Files under the given files and folders (folders searched recursively, sorted;
    results of `transcribe -f json` found there are no inputs)."""
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in suffixes
                and not is_transcription_output(p, INK_SUFFIXES + IMAGE_SUFFIXES)
            )
        else:
            yield path


def load_labelled_inks(paths: Iterable[str | Path]) -> list[Ink]:
    """Labelled ink files; unreadable or unlabelled ones are skipped with a warning."""
    return [item for item in load_labelled(paths, INK_SUFFIXES) if isinstance(item, Ink)]


def load_labelled(
    paths: Iterable[str | Path],
    suffixes: tuple[str, ...] = INK_SUFFIXES + IMAGE_SUFFIXES,
    on_skip: Callable[[str], object] | None = None,
    truth_beside_ink: bool = False,
) -> list[Ink | Image.Image]:
    """Labelled ink files and images (text in `image.info["text"]`, from `name.gt.txt`).
    Unreadable or unlabelled files are left out, each reported to `on_skip` (by
    default a warning) with the reason. `truth_beside_ink`: an ink file without a
    transcription of its own takes `name.gt.txt` too (for scoring pages, such as a
    notebook; training reads each sample as one line, so it leaves this off)."""
    report = on_skip or (lambda reason: warnings.warn(f"skipped: {reason}", stacklevel=3))
    items: list[Ink | Image.Image] = []
    for path in iter_ink_files(paths, suffixes):
        try:
            item = read_labelled_image(path) if path.suffix.lower() in IMAGE_SUFFIXES else read_ink(path)
            if isinstance(item, Ink) and not item.text and truth_beside_ink:
                item = dataclasses.replace(item, text=read_ground_truth(path))
        except HandwriteError as exc:
            report(str(exc))
            continue
        text = item.text if isinstance(item, Ink) else item.info.get("text")
        if not text:
            beside = ", text or .gt.txt beside it" if isinstance(item, Image.Image) or truth_beside_ink else " or text"
            report(f"{path}: no transcription (no truth annotation{beside})")
            continue
        items.append(item)
    return items


def read_labelled_image(path: str | Path) -> Image.Image:
    """An image with its ground truth in `info["text"]` ("" without a .gt.txt) and its path in `info["source"]`."""
    image = read_image(path)
    image.info["text"] = read_ground_truth(path) or ""
    image.info["source"] = str(path)
    return image


def spread_subset(items: list, count: int) -> list:
    """`count` items spread evenly over the list (so every form is represented)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]

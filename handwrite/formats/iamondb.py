"""IAM-OnDB: `lineStrokes/` XML line files and `ascii/` transcriptions.

Reads from the extracted folders or straight from the official `.tar.gz`
downloads (`lineStrokes-*.tar.gz`, `ascii-*.tar.gz`). Forms whose number of
line files does not match their number of transcription lines are skipped
with a warning, never misaligned.
"""

from __future__ import annotations

import re
import tarfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handwrite.errors import FormatError, InkError
from handwrite.formats.xmlsafe import local_name, parse_xml
from handwrite.ink import Ink

SPLITS = ("trainset", "testset_v", "testset_t", "testset_f")
_LINE_FILE = re.compile(r"(?:^|/)lineStrokes/(?:.*/)?([a-z]\d\d-\d\d\d[a-z]?)-(\d\d)\.xml$")
_ASCII_FILE = re.compile(r"(?:^|/)ascii/(?:.*/)?([a-z]\d\d-\d\d\d[a-z]?)\.txt$")


@dataclass(frozen=True)
class IamLine:
    line_id: str  # e.g. a01-000u-01
    form_id: str
    ink: Ink


def parse_line_strokes(data: bytes, name: str = "<lineStrokes>") -> Ink:
    """One `lineStrokes` XML file -> Ink (no text)."""
    root = parse_xml(data, name)
    if local_name(root.tag) != "WhiteboardCaptureSession":
        raise FormatError(f"{name}: not an IAM-OnDB line file (root element <{local_name(root.tag)}>)")
    strokes = []
    for stroke in root.iter("Stroke"):
        try:
            points = [(float(p.get("x")), float(p.get("y")), float(p.get("time", 0))) for p in stroke.iter("Point")]
        except (TypeError, ValueError) as exc:
            raise FormatError(f"{name}: a <Point> lacks a numeric x, y or time ({exc})") from exc
        strokes.append(np.asarray(points, dtype=np.float64).reshape(-1, 3))
    try:
        return Ink(strokes, source=name)
    except InkError as exc:
        raise FormatError(f"{name}: {exc}") from exc


def parse_transcription(text: str, name: str = "<ascii>") -> list[str]:
    """The CSR block of an `ascii/` file: one string per handwritten line."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "CSR:")
    except StopIteration:
        raise FormatError(f"{name}: no 'CSR:' section, so no transcription") from None
    body = [line.strip() for line in lines[start + 1 :]]
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    return body


def read_split(path: str | Path) -> list[str]:
    """Form ids of a split file (lines may carry leading spaces)."""
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]


def iter_lines(source: str | Path, forms: set[str] | None = None) -> Iterator[IamLine]:
    """Labelled lines of IAM-OnDB from a folder holding `lineStrokes/` and
    `ascii/` (or their `.tar.gz` files), optionally only of the given forms."""
    line_files, ascii_files = _collect(Path(source), forms)
    for form_id in sorted(line_files):
        if form_id not in ascii_files:
            warnings.warn(f"IAM-OnDB form {form_id}: no transcription file; skipped", stacklevel=2)
            continue
        texts = parse_transcription(ascii_files[form_id], f"{form_id}.txt")
        files = line_files[form_id]
        if len(files) != len(texts):
            warnings.warn(
                f"IAM-OnDB form {form_id}: {len(files)} line files but {len(texts)} transcription lines; skipped",
                stacklevel=2,
            )
            continue
        for (number, data), text in zip(sorted(files.items()), texts, strict=True):
            line_id = f"{form_id}-{number}"
            ink = parse_line_strokes(data, f"{line_id}.xml")
            ink.text = text
            yield IamLine(line_id, form_id, ink)


def _collect(root: Path, forms: set[str] | None) -> tuple[dict[str, dict[str, bytes]], dict[str, str]]:
    if not root.is_dir():
        raise FormatError(f"{root}: not a folder holding IAM-OnDB lineStrokes/ and ascii/")
    line_files: dict[str, dict[str, bytes]] = {}
    ascii_files: dict[str, str] = {}
    for name, read in _members(root):
        if match := _LINE_FILE.search(name):
            form_id, number = match.groups()
            if forms is None or form_id in forms:
                line_files.setdefault(form_id, {})[number] = read()
        elif match := _ASCII_FILE.search(name):
            form_id = match.group(1)
            if forms is None or form_id in forms:
                ascii_files[form_id] = read().decode("iso-8859-1")
    if not line_files:
        raise FormatError(f"{root}: no IAM-OnDB line files found (expected lineStrokes/ or lineStrokes-*.tar.gz)")
    return line_files, ascii_files


def _members(root: Path) -> Iterator[tuple[str, callable]]:
    """(path, reader) for every file under root, looking inside .tar.gz files too."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path, "r:gz") as archive:
                for member in archive:
                    if member.isfile():
                        yield member.name, (lambda m=member, a=archive: a.extractfile(m).read())
        elif path.is_file() and path.suffix in (".xml", ".txt"):
            yield path.relative_to(root).as_posix(), path.read_bytes


def transcription_for(line_file: Path) -> str | None:
    """Truth of a single `lineStrokes/.../<form>-NN.xml` from the `ascii/` tree
    beside it, if there is one (so `eval` works on a plain IAM-OnDB folder)."""
    match = _LINE_FILE.search(line_file.resolve().as_posix())
    if not match:
        return None
    form_id, number = match.groups()
    for parent in line_file.resolve().parents:
        if parent.name == "lineStrokes":
            prefix = form_id.split("-")[0]
            ascii_file = parent.parent / "ascii" / prefix / form_id[:7] / f"{form_id}.txt"
            if ascii_file.is_file():
                texts = parse_transcription(ascii_file.read_text("iso-8859-1"), ascii_file.name)
                index = int(number) - 1
                return texts[index] if 0 <= index < len(texts) else None
    return None

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
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element

import numpy as np

from handwrite.errors import FormatError, InkError
from handwrite.fileio import read_limited
from handwrite.formats.xmlsafe import iter_xml, local_name
from handwrite.ink import MAX_POINTS, Ink

SPLITS = ("trainset", "testset_v", "testset_t", "testset_f")
MAX_FILE_BYTES = 64 * 1024 * 1024  # one line file or transcription (they are kilobytes)
MAX_TEXT_BYTES = 16 * 1024 * 1024  # a transcription or split list
_LINE_FILE = re.compile(r"(?:^|/)lineStrokes/(?:.*/)?([a-z]\d\d-\d\d\d[a-z]?)-(\d\d)\.xml$")
_ASCII_FILE = re.compile(r"(?:^|/)ascii/(?:.*/)?([a-z]\d\d-\d\d\d[a-z]?)\.txt$")


@dataclass(frozen=True)
class IamLine:
    line_id: str  # e.g. a01-000u-01
    form_id: str
    ink: Ink


def parse_line_strokes(data: bytes, name: str = "<lineStrokes>") -> Ink:
    """One `lineStrokes` XML file -> Ink (no text).

    Streamed: each <Point> belongs to the <Stroke> it is in (a stroke nested in
    a stroke does not lend it its points), points are counted as they come and
    refused past MAX_POINTS, so time and memory follow the file, never its
    nesting or its claims."""
    if data.count(b"<Point") > MAX_POINTS:  # more than that many can only be more points: refuse now
        raise FormatError(f"{name}: more than the {MAX_POINTS} points accepted")
    strokes: list[np.ndarray] = []
    open_strokes: list[array] = []  # x, y, t of each <Stroke> still open, innermost last
    points = 0
    for event, element, parent in iter_xml(data, name):
        tag = local_name(element.tag)  # as the parent's name is: <Point> in <ns:Stroke> is in a stroke
        if parent is None and event == "start" and tag != "WhiteboardCaptureSession":
            raise FormatError(f"{name}: not an IAM-OnDB line file (root element <{tag}>)")
        if tag == "Stroke":
            if event == "start":
                open_strokes.append(array("d"))
            else:
                strokes.append(np.frombuffer(open_strokes.pop(), dtype=np.float64).reshape(-1, 3))
        elif tag == "Point" and event == "end" and parent == "Stroke":
            points += 1
            if points > MAX_POINTS:
                raise FormatError(f"{name}: more than the {MAX_POINTS} points accepted (at stroke {len(strokes)})")
            open_strokes[-1].extend(_point(element, name))
    try:
        return Ink(strokes, source=name)
    except InkError as exc:
        raise FormatError(f"{name}: {exc}") from exc


def _point(element: Element, name: str) -> tuple[float, float, float]:
    try:
        return float(element.get("x")), float(element.get("y")), float(element.get("time", 0))
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{name}: a <Point> lacks a numeric x, y or time ({exc})") from exc


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
    text = read_limited(Path(path), FormatError, "split file", MAX_TEXT_BYTES, minimum=0).decode("utf-8", "replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


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
                        yield member.name, (lambda m=member, a=archive, p=path: _read_member(a, m, p))
        elif path.is_file() and path.suffix in (".xml", ".txt"):
            yield path.relative_to(root).as_posix(), (lambda p=path: _read_file(p))


def _read_file(path: Path) -> bytes:
    return read_limited(path, FormatError, "file", MAX_FILE_BYTES)


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> bytes:
    if member.size > MAX_FILE_BYTES:  # a line file is some 20 KB: a huge member is not one
        raise FormatError(f"{path}: {member.name} is {member.size} bytes, more than the {MAX_FILE_BYTES} accepted")
    return archive.extractfile(member).read()


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
                data = read_limited(ascii_file, FormatError, "transcription", MAX_TEXT_BYTES, minimum=0)
                texts = parse_transcription(data.decode("iso-8859-1"), ascii_file.name)
                index = int(number) - 1
                return texts[index] if 0 <= index < len(texts) else None
    return None

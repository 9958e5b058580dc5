"""Reading and writing ink files; the format is chosen by suffix (and, for
.xml, by the root element: InkML or an IAM-OnDB line file)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from handwrite.errors import FormatError, InkError
from handwrite.fileio import atomic_write_bytes, atomic_write_text, read_limited
from handwrite.formats.iamondb import parse_line_strokes, transcription_for
from handwrite.formats.inkml import format_inkml, parse_inkml, recognized_texts
from handwrite.formats.jsonink import format_json_ink, parse_json_ink
from handwrite.formats.xmlsafe import root_name
from handwrite.formats.xopp import format_xopp, parse_xopp
from handwrite.ink import Ink

INK_SUFFIXES = (".inkml", ".xml", ".json", ".xopp")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
MAX_INK_FILE_BYTES = 256 * 1024 * 1024


def read_ink(path: str | os.PathLike[str]) -> Ink:
    """Read an .inkml, IAM-OnDB .xml, ink .json or Xournal++ .xopp file into an Ink.

    Raises FormatError (naming the file) for anything unreadable.
    """
    path = Path(path)
    data = _read_bytes(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            ink = parse_json_ink(data, str(path))
        elif suffix == ".inkml":
            ink = parse_inkml(data, str(path))
        elif suffix == ".xml":
            ink = _parse_xml_ink(data, path)
        elif suffix == ".xopp":
            ink = parse_xopp(data, str(path))
        else:
            raise FormatError(f"{path}: unknown ink format {suffix!r} (expected one of {', '.join(INK_SUFFIXES)})")
    except InkError as exc:
        raise FormatError(f"{path}: {exc}") from exc
    ink.source = str(path)
    return ink


def write_ink(ink: Ink, path: str | os.PathLike[str], recognized: Sequence[str] | None = None) -> None:
    """Write an Ink atomically as .inkml, .json or Xournal++ .xopp (by suffix).
    `recognized`: each page's recognized text, kept in InkML as a recognition result
    (never as truth; `read_recognized` gives it back); the other formats have no place for it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".inkml":
        atomic_write_text(path, format_inkml(ink, recognized))
    elif suffix == ".json":
        atomic_write_text(path, format_json_ink(ink))
    elif suffix == ".xopp":
        atomic_write_bytes(path, format_xopp(ink))
    else:
        raise FormatError(f"{path}: can write .inkml, .json or .xopp ink, not {suffix!r}")


def read_recognized(path: str | os.PathLike[str]) -> tuple[str | None, ...]:
    """The recognized text an InkML file keeps for each page (None where a page has
    none); nothing for the other formats, which keep none."""
    path = Path(path)
    if path.suffix.lower() != ".inkml":
        return ()
    return recognized_texts(_read_bytes(path), str(path))


def _parse_xml_ink(data: bytes, path: Path) -> Ink:
    if root_name(data, str(path)) == "ink":  # the root element, not text that looks like it
        return parse_inkml(data, str(path))
    ink = parse_line_strokes(data, str(path))
    ink.text = transcription_for(path)
    return ink


def _read_bytes(path: Path) -> bytes:
    return read_limited(path, FormatError, "ink file", MAX_INK_FILE_BYTES, minimum=0)

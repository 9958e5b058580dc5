"""Text that can be written anywhere: file names and messages on stdout, stderr and
in output files, whatever bytes or characters the names hold."""

from __future__ import annotations

import os
from pathlib import Path

# control characters, shown escaped on a terminal or in a line of text: a file name
# holding ESC [2J cleared the terminal its error was printed on, and a tab or newline
# broke the `path<TAB>text` lines
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROLS |= {ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"}


def shown(path: Path | str) -> str:
    """A path as one line of text: bytes of a file name that are not UTF-8 appear as
    \\xNN, and control characters escaped."""
    return printable(os.fspath(path))


def printable(text: str) -> str:
    """One line of text: bytes that are not UTF-8 as \\xNN, control characters escaped."""
    return encodable(text).translate(_CONTROLS)


def encodable(text: str) -> str:
    """Text that UTF-8 can write: bytes of a file name that are not UTF-8 as \\xNN, the
    rest exact. For JSON and CSV, which escape or quote control characters themselves
    (a path there must stay the name it is)."""
    try:
        return os.fspath(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return os.fspath(text).encode("utf-8", "backslashreplace").decode("utf-8")


def control_character(text: str) -> str | None:
    """The first control character (those `printable` escapes) or lone surrogate in a
    text, or None: what no line of text typed by a person holds."""
    return next((c for c in text if _is_control(c)), None)


def plain_line(text: str) -> str:
    """Text as one line of plain text, as a person would have typed it: tabs and line
    breaks become spaces, and the other control characters and lone surrogates (pasted
    from a terminal) are dropped. Kept, InkML could not hold them."""
    spaced = "".join(" " if c in "\t\n\r" else c for c in text)
    return "".join(c for c in spaced if not _is_control(c))


def _is_control(c: str) -> bool:
    return ord(c) in _CONTROLS or "\ud800" <= c <= "\udfff"


def counted(count: int, noun: str) -> str:
    """ "1 line", "2 lines": a count with its noun (regular plurals only)."""
    return f"{count} {noun}" + ("s" if count != 1 else "")

"""Text that can be written anywhere: file names and messages on stdout, stderr and
in output files, whatever bytes the names hold."""

from __future__ import annotations

import os
from pathlib import Path


def shown(path: Path | str) -> str:
    """A path as text: bytes of a file name that are not UTF-8 appear as \\xNN."""
    return printable(os.fspath(path))


def printable(text: str) -> str:
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")

"""Atomic file writing: every file the product writes goes through here.

A write goes to a temporary file in the target folder, is flushed to disk, and
then renamed over the target, so a crash or kill mid-save leaves either the old
file or the new one, never a half-written one.

On the reading side, `checked_size` gives every reader the same clear errors
for missing, unreadable, empty and oversized files before it reads a byte.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def checked_size(path: Path, error: type[Exception], what: str, limit: int, minimum: int = 1) -> int:
    """The size of a file about to be read as `what` ("image", "model file", ...);
    raises `error` naming the file and the problem otherwise."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from exc
    if path.is_dir():
        raise error(f"{path}: is a folder, not a file")
    if size < minimum:
        raise error(f"{path}: empty or truncated {what} ({size} bytes)")
    if size > limit:
        raise error(f"{path}: {what} is {size} bytes, larger than the {limit} accepted")
    return size


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on clean exit it replaces ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, _mode_for(target))
        os.replace(tmp_name, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # a full disk says only "No space left on device": name the file that was not written
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise


def _mode_for(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 & ~umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(text)

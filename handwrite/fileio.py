"""Atomic file writing: every file the product writes goes through here.

A write goes to a temporary file in the target folder, is flushed to disk, and
then renamed over the target, so a crash or kill mid-save leaves either the old
file or the new one, never a half-written one.

On the reading side, `read_limited` is how every reader gets a file's bytes:
only regular files (a FIFO or a device named like an ink file would block or
never end), at most a limit, with the same clear errors for missing,
unreadable, empty and oversized files. `checked_size` gives the same checks
for readers that hand a path to a library.
"""

from __future__ import annotations

import contextlib
import os
import stat
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


# What a path that is not a regular file is, for the error message.
_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_limited(path: Path, error: type[Exception], what: str, limit: int, minimum: int = 1) -> bytes:
    """The bytes of the regular file `path`, about to be read as `what`; raises
    `error` naming the file when it is missing, unreadable, a folder, a FIFO or
    a device, shorter than `minimum` or longer than `limit` bytes."""
    path = Path(path)
    try:
        _check_regular(path, os.stat(path).st_mode, error)  # before opening: opening a device can act
        # O_NONBLOCK: should the path become a FIFO after the check, opening it cannot wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise _read_error(path, exc, error) from None
    try:
        info = os.fstat(fd)
        _check_regular(path, info.st_mode, error)  # what was opened, not what was there a moment ago
        _check_length(path, info.st_size, error, what, limit, minimum)
        # one byte more than the limit: a file that grew since fstat is noticed
        data = _read_at_most(fd, limit + 1, info.st_size + 1)
    except OSError as exc:
        raise _read_error(path, exc, error) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{path}: {what} grew past the {limit} bytes accepted while it was read")
    _check_length(path, len(data), error, what, limit, minimum)
    return data


def _check_regular(path: Path, mode: int, error: type[Exception]) -> None:
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _SPECIAL_FILES if test(mode)), "not a regular file")
        raise error(f"{path}: {kind}, not a regular file; refused, since reading it could block or never end")


def _check_length(path: Path, size: int, error: type[Exception], what: str, limit: int, minimum: int) -> None:
    if size < minimum:
        raise error(f"{path}: empty or truncated {what} ({size} bytes)")
    if size > limit:
        raise error(f"{path}: {what} is {size} bytes, larger than the {limit} accepted")


def _read_at_most(fd: int, count: int, expected: int) -> bytes:
    """Up to `count` bytes; the first read asks for the `expected` size (os.read
    allocates what it is asked for), later ones for small pieces until the end."""
    chunks = []
    want = min(count, expected)
    while count > 0:
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
        want = min(count, 1024 * 1024)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _read_error(path: Path, exc: OSError, error: type[Exception]) -> Exception:
    if isinstance(exc, FileNotFoundError):
        return error(f"{path}: no such file")
    if isinstance(exc, PermissionError):
        return error(f"{path}: permission denied")
    return error(f"{path}: cannot read ({exc.strerror or exc})")


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

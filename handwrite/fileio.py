"""Atomic file writing: every file the product writes goes through here.

A write goes to a temporary file in the target folder, is flushed to disk, and
then renamed over the target, so a crash or kill mid-save leaves either the old
file or the new one, never a half-written one (`replace=False`: never over an
existing file). What a killed writer leaves, `.NAME.hwPID-XXXXXXXX.tmp`, a later
run removes with `remove_stale_temporaries`.

On the reading side, `read_limited` is how every reader gets a file's bytes:
only regular files (a FIFO or a device named like an ink file would block or
never end), at most a limit, with the same clear errors for missing,
unreadable, empty and oversized files. `gunzip_pieces` decompresses untrusted
gzip a bounded piece at a time, so a caller can stop a gzip bomb at its cap.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

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


# ---- writing -------------------------------------------------------------------

# A write in progress is ".NAME.hwPID-XXXXXXXX.tmp" beside NAME: the pid of the writer
# lets a later run tell a temporary file left by a killed writer from one being written.
_TEMP_NAME = re.compile(r"\..*\.hw(?P<pid>[0-9]+)-[a-z0-9_]{8}\.tmp", re.DOTALL)
_TEMP_NAME_MAX = 100  # characters of NAME kept in the temporary name (a long NAME would not fit)
STALE_AFTER_DEAD_WRITER_S = 60.0  # a left-over temporary file whose writer has exited
STALE_AFTER_S = 24 * 3600.0  # any left-over temporary file of ours (the writer's pid may be reused)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], replace: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that takes a path; on clean exit the
    file written there becomes ``path``. With ``replace=False`` an existing ``path`` is
    never replaced (FileExistsError naming it). Errors name ``path``, not the temporary file."""
    target = Path(path)
    if replace:  # without replace, any existing target is refused by the commit (FileExistsError)
        check_writable_kind(target)
    tmp_name: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent)
        os.close(fd)
        yield Path(tmp_name)
        os.chmod(tmp_name, _mode_for(target))
        _commit(tmp_name, target, replace)
    except BaseException as exc:
        if tmp_name is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp_name):
            # name the file that was not written: a full disk says only "No space left on
            # device", and a failed create or rename names the temporary file
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None, replace: bool = True
) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on clean exit it replaces ``path`` (or, with
    ``replace=False``, becomes ``path`` only if there is no such file yet)."""
    text_encoding = encoding if "b" not in mode else None
    with atomic_path(path, replace) as tmp, open(tmp, mode, encoding=text_encoding, opener=_no_follow) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def check_writable_kind(target: Path) -> None:
    """Refuse (OSError naming `target`) to write where a FIFO, a device, a socket or a
    folder stands, or a symbolic link to one: renaming a result over /dev/null (say,
    given as the output of a run as root) would replace the device with a plain file.
    A link to a regular file is replaced by the new file, not followed. Writes that
    replace check this themselves; a long job calls it before it starts."""
    for look in (os.lstat, os.stat):  # the name itself, then what a link leads to
        try:
            mode = look(target).st_mode
        except OSError:
            return  # nothing there (or a dangling link): the write creates the file, or says why not
        if stat.S_ISLNK(mode):
            continue
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "a folder, not a file; not written over", str(target))
        kind = next((name for test, name in _SPECIAL_FILES if test(mode)), None)
        if kind is not None:
            linked = " (behind a symbolic link)" if look is os.stat else ""
            raise OSError(errno.EINVAL, f"{kind}{linked}, not a regular file; not written over", str(target))


def _no_follow(name: str, flags: int) -> int:
    return os.open(name, flags | os.O_NOFOLLOW)


def _temp_prefix(target: Path) -> str:
    return f".{target.name[:_TEMP_NAME_MAX]}.hw{os.getpid()}-"


def _commit(tmp_name: str, target: Path, replace: bool) -> None:
    if replace:
        os.replace(tmp_name, target)
        return
    try:
        os.link(tmp_name, target)  # atomic, and fails if target exists
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "already exists; not overwritten", str(target)) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # no hard links on this file system: check, then rename
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "already exists; not overwritten", str(target)) from None
        os.replace(tmp_name, target)
        return
    os.unlink(tmp_name)


def _mode_for(target: Path) -> int:
    """Keep the permissions of the regular file replaced; a new file (or one replacing a
    link) gets the usual 0666 & ~umask."""
    try:
        info = os.lstat(target)
    except OSError:
        info = None
    if info is not None and stat.S_ISREG(info.st_mode):
        return info.st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, replace: bool = True) -> None:
    with atomic_open(path, "wb", replace=replace) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, replace: bool = True) -> None:
    with atomic_open(path, "w", encoding="utf-8", replace=replace) as handle:
        handle.write(text)


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files our own writes left in ``folder`` when killed: only
    regular files named like ours and owned by this user, whose writer has exited
    (and a minute has passed), or that are a day old. Returns what was removed."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            continue
        age = now - info.st_mtime
        if age > STALE_AFTER_S or (age > STALE_AFTER_DEAD_WRITER_S and not _running(int(match["pid"]))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # someone else's process
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    return True


GZIP_MAGIC = b"\x1f\x8b"
GUNZIP_PIECE = 1024 * 1024


def gunzip_pieces(data: bytes) -> Iterator[bytes]:
    """The decompressed bytes of gzip data (all its members, one after another), at
    most GUNZIP_PIECE bytes per piece: a caller counting the pieces stops a gzip bomb
    before it takes memory. Raises ValueError for data that is not whole gzip."""
    rest = data
    if rest[:2] != GZIP_MAGIC:
        raise ValueError("not gzip data")
    while rest[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while not inflater.eof:
                piece = inflater.decompress(pending, GUNZIP_PIECE)
                pending = inflater.unconsumed_tail
                if not piece and not pending:
                    break
                yield piece
        except zlib.error as exc:
            raise ValueError(f"damaged gzip data ({exc})") from None
        if not inflater.eof:
            raise ValueError("gzip data ends early (truncated file?)")
        rest = inflater.unused_data
    if rest.strip(b"\0"):
        raise ValueError(f"{len(rest)} bytes that are not gzip after the compressed data")

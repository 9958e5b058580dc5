"""fileio's reading side: only regular files are read, and never more than a limit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handwrite.errors import FormatError
from handwrite.fileio import read_limited
from tests.hostile import time_limit


def test_reads_a_regular_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello")
    assert read_limited(path, FormatError, "text", 5) == b"hello"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "x.inkml"
    os.mkfifo(fifo)
    with time_limit(20, "reading a FIFO"), pytest.raises(FormatError, match="named pipe") as error:
        read_limited(fifo, FormatError, "ink file", 1000, minimum=0)
    assert str(fifo) in str(error.value)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_device_is_refused_even_behind_a_symlink(tmp_path):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with time_limit(20, "reading /dev/zero"), pytest.raises(FormatError, match="character device"):
        read_limited(link, FormatError, "ink file", 1000, minimum=0)


@pytest.mark.parametrize(
    ("content", "limit", "minimum", "message"),
    [(b"12345", 4, 1, "5 bytes, larger than the 4 accepted"), (b"", 10, 1, "empty or truncated text")],
)
def test_size_bounds_name_the_file(tmp_path, content, limit, minimum, message):
    path = tmp_path / "a.txt"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message) as error:
        read_limited(path, FormatError, "text", limit, minimum)
    assert str(path) in str(error.value)


def test_missing_folder_and_unreadable_files_are_named(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        read_limited(tmp_path / "absent", FormatError, "text", 10)
    with pytest.raises(FormatError, match="folder"):
        read_limited(tmp_path, FormatError, "text", 10)
    locked = tmp_path / "locked.txt"
    locked.write_bytes(b"x")
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        pytest.skip("running as root: permissions are not enforced")
    with pytest.raises(FormatError, match="permission denied"):
        read_limited(locked, FormatError, "text", 10)

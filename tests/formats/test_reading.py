"""read_ink on hostile files: a FormatError naming the file, never a hang, an
endless read, a different exception or a memory blow-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handwrite.errors import FormatError
from handwrite.formats import read_ink
from tests.hostile import run_reader, time_limit


@pytest.mark.parametrize("name", ["x.inkml", "x.json", "x.xml"])
def test_a_fifo_named_as_ink_is_refused_without_hanging(tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    with time_limit(20, "read_ink of a FIFO"), pytest.raises(FormatError, match="named pipe") as error:
        read_ink(fifo)
    assert str(fifo) in str(error.value)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_named_as_ink_is_refused_without_reading_it(tmp_path):
    link = tmp_path / "zero.inkml"
    link.symlink_to("/dev/zero")
    # in a child bounded in time and memory: an unbounded read must not take the test run down
    outcome = run_reader(
        f"""
        from handwrite.errors import FormatError
        from handwrite.formats import read_ink
        try:
            read_ink({str(link)!r})
            result = "read"
        except FormatError as exc:
            result = str(exc)
        """,
        timeout=60,
        memory_bytes=1024**3,
    )
    assert outcome["error"] is None, outcome["error"]
    assert "character device" in outcome["result"] and str(link) in outcome["result"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("huge.json", b'{"strokes": [[[0, 0], [1e308, 1e308], [5, 5]]]}'),
        ("huge.inkml", b"<ink><trace>0 0, 1e200 3</trace></ink>"),
        (
            "huge-time.inkml",
            b'<ink><traceFormat><channel name="X"/><channel name="Y"/><channel name="T"/>'
            b"</traceFormat><trace>0 0 0, 1 1 1e308</trace></ink>",
        ),
        (
            "huge.xml",
            b'<WhiteboardCaptureSession><StrokeSet><Stroke><Point x="-1e300" y="2" time="0"/>'
            b"</Stroke></StrokeSet></WhiteboardCaptureSession>",
        ),
    ],
)
def test_huge_coordinates_are_a_format_error_naming_file_and_stroke(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FormatError, match="stroke 0 has a") as error:
        read_ink(path)
    assert str(path) in str(error.value)

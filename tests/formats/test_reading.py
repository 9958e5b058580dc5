"""read_ink on hostile files: a FormatError naming the file, never a hang, an
endless read, a different exception or a memory blow-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handwrite.errors import FormatError
from handwrite.formats import read_ink
from tests.hostile import read_ink_in_child, time_limit


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
    outcome = read_ink_in_child(
        link,
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


def _over_the_point_cap(kind: str) -> bytes:
    """Files of well over MAX_POINTS points, small enough to write quickly."""
    if kind == "inkml":
        return b"<ink><trace>" + b"1 2," * 5_000_000 + b"3 4</trace></ink>"
    if kind == "xml":
        point = b'<Point x="1" y="2" time="0"/>'
        return (
            b"<WhiteboardCaptureSession><StrokeSet><Stroke>"
            + point * 3_000_000
            + b"</Stroke></StrokeSet></WhiteboardCaptureSession>"
        )
    return b'{"strokes": [[' + b"[1,2]," * 5_000_000 + b"[3,4]]]}"


@pytest.mark.parametrize("kind", ["inkml", "xml", "json"])
def test_points_over_the_cap_are_refused_before_memory_grows(tmp_path, kind):
    path = tmp_path / f"huge.{kind}"
    path.write_bytes(_over_the_point_cap(kind))
    # Parsed in full first, these took 1-2.5 GB before being refused; a reader that counts
    # as it parses needs the file's bytes and little more. The bound is the harness's.
    outcome = read_ink_in_child(
        path,
        timeout=120,
        memory_bytes=600 * 1024**2,
    )
    assert outcome["error"] is None, outcome["error"]
    assert str(path) in outcome["result"] and "more than" in outcome["result"]


HOSTILE_INK = {
    "deep.json": b"[" * 100_000 + b"]" * 100_000,  # RecursionError
    "deep-strokes.json": b'{"strokes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "big-int.json": b'{"strokes": [[[1' + b"0" * 400 + b", 2]]]}",  # OverflowError
    "long-int.json": b'{"strokes": [[[1' + b"0" * 5000 + b", 2]]]}",  # ValueError: int digits limit
    "bad-bytes.json": b'\xff\xfe{"strokes": []}',
    "unknown-encoding.inkml": b'<?xml version="1.0" encoding="x-nonsense"?><ink><trace>1 2</trace></ink>',
    "unknown-encoding.xml": b'<?xml version="1.0" encoding="x-nonsense"?><ink><trace>1 2</trace></ink>',
    "wrong-encoding.xml": b'<?xml version="1.0" encoding="utf-16"?><ink><trace>1 2</trace></ink>',
    "nul.inkml": b"\x00\x00\x00",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_INK))
def test_every_reader_failure_is_a_format_error_naming_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HOSTILE_INK[name])
    with time_limit(60, f"reading {name}"), pytest.raises(FormatError) as error:
        read_ink(path)
    assert str(path) in str(error.value)


def test_deeply_nested_trace_groups_are_read(tmp_path):
    path = tmp_path / "deep.inkml"
    depth = 100_000
    path.write_bytes(
        b"<ink>" + b"<traceGroup>" * depth + b"<trace>1 2, 3 4</trace>" + b"</traceGroup>" * depth + b"</ink>"
    )
    with time_limit(60, "reading 100k nested trace groups"):
        assert read_ink(path).num_points == 2


def test_xml_ink_is_told_apart_by_its_root_element_not_by_text_that_looks_like_it(tmp_path):
    path = tmp_path / "a01-000u-01.xml"
    path.write_bytes(
        b"<?xml version='1.0'?><!-- not <ink> but IAM-OnDB --><WhiteboardCaptureSession><StrokeSet>"
        b'<Stroke><Point x="1" y="2" time="0"/></Stroke></StrokeSet></WhiteboardCaptureSession>'
    )
    assert read_ink(path).num_points == 1

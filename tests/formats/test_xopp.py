"""Xournal++ notebooks: pen strokes page by page, written back the same; hostile files
(not gzip, gzip bombs, entity tricks, deep nesting, odd numbers) are a FormatError
naming the file, in bounded time and memory."""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import pytest

from handwrite import FormatError, Ink, read_ink, write_ink
from handwrite.formats.xopp import parse_xopp
from tests.conftest import REPO
from tests.hostile import read_ink_in_child

# As Xournal++ 1.2 writes a notebook (shortened): a preview image, backgrounds, pressure
# widths, a highlighter stroke, text, an image and a LaTeX image on the pages.
NOTEBOOK = """<?xml version="1.0" standalone="no"?>
<xournal creator="Xournal++ 1.2.3" fileversion="4">
<title>Xournal++ document - see https://github.com/xournalpp/xournalpp</title>
<preview>iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk</preview>
<page width="595.27559055" height="841.88976378">
<background type="solid" color="#ffffffff" style="lined"/>
<layer>
<stroke tool="pen" ts="0" fn="" color="#000000ff" width="1.41 1.2 1.3 1.1">10 20 11.5 21.25 13 22 14 23</stroke>
<stroke tool="highlighter" color="#ffff0080" width="8.5">0 0 100 100</stroke>
<text font="Sans" size="12" x="50" y="60" color="#000000ff">not ink</text>
<stroke color="#3333ccff" width="2.26">30 40 31 41</stroke>
</layer>
<layer>
<image left="10" top="10" right="20" bottom="20">iVBORw0KGgo=</image>
<teximage text="x^2" left="1" top="1" right="2" bottom="2">iVBORw0KGgo=</teximage>
<stroke tool="pen" color="#000000ff" width="1.41">50 60 51 61</stroke>
</layer>
</page>
<page width="612" height="792">
<background type="solid" color="#ffffffff" style="plain"/>
<layer/>
</page>
<page width="300" height="200">
<background type="pdf" pageno="3"/>
<layer><stroke tool="eraser" color="#ffffffff" width="5">1 1 2 2</stroke>
<stroke tool="pen" color="#000000ff" width="1.41">5 6 7 8 9 10</stroke></layer>
</page>
</xournal>
"""


def xopp(body: str, pages: str = '<page width="100" height="100"><layer>{}</layer></page>') -> bytes:
    return gzip.compress(f"<xournal>{pages.format(body)}</xournal>".encode())


def test_a_notebook_reads_pen_strokes_page_by_page(tmp_path):
    path = tmp_path / "notes.xopp"
    path.write_bytes(gzip.compress(NOTEBOOK.encode()))
    ink = read_ink(path)
    assert ink.source == str(path)
    assert len(ink.strokes) == 4  # three pen strokes (one without a tool) and the last page's pen stroke
    np.testing.assert_allclose(ink.strokes[0], [[10, 20, 0], [11.5, 21.25, 0], [13, 22, 0], [14, 23, 0]])
    np.testing.assert_allclose(ink.strokes[1][:, :2], [[30, 40], [31, 41]])
    np.testing.assert_allclose(ink.strokes[2][:, :2], [[50, 60], [51, 61]])
    np.testing.assert_allclose(ink.strokes[3][:, :2], [[5, 6], [7, 8], [9, 10]])
    assert ink.page_starts == (0, 3, 3)  # the empty second page keeps its place
    assert ink.page_sizes == ((595.27559055, 841.88976378), (612.0, 792.0), (300.0, 200.0))
    assert [len(page.strokes) for page in ink.pages()] == [3, 0, 1]


def test_the_demo_notebook_has_two_pages_of_lines_on_the_page():
    ink = read_ink(REPO / "data" / "notes" / "notebook.xopp")
    assert ink.num_pages == 2 and ink.page_sizes == ((595.2756, 841.8898),) * 2
    for page in ink.pages():
        x0, y0, x1, y1 = page.bounds()
        assert 0 < x0 < x1 < 595 and 0 < y0 < y1 < 842
    lines = (REPO / "data" / "notes" / "notebook.gt.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "hello world" and len(lines) == 5


def test_uncompressed_xml_reads_the_same():
    plain = parse_xopp(NOTEBOOK.encode(), "plain.xopp")
    packed = parse_xopp(gzip.compress(NOTEBOOK.encode()), "packed.xopp")
    assert plain.page_starts == packed.page_starts
    np.testing.assert_array_equal(plain.points(), packed.points())


def test_round_trip_keeps_points_pages_and_sizes(tmp_path):
    ink = Ink(
        [[[0, 0], [1.25, 2.5]], [[5, 5], [6, 7], [8.123456, 9]], [[100, 200], [101, 202]]],
        page_starts=(0, 2, 2, 3),
        page_sizes=((595.0, 842.0), (612.0, 792.0), (400.0, 300.0), (500.0, 500.0)),
    )
    path = tmp_path / "round.xopp"
    write_ink(ink, path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip, as Xournal++ writes it
    back = read_ink(path)
    assert back.page_starts == (0, 2, 2, 3)
    assert back.page_sizes == ink.page_sizes
    assert len(back.strokes) == 3
    np.testing.assert_allclose(back.points()[:, :2], ink.points()[:, :2], atol=1e-4)


def test_an_ink_without_page_sizes_gets_pages_that_hold_its_strokes(tmp_path):
    ink = Ink([[[10, 10], [2000, 50]]])  # wider than A4
    write_ink(ink, tmp_path / "wide.xopp")
    back = read_ink(tmp_path / "wide.xopp")
    width, height = back.page_sizes[0]
    assert width >= 2000 and height >= 841
    np.testing.assert_allclose(back.points()[:, :2], ink.points()[:, :2])


def test_writing_is_deterministic(tmp_path):
    ink = Ink([[[1, 2], [3, 4]]])
    write_ink(ink, tmp_path / "a.xopp")
    write_ink(ink, tmp_path / "b.xopp")
    assert (tmp_path / "a.xopp").read_bytes() == (tmp_path / "b.xopp").read_bytes()


def test_a_notebook_without_pages_is_an_empty_ink():
    ink = parse_xopp(gzip.compress(b"<xournal><title>t</title></xournal>"), "empty.xopp")
    assert ink.is_empty() and ink.num_pages == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04 a zip file", "not a Xournal\\+\\+ file"),
        (b"\x1f\x8b\x08\x00garbage that is not deflate", "damaged gzip"),
        (gzip.compress(b"<xournal><page>")[:-12], "ends early"),
        (gzip.compress(b"<xournal/>") + b"trailing junk", "not gzip after"),
        (gzip.compress(b"<xournal><layer></xournal>"), "malformed XML"),
        (gzip.compress(b"<svg/>"), r"root element is <svg>"),
        (b'<?xml version="1.0" encoding="no-such-code"?><xournal/>', "unknown encoding"),
        (xopp("<stroke>1 2 3</stroke>"), "odd count"),
        (xopp("<stroke>1 2 3 x</stroke>"), "not a number"),
        (xopp("<stroke>1 2 0x10 4</stroke>"), "not a number"),
        (xopp("<stroke>nan 2 3 4</stroke>"), "NaN"),
        (xopp("<stroke>1e999 2 3 4</stroke>"), "infinite"),
        (xopp("<stroke>1e300 2 3 4</stroke>"), "beyond"),
        (xopp("", '<page width="-5" height="10"/>'), "page 1 has no valid width"),
        (xopp("", '<page width="nan" height="10"/>'), "page 1 has no valid width"),
        (xopp("", '<page width="10"/>'), "page 1 has no valid height"),
    ],
)
def test_bad_files_are_a_format_error_naming_the_file(tmp_path, data, message):
    path = tmp_path / "bad.xopp"
    path.write_bytes(data)
    with pytest.raises(FormatError, match=message) as error:
        read_ink(path)
    assert str(path) in str(error.value)


def test_entity_tricks_are_refused():
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE xournal [<!ENTITY a "1 1 1 1 1 1 1 1 1 1 ">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<xournal><page width="9" height="9"><layer><stroke>&b;</stroke></layer></page></xournal>'
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE xournal [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<xournal><title>&x;</title></xournal>"
    )
    for text in (laughs, external):
        with pytest.raises(FormatError, match=r"trick\.xopp: refused unsafe XML"):
            parse_xopp(gzip.compress(text.encode()), "trick.xopp")


def test_deep_nesting_is_refused():
    deep = "<xournal>" + "<layer>" * 100_000 + "</layer>" * 100_000 + "</xournal>"
    with pytest.raises(FormatError, match="nested more than"):
        parse_xopp(gzip.compress(deep.encode()), "deep.xopp")


def test_too_many_points_are_refused_as_they_are_read(monkeypatch):
    monkeypatch.setattr("handwrite.formats.xopp.MAX_POINTS", 5)
    with pytest.raises(FormatError, match="more than the 5 points"):
        parse_xopp(xopp("<stroke>1 1 2 2 3 3</stroke>" * 2), "many.xopp")


def test_one_stroke_too_long_is_refused_before_it_is_split(monkeypatch):
    monkeypatch.setattr("handwrite.formats.xopp.MAX_STROKE_TEXT", 100)
    with pytest.raises(FormatError, match="stroke 0 has more than 100 characters"):
        parse_xopp(xopp("<stroke>" + "1 2 " * 30 + "</stroke>"), "long.xopp")


MEMORY_CAP = 256 * 1024**2


def _bomb(head: bytes, filler: bytes, tail: bytes, megabytes: int) -> bytes:
    """gzip of `megabytes` MB of `filler` between head and tail, made without holding it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = filler * (1024 * 1024 // len(filler))
    parts = [packer.compress(head)] + [packer.compress(block) for _ in range(megabytes)]
    return b"".join([*parts, packer.compress(tail), packer.flush()])


@pytest.mark.parametrize(
    ("inside", "filler", "message"),
    [
        ("", b" ", "expands to more than"),  # 300 MB of XML in a 300 kB file
        ("<stroke>", b"1 2 ", "characters of coordinates"),  # one endless stroke
        ("", b"<a/>", "XML elements"),  # millions of elements, each a parser callback
    ],
)
def test_gzip_bombs_stop_at_a_cap_in_bounded_time_and_memory(tmp_path, inside, filler, message):
    path = tmp_path / "bomb.xopp"
    path.write_bytes(_bomb(f'<xournal><page width="9" height="9"><layer>{inside}'.encode(), filler, b"", 300))
    assert path.stat().st_size < 2_000_000
    outcome = read_ink_in_child(
        path,
        timeout=60,
        # less than the XML would take held whole: it is streamed (peak_rss_mb would count
        # this test process's own memory, inherited over fork and exec)
        memory_bytes=MEMORY_CAP,
    )
    assert outcome["error"] is None, outcome["error"]
    assert message in outcome["result"] and str(path) in outcome["result"]

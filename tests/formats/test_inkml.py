from pathlib import Path

import numpy as np
import pytest

import handwrite
from handwrite import FormatError, Ink, read_ink, write_ink
from handwrite.formats.inkml import format_inkml, parse_inkml, recognized_texts


def inkml(body: str, head: str = "") -> bytes:
    return f'<?xml version="1.0"?>{head}<ink xmlns="http://www.w3.org/2003/InkML">{body}</ink>'.encode()


def test_round_trip_keeps_points_time_and_truth(tmp_path):
    ink = Ink.from_points([[[0, 0, 0.0], [1, 2, 0.01]], [[5, 5, 0.5], [6, 7, 0.52], [8, 9, 0.54]]], text="a < b & c")
    write_ink(ink, tmp_path / "line.inkml")
    back = read_ink(tmp_path / "line.inkml")
    assert back.text == "a < b & c"
    assert len(back.strokes) == 2
    np.testing.assert_allclose(back.points(), ink.points(), atol=1e-6)


def test_channel_order_follows_trace_format():
    data = inkml(
        '<traceFormat><channel name="Y"/><channel name="T"/><channel name="X"/></traceFormat>'
        "<trace>10 1000 1, 20 2000 2</trace>"
    )
    ink = parse_inkml(data)
    np.testing.assert_allclose(ink.strokes[0], [[1, 10, 1.0], [2, 20, 2.0]])


def test_default_channels_are_x_y_without_time():
    ink = parse_inkml(inkml("<trace>1 2, 3 4, 5 6</trace>"))
    np.testing.assert_allclose(ink.strokes[0], [[1, 2, 0], [3, 4, 0], [5, 6, 0]])


def test_difference_encodings():
    # 10 10, then first differences +1 +2 twice, then second difference +1 +0
    ink = parse_inkml(inkml("<trace>10 10, '1 '2, 1 2, \"1 \"0</trace>"))
    np.testing.assert_allclose(ink.strokes[0][:, :2], [[10, 10], [11, 12], [12, 14], [14, 16]])


def test_nested_trace_groups_and_transcription_annotation():
    data = inkml(
        '<annotation type="transcription">hi there</annotation>'
        "<traceGroup><traceGroup><trace>1 1, 2 2</trace></traceGroup><trace>3 3</trace></traceGroup>"
    )
    ink = parse_inkml(data)
    assert ink.text == "hi there"
    assert len(ink.strokes) == 2


def test_missing_truth_is_none():
    assert parse_inkml(inkml("<trace>1 1</trace>")).text is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<ink><trace>1 2", "malformed XML"),
        (b"<svg/>", "not InkML"),
        (inkml("<trace>1 2, 3 x</trace>"), "trace"),
        (inkml("<trace>nan 2, 3 4</trace>"), "NaN"),
        (inkml("<trace>1e999 2, 3 4</trace>"), "infinite"),
    ],
)
def test_malformed_input_is_refused_clearly(data, message):
    with pytest.raises(FormatError, match=message):
        parse_inkml(data, "bad.inkml")


def test_entity_expansion_bomb_is_refused(tmp_path):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE ink [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<ink><annotation type="truth">&c;</annotation><trace>1 1</trace></ink>'
    )
    path = tmp_path / "bomb.inkml"
    path.write_text(bomb)
    with pytest.raises(FormatError, match=r"bomb\.inkml.*unsafe XML"):
        read_ink(path)


def test_external_entity_is_refused(tmp_path):
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE ink [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<ink><annotation type="truth">&x;</annotation></ink>'
    )
    with pytest.raises(FormatError, match="unsafe XML"):
        parse_inkml(xxe.encode())


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(FormatError, match=r"missing\.inkml: no such file"):
        read_ink(tmp_path / "missing.inkml")
    with pytest.raises(FormatError, match="unknown ink format"):
        read_ink(__file__)


def test_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr("handwrite.formats.MAX_INK_FILE_BYTES", 1000)
    path = tmp_path / "huge.inkml"
    path.write_text("<ink>" + "<trace>1 2, 3 4</trace>" * 100 + "</ink>")
    with pytest.raises(FormatError, match=r"huge\.inkml: ink file is \d+ bytes, larger than"):
        read_ink(path)


def test_pages_round_trip_with_every_stroke_where_it_was(tmp_path):
    # four pages, the second and the last empty, with times and sizes
    strokes = [[[0, 0, 0.0], [1, 2, 0.01]], [[5, 5, 0.5], [6, 7, 0.52]], [[8, 9, 1.0], [10, 11, 1.02], [12, 13, 1.04]]]
    sizes = ((595.2756, 841.8898), (612.0, 792.0), (300.0, 200.0), (100.0, 100.0))
    ink = Ink(strokes, text="one\ntwo", page_starts=(0, 1, 1, 3), page_sizes=sizes)
    write_ink(ink, tmp_path / "notes.inkml")
    back = read_ink(tmp_path / "notes.inkml")
    assert back.page_starts == (0, 1, 1, 3)
    assert back.page_sizes == sizes
    assert back.text == "one\ntwo"
    assert [len(s) for s in back.strokes] == [2, 2, 3]
    np.testing.assert_allclose(back.points(), ink.points(), atol=1e-6)


def test_one_page_is_written_as_before():
    text = format_inkml(Ink.from_points([[[0, 0], [1, 1]]]))
    assert "<traceGroup>" not in text and 'type="page"' not in text


def test_page_trace_groups_are_read_as_pages():
    data = inkml(
        '<annotation type="truth">a\nb</annotation>'
        "<trace>0 0, 1 1</trace>"  # before any page: on the first page
        '<traceGroup><annotation type="page">1</annotation><trace>1 1, 2 2</trace>'
        "<traceGroup><trace>3 3</trace></traceGroup></traceGroup>"  # nested: its page's
        "<traceGroup><trace>4 4</trace></traceGroup>"  # not a page: stays with the page before
        '<traceGroup><annotation type="page">2</annotation>'
        '<annotation type="pageSize">100 50</annotation><trace>5 5</trace></traceGroup>'
        '<traceGroup><annotation type="page">3</annotation></traceGroup>'  # an empty page
    )
    ink = parse_inkml(data)
    assert len(ink.strokes) == 5
    assert ink.page_starts == (0, 4, 5)
    assert ink.page_sizes == ()  # only the second page gave a size
    assert [len(page.strokes) for page in ink.pages()] == [4, 1, 0]


def test_groups_without_a_page_annotation_are_one_page():
    nested_page = '<traceGroup><traceGroup><annotation type="page">9</annotation>{}</traceGroup></traceGroup>'
    data = inkml(
        "<traceGroup><trace>1 1</trace></traceGroup>"
        + nested_page.format("<trace>2 2</trace>")
        + nested_page.format("<trace>3 3</trace>")
    )
    ink = parse_inkml(data)  # a page annotation deeper than the top level does not make a page
    assert ink.page_starts == (0,) and len(ink.strokes) == 3


@pytest.mark.parametrize("size", ["100", "a b", "-1 5", "nan 5", "1e300 5"])
def test_a_bad_page_size_is_refused_clearly(size):
    data = inkml(
        f'<traceGroup><annotation type="page">1</annotation><annotation type="pageSize">{size}</annotation>'
        "<trace>1 1</trace></traceGroup>"
    )
    with pytest.raises(FormatError, match=r"pages\.inkml: page 1: pageSize"):
        parse_inkml(data, "pages.inkml")


def test_recognized_text_is_kept_apart_from_truth():
    """Text a recognizer read goes in its own annotation, per page, and never reads back as truth."""
    one_page = format_inkml(Ink.from_points([[[0, 0], [1, 1]]]), recognized=["hello < world"])
    assert 'type="recognized">hello &lt; world<' in one_page and "truth" not in one_page
    assert parse_inkml(one_page.encode()).text is None
    assert recognized_texts(one_page.encode()) == ("hello < world",)
    notebook = Ink([[[0, 0], [1, 1]], [[5, 5], [6, 6]]], text="typed", page_starts=(0, 1), page_sizes=((9, 9),) * 2)
    data = format_inkml(notebook, recognized=["first\nline two", ""]).encode()
    assert parse_inkml(data).text == "typed"
    assert recognized_texts(data) == ("first\nline two", "")
    assert recognized_texts(format_inkml(notebook).encode()) == (None, None)


def test_reading_the_recognized_text_parses_no_strokes():
    """The app reads a file's ink, then its recognized text: the strokes are parsed once
    (a notebook of a million points took 4 s more to open). A trace is not even looked
    at, so one that is not numbers does not stop the text being read."""
    data = format_inkml(Ink.from_points([[[0, 0], [1, 1]]]), recognized=["hello"]).replace("0 0, 1 1", "not numbers")
    with pytest.raises(FormatError):
        parse_inkml(data.encode())
    assert recognized_texts(data.encode()) == ("hello",)


def test_coordinates_come_back_exactly():
    """Six digits where they suffice (files as before), every digit a point needs otherwise."""
    points = [[[123.4567, 0.1 + 0.2], [1 / 3, 98765.4321], [12.5, -7.0]]]
    back = parse_inkml(format_inkml(Ink.from_points(points)).encode())
    assert back.strokes[0][:, :2].tolist() == [p[:2] for p in points[0]]
    assert "<trace>12.5 -7</trace>" in format_inkml(Ink.from_points([[[12.5, -7.0]]]))


def test_recognized_text_round_trips_through_the_public_api(tmp_path):
    ink = handwrite.Ink([np.array([[0.0, 0.0, 0.0], [10.0, 5.0, 0.01]])], text="truth")
    handwrite.write_ink(ink, tmp_path / "page.inkml", recognized=["read by the model"])
    assert handwrite.read_recognized(tmp_path / "page.inkml") == ("read by the model",)
    assert handwrite.read_ink(tmp_path / "page.inkml").text == "truth"  # recognized text is never truth
    handwrite.write_ink(ink, tmp_path / "page.xopp", recognized=["read"])
    assert handwrite.read_recognized(tmp_path / "page.xopp") == ()


def test_a_y_up_channel_is_read_y_down():
    """orientation="-ve" on Y (a device with y pointing up): y read negated; X as given."""
    data = inkml(
        '<traceFormat><channel name="X"/><channel name="Y" orientation="-ve"/></traceFormat><trace>1 10, 2 20</trace>'
    )
    np.testing.assert_allclose(parse_inkml(data).strokes[0], [[1, -10, 0], [2, -20, 0]])
    plain = inkml(
        '<traceFormat><channel name="X"/><channel name="Y" orientation="+ve"/></traceFormat><trace>1 10</trace>'
    )
    np.testing.assert_allclose(parse_inkml(plain).strokes[0], [[1, 10, 0]])


def test_a_reversed_x_channel_is_read_rightwards_and_traces_before_the_format_too():
    data = inkml(
        '<trace>1 10</trace><traceFormat><channel name="X" orientation="-ve"/><channel name="Y"/></traceFormat>'
    )
    np.testing.assert_allclose(parse_inkml(data).strokes[0], [[-1, 10, 0]])


def test_a_y_up_file_reads_as_its_y_down_twin_with_boxes_in_its_coordinates_negated():
    """The same line written y-down and y-up (declared) reads the same; every word's box
    is the file's own x, and its y negated (the page schema's boxes grow downwards)."""
    model = handwrite.load_model()
    down = read_ink(Path(__file__).resolve().parents[2] / "data" / "ink" / "quick-fox.inkml")
    up_text = format_inkml(Ink([s * [1.0, -1.0, 1.0] for s in down.strokes], text=down.text))
    plain = '<channel name="Y" type="decimal"/>'
    assert plain in up_text
    up = parse_inkml(up_text.replace(plain, '<channel name="Y" type="decimal" orientation="-ve"/>').encode())
    as_down, as_up = model.recognize(down), model.recognize(up)
    assert as_up.text == as_down.text and as_up.text
    file_points = [s * [1.0, -1.0, 1.0] for s in down.strokes]  # the y-up file's own coordinates
    for line in as_up.lines:
        for word in line.words:
            points = np.concatenate([file_points[i] for i in word.strokes])
            x0, y0, x1, y1 = word.box
            assert (x0, x1) == (points[:, 0].min(), points[:, 0].max())
            assert (y0, y1) == (-points[:, 1].max(), -points[:, 1].min())


def test_text_xml_cannot_hold_is_refused_not_written_unreadable(tmp_path):
    path = tmp_path / "line.inkml"
    with pytest.raises(handwrite.InkError, match="control character"):
        write_ink(Ink.from_points([[[0, 0], [1, 1]]], text="a\x1bb"), path)
    assert not path.exists()
    write_ink(Ink.from_points([[[0, 0], [1, 1]]], text="tab\tand <markup> & more"), path)
    assert read_ink(path).text == "tab\tand <markup> & more"

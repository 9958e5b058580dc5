import numpy as np
import pytest

from handwrite import FormatError, Ink, read_ink, write_ink
from handwrite.formats.inkml import parse_inkml


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

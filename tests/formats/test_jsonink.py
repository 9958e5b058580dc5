import numpy as np
import pytest

from handwrite import FormatError, Ink, read_ink, write_ink


def test_round_trip(tmp_path):
    ink = Ink.from_points([[[0, 0, 0], [1, 1, 0.1]]], text="é ok")
    write_ink(ink, tmp_path / "a.json")
    back = read_ink(tmp_path / "a.json")
    assert back.text == "é ok"
    np.testing.assert_allclose(back.points(), ink.points())


def test_points_without_time_get_zero_time(tmp_path):
    (tmp_path / "a.json").write_text('{"strokes": [[[1, 2], [3, 4]]]}')
    assert read_ink(tmp_path / "a.json").strokes[0][:, 2].tolist() == [0, 0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "malformed JSON"),
        ("[]", "strokes"),
        ('{"strokes": [[[1]]]}', "stroke 0"),
        ('{"strokes": [[[1, 2, 3, 4]]]}', "stroke 0"),
        ('{"strokes": [], "text": 5}', "text"),
        ('{"strokes": [[["a", 1]]]}', "a.json"),
        ('{"strokes": [[[NaN, 1]]]}', "NaN"),
    ],
)
def test_bad_json_is_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "a.json"
    path.write_text(content)
    with pytest.raises(FormatError, match=message):
        read_ink(path)

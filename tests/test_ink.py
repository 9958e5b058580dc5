import numpy as np
import pytest

from handwrite import Ink, InkError
from handwrite.ink import MAX_POINTS


def test_points_get_a_time_channel_and_empty_strokes_are_dropped():
    ink = Ink.from_points([[[1, 2], [3, 4]], []])
    assert len(ink.strokes) == 1
    assert ink.strokes[0].shape == (2, 3)
    assert ink.bounds() == (1.0, 2.0, 3.0, 4.0)


def test_empty_ink():
    ink = Ink()
    assert ink.is_empty() and ink.num_points == 0 and ink.points().shape == (0, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_coordinates_are_refused(bad):
    with pytest.raises(InkError, match="NaN or infinite"):
        Ink.from_points([[[0, 0], [bad, 1]]])


def test_too_many_points_are_refused():
    with pytest.raises(InkError, match="more than"):
        Ink([np.zeros((MAX_POINTS + 1, 3))])


def test_bad_shape_is_refused():
    with pytest.raises(InkError, match="stroke 0"):
        Ink([np.zeros((3, 4))])

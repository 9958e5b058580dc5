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


@pytest.mark.parametrize("huge", [1e308, -1e308, 1e200, 2e9])
def test_huge_coordinates_are_refused_naming_the_stroke(huge):
    with pytest.raises(InkError, match=r"stroke 1 has a coordinate beyond"):
        Ink.from_points([[[0, 0], [1, 1]], [[0, 0], [5, huge]]])


@pytest.mark.parametrize("huge", [1e308, -1e300, 1e17])
def test_huge_times_are_refused_naming_the_stroke(huge):
    with pytest.raises(InkError, match=r"stroke 0 has a time beyond"):
        Ink.from_points([[[0, 0, 0], [1, 1, huge]]])


def test_coordinates_and_times_within_the_bounds_are_kept():
    ink = Ink.from_points([[[-1e9, 1e9, 1.7e15], [1e9, -1e9, 1.7e15]]])  # an epoch in microseconds as seconds
    assert ink.bounds() == (-1e9, -1e9, 1e9, 1e9)


@pytest.mark.parametrize("stroke", [[[10**400, 2]], [[1, 2], [1, "a"]], [[1, 2], [1, 2, 3]], [{"x": 1}]])
def test_points_that_are_not_numbers_are_an_ink_error(stroke):
    with pytest.raises(InkError, match="stroke 0"):
        Ink.from_points([stroke])


def test_page_sizes_are_one_positive_size_per_page_or_none():
    import pytest

    from handwrite import Ink, InkError

    stroke = [[0.0, 0.0], [1.0, 1.0]]
    assert Ink.from_points([stroke]).page_sizes == ()
    assert Ink([np.asarray(stroke)] * 2, page_starts=(0, 1), page_sizes=((10, 20), (30, 40))).page_sizes == (
        (10.0, 20.0),
        (30.0, 40.0),
    )
    for sizes in (((10, 20),), ((-5, 0), (1, 1)), ((float("nan"), 1), (1, 1)), (("a", 1), (1, 1))):
        with pytest.raises(InkError):
            Ink([np.asarray(stroke)] * 2, page_starts=(0, 1), page_sizes=sizes)

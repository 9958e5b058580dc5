"""Training-time ink augmentation: label-preserving, random but reproducible."""

import random

import numpy as np
import pytest

from handwrite.ink import Ink
from handwrite.training.data.augment import Augmentation
from handwrite.training.data.synthetic import render_text


@pytest.fixture(scope="module")
def ink() -> Ink:
    return render_text("quick brown fox", random.Random(0))


def copy(ink: Ink) -> Ink:
    return Ink([s.copy() for s in ink.strokes], text=ink.text, source=ink.source)


def test_keeps_the_strokes_their_ends_and_the_text(ink):
    out = Augmentation()(ink, random.Random(1))
    assert len(out.strokes) == len(ink.strokes)
    assert out.text == ink.text == "quick brown fox" and out.source == ink.source
    for before, after in zip(ink.strokes, out.strokes, strict=True):
        assert min(2, len(before)) <= len(after) <= len(before)
        assert after[0, 2] == before[0, 2] and after[-1, 2] == before[-1, 2]  # first and last points kept


def test_points_are_only_dropped_never_reordered_or_invented(ink):
    out = Augmentation()(ink, random.Random(2))
    for before, after in zip(ink.strokes, out.strokes, strict=True):
        where = np.searchsorted(before[:, 2], after[:, 2])  # the pen's times: a subsequence of the original
        assert np.all(np.diff(where) > 0)
        np.testing.assert_array_equal(before[where, 2], after[:, 2])


def test_drops_about_the_configured_share_of_points():
    long = Ink([np.column_stack([np.arange(5000.0), np.sin(np.arange(5000.0) / 9) * 30, np.arange(5000.0)])])
    out = Augmentation(drop_point=0.2)(long, random.Random(3))
    assert 0.17 < 1 - out.num_points / long.num_points < 0.23
    assert Augmentation(drop_point=0.0)(long, random.Random(3)).num_points == long.num_points


def test_changes_the_ink(ink):
    out = Augmentation()(ink, random.Random(4))
    kept = Augmentation(drop_point=0.0)(ink, random.Random(4))
    assert out.num_points < ink.num_points
    moved = np.hypot(*(kept.points()[:, :2] - ink.points()[:, :2]).T)
    _, y0, _, y1 = ink.bounds()
    assert np.median(moved) > 0.01 * (y1 - y0)


def test_stays_finite_and_about_the_same_size(ink):
    _, y0, _, y1 = ink.bounds()
    for seed in range(20):
        out = Augmentation()(ink, random.Random(seed))
        assert np.isfinite(out.points()).all()
        _, oy0, _, oy1 = out.bounds()
        assert 0.6 < (oy1 - oy0) / (y1 - y0) < 1.7


@pytest.mark.parametrize(
    "strokes",
    [
        [[[5.0, 5.0, 0.0]]],  # a dot
        [[[0.0, 0.0, 0.0], [0.0, 0.0, 0.1], [0.0, 0.0, 0.2]]],  # the same point three times
        [[[0.0, 3.0, 0.0], [1000.0, 3.0, 0.1]]],  # flat: no height at all
        [[[1e6, -1e6, 0.0], [1e6 + 1, -1e6 + 2, 1.0]], [[1e6 + 5, -1e6, 2.0]]],  # far from the origin
    ],
)
def test_degenerate_ink_stays_finite(strokes):
    ink = Ink.from_points(strokes)
    out = Augmentation()(ink, random.Random(5))
    assert len(out.strokes) == len(ink.strokes) and np.isfinite(out.points()).all()


def test_the_same_seed_gives_the_same_ink_and_another_seed_another(ink):
    first = Augmentation()(ink, random.Random(6))
    again = Augmentation()(ink, random.Random(6))
    other = Augmentation()(ink, random.Random(7))
    for a, b in zip(first.strokes, again.strokes, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(len(a) != len(c) or not np.allclose(a, c) for a, c in zip(first.strokes, other.strokes, strict=True))


def test_the_input_is_left_as_it_was(ink):
    before = copy(ink)
    Augmentation()(ink, random.Random(8))
    for a, b in zip(ink.strokes, before.strokes, strict=True):
        np.testing.assert_array_equal(a, b)


def test_scaled_to_zero_is_no_change(ink):
    none = Augmentation().scaled(0.0)
    assert none == Augmentation(0.0, 0.0, 0.0, 0.0, 0.0)
    out = none(ink, random.Random(9))
    for a, b in zip(ink.strokes, out.strokes, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_scaled_multiplies_every_range():
    assert Augmentation().scaled(2.0) == Augmentation(
        slant=0.6, rotation_degrees=8.0, stretch=0.3, jitter=0.02, drop_point=0.1
    )


def test_slant_shears_x_by_height():
    """Only slant: x moves in proportion to y, by at most `slant` times the height."""
    ink = Ink.from_points([[[0.0, 0.0, 0.0], [0.0, 100.0, 1.0]]])  # a vertical bar
    shears = []
    for seed in range(30):
        out = Augmentation(slant=0.3, rotation_degrees=0.0, stretch=0.0, jitter=0.0, drop_point=0.0)(
            ink, random.Random(seed)
        )
        (bottom, top) = out.strokes[0][:, :2]
        assert bottom.tolist() == [0.0, 0.0] and top[1] == pytest.approx(100.0)
        shears.append(top[0] / 100.0)
    assert max(abs(s) for s in shears) <= 0.3 and max(shears) > 0.1 and min(shears) < -0.1


def test_empty_ink_is_returned_as_it_is():
    empty = Ink()
    assert Augmentation()(empty, random.Random(0)) is empty

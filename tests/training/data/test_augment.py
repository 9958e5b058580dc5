"""Training-time ink augmentation: label-preserving, random but reproducible."""

import random

import numpy as np
import pytest

from handwrite.ink import Ink
from handwrite.training.data.augment import (
    Augmentation,
    as_read,
    marks_last,
    resampled_noisy,
    rotated,
    swap_overlapping_strokes,
)
from handwrite.training.data.synthetic import render_text


@pytest.fixture(scope="module")
def ink() -> Ink:
    return render_text("quick brown fox", random.Random(0))


def copy(ink: Ink) -> Ink:
    return Ink([s.copy() for s in ink.strokes], text=ink.text, source=ink.source)


PLAIN = Augmentation(marks_last=0.0, pen_rate=0.0, swap_strokes=0.0)  # the point distortions only


def test_keeps_the_strokes_their_ends_and_the_text(ink):
    out = PLAIN(ink, random.Random(1))
    assert len(out.strokes) == len(ink.strokes)
    assert out.text == ink.text == "quick brown fox" and out.source == ink.source
    for before, after in zip(ink.strokes, out.strokes, strict=True):
        assert min(2, len(before)) <= len(after) <= len(before)
        assert after[0, 2] == before[0, 2] and after[-1, 2] == before[-1, 2]  # first and last points kept


def test_points_are_only_dropped_never_reordered_or_invented(ink):
    out = PLAIN(ink, random.Random(2))
    for before, after in zip(ink.strokes, out.strokes, strict=True):
        where = np.searchsorted(before[:, 2], after[:, 2])  # the pen's times: a subsequence of the original
        assert np.all(np.diff(where) > 0)
        np.testing.assert_array_equal(before[where, 2], after[:, 2])


def test_drops_about_the_configured_share_of_points():
    long = Ink([np.column_stack([np.arange(5000.0), np.sin(np.arange(5000.0) / 9) * 30, np.arange(5000.0)])])
    out = Augmentation(drop_point=0.2, pen_rate=0.0)(long, random.Random(3))
    assert 0.17 < 1 - out.num_points / long.num_points < 0.23
    assert Augmentation(drop_point=0.0, pen_rate=0.0)(long, random.Random(3)).num_points == long.num_points


def test_changes_the_ink(ink):
    out = PLAIN(ink, random.Random(4))
    kept = Augmentation(drop_point=0.0, marks_last=0.0, pen_rate=0.0, swap_strokes=0.0)(ink, random.Random(4))
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
    assert none == Augmentation(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    out = none(ink, random.Random(9))
    for a, b in zip(ink.strokes, out.strokes, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)


def test_scaled_multiplies_every_range():
    assert Augmentation().scaled(2.0) == Augmentation(
        slant=0.6,
        rotation_degrees=8.0,
        stretch=0.3,
        jitter=0.02,
        drop_point=0.1,
        marks_last=0.2,
        pen_rate=0.3,
        swap_strokes=0.2,
    )


def test_slant_shears_x_by_height():
    """Only slant: x moves in proportion to y, by at most `slant` times the height."""
    ink = Ink.from_points([[[0.0, 0.0, 0.0], [0.0, 100.0, 1.0]]])  # a vertical bar
    shears = []
    for seed in range(30):
        out = Augmentation(0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)(ink, random.Random(seed))
        (bottom, top) = out.strokes[0][:, :2]
        assert bottom.tolist() == [0.0, 0.0] and top[1] == pytest.approx(100.0)
        shears.append(top[0] / 100.0)
    assert max(abs(s) for s in shears) <= 0.3 and max(shears) > 0.1 and min(shears) < -0.1


def test_empty_ink_is_returned_as_it_is():
    empty = Ink()
    assert Augmentation()(empty, random.Random(0)) is empty


def test_rotated_turns_about_the_centre_by_hand():
    """A bar from (0, 0) to (10, 0) turned 90 degrees about its centre (5, 0) runs from
    (5, -5) to (5, 5) (clockwise on a y-down screen); times untouched."""
    bar = Ink.from_points([[[0.0, 0.0, 1.0], [10.0, 0.0, 2.0]]])
    np.testing.assert_allclose(rotated(bar, 90.0).strokes[0], [[5.0, -5.0, 1.0], [5.0, 5.0, 2.0]], atol=1e-12)
    np.testing.assert_allclose(rotated(bar, 0.0).strokes[0], bar.strokes[0])


def test_marks_last_moves_the_small_strokes_to_the_end_in_their_order():
    """Height 100: a 5 x 5 dot and a 30 x 2 cross are marks (under 12 tall, 40 wide); a
    50-wide flat dash is not (too wide)."""
    stem = [[0.0, 0.0, 0.0], [0.0, 100.0, 0.1]]
    dot = [[20.0, -10.0, 0.2], [25.0, -5.0, 0.3]]
    other = [[40.0, 0.0, 0.4], [40.0, 100.0, 0.5]]
    cross = [[30.0, 30.0, 0.6], [60.0, 32.0, 0.7]]
    dash = [[0.0, 50.0, 0.8], [50.0, 50.0, 0.9]]
    out, moved = marks_last(Ink.from_points([stem, dot, other, cross, dash], text="it"))
    assert moved == 2 and out.text == "it"
    assert [s[0, 2] for s in out.strokes] == [0.0, 0.4, 0.8, 0.2, 0.6]


def test_resampled_noisy_without_noise_interpolates_by_point_index():
    """3 points at rate 2 -> 6 points evenly over the index 0..2 (0, 0.4, ..., 2):
    positions and times interpolated linearly between the given points."""
    stroke = Ink.from_points([[[0.0, 0.0, 0.0], [10.0, 0.0, 1.0], [10.0, 20.0, 2.0]]])
    out = resampled_noisy(stroke, 2.0, 0.0, np.random.default_rng(0)).strokes[0]
    np.testing.assert_allclose(out[:, 0], [0.0, 4.0, 8.0, 10.0, 10.0, 10.0])
    np.testing.assert_allclose(out[:, 1], [0.0, 0.0, 0.0, 4.0, 12.0, 20.0])
    np.testing.assert_allclose(out[:, 2], [0.0, 0.4, 0.8, 1.2, 1.6, 2.0])


def test_resampled_noisy_jitter_is_the_share_of_the_height():
    """Jitter 0.01 of a 100-high stroke: noise of s.d. 1 on both axes."""
    stroke = Ink.from_points([np.column_stack([np.zeros(2000), np.linspace(0, 100, 2000), np.zeros(2000)])])
    out = resampled_noisy(stroke, 1.0, 0.01, np.random.default_rng(1)).strokes[0]
    noise = out[:, :2] - stroke.strokes[0][:, :2]
    assert 0.9 < noise[:, 0].std() < 1.1 and 0.9 < noise[:, 1].std() < 1.1


def test_a_faster_pen_never_makes_more_points_than_an_ink_may_hold():
    """A labelled line of 600,000 points (readable: an Ink holds up to 2,000,000) at 4x
    the rate raised InkError mid-training; the rate is held to what fits."""
    from handwrite.ink import MAX_POINTS

    many = np.arange(600_000, dtype=float)
    big = Ink([np.column_stack([many, np.sin(many / 50), many]), np.zeros((3, 3))])
    out = resampled_noisy(big, 4.0, 0.0, np.random.default_rng(0))
    assert MAX_POINTS - 2 <= sum(len(s) for s in out.strokes) <= MAX_POINTS
    np.testing.assert_allclose(out.strokes[0][[0, -1]], big.strokes[0][[0, -1]])  # the same path, ends kept


def test_swap_swaps_only_overlapping_neighbours():
    """Strokes 0 and 1 overlap in x (a letter's two strokes) and swap at chance 1;
    stroke 2 stands apart and keeps its place."""
    strokes = [[[0.0, 0.0, 0.0], [10.0, 10.0, 0.1]], [[5.0, 0.0, 0.2], [15.0, 0.0, 0.3]], [[30.0, 0.0, 0.4]]]
    out = swap_overlapping_strokes(Ink.from_points(strokes), random.Random(0), chance=1.0)
    assert [s[0, 2] for s in out.strokes] == [0.2, 0.0, 0.4]
    same = swap_overlapping_strokes(Ink.from_points(strokes), random.Random(0), chance=0.0)
    assert [s[0, 2] for s in same.strokes] == [0.0, 0.2, 0.4]


def test_as_read_puts_a_dot_written_last_back_after_its_stem():
    """'ii' with both dots written after the line: fed as layout reads it, each dot
    follows the stem it sits on (stroke times say which stroke is which)."""
    stem_a = [[0.0, 0.0, 0.0], [0.0, 100.0, 0.1]]
    stem_b = [[30.0, 0.0, 0.2], [30.0, 100.0, 0.3]]
    dot_a = [[0.0, -40.0, 0.4], [2.0, -38.0, 0.5]]
    dot_b = [[30.0, -40.0, 0.6], [32.0, -38.0, 0.7]]
    out = as_read(Ink.from_points([stem_a, stem_b, dot_a, dot_b], text="ii"))
    assert [s[0, 2] for s in out.strokes] == [0.0, 0.4, 0.2, 0.6] and out.text == "ii"


def test_each_device_transform_is_drawn_at_its_chance(ink):
    """Only marks_last at chance 1: every line comes back with its marks moved last and
    fed as layout reads them."""
    only_marks = Augmentation(0.0, 0.0, 0.0, 0.0, 0.0, marks_last=1.0, pen_rate=0.0, swap_strokes=0.0)
    out = only_marks(ink, random.Random(0))
    expected = as_read(marks_last(ink)[0])
    assert [s[0, 2] for s in out.strokes] == [s[0, 2] for s in expected.strokes]
    only_rate = Augmentation(0.0, 0.0, 0.0, 0.0, 0.0, marks_last=0.0, pen_rate=1.0, swap_strokes=0.0)
    ratios = [only_rate(ink, random.Random(seed)).num_points / ink.num_points for seed in range(20)]
    assert 0.45 < min(ratios) < 0.9 and 2.0 < max(ratios) < 4.1  # slower and faster digitisers

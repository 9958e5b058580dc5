import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from handwrite import Ink
from handwrite.features import FEATURE_NAMES, FeatureSettings, featurize


def wave(n: int = 200) -> Ink:
    x = np.linspace(0, 40, n)
    return Ink([np.column_stack([x, np.sin(x) * 3, x / 100])], text="~")


def test_features_do_not_depend_on_position_or_scale():
    """Whiteboard units, tablet units and canvas pixels give the same features."""
    ink = wave()
    moved = Ink([np.column_stack([s[:, :2] * 37.5 + [1000, -250], s[:, 2]]) for s in ink.strokes])
    np.testing.assert_allclose(featurize(ink), featurize(moved), atol=1e-4)


def test_length_follows_the_pen_path_not_the_sampling_rate():
    dense, sparse = wave(2000), wave(300)
    assert abs(len(featurize(dense)) - len(featurize(sparse))) <= 0.05 * len(featurize(dense))


def test_pen_up_marks_stroke_starts():
    ink = Ink.from_points([[[0, 0], [5, 0]], [[10, 0], [15, 5]]])
    feats = featurize(ink)
    pen_up = feats[:, FEATURE_NAMES.index("pen_up")]
    assert pen_up[0] == 1 and pen_up.sum() == 2


def test_empty_and_single_point_ink():
    assert featurize(Ink()).shape == (0, len(FEATURE_NAMES))
    single = featurize(Ink.from_points([[[3, 4]]]))
    assert single.shape == (1, len(FEATURE_NAMES)) and np.isfinite(single).all()


def test_decreasing_timestamps_do_not_matter():
    ink = wave()
    backwards = Ink([np.column_stack([s[:, :2], s[::-1, 2]]) for s in ink.strokes])
    np.testing.assert_allclose(featurize(ink), featurize(backwards))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=1, max_size=30), min_size=1, max_size=5
    )
)
def test_any_finite_ink_gives_finite_bounded_features(strokes):
    feats = featurize(Ink.from_points(strokes), FeatureSettings())
    assert np.isfinite(feats).all()
    assert len(feats) >= 1
    assert np.abs(feats[:, :2]).max() <= FeatureSettings().max_jump / FeatureSettings().step / 4 + 1e-6


def test_a_long_flat_stroke_stays_bounded():
    """Found by hypothesis: no height at all must not mean millions of resampled points."""
    feats = featurize(Ink.from_points([[(0.0, -1.192092896e-07), (839501.0, 0.0)]]))
    assert 1 <= len(feats) <= 10_000 and np.isfinite(feats).all()


def test_ink_at_the_coordinate_bounds_gives_finite_features():
    """Ink refuses coordinates beyond MAX_COORDINATE; anything within gives finite features."""
    from handwrite.ink import MAX_COORDINATE

    far = MAX_COORDINATE
    ink = Ink.from_points([[(-far, -far, 0), (far, far, 1e15)], [(far, -far, -1e15)], [(0, 0), (1e-9, 0)]])
    feats = featurize(ink)
    assert np.isfinite(feats).all() and 1 <= len(feats) <= 300_000


def test_many_strokes_are_normalised_in_linear_time():
    """The provisional step was computed over all strokes once per stroke:
    10k one-point strokes took 33 s, 30k 222 s. Now a fraction of a second;
    the bound is a hang guard, not a timing assertion."""
    from tests.hostile import time_limit

    ink = Ink([np.array([[i, i % 7, 0.0]]) for i in range(30_000)])
    with time_limit(60, "featurizing 30k one-point strokes"):
        feats = featurize(ink)
    assert len(feats) == 30_000 and np.isfinite(feats).all()

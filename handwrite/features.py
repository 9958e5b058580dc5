"""Online preprocessing: make ink from a whiteboard, a tablet and a mouse canvas
look alike, then turn it into one feature vector per resampled point.

1. Scale: the writing's own height, measured robustly as the spread of y over
   points spaced evenly along the pen path (so slow, dense pen movement does not
   weigh more), not the bounding box, which one long descender would stretch.
2. Smooth each stroke along the pen path with a Gaussian a fixed share of the
   writing height wide, so a digitiser's sensor noise (a fast pen reports many
   points, each a little off) does not read as a wobbling pen; writing at
   whiteboard rates is hardly touched (its points are further apart than the kernel).
3. Resample every stroke at a fixed arc-length step in those units, so the
   sequence length follows how much was written, not the digitiser's rate.
4. Per point: movement (dx, dy), its direction (cos, sin), the change of
   direction (curvature), pen-up (the move into this point was in the air),
   and height relative to the line's middle.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from handwrite.ink import Ink
from handwrite.stored_settings import StoredSettings

FEATURE_NAMES = ("dx", "dy", "cos", "sin", "dcos", "dsin", "pen_up", "y")
MAX_ASPECT = 400.0  # a line of writing is at most this many writing heights long
MAX_RESAMPLED = 250_000  # points after resampling, whatever the input
# A stroke of more points than this, or resampled to more, is resampled on its own (np.interp):
# past about 200 points that is faster than the all-strokes pass, and needs a third of its memory.
RESAMPLED_ALONE = 256
RESAMPLED_AT_ONCE = 65_536  # points the all-strokes pass makes at once (more: in parts, its temporaries stay small)
CHORD_POINTS = 4  # the pen's speed is measured over this many points: noise cancels, curves hardly shorten it
MAX_SMOOTH_POINTS = 24.0  # widest kernel (s.d., in points): a pen dwelling in place is not averaged away
# Left as they are: points further apart than this many kernel widths (whiteboard
# rates: nothing to smooth), and strokes shorter than SHORTEST_SMOOTHED kernel widths
# (dots, commas: smoothing shrinks them, and the model knows them as they come).
MIN_SMOOTH_POINTS = 0.3
SHORTEST_SMOOTHED = 6.0


@dataclass(frozen=True)
class FeatureSettings(StoredSettings):
    """Preprocessing settings; stored in every model file so inference matches training."""

    # a file written before smoothing existed has no `smooth`: its network was trained,
    # and has always read, without it (the bundled model's file names its smoothing)
    READ_WITHOUT: ClassVar[dict[str, Any]] = {"smooth": 0.0}

    step: float = 0.1  # resampling distance, in units of the writing height
    height_low: float = 20.0  # percentiles of y whose spread defines the writing height
    height_high: float = 80.0
    max_jump: float = 6.0  # clip pen-up moves (in writing heights) so a far-away stroke cannot dominate
    # s.d. of the Gaussian along each stroke, in writing heights (0: none). Chosen on all
    # 1435 testset_v lines (scripts/robustness.py --lines 0 --sets fast --smooth S): 0.045
    # took a fast noisy pen from 33.79% to 7.71% CER, the lines as written 7.82% -> 7.87%.
    smooth: float = 0.045

    @property
    def num_features(self) -> int:
        return len(FEATURE_NAMES)


def normalize(ink: Ink, settings: FeatureSettings) -> list[np.ndarray]:
    """Strokes (x, y only) shifted and scaled so the writing height is 1 and the
    middle of the line is y = 0."""
    return normalize_strokes(ink.strokes, settings)


def normalize_strokes(strokes: Sequence[np.ndarray], settings: FeatureSettings) -> list[np.ndarray]:
    """`normalize` for strokes already checked (an Ink's, or taken from one)."""
    strokes = [s[:, :2] for s in strokes if len(s)]
    if not strokes:
        return []
    step = _provisional_step(strokes)  # once: per stroke it made normalising quadratic in strokes
    even = np.concatenate(_resample_all(strokes, step))
    low, mid, high = np.percentile(even[:, 1], [settings.height_low, 50.0, settings.height_high])
    extent = float(np.ptp(even, axis=0).max())
    # A flat stroke has (almost) no height: never let the writing be more than
    # MAX_ASPECT heights long, or resampling would explode; a dot gets height 1.
    height = max(high - low, extent / MAX_ASPECT) if extent > 1e-9 else 1.0
    origin = np.array([even[:, 0].min(), mid])
    return [(s - origin) / height for s in strokes]


def resample_strokes(strokes: list[np.ndarray], step: float) -> list[np.ndarray]:
    """Strokes resampled every `step`; coarser if that would exceed MAX_RESAMPLED points."""
    step = max(step, _path_length(strokes) / MAX_RESAMPLED)
    return _resample_all(strokes, step)


def _path_length(strokes: list[np.ndarray]) -> float:
    """The pen's path length within the strokes (not from one stroke to the next)."""
    strokes = [s for s in strokes if len(s)]
    if not strokes:
        return 0.0
    points = np.concatenate(strokes)[:, :2]
    seg = np.hypot(*np.diff(points, axis=0).T)
    seg[np.cumsum([len(s) for s in strokes[:-1]], dtype=np.int64) - 1] = 0.0
    return float(seg.sum())


def featurize(ink: Ink, settings: FeatureSettings = FeatureSettings()) -> np.ndarray:
    """Ink -> float32 array (n, num_features); (0, num_features) for an empty ink."""
    return features_from_strokes(resampled(ink, settings), settings)


def resampled(ink: Ink, settings: FeatureSettings) -> list[np.ndarray]:
    """The strokes the features are made from: normalised, then resampled (one feature
    vector per point, so a caller can tell which stroke each feature came from)."""
    return resampled_strokes(ink.strokes, settings)


def resampled_strokes(strokes: Sequence[np.ndarray], settings: FeatureSettings) -> list[np.ndarray]:
    """`resampled` for strokes already checked: no Ink is built (and validated) again
    for each line a page is cut into."""
    return resample_strokes(smooth_strokes(normalize_strokes(strokes, settings), settings.smooth), settings.step)


def smooth_strokes(strokes: list[np.ndarray], sigma: float) -> list[np.ndarray]:
    """Each stroke smoothed by a Gaussian of s.d. `sigma` (in the strokes' units) along
    the pen path; 0 leaves them as they are."""
    return [_smooth(s, sigma) for s in strokes] if sigma > 0 else strokes


def _smooth(stroke: np.ndarray, sigma: float) -> np.ndarray:
    """The kernel is sized in points from the pen's typical distance between points,
    measured as chords over CHORD_POINTS points (a point-to-point distance would be
    all noise on a fast noisy pen and make the kernel too narrow). Past its ends a
    stroke is continued by its own points mirrored through its end (odd
    reflection), so its ends stay put and it does not shrink."""
    if len(stroke) < 3:
        return stroke
    k = min(CHORD_POINTS, len(stroke) - 1)
    spacing = float(np.mean(np.hypot(*(stroke[k:] - stroke[:-k]).T))) / k
    width = min(sigma / spacing, MAX_SMOOTH_POINTS) if spacing > 1e-12 else MAX_SMOOTH_POINTS
    if spacing * (len(stroke) - 1) < SHORTEST_SMOOTHED * sigma or width < MIN_SMOOTH_POINTS:
        return stroke
    radius = int(np.ceil(3 * width))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / width) ** 2)
    kernel /= kernel.sum()
    # (np.pad cost several times the convolutions on the short strokes ink is made of; a
    # matrix product over strided windows is no faster there and up to 6x slower on long ones)
    padded = _odd_reflection(stroke, radius)
    return np.stack([np.convolve(padded[:, j], kernel, mode="valid") for j in range(stroke.shape[1])], axis=1)


def _odd_reflection(stroke: np.ndarray, radius: int) -> np.ndarray:
    """The stroke continued `radius` points past each end by its own points mirrored
    through that end (what np.pad's odd reflection gives, without its overhead)."""
    if radius >= len(stroke):  # longer than the stroke: reflected again and again
        return np.pad(stroke, ((radius, radius), (0, 0)), mode="reflect", reflect_type="odd")
    head = 2 * stroke[0] - stroke[radius:0:-1]
    tail = 2 * stroke[-1] - stroke[-2 : -radius - 2 : -1]
    return np.concatenate([head, stroke, tail])


def features_from_strokes(strokes: list[np.ndarray], settings: FeatureSettings) -> np.ndarray:
    if not strokes:
        return np.zeros((0, settings.num_features), dtype=np.float32)
    points = np.concatenate(strokes)
    pen_up = np.zeros(len(points))
    starts = np.cumsum([0] + [len(s) for s in strokes[:-1]])
    pen_up[starts] = 1.0
    delta = np.diff(points, axis=0, prepend=points[:1])
    delta = np.clip(delta, -settings.max_jump, settings.max_jump)
    length = np.hypot(delta[:, 0], delta[:, 1])
    safe = np.where(length > 1e-9, length, 1.0)
    cos = np.where(length > 1e-9, delta[:, 0] / safe, 0.0)
    sin = np.where(length > 1e-9, delta[:, 1] / safe, 0.0)
    # curvature: rotation from the previous direction (cos/sin of the angle difference)
    prev_cos = np.concatenate([[1.0], cos[:-1]])
    prev_sin = np.concatenate([[0.0], sin[:-1]])
    dcos = cos * prev_cos + sin * prev_sin
    dsin = sin * prev_cos - cos * prev_sin
    scale = 1.0 / settings.step  # in-stroke moves become ~1
    feats = np.stack(
        [delta[:, 0] * scale / 4, delta[:, 1] * scale / 4, cos, sin, dcos, dsin, pen_up, points[:, 1]], axis=1
    )
    return feats.astype(np.float32)


def _provisional_step(strokes: list[np.ndarray]) -> float:
    """A step fine enough to measure the height: 1/50 of the larger extent, coarser
    where that would give more than MAX_RESAMPLED points (a scribble's path can be
    thousands of times its extent: 2M points made 50M, 2 GB)."""
    points = np.concatenate(strokes)
    extent = float(np.ptp(points, axis=0).max()) if len(points) > 1 else 0.0
    return max(extent / 50.0, _path_length(strokes) / MAX_RESAMPLED) if extent > 0 else 1.0


def _resample_all(strokes: list[np.ndarray], step: float) -> list[np.ndarray]:
    """Each stroke as `_resample` gives it, computed for all strokes at once: a line's
    dozens of short strokes cost a few numpy calls instead of a dozen each."""
    lengths = np.array([len(s) for s in strokes])
    if not strokes or lengths.min() == 0:  # (an empty stroke stays empty)
        return [_resample(s, step) for s in strokes]
    if lengths.max() > RESAMPLED_ALONE:  # (a fast pen's long stroke: as fast alone, without the pass's extra work)
        return _some_alone(strokes, lengths > RESAMPLED_ALONE, step)
    points = np.concatenate(strokes)[:, :2]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ends = starts + lengths - 1  # each stroke's last point
    seg = np.hypot(*np.diff(points, axis=0).T)
    seg[starts[1:] - 1] = 0.0  # no path from one stroke's end to the next one's start
    totals = _lengths_alone(seg, starts, lengths - 1)  # not arc[ends] - arc[starts]: see there
    # a stroke shorter than a step keeps its start, and its end if over half a step long
    counts = np.where(totals >= step, np.ceil(totals / max(step, 1e-300)) + 1, np.where(totals > step / 2, 2, 1))
    counts = counts.astype(np.int64)
    if counts.max() > RESAMPLED_ALONE:  # (a scribble's hundreds of steps a stroke)
        return _some_alone(strokes, counts > RESAMPLED_ALONE, step)
    if counts.sum() > 2 * RESAMPLED_AT_ONCE:  # (many scribbled strokes)
        cuts = np.searchsorted(np.cumsum(counts), np.arange(RESAMPLED_AT_ONCE, counts.sum(), RESAMPLED_AT_ONCE))
        bounds = [0, *np.unique(cuts).tolist(), len(strokes)]
        return [r for a, b in itertools.pairwise(bounds) if b > a for r in _resample_all(strokes[a:b], step)]
    arc = np.concatenate([[0.0], np.cumsum(seg)])  # along all strokes, flat between them
    stroke_of = np.repeat(np.arange(len(strokes)), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    last = first + counts - 1
    spacing = totals / np.maximum(counts - 1, 1)
    offsets = np.arange(len(stroke_of)) - first[stroke_of]
    targets = np.minimum(offsets * spacing[stroke_of], totals[stroke_of]) + arc[starts][stroke_of]
    # the segment each target lies on, never outside its own stroke
    left = np.searchsorted(arc, targets, side="right") - 1
    left = np.clip(left, starts[stroke_of], np.maximum(ends[stroke_of] - 1, starts[stroke_of]))
    right = np.minimum(left + 1, ends[stroke_of])
    span = arc[right] - arc[left]
    fraction = np.divide(targets - arc[left], span, out=np.zeros_like(span), where=span > 0)
    out = points[left] + np.clip(fraction, 0.0, 1.0)[:, None] * (points[right] - points[left])
    out[last] = points[ends]
    out[first] = points[starts]  # after the ends: a stroke kept as one point keeps its start
    bounds = [*first.tolist(), len(out)]  # (np.split costs more than the resampling of a short line)
    return [out[a:b] for a, b in itertools.pairwise(bounds)]


def _some_alone(strokes: list[np.ndarray], alone: np.ndarray, step: float) -> list[np.ndarray]:
    """The strokes marked resampled each on its own (`_resample`), the others together."""
    together = iter(_resample_all([s for s, a in zip(strokes, alone, strict=True) if not a], step))
    return [_resample(s[:, :2], step) if a else next(together) for s, a in zip(strokes, alone, strict=True)]


def _lengths_alone(seg: np.ndarray, starts: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Each stroke's length summed from its own start, as `_resample` sums it alone. Taken
    off the running sum over all strokes, rounding let the strokes before a stroke a whole
    number of steps long give it one point more. A line's strokes are summed in one
    array of rows padded with zeros; where that array would be far larger than the
    points (many short strokes beside a long one), stroke by stroke."""
    longest = int(segments.max())
    if len(segments) * longest > 4 * len(seg) + 4096:
        return np.array([np.cumsum(seg[a : a + n])[-1] if n else 0.0 for a, n in zip(starts, segments, strict=True)])
    columns = np.arange(longest)
    rows = np.where(columns < segments[:, None], seg[np.minimum(starts[:, None] + columns, len(seg) - 1)], 0.0)
    return np.cumsum(rows, axis=1)[:, -1] if longest else np.zeros(len(segments))


def _resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points evenly spaced `step` apart along the stroke (always keeps its start and end);
    a stroke shorter than a step keeps its start, and its end if over half a step long."""
    if len(stroke) < 2:
        return stroke[:1].copy()
    seg = np.hypot(*np.diff(stroke, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    total = arc[-1]
    if total < step:
        return stroke[[0, -1]] if total > step / 2 else stroke[:1].copy()
    count = int(np.ceil(total / step)) + 1
    targets = np.arange(count) * (total / (count - 1))  # np.linspace's values, without its overhead
    targets[-1] = total
    return np.stack([np.interp(targets, arc, stroke[:, 0]), np.interp(targets, arc, stroke[:, 1])], axis=1)

"""Layout analysis of online ink: a page of strokes -> text lines -> words.

Everything here comes from geometry, never from the order or time the strokes
were written in, and never from ruled lines, so a line added above another
later, a word squeezed into a line, or i-dots written at the end of the page
land where they belong.

1. Strokes are told apart as *anchors* (letters, words: anything about as tall
   as writing) and *marks* (dots, crosses, commas, accents: small strokes that
   belong to whatever they sit on or beside).
2. Lines are grown from the anchors, left to right: an anchor joins the line
   whose baseline, extrapolated to it, passes closest (within a fraction of the
   writing height), so slanted and gently curving lines are followed. Pieces of
   one line that a wide gap separated are joined afterwards.
3. Marks, and anything left over, go to the nearest line's band: no stroke is
   ever lost.
4. Inside a levelled line, anchors whose extents overlap or nearly touch form
   words; marks join the word below or nearest them. Words are ordered left to
   right, and a word's own strokes keep their writing order.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from handwrite.ink import Ink
from handwrite.results import Box

MAX_SLOPE = 0.35  # about 19 degrees: the steepest page angle looked for
FOLLOW_DECAY = 0.8  # while a line grows, each earlier anchor weighs this much less than the next
MAX_LINE_SLOPE = 0.12  # how far one line may run off the page's angle (about 7 degrees)
SLOPE_TRUST_LENGTH = 6.0  # a line this many writing heights long (spread) has its slope half believed
LINE_TOLERANCE = 1.1  # how far an anchor may sit off a line: in writing heights, or half line spacings
SIDE_BY_SIDE = 2.5  # pieces side by side join across this many writing heights
SIDE_BY_SIDE_SPACINGS = 1.6  # or this many line spacings, if fewer
FRAGMENT_WIDTH = 2.0  # writing heights: a piece of a few strokes narrower than this is no word of its own
FRAGMENT_REACH = 1.0  # a fragment this near a line (in writing heights, or half a spacing) joins it
FRAGMENT_REACH_MAX = 1.75  # writing heights: however wide the spacing, one further away is a line
# a piece whose strokes span less than this share of its width is a row of marks
# (quotation marks between two lines: 0.05-0.11 on testset_v pages; lines of writing 0.38 and up)
SPARSE_COVERAGE = 0.2
MAX_JOIN_PASSES = 8  # joining pieces settles in two or three passes on real pages
MARK_SIZE = 0.4  # strokes smaller than this (in writing heights) on both axes are marks
MARK_ABOVE_WEIGHT = 0.7  # how much being above a line's band counts against a mark, against below
WORD_GAP = 0.45  # a gap wider than this (in the line's writing height) separates words
STACKED_MIN_ANCHORS = 3  # a line split off a group that holds two must have this many anchors
STACKED_GAP = 0.45  # writing heights: the empty band between two lines grown into one
STACKED_APART = 0.9  # writing heights between the two lines' centres
STACKED_WIDTH_SHARE = 0.25  # each of the two lines holds at least this share of the group's width
SUBSTANTIAL_BLOB = 0.1  # of a typical blob's area (area-weighted median): less is no measure of writing


@dataclass(frozen=True)
class TextLine:
    """One line of a page: stroke indices into the page's strokes."""

    strokes: tuple[int, ...]  # in recognition order: words left to right, each in writing order
    words: tuple[tuple[int, ...], ...]  # each word's strokes, words left to right
    box: Box
    slope: float  # dy/dx of the line's baseline (y downwards)
    page: int = 1
    order_key: float = 0.0  # position across the (levelled) page: lines are read in this order


@dataclass
class _StrokeGeometry:
    """Per-stroke boxes and centres, computed once for the whole page (vectorised)."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    cx: np.ndarray  # centre of the pen path, weighted by path length
    cy: np.ndarray
    mass: np.ndarray | None = None  # blobs: their area; the writing height is the mass's

    @property
    def width(self) -> np.ndarray:
        return self.x1 - self.x0

    @functools.cached_property
    def lists(self) -> tuple[list[float], list[float], list[float], list[float]]:
        """cx, cy, x0 and x1 as Python floats, for the loops that take strokes one at a
        time (the same values: indexing an array for each is most of their time)."""
        return self.cx.tolist(), self.cy.tolist(), self.x0.tolist(), self.x1.tolist()

    @property
    def height(self) -> np.ndarray:
        return self.y1 - self.y0


def find_lines(ink: Ink) -> list[TextLine]:
    """The text lines of every page of the ink, pages in order, each page's lines
    top to bottom. Stroke indices are into the line's own page."""
    lines: list[TextLine] = []
    # the page's strokes as they are: ink.pages() would check every stroke again
    for number, page in enumerate(ink.page_ranges(), start=1):
        lines += [_with_page(line, number) for line in find_page_lines(ink.strokes[page.start : page.stop])]
    return lines


def find_page_lines(strokes: list[np.ndarray]) -> list[TextLine]:
    """The text lines of one page of strokes, top to bottom."""
    if not strokes:
        return []
    found = _group_lines(strokes, _geometry)
    lines = [
        _text_line(found.geometry, found.page, strokes, members, found.is_anchor, found.height, found.angle)
        for members in found.groups
    ]
    return sorted(lines, key=lambda line: line.order_key)


@dataclass(frozen=True)
class BlobLine:
    """One line of blobs (the connected pieces of ink of a page image)."""

    blobs: tuple[int, ...]  # indices into the blobs given
    box: Box
    centre: tuple[float, float]  # a point on the line's centre line, page coordinates
    slope: float  # dy/dx of that centre line (y downwards)


def find_blob_lines(blobs: list[np.ndarray]) -> list[BlobLine]:
    """The text lines of a page of blobs, top to bottom: each blob is the (N, 2)
    x, y points of one connected piece of ink (a page image's pixels). Blobs are
    grouped as strokes are, by the same rules; a blob's centre is its points' mean."""
    if not blobs:
        return []
    found = _group_lines(blobs, _cloud_geometry)
    lines = []
    for members in found.groups:
        anchors = [i for i in members if found.is_anchor[i]] or members
        fit = _fit(found.geometry, anchors)
        mean_x, mean_y, slope = fit.centre_line(found.height)
        cos, sin = np.cos(found.angle), np.sin(found.angle)
        centre = (mean_x * cos - mean_y * sin, mean_x * sin + mean_y * cos)  # back onto the page
        index = np.asarray(sorted(members))
        page = found.page
        box = (
            float(page.x0[index].min()),
            float(page.y0[index].min()),
            float(page.x1[index].max()),
            float(page.y1[index].max()),
        )
        order_key = float(fit.y_at(float(found.geometry.cx[index].min()), found.height))
        lines.append(
            (order_key, BlobLine(tuple(index.tolist()), box, centre, float(np.tan(found.angle + np.arctan(slope)))))
        )
    return [line for _, line in sorted(lines, key=lambda pair: pair[0])]


@dataclass
class _Grouping:
    groups: list[list[int]]  # each line's members
    geometry: _StrokeGeometry  # of the page turned level
    page: _StrokeGeometry  # of the page as given
    is_anchor: np.ndarray
    height: float
    angle: float


def _group_lines(shapes: list[np.ndarray], geometry_of: Callable[[list[np.ndarray]], _StrokeGeometry]) -> _Grouping:
    """Strokes (or blobs) grouped into lines: anchors grow lines, pieces join, marks attach."""
    page = geometry_of(shapes)
    height = _writing_height(page)
    is_anchor = _anchors(page, height)
    angle, spacing = _page_angle_and_spacing(page, np.flatnonzero(is_anchor), height)
    # a stroke taller than a line and a half (a line drawn down the page, a brace) is
    # not writing on one line: it must not tie lines together
    too_tall = is_anchor & (page.height > 1.5 * spacing)
    if too_tall.any() and not too_tall.all():
        is_anchor &= ~too_tall
        angle, spacing = _page_angle_and_spacing(page, np.flatnonzero(is_anchor), height)
    # lines are found on the page turned so its writing runs level; each line then
    # follows its own gentle slope and curve from there
    geometry = geometry_of(level(shapes, float(np.tan(angle)))) if angle else page
    groups = _grow_lines(geometry, np.flatnonzero(is_anchor), height, spacing)
    groups = _join_pieces(geometry, groups, height, spacing)
    groups, loose = _dissolve_fragments(geometry, groups, height, spacing)
    groups = [part for group in groups for part in _split_stacked(geometry, group, height)]
    marks = np.concatenate([np.flatnonzero(~is_anchor), loose]).astype(int)
    _attach_marks(geometry, groups, marks, height)
    return _Grouping([g for g in groups if g], geometry, page, is_anchor, height, angle)


def _with_page(line: TextLine, page: int) -> TextLine:
    return TextLine(line.strokes, line.words, line.box, line.slope, page, line.order_key)


# ---- geometry ------------------------------------------------------------------


def _geometry(strokes: list[np.ndarray]) -> _StrokeGeometry:
    points, _, starts, (x0, y0, x1, y1) = _boxes(strokes)
    # centre of the path: segment midpoints weighted by segment length (a slow pen
    # that leaves many points in one place must not pull the centre there)
    step = np.diff(points, axis=0, append=points[-1:])
    step[starts[1:] - 1] = 0.0  # no segment from one stroke's end to the next one's start
    step[-1] = 0.0
    length = np.hypot(step[:, 0], step[:, 1])
    mid = points + step / 2
    weight = np.add.reduceat(length, starts)
    sum_x = np.add.reduceat(mid[:, 0] * length, starts)
    sum_y = np.add.reduceat(mid[:, 1] * length, starts)
    still = weight <= 0  # a dot: its box centre
    safe = np.where(still, 1.0, weight)
    cx = np.where(still, (x0 + x1) / 2, sum_x / safe)
    cy = np.where(still, (y0 + y1) / 2, sum_y / safe)
    return _StrokeGeometry(x0, y0, x1, y1, cx, cy)


def _cloud_geometry(clouds: list[np.ndarray]) -> _StrokeGeometry:
    """Boxes and centres of point clouds (blobs): the centre is the points' mean."""
    points, counts, starts, (x0, y0, x1, y1) = _boxes(clouds)
    cx = np.add.reduceat(points[:, 0], starts) / counts
    cy = np.add.reduceat(points[:, 1], starts) / counts
    return _StrokeGeometry(x0, y0, x1, y1, cx, cy, counts.astype(np.float64))


def _boxes(shapes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """All points of the shapes in one array, each shape's point count and first
    index, and each shape's box (x0, y0, x1, y1)."""
    points = np.concatenate([s[:, :2] for s in shapes])
    counts = np.array([len(s) for s in shapes])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    boxes = tuple(
        reduce.reduceat(points[:, axis], starts)
        for reduce, axis in ((np.minimum, 0), (np.minimum, 1), (np.maximum, 0), (np.maximum, 1))
    )
    return points, counts, starts, boxes


def _writing_height(geometry: _StrokeGeometry) -> float:
    """A robust height of writing on the page: the median height of the strokes
    that are not tiny (dots would drag the median down); of blobs, only those with
    a fair share of ink count (a thousand specks of paper noise are not writing)."""
    heights = geometry.height
    positive = heights > 0
    if not positive.any():
        extent = float(max(np.ptp(geometry.x1), np.ptp(geometry.y1), 0.0))
        return extent / 10 if extent > 0 else 1.0
    if geometry.mass is not None:  # blobs: those that hold a fair share of the ink
        substantial = positive & (geometry.mass >= SUBSTANTIAL_BLOB * typical_blob_area(geometry.mass))
        positive = substantial if substantial.any() else positive
    typical = float(np.median(heights[positive]))
    sized = heights[positive & (heights >= 0.35 * typical)]
    return float(np.median(sized)) if len(sized) else typical


def typical_blob_area(areas: np.ndarray) -> float:
    """The area of the blob that holds the middle of all the ink (an area-weighted
    median): a thousand specks of noise have little ink between them, so they do not
    make a speck look typical."""
    by_size = np.sort(areas)
    return float(by_size[np.searchsorted(np.cumsum(by_size), 0.5 * by_size.sum())])


def _anchors(geometry: _StrokeGeometry, height: float) -> np.ndarray:
    """Strokes that carry a line's position: not dots, commas, crosses or accents."""
    # flat strokes (t-crosses, dashes, underlines) say little about where a line runs
    anchors = geometry.height >= MARK_SIZE * height
    return anchors if anchors.any() else np.ones_like(anchors)


def _page_angle_and_spacing(geometry: _StrokeGeometry, anchors: np.ndarray, height: float) -> tuple[float, float]:
    """The angle the writing runs at, and the distance from one line to the next.

    The angle is the one across which the anchors' profile is sharpest; the
    spacing is that profile's period (a page of one line has none: then a few
    writing heights)."""
    default = 4.0 * height
    if len(anchors) < 4:
        return 0.0, default
    bin_size = height / 8
    profiles = _angle_profiles(geometry, anchors, height)
    if profiles is None:  # strokes scattered far apart: no profile worth taking
        return 0.0, default
    best_profile, best_sharpness, best_angle = None, -1.0, 0.0
    for angle, profile in profiles:
        sharpness = float((profile**2).sum())
        if sharpness > best_sharpness * 1.02:  # ties go to the flatter angle
            best_profile, best_sharpness, best_angle = profile, sharpness, float(angle)
    assert best_profile is not None
    return best_angle, _period(best_profile, bin_size, default)


PROFILE_ANGLES = np.arctan(np.linspace(-MAX_SLOPE, MAX_SLOPE, 29))
PROFILE_BLOCK = 1 << 20  # values per block of angles: bounds the memory of a page of 10^5 strokes


def _angle_profiles(
    geometry: _StrokeGeometry, anchors: np.ndarray, height: float
) -> list[tuple[float, np.ndarray]] | None:
    """The anchors' width-weighted profile across each angle looked for, in bins of an
    eighth of the writing height; None when a profile would span over 10^5 bins.
    Angles are taken a block at a time (a page's worth of small array operations per
    angle cost more than the sums themselves); each value is computed as one angle
    at a time would, so the profiles are the same to the bit."""
    x, y = geometry.cx[anchors], geometry.cy[anchors]
    weight = np.maximum(geometry.width[anchors], 0.1 * height)
    bin_size = height / 8
    step = max(1, PROFILE_BLOCK // max(len(anchors), 1))
    profiles = []
    for first in range(0, len(PROFILE_ANGLES), step):
        angles = PROFILE_ANGLES[first : first + step]
        cos = np.array([np.cos(angle) for angle in angles])[:, None]
        sin = np.array([np.sin(angle) for angle in angles])[:, None]
        across = y * cos - x * sin
        bins = ((across - across.min(axis=1, keepdims=True)) / bin_size).astype(int)
        lengths = bins.max(axis=1) + 1
        if lengths.max() > 100_001:
            return None
        # one bincount for the block: each angle's bins offset past the previous angle's
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        counts = np.bincount((bins + offsets[:, None]).ravel(), weights=np.tile(weight, len(angles)))
        profiles += [(angle, counts[o : o + n]) for angle, o, n in zip(angles, offsets, lengths, strict=True)]
    return profiles


def _period(profile: np.ndarray, bin_size: float, default: float) -> float:
    """The lag (1 to 20 writing heights: 8 to 160 bins of an eighth of it) at
    which the profile best matches itself."""
    smooth = np.convolve(profile, np.hanning(5), mode="same")
    centred = smooth - smooth.mean()
    shortest, longest = 8, min(len(centred) - 1, 160)
    if longest <= shortest:
        return default
    correlation = np.array([float(centred[: len(centred) - k] @ centred[k:]) for k in range(longest + 1)])
    if correlation[0] <= 0:
        return default
    window = correlation[shortest:]
    strongest = float(window.max())
    if strongest < 0.15 * correlation[0] or int(np.argmax(window)) == 0:
        return default
    # the first peak nearly as strong as the strongest: lines that alternate in
    # density make twice the spacing match better than the spacing itself
    peaks = [k for k in range(1, len(window) - 1) if window[k - 1] < window[k] >= window[k + 1]]
    peak = next((k for k in peaks if window[k] >= 0.6 * strongest), int(np.argmax(window)))
    return float((shortest + peak) * bin_size)


# ---- lines -----------------------------------------------------------------------


@dataclass
class _LineFit:
    """A growing line: running least-squares fit of its anchors' centres (y = a + b x),
    weighted by their widths, and its horizontal extent."""

    members: list[int]
    x0: float
    x1: float
    sw: float = 0.0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    sxy: float = 0.0

    def add(self, index: int, x: float, y: float, weight: float, x0: float, x1: float) -> None:
        self.members.append(index)
        self.sw += weight
        self.sx += weight * x
        self.sy += weight * y
        self.sxx += weight * x * x
        self.sxy += weight * x * y
        self.x0, self.x1 = min(self.x0, x0), max(self.x1, x1)

    def centre_line(self, height: float) -> tuple[float, float, float]:
        """(mean x, mean y, slope): the line through the anchors' centres."""
        return _mean_and_slope((self.sw, self.sx, self.sy, self.sxx, self.sxy), height)

    def slope(self, height: float) -> float:
        return self.centre_line(height)[2]

    def y_at(self, x: float | np.ndarray, height: float) -> float | np.ndarray:
        mean_x, mean_y, slope = self.centre_line(height)
        return mean_y + slope * (x - mean_x)


def _grow_lines(geometry: _StrokeGeometry, anchors: np.ndarray, height: float, spacing: float) -> list[list[int]]:
    """Anchors left to right; each joins the line that passes closest to it. The
    lines' fits are kept as arrays, so a page of 10^5 strokes stays fast."""
    order = anchors[np.argsort(geometry.x0[anchors], kind="stable")]
    tolerance = _tolerance(height, spacing)
    reach = max(4.0 * height, 1.5 * spacing)  # wider gaps are bridged later, by _join_pieces
    sums: list[tuple[float, ...]] = []  # per line: weight, x, y, x*x, x*y sums (Python floats: one line at a time)
    lines = np.full((4, 16), np.nan)  # per line: mean x, mean y, slope, right end
    members: list[list[int]] = []
    cx, cy, left, right = geometry.lists
    for index in order.tolist():
        x, y, x0, x1 = cx[index], cy[index], left[index], right[index]
        count = len(members)
        line = -1
        if count:
            mean_x, mean_y, slope, right_end = lines[:, :count]
            distance = np.abs(y - mean_y - slope * (x - mean_x))
            distance[x0 - right_end > reach] = np.inf
            line = int(np.argmin(distance))
            line = line if distance[line] < tolerance else -1
        if line < 0:
            if count == lines.shape[1]:
                lines = np.concatenate([lines, np.full_like(lines, np.nan)], axis=1)
            line, right_end = count, x1
            members.append([])
            sums.append((0.0,) * 5)
        else:
            right_end = max(float(lines[3, line]), x1)
        weight = max(x1 - x0, 0.1 * height)
        terms = (1.0, x, y, x * x, x * y)
        sums[line] = tuple(total * FOLLOW_DECAY + weight * term for total, term in zip(sums[line], terms, strict=True))
        members[line].append(index)
        lines[:, line] = (*_mean_and_slope(sums[line], height), right_end)
    return members


def _mean_and_slope(sums: Sequence[float] | np.ndarray, height: float) -> tuple[float, float, float]:
    weight, sx, sy, sxx, sxy = (float(v) for v in sums)
    mean_x, mean_y = sx / weight, sy / weight
    return mean_x, mean_y, float(_slope(weight, mean_x, mean_y, sxx, sxy, height))


def _slope(weight: float, mean_x: float, mean_y: float, sxx: float, sxy: float, height: float) -> float:
    """Slope on the levelled page: near 0, and believed only as far as the line is long."""
    spread = sxx / weight - mean_x * mean_x
    if spread < height**2:  # too short to tell its direction
        return 0.0
    raw = (sxy / weight - mean_x * mean_y) / spread
    belief = spread / (spread + (SLOPE_TRUST_LENGTH * height) ** 2)
    return min(max(raw * belief, -MAX_LINE_SLOPE), MAX_LINE_SLOPE)


def _tolerance(height: float, spacing: float) -> float:
    """How far from a line's fitted centre an anchor may sit and still belong to it."""
    return max(LINE_TOLERANCE * height, LINE_TOLERANCE * spacing / 2)


def _join_pieces(geometry: _StrokeGeometry, groups: list[list[int]], height: float, spacing: float) -> list[list[int]]:
    """Join pieces of one line that a wide gap (or the left-to-right growth) split:
    two pieces whose centre lines meet where they are closest, or whose bands
    (typical top to bottom) overlap there for most of the smaller one's height.
    Only pieces near each other on the page are compared (pieces sorted by height
    on the page), so a page of many pieces stays fast."""
    limits = _tolerance(height, spacing), min(SIDE_BY_SIDE * height, SIDE_BY_SIDE_SPACINGS * spacing)
    reach = max(limits) + 4 * height  # beyond this, neither centre lines nor bands can meet
    pieces = [_Piece.of(geometry, members, height) for members in groups]
    for _ in range(MAX_JOIN_PASSES):
        order = sorted((k for k, p in enumerate(pieces) if p.members), key=lambda k: pieces[k].mean_y)
        heights = [pieces[k].mean_y for k in order]
        changed = False
        for position, i in enumerate(order):
            for j in order[position + 1 : bisect.bisect_right(heights, heights[position] + reach)]:
                if pieces[i].members and pieces[j].members and pieces[i].same_line(pieces[j], height, *limits):
                    pieces[i] = _Piece.of(geometry, pieces[i].members + pieces[j].members, height)
                    pieces[j] = _Piece([], pieces[j].fit, (0.0, 0.0))
                    changed = True
        if not changed:
            break
    return [p.members for p in pieces if p.members]


@dataclass
class _Piece:
    members: list[int]
    fit: _LineFit
    band: tuple[float, float]
    mean_x: float = 0.0
    mean_y: float = 0.0
    slope: float = 0.0

    @classmethod
    def of(cls, geometry: _StrokeGeometry, members: list[int], height: float) -> _Piece:
        fit = _fit(geometry, members)
        return cls(members, fit, _band(geometry, members, fit, height), *fit.centre_line(height))

    def y_at(self, x: float) -> float:
        return self.mean_y + self.slope * (x - self.mean_x)

    def same_line(self, other: _Piece, height: float, tolerance: float, side_by_side: float) -> bool:
        """Pieces of one line: their centre lines meet, or their bands mostly overlap.
        Pieces side by side (not above one another: stacked lines are) may be
        further apart, as a line that curves or steps is."""
        a, b = self.fit, other.fit
        # the middle of their overlap, or of the gap between them
        x = (min(a.x1, b.x1) + max(a.x0, b.x0)) / 2
        overlap_x = min(a.x1, b.x1) - max(a.x0, b.x0)
        centre_a, centre_b = self.y_at(x), other.y_at(x)
        apart = abs(centre_a - centre_b)
        if apart < tolerance or (overlap_x < 0.2 * min(a.x1 - a.x0, b.x1 - b.x0) and apart < side_by_side):
            return True
        top_a, bottom_a = centre_a + self.band[0], centre_a + self.band[1]
        top_b, bottom_b = centre_b + other.band[0], centre_b + other.band[1]
        overlap = min(bottom_a, bottom_b) - max(top_a, top_b)
        smaller = min(bottom_a - top_a, bottom_b - top_b)
        return smaller > 0 and overlap > 0.6 * smaller


def _fit(geometry: _StrokeGeometry, members: list[int]) -> _LineFit:
    fit = _LineFit([], float("inf"), float("-inf"))
    cx, cy, left, right = geometry.lists
    for index in members:
        x0, x1 = left[index], right[index]
        fit.add(index, cx[index], cy[index], max(x1 - x0, 1e-9), x0, x1)
    return fit


def _dissolve_fragments(
    geometry: _StrokeGeometry, groups: list[list[int]], height: float, spacing: float
) -> tuple[list[list[int]], np.ndarray]:
    """A piece much shorter than a word (a tall capital, an l standing out of its
    line), or one whose strokes are a few marks spread thin (quotation marks above a
    line), that sits within a line's reach is not a line of its own: its strokes are
    attached like marks. Such a piece far from every line stays a line."""
    short = [
        (len(g) <= 3 and _width(geometry, g) < FRAGMENT_WIDTH * height) or _covered_share(geometry, g) < SPARSE_COVERAGE
        for g in groups
    ]
    lines = [g for g, s in zip(groups, short, strict=True) if not s]
    if not lines:
        return groups, np.zeros(0, dtype=int)
    fits = [_fit(geometry, g) for g in lines]
    bands = [_band(geometry, g, fit, height) for g, fit in zip(lines, fits, strict=True)]
    kept, loose = list(lines), []
    for group in (g for g, s in zip(groups, short, strict=True) if s):
        index = np.asarray(group)
        x, y = geometry.cx[index], geometry.cy[index]
        nearest = min(
            float(_band_distance(fit, band, x, y, height).min()) for fit, band in zip(fits, bands, strict=True)
        )
        if nearest < min(max(0.5 * spacing, FRAGMENT_REACH * height), FRAGMENT_REACH_MAX * height):
            loose += group
        else:
            kept.append(group)
    return kept, np.asarray(loose, dtype=int)


def _split_stacked(geometry: _StrokeGeometry, members: list[int], height: float) -> list[list[int]]:
    """A group that holds two lines written close one above the other (closer than the
    page's usual spacing, so they grew into one): its anchors sit in two bands either
    side of the group's centre line with a clear gap between them. Split there, and
    again while a part is still two lines; one line's capitals and descenders spread
    its anchors evenly and leave no such gap."""
    if len(members) < 2 * STACKED_MIN_ANCHORS:
        return [members]
    index = np.asarray(members)
    fit = _fit(geometry, members)
    residual = geometry.cy[index] - fit.y_at(geometry.cx[index], height)
    order = np.argsort(residual, kind="stable")
    gaps = np.diff(residual[order])
    candidates = range(STACKED_MIN_ANCHORS - 1, len(members) - STACKED_MIN_ANCHORS)
    if not candidates:
        return [members]
    at = max(candidates, key=lambda k: gaps[k])
    upper, lower = order[: at + 1], order[at + 1 :]
    width = geometry.x1[index] - geometry.x0[index]
    apart = residual[lower].mean() - residual[upper].mean()
    if gaps[at] < STACKED_GAP * height or apart < STACKED_APART * height:
        return [members]
    # each band narrower than the gap between them: two lines, not one line's tall and low letters
    if max(np.ptp(residual[upper]), np.ptp(residual[lower])) > gaps[at]:
        return [members]
    if min(width[upper].sum(), width[lower].sum()) < STACKED_WIDTH_SHARE * width.sum():
        return [members]
    return [part for half in (upper, lower) for part in _split_stacked(geometry, index[half].tolist(), height)]


def _width(geometry: _StrokeGeometry, members: list[int]) -> float:
    index = np.asarray(members)
    return float(geometry.x1[index].max() - geometry.x0[index].min())


def _covered_share(geometry: _StrokeGeometry, members: list[int]) -> float:
    """The share of the members' left-to-right extent that some member spans."""
    index = np.asarray(members)
    order = np.argsort(geometry.x0[index])
    x0, x1 = geometry.x0[index][order], geometry.x1[index][order]
    reach = np.maximum.accumulate(x1)  # how far right the members so far reach
    gaps = np.clip(x0[1:] - reach[:-1], 0.0, None)  # uncovered stretches between them
    extent = float(reach[-1] - x0[0])
    return 1.0 - float(gaps.sum()) / extent if extent > 0 else 1.0


def _attach_marks(geometry: _StrokeGeometry, groups: list[list[int]], marks: np.ndarray, height: float) -> None:
    """Each mark goes to the line whose band (its anchors' typical top to bottom,
    following its slope) is nearest; being beside a line counts less than being
    between lines."""
    if not len(marks):
        return
    if not groups:
        groups.append(marks.tolist())
        return
    fits = [_fit(geometry, members) for members in groups]
    bands = [_band(geometry, members, fit, height) for members, fit in zip(groups, fits, strict=True)]
    x, y = geometry.cx[marks], geometry.cy[marks]
    distances = np.stack([_band_distance(fit, band, x, y, height) for fit, band in zip(fits, bands, strict=True)])
    for mark, line in zip(marks.tolist(), distances.argmin(axis=0).tolist(), strict=True):
        groups[line].append(mark)


def _band(geometry: _StrokeGeometry, members: list[int], fit: _LineFit, height: float) -> tuple[float, float]:
    """The line's typical top and bottom, relative to its fitted centre line."""
    index = np.asarray(members)
    centre = fit.y_at(geometry.cx[index], height)
    top = _median((geometry.y0[index] - centre).tolist())
    bottom = _median((geometry.y1[index] - centre).tolist())
    return top, bottom


def _band_distance(fit: _LineFit, band: tuple[float, float], x: np.ndarray, y: np.ndarray, height: float) -> np.ndarray:
    centre = fit.y_at(x, height)
    above = (centre + band[0]) - y
    below = y - (centre + band[1])
    # a dot above a line is an i-dot of that line more often than a low mark of the line above
    vertical = np.maximum(np.maximum(MARK_ABOVE_WEIGHT * above, below), 0.0)
    horizontal = np.maximum(np.maximum(fit.x0 - x, x - fit.x1), 0.0)
    return vertical + 0.25 * horizontal


# ---- one line: level it, cut it into words ------------------------------------------


def _text_line(
    geometry: _StrokeGeometry,
    page: _StrokeGeometry,
    strokes: list[np.ndarray],
    members: list[int],
    is_anchor: np.ndarray,
    height: float,
    angle: float,
) -> TextLine:
    """A line from its strokes: `geometry` is the levelled page, `page` the page as given."""
    members = sorted(members)
    anchors = [i for i in members if is_anchor[i]] or members
    fit = _fit(geometry, anchors)
    slope = float(np.tan(angle + np.arctan(fit.slope(height))))
    words = _words(strokes, members, anchors, slope)
    index = np.asarray(members)
    box = (
        float(page.x0[index].min()),
        float(page.y0[index].min()),
        float(page.x1[index].max()),
        float(page.y1[index].max()),
    )
    order = tuple(i for word in words for i in word)
    order_key = float(fit.y_at(float(geometry.cx[index].min()), height))
    return TextLine(order, tuple(words), box, slope, order_key=order_key)


def _words(strokes: list[np.ndarray], members: list[int], anchors: list[int], slope: float) -> list[tuple[int, ...]]:
    """Words left to right, measured along the line's direction. A word's anchors keep
    their writing order, and each mark (dot, cross) follows the anchor it sits on, as
    if written straight after it, wherever on the page it was really written."""
    starts, ends, heights = _extents(strokes, members, slope)
    along = dict(zip(members, zip(starts, ends, strict=True), strict=True))
    height_of = dict(zip(members, heights, strict=True))
    line_height = _median([height_of[i] for i in anchors])
    gap = WORD_GAP * max(line_height, 1e-9)
    clusters: list[list[int]] = []
    right_end = -np.inf
    for index in sorted(anchors, key=lambda i: along[i][0]):
        start, end = along[index]
        if not clusters or start - right_end > gap:
            clusters.append([])
            right_end = -np.inf
        clusters[-1].append(index)
        right_end = max(right_end, end)
    spans = [(min(along[i][0] for i in c), max(along[i][1] for i in c)) for c in clusters]
    marks: list[list[int]] = [[] for _ in clusters]
    anchor_set = set(anchors)
    for index in members:
        if index not in anchor_set:
            marks[_word_of_mark(spans, sum(along[index]) / 2)].append(index)
    line_end = max(anchors)
    return [_word_order(sorted(c), sorted(m), along, line_end) for c, m in zip(clusters, marks, strict=True)]


def _word_of_mark(spans: list[tuple[float, float]], x: float) -> int:
    """The word a mark at x belongs to: the one it sits on; in a gap between words,
    the word on its left (punctuation ends the word before it)."""
    inside = [k for k, (start, end) in enumerate(spans) if start <= x <= end]
    if inside:
        return inside[0]
    left = [k for k, (_, end) in enumerate(spans) if end < x]
    return left[-1] if left else 0


def _word_order(
    anchors: list[int], marks: list[int], along: dict[int, tuple[float, float]], line_end: int
) -> tuple[int, ...]:
    """The word's strokes in writing order, except marks written after the whole line
    (dots and crosses added at the end of the line or page), which follow the anchor
    they sit on, as if written straight after it. Dots a writer added at the end of
    their word stay where they are: that is how the models saw them in training."""
    spans = [along[i] for i in anchors]
    following: dict[int, list[int]] = {}
    for mark in (m for m in marks if m > line_end):
        host = anchors[_nearest_span(spans, sum(along[mark]) / 2, by_centre=True)]
        following.setdefault(host, []).append(mark)
    in_place = sorted([*anchors, *(m for m in marks if m <= line_end)])
    return tuple(i for stroke in in_place for i in (stroke, *following.get(stroke, [])))


def _extents(
    strokes: list[np.ndarray], members: list[int], slope: float
) -> tuple[list[float], list[float], list[float]]:
    """Each member stroke's extent along a line of this slope (x after levelling, start
    and end) and its height across it: all strokes in a few passes, not a few each."""
    points = np.concatenate([strokes[i][:, :2] for i in members])
    starts = np.cumsum([0] + [len(strokes[i]) for i in members[:-1]])
    norm = np.hypot(1.0, slope)
    along = (points[:, 0] + slope * points[:, 1]) / norm
    across = (points[:, 1] - slope * points[:, 0]) / norm
    low, high = np.minimum.reduceat(along, starts), np.maximum.reduceat(along, starts)
    height = np.maximum.reduceat(across, starts) - np.minimum.reduceat(across, starts)
    return low.tolist(), high.tolist(), height.tolist()


def _median(values: Sequence[float]) -> float:
    """np.median of a few numbers (the same value: the middle one, or the mean of the
    middle two) without its overhead, which a line's handful of strokes pays many times."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _nearest_span(spans: list[tuple[float, float]], x: float, by_centre: bool = False) -> int:
    """The span x falls in, or is nearest to; among spans that overlap there, with
    `by_centre` the one centred nearest (a t-cross belongs to the stem under its middle)."""
    distances = np.array([max(start - x, x - end, 0.0) for start, end in spans])
    if by_centre:
        distances += 1e-3 * np.abs(np.array([(start + end) / 2 for start, end in spans]) - x)
    return int(np.argmin(distances))


def level(strokes: list[np.ndarray], slope: float) -> list[np.ndarray]:
    """The strokes rotated so a baseline of this slope becomes horizontal (all at once:
    the same values as stroke by stroke, each stroke a view of one new array)."""
    if abs(slope) < 1e-6 or not strokes:
        return strokes
    angle = np.arctan(slope)
    cos, sin = np.cos(angle), np.sin(angle)
    points = np.concatenate(strokes)
    x, y = points[:, 0].copy(), points[:, 1].copy()
    points[:, 0] = x * cos + y * sin
    points[:, 1] = -x * sin + y * cos
    bounds = [0, *itertools.accumulate(len(stroke) for stroke in strokes)]  # (np.split: several times slower)
    return [points[a:b] for a, b in itertools.pairwise(bounds)]

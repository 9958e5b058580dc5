"""The Ink type: strokes of (x, y, t) points, and the checks every reader relies on."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from handwrite.errors import InkError

# A line of IAM-OnDB has ~600 points; a page of writing a few 10^4. Anything far
# beyond this is not handwriting and would only exhaust memory downstream.
MAX_POINTS = 2_000_000
# Coordinates beyond a billion units (10 km in himetric) are not writing; bounding
# them keeps every difference, square and sum downstream finite. Times get more room
# (seconds; an epoch in microseconds read as seconds still fits).
MAX_COORDINATE = 1e9
MAX_TIME = 1e16


@dataclass
class Ink:
    """Pen strokes; each stroke is a float64 array of shape (n, 3): x, y, t.

    y grows downward (screen and whiteboard convention). t is in seconds and
    may be all zeros when the source has no timing.
    """

    strokes: list[np.ndarray] = field(default_factory=list)
    text: str | None = None
    source: str | None = None
    # A notebook holds several pages: the index of each page's first stroke, in
    # page order (a page with no strokes repeats the next page's start). One page: (0,).
    page_starts: tuple[int, ...] = (0,)
    # Each page's (width, height) in ink units when the file says (Xournal++ does).
    page_sizes: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        strokes = [_as_stroke(s, i) for i, s in enumerate(self.strokes)]
        self.page_starts = _page_starts_without_empty(self.page_starts, strokes)
        self.page_sizes = _checked_page_sizes(self.page_sizes, len(self.page_starts))
        self.strokes = [s for s in strokes if len(s)]
        total = self.num_points
        if total > MAX_POINTS:
            raise InkError(f"ink has {total} points, more than the {MAX_POINTS} this reader accepts")

    @classmethod
    def from_points(cls, strokes: Iterable[Sequence[Sequence[float]]], text: str | None = None) -> Ink:
        """Build an Ink from nested lists: strokes of [x, y] or [x, y, t] points."""
        return cls(list(strokes), text=text)  # converted and checked stroke by stroke in _as_stroke

    @property
    def num_points(self) -> int:
        return int(sum(len(s) for s in self.strokes))

    def is_empty(self) -> bool:
        return self.num_points == 0

    def points(self) -> np.ndarray:
        """All points as one (n, 3) array."""
        if not self.strokes:
            return np.zeros((0, 3))
        return np.concatenate(self.strokes)

    def bounds(self) -> tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y); zeros for an empty ink."""
        if self.is_empty():
            return (0.0, 0.0, 0.0, 0.0)
        p = self.points()
        return (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))

    @property
    def num_pages(self) -> int:
        return len(self.page_starts)

    def page_ranges(self) -> list[range]:
        """The stroke indices of each page, in page order."""
        ends = (*self.page_starts[1:], len(self.strokes))
        return [range(start, end) for start, end in zip(self.page_starts, ends, strict=True)]

    def pages(self) -> list[Ink]:
        """One single-page Ink per page (strokes shared, not copied)."""
        pages = []
        for number, strokes in enumerate(self.page_ranges()):
            size = self.page_sizes[number : number + 1]
            pages.append(Ink([self.strokes[i] for i in strokes], self.text, self.source, (0,), size))
        return pages


def _page_starts_without_empty(starts: Sequence[int], strokes: list[np.ndarray]) -> tuple[int, ...]:
    """Page starts as indices among the non-empty strokes (empty strokes are dropped)."""
    starts = tuple(int(s) for s in starts) or (0,)
    if starts[0] != 0 or any(b < a for a, b in itertools.pairwise(starts)) or starts[-1] > len(strokes):
        raise InkError(f"page starts {starts[:8]} do not fit {len(strokes)} strokes")
    kept_before = np.concatenate([[0], np.cumsum([len(s) > 0 for s in strokes])]).astype(int)
    return tuple(int(kept_before[s]) for s in starts)


def _checked_page_sizes(sizes: Sequence[Sequence[float]], pages: int) -> tuple[tuple[float, float], ...]:
    """No sizes, or a finite, positive (width, height) for every page."""
    try:
        checked = tuple((float(w), float(h)) for w, h in sizes)
    except (TypeError, ValueError) as exc:
        raise InkError(f"page sizes must be (width, height) pairs ({exc})") from None
    if checked and len(checked) != pages:
        raise InkError(f"{len(checked)} page sizes for {pages} pages (give one per page, or none)")
    for width, height in checked:
        if not (0 < width <= MAX_COORDINATE and 0 < height <= MAX_COORDINATE):
            raise InkError(f"page size {width:g} x {height:g} is not a page")
    return checked


def _as_stroke(stroke: object, index: int) -> np.ndarray:
    try:
        arr = np.asarray(stroke, dtype=np.float64)
    except (OverflowError, ValueError, TypeError) as exc:  # 10**400, ragged lists, text
        raise InkError(f"stroke {index} is not a list of numeric points ({exc})") from None
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        if arr.size == 0:
            return np.zeros((0, 3))
        raise InkError(f"stroke {index} must be a list of [x, y] or [x, y, t] points, got shape {arr.shape}")
    if arr.shape[1] == 2:
        arr = np.concatenate([arr, np.zeros((len(arr), 1))], axis=1)
    if not np.isfinite(arr).all():
        raise InkError(f"stroke {index} has NaN or infinite coordinates")
    if arr.size and np.abs(arr[:, :2]).max() > MAX_COORDINATE:
        raise InkError(f"stroke {index} has a coordinate beyond ±{MAX_COORDINATE:g}")
    if arr.size and np.abs(arr[:, 2]).max() > MAX_TIME:
        raise InkError(f"stroke {index} has a time beyond ±{MAX_TIME:g} s")
    return arr

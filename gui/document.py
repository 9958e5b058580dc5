"""The document the app edits: pages of strokes, each stroke kept in the page's
own coordinates (ink units: points for a page made here, whatever the file used
for one opened), so saving and opening gives back exactly the page written.

A page is a rectangle in those coordinates, anchored at the origin (as InkML
and Xournal++ page sizes are); it reaches left of or above the origin only
when strokes lie there (a sample written at negative y), and grows downwards
as the writing nears its bottom. How a page is shown (zoom, scroll) is the
view's business, never the document's.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

import handwrite

A4 = (595.2756, 841.8898)  # a new page, in points (1/72 inch), as Xournal++ makes one (to 1e-4, as it keeps them)
PAGE_RATIO = A4[1] / A4[0]
MARGIN = 0.03  # around strokes that lie beyond the page, as a share of the page's width
GROW_WHEN = 0.15  # writing this near the bottom (in page widths) grows the page...
GROW_BY = 0.5  # ...by this many page widths
MIN_UNIT = 1e-9  # a page narrower than A4 by more than this (a file's pageSize of 5e-324) still has a scale

_serials = itertools.count(1)


def kept(size: float) -> float:
    """A page size as files keep it (.xopp: to 1e-4), so a saved page opens the same size."""
    return round(size, 4)


@dataclass(eq=False)
class Stroke:
    """Points (x, y, t seconds) and pen pressures; fixed once the pen is up."""

    points: list[tuple[float, float, float]] = field(default_factory=list)
    pressures: list[float] = field(default_factory=list)
    _array: np.ndarray | None = field(default=None, repr=False)
    _digest: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_array(cls, points: np.ndarray) -> Stroke:
        return cls([tuple(p) for p in points.tolist()], [0.5] * len(points), points)

    def array(self) -> np.ndarray:
        """The points as an (n, 3) array (made once: a finished stroke does not change)."""
        if self._array is None or len(self._array) != len(self.points):
            self._array = np.asarray(self.points, dtype=np.float64).reshape(-1, 3)
            self._digest = None
        return self._array

    def digest(self) -> bytes:
        """What the stroke is, by content: two strokes with the same points have the same digest."""
        if self._digest is None:
            self._digest = hashlib.blake2b(self.array().tobytes(), digest_size=12).digest()
        return self._digest

    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) of the points."""
        points = self.array()
        (x0, y0), (x1, y1) = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    def near(self, x: float, y: float, radius: float) -> bool:
        """Whether (x, y) lies within radius of the stroke's path (its segments, not just its points)."""
        xy = self.array()[:, :2]
        if len(xy) == 1:
            return math.hypot(xy[0, 0] - x, xy[0, 1] - y) <= radius
        start, seg = xy[:-1], np.diff(xy, axis=0)
        length2 = np.maximum((seg**2).sum(axis=1), 1e-12)
        along = np.clip(((np.array([x, y]) - start) * seg).sum(axis=1) / length2, 0.0, 1.0)
        closest = start + seg * along[:, None]
        return bool((np.hypot(closest[:, 0] - x, closest[:, 1] - y) <= radius).any())


@dataclass(eq=False)
class Page:
    """Strokes on a rectangle (left, top, right, bottom) of ink coordinates, y downwards."""

    strokes: list[Stroke] = field(default_factory=list)
    left: float = 0.0
    top: float = 0.0
    right: float = A4[0]
    bottom: float = A4[1]
    serial: int = field(default_factory=lambda: next(_serials))  # names the page to the recognizer

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def unit(self) -> float:
        """Page units per point of an A4 page as wide: pen width and guide lines scale with it.
        Never 0, which pen, eraser and export divide by."""
        return max(self.width / A4[0], MIN_UNIT)

    def size(self) -> tuple[float, float]:
        """The size a file records (pages start at the origin there)."""
        return (self.right, self.bottom)

    def ink(self) -> handwrite.Ink:
        return handwrite.Ink([s.array() for s in self.strokes], page_sizes=(self.size(),))

    def grow_for(self, stroke: Stroke) -> bool:
        """Grow the page downwards when the stroke comes near its bottom; whether it grew."""
        lowest = float(stroke.array()[:, 1].max())
        if lowest < self.bottom - GROW_WHEN * self.width:
            return False
        self.bottom = kept(lowest + GROW_BY * self.width)
        return True

    @classmethod
    def holding(cls, strokes: list[np.ndarray], size: tuple[float, float] | None) -> Page:
        """A page of these strokes: the file's page size when it gives one, else one fitted
        to them; widened only as far as strokes lying beyond it need."""
        page = cls([Stroke.from_array(s) for s in strokes])
        if not strokes:
            page.right, page.bottom = size or A4
            return page
        x0, y0 = (min(float(s[:, i].min()) for s in strokes) for i in (0, 1))
        x1, y1 = (max(float(s[:, i].max()) for s in strokes) for i in (0, 1))
        margin = MARGIN * max(x1 - min(x0, 0.0), 1.0)
        if size is not None:
            page.right, page.bottom = size
        else:  # no size given: as wide as the writing and its margin, at least A4's shape
            page.right = kept(x1 + margin)
            page.bottom = kept(max(y1 + margin, page.right * PAGE_RATIO))
        # the page reaches further only where strokes lie beyond it (saved and opened, the same)
        page.left = x0 - margin if x0 < 0 else 0.0
        page.top = y0 - margin if y0 < 0 else 0.0
        page.right = kept(x1 + margin) if x1 > page.right else page.right
        page.bottom = kept(y1 + margin) if y1 > page.bottom else page.bottom
        return page


@dataclass(eq=False)
class Document:
    """Pages in order, which one is shown, and the file's ground truth (never recognized text)."""

    pages: list[Page] = field(default_factory=lambda: [Page()])
    current: int = 0
    truth: str | None = None

    @property
    def page(self) -> Page:
        return self.pages[self.current]

    @classmethod
    def from_ink(cls, ink: handwrite.Ink) -> Document:
        pages = [
            Page.holding(page.strokes, ink.page_sizes[number] if ink.page_sizes else None)
            for number, page in enumerate(ink.pages())
        ]
        return cls(pages or [Page()], 0, ink.text)

    def to_ink(self) -> handwrite.Ink:
        """Every page's strokes in its own coordinates, with the pages' sizes."""
        strokes = [s.array() for page in self.pages for s in page.strokes]
        starts = tuple(itertools.accumulate((len(p.strokes) for p in self.pages[:-1]), initial=0))
        sizes = tuple(page.size() for page in self.pages)
        return handwrite.Ink(strokes, text=self.truth, page_starts=starts, page_sizes=sizes)

    def is_empty(self) -> bool:
        return not any(page.strokes for page in self.pages)

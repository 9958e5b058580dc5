"""Random, label-preserving distortions of ink for training, and the deterministic
transforms they are made of (scripts/robustness.py builds its test sets from the
same transforms, so what training sees and what is measured are one thing).

What real devices and writers do that clean whiteboard lines lack: a line
turned (rotation), dots and crosses added after the line (marks last), a
digitiser of another rate with sensor noise (a fast one: more points, each a
little off), and strokes of a letter written in another order (neighbouring
strokes swapped).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from handwrite.ink import MAX_POINTS, Ink
from handwrite.layout import find_page_lines
from handwrite.page_reading import levelled_words

MARK_HEIGHT = 0.12  # a stroke under this share of the ink's height tall ...
MARK_WIDTH = 0.4  # ... and this share of it wide is a mark (dot, cross, comma)
RATES = (0.5, 4.0)  # other digitisers: from half to 4x the points of IAM-OnDB's whiteboard
SENSOR_NOISE = 0.01  # their sensor noise: up to this share of the ink's height (s.d.)


@dataclass(frozen=True)
class Augmentation:
    slant: float = 0.3  # max shear of x by y (writers differ most in slant)
    rotation_degrees: float = 4.0
    stretch: float = 0.15  # max relative change of width against height
    jitter: float = 0.01  # point noise, in units of the ink's height
    drop_point: float = 0.05  # chance of dropping each point (sampling-rate variation)
    # Chances per line of the device and writer transforms below (scaled like the
    # ranges, so 0 turns them off). Each is a minority of lines: the clean line is
    # still what most users give, and every one of these costs the clean lines a
    # little of the network's capacity.
    marks_last: float = 0.1  # dots and crosses moved to the end of the line, then fed as layout feeds them
    pen_rate: float = 0.15  # strokes resampled at another rate (RATES), with sensor noise
    swap_strokes: float = 0.1  # neighbouring strokes that overlap (one letter) written in the other order

    def scaled(self, factor: float) -> Augmentation:
        """The same distortions, their ranges and chances times factor (0: none)."""
        return Augmentation(*(factor * getattr(self, name) for name in self.__dataclass_fields__))

    def __call__(self, ink: Ink, rng: random.Random) -> Ink:
        if ink.is_empty():
            return ink
        if rng.random() < self.marks_last:
            ink = as_read(marks_last(ink)[0])
        if rng.random() < self.swap_strokes:
            ink = swap_overlapping_strokes(ink, rng, chance=0.3)
        noise = np.random.default_rng(rng.getrandbits(32))
        if rng.random() < self.pen_rate:
            rate = np.exp(rng.uniform(*np.log(RATES)))  # as many halvings as doublings
            ink = resampled_noisy(ink, rate, rng.uniform(0.0, SENSOR_NOISE), noise)
        return self._distorted(ink, rng, noise)

    def _distorted(self, ink: Ink, rng: random.Random, noise: np.random.Generator) -> Ink:
        """Slant, rotation, stretch, jitter and dropped points."""
        height = _height(ink)
        shear = rng.uniform(-self.slant, self.slant)
        angle = np.radians(rng.uniform(-self.rotation_degrees, self.rotation_degrees))
        stretch = np.exp(rng.uniform(-self.stretch, self.stretch))
        rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        transform = rotate @ np.array([[stretch, shear], [0.0, 1.0]])
        strokes = []
        for stroke in ink.strokes:
            keep = noise.random(len(stroke)) >= self.drop_point
            keep[[0, -1]] = True
            kept = stroke[keep]
            xy = kept[:, :2] @ transform.T + noise.normal(0.0, self.jitter * height, (len(kept), 2))
            strokes.append(np.column_stack([xy, kept[:, 2]]))
        return Ink(strokes, text=ink.text, source=ink.source)


def rotated(ink: Ink, degrees: float) -> Ink:
    """The ink turned by `degrees` about the centre of its bounds (positive: clockwise
    on screen, where y grows downwards)."""
    x0, y0, x1, y1 = ink.bounds()
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    angle = np.radians(degrees)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    strokes = [np.column_stack([(s[:, :2] - centre) @ turn.T + centre, s[:, 2]]) for s in ink.strokes]
    return Ink(strokes, text=ink.text, source=ink.source)


def marks_last(ink: Ink) -> tuple[Ink, int]:
    """The ink with its small strokes (dots, crosses, commas: under MARK_HEIGHT of the
    ink's height tall and MARK_WIDTH of it wide) written after all the others, in
    their own order; and how many moved."""
    height = _height(ink)
    small = [
        i
        for i, s in enumerate(ink.strokes)
        if np.ptp(s[:, 1]) < MARK_HEIGHT * height and np.ptp(s[:, 0]) < MARK_WIDTH * height
    ]
    chosen = set(small)
    order = [i for i in range(len(ink.strokes)) if i not in chosen] + small
    return Ink([ink.strokes[i] for i in order], text=ink.text, source=ink.source), len(small)


def as_read(ink: Ink) -> Ink:
    """The strokes in the order recognition feeds them (layout analysis: words left
    to right, a dot or cross written after the line back where it stands), when
    layout finds one line; else as they are. Marks moved last are fed so at
    recognition, so training on them as written last would teach the network an
    order it never reads."""
    lines = find_page_lines(ink.strokes)
    if len(lines) != 1:
        return ink
    _, words = levelled_words(ink, lines[0])
    return Ink([ink.strokes[i] for word in words for i in word], text=ink.text, source=ink.source)


def resampled_noisy(ink: Ink, rate: float, jitter: float, noise: np.random.Generator) -> Ink:
    """Each stroke sampled at `rate` times its points (evenly in point index, so a
    stroke drawn fast stays sparse where it was), then every point moved by Gaussian
    noise of s.d. `jitter` times the ink's height: a digitiser of another rate with
    sensor noise. Times are interpolated with the positions."""
    sigma = jitter * _height(ink)
    # never more points than an Ink may hold (each stroke's count is rounded: one spare a stroke)
    rate = min(rate, (MAX_POINTS - len(ink.strokes)) / max(ink.num_points, 1))
    strokes = []
    for stroke in ink.strokes:
        count = max(1, round(len(stroke) * rate))
        where = np.linspace(0.0, len(stroke) - 1, count)
        index = np.arange(len(stroke))
        points = np.column_stack([np.interp(where, index, stroke[:, k]) for k in range(3)])
        points[:, :2] += noise.normal(0.0, sigma, (count, 2))
        strokes.append(points)
    return Ink(strokes, text=ink.text, source=ink.source)


def swap_overlapping_strokes(ink: Ink, rng: random.Random, chance: float) -> Ink:
    """Neighbouring strokes whose x-extents overlap (parts of one letter: a t's stem
    and cross, a k's two strokes) swapped in writing order, each pair with `chance`;
    a stroke moves at most once."""
    order = list(range(len(ink.strokes)))
    i = 0
    while i < len(order) - 1:
        a, b = ink.strokes[order[i]], ink.strokes[order[i + 1]]
        if _x_overlap(a, b) and rng.random() < chance:
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 1  # the pair is done: its second stroke is not swapped on
        i += 1
    return Ink([ink.strokes[k] for k in order], text=ink.text, source=ink.source)


def _x_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(min(a[:, 0].max(), b[:, 0].max()) >= max(a[:, 0].min(), b[:, 0].min()))


def _height(ink: Ink) -> float:
    _, y0, _, y1 = ink.bounds()
    return max(y1 - y0, 1e-6)

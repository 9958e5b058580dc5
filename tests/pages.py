"""Pages of ink for tests, built from the project's own demo lines (data/ink):
stacked, rotated, written out of order, with dots written last, strays."""

from __future__ import annotations

import numpy as np

import handwrite
from tests.conftest import SAMPLE_INK

DEMO_LINES = ("hello-world", "quick-fox", "meeting", "handwriting")
LINE_SPACING = 45.0  # the demo lines are about 30 units from ascender to descender


def demo_lines() -> list[handwrite.Ink]:
    return [handwrite.read_ink(SAMPLE_INK / f"{name}.inkml") for name in DEMO_LINES]


def stacked(
    lines: list[handwrite.Ink],
    spacing: float = LINE_SPACING,
    indents: list[float] | None = None,
    scales: list[float] | None = None,
) -> tuple[list[np.ndarray], list[int]]:
    """The lines one under another: (strokes in writing order, the line each stroke came from)."""
    strokes, owner, y = [], [], 0.0
    for number, line in enumerate(lines):
        scale = scales[number] if scales else 1.0
        indent = indents[number] if indents else 0.0
        y += spacing * scale if number else 0.0
        for stroke in line.strokes:
            moved = stroke.copy()
            moved[:, :2] *= scale
            moved[:, 0] += indent
            moved[:, 1] += y
            strokes.append(moved)
            owner.append(number)
    return strokes, owner


def rotated(strokes: list[np.ndarray], degrees: float) -> list[np.ndarray]:
    """The page turned (positive: lines rising to the right, as y grows downwards)."""
    angle = np.radians(-degrees)
    cos, sin = np.cos(angle), np.sin(angle)
    out = []
    for stroke in strokes:
        turned = stroke.copy()
        turned[:, 0] = stroke[:, 0] * cos - stroke[:, 1] * sin
        turned[:, 1] = stroke[:, 0] * sin + stroke[:, 1] * cos
        out.append(turned)
    return out


def reordered(strokes: list[np.ndarray], owner: list[int], order: list[int]) -> tuple[list[np.ndarray], list[int]]:
    """The same strokes written in another order (order[i]: which stroke is written i-th)."""
    return [strokes[i] for i in order], [owner[i] for i in order]


def small_strokes_last(
    strokes: list[np.ndarray], owner: list[int], relative: float | None = None
) -> tuple[list[np.ndarray], list[int]]:
    """Dots and crosses written after everything else: strokes at most 2.5 units tall
    (about a quarter of a demo line's x-height), or with `relative`, at most that
    share of the ink's height tall and 3 times that wide."""
    if relative is None:
        small = [i for i, s in enumerate(strokes) if np.ptp(s[:, 1]) <= 2.5]
    else:
        points = np.concatenate(strokes)
        height = float(np.ptp(points[:, 1]))
        small = [
            i
            for i, s in enumerate(strokes)
            if np.ptp(s[:, 1]) < relative * height and np.ptp(s[:, 0]) < 3 * relative * height
        ]
    order = [i for i in range(len(strokes)) if i not in small] + small
    return reordered(strokes, owner, order)


def page_ink(strokes: list[np.ndarray]) -> handwrite.Ink:
    return handwrite.Ink(strokes)

"""New lines in a writer's own hand, made from the words of their samples.

Fine-tuning on five lines teaches a network those five lines, word order and
all. Cutting the lines into words and setting the words down again in random
order gives it many more lines in the same hand, so it has to learn the
letters rather than the sentences.

A line is cut at the widest horizontal gaps of its ink, as many as its text
has spaces. Lines where that cut is not clear-cut (the narrowest gap taken is
not clearly wider than the widest gap left, as in print-like writing with wide
gaps between letters) are not cut: a wrong cut would teach wrong labels.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from handwrite.features import FeatureSettings, normalize
from handwrite.ink import Ink
from handwrite.inputs import item_text

MIN_GAP = 0.15  # writing heights: narrower gaps are never word gaps
CLEAR_MARGIN = 1.3  # the narrowest gap cut must be this much wider than the widest gap kept


@dataclass(frozen=True)
class WordInk:
    text: str
    strokes: tuple[np.ndarray, ...]  # x, y in writing heights, x from 0, line middle at y = 0
    width: float


def split_words(ink: Ink) -> tuple[list[WordInk], float] | None:
    """The line's words and its typical word gap, or None when the cut is not clear."""
    words = item_text(ink).split()  # the label, spaced as it is taught
    strokes = [s for s in normalize(ink, FeatureSettings()) if len(s)]
    if not words or not strokes:
        return None
    clusters = _x_clusters(strokes)
    gaps = [(clusters[i + 1][0] - clusters[i][1], i) for i in range(len(clusters) - 1)]
    cuts_needed = len(words) - 1
    if len(gaps) < cuts_needed:
        return None
    ranked = sorted(gaps, reverse=True)
    taken, left = ranked[:cuts_needed], ranked[cuts_needed:]
    if taken and (taken[-1][0] < MIN_GAP or (left and taken[-1][0] < CLEAR_MARGIN * left[0][0])):
        return None
    boundaries = sorted(clusters[i][1] + gap / 2 for gap, i in taken)
    pieces: list[list[np.ndarray]] = [[] for _ in words]
    for stroke in strokes:
        pieces[int(np.searchsorted(boundaries, stroke[:, 0].mean()))].append(stroke)
    result = []
    for text, piece in zip(words, pieces, strict=True):
        if not piece:
            return None
        left_x = min(float(s[:, 0].min()) for s in piece)
        right_x = max(float(s[:, 0].max()) for s in piece)
        shifted = tuple(s - np.array([left_x, 0.0]) for s in piece)
        result.append(WordInk(text, shifted, right_x - left_x))
    typical_gap = float(np.median([gap for gap, _ in taken])) if taken else 0.5
    return result, typical_gap


class WordPool:
    """Words cut from a writer's lines, set down as new lines in random order."""

    def __init__(self, inks: Iterable[Ink]) -> None:
        self.words: list[WordInk] = []
        gaps = []
        for ink in inks:
            split = split_words(ink)
            if split is not None:
                self.words += split[0]
                gaps.append(split[1])
        self.gap = float(np.median(gaps)) if gaps else 0.5

    def __bool__(self) -> bool:
        return len(self.words) >= 2

    def line(self, rng: random.Random, min_words: int = 3, max_words: int = 8) -> Ink:
        """A new line of randomly chosen words, spaced like the writer spaces them."""
        chosen = [rng.choice(self.words) for _ in range(rng.randint(min_words, max_words))]
        strokes, x = [], 0.0
        for word in chosen:
            strokes += [stroke + np.array([x, 0.0]) for stroke in word.strokes]  # Ink adds t = 0
            x += word.width + self.gap * rng.uniform(0.8, 1.25)
        return Ink(strokes, text=" ".join(word.text for word in chosen))


def _x_clusters(strokes: list[np.ndarray]) -> list[tuple[float, float]]:
    """Horizontal extents of groups of strokes whose x ranges overlap, left to right."""
    spans = sorted((float(s[:, 0].min()), float(s[:, 0].max())) for s in strokes)
    clusters = [spans[0]]
    for start, end in spans[1:]:
        if start <= clusters[-1][1]:
            clusters[-1] = (clusters[-1][0], max(clusters[-1][1], end))
        else:
            clusters.append((start, end))
    return clusters

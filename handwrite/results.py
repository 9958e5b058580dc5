"""What recognition returns: a page of lines of words, each with its text,
confidence and where it is on the page.

`Result.text` is the lines joined by newlines in reading order; `Result.lines`
describe them (box, the page's stroke indices for ink, words). `to_dict` is the
page of the schema that `transcribe -f json` writes (docs/formats.md): text,
confidence and pages; the command adds path, alternatives and the words list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in the input's own units, y downwards


def union_box(boxes: Sequence[Box]) -> Box:
    """The smallest box holding all of them (at least one)."""
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


@dataclass(frozen=True)
class Calibration:
    """Turns a line's raw confidence (the mean peak probability of its characters) into
    the share of its characters that are read right, as measured on held-out lines
    (`scripts/calibration.py`): a network's doubt (1 - confidence) understates its
    errors, so doubt is scaled and offset. The identity by default."""

    offset: float = 0.0
    scale: float = 1.0

    def __call__(self, confidence: float) -> float:
        return min(1.0, max(0.0, 1.0 - self.offset - self.scale * (1.0 - confidence)))

    def line(self, line: Line) -> Line:
        words = tuple(replace(word, confidence=self(word.confidence)) for word in line.words)
        return replace(line, confidence=self(line.confidence), words=words)


@dataclass(frozen=True)
class Alternative:
    text: str
    confidence: float


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    box: Box | None = None
    strokes: tuple[int, ...] = ()  # indices into the page's strokes (ink only)


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float
    box: Box | None = None
    strokes: tuple[int, ...] = ()  # indices into the page's strokes (ink only)
    words: tuple[Word, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    page: int = 1  # 1-based page number

    def word_alternatives(self) -> tuple[tuple[Alternative, ...], ...]:
        """For each word of `text` (as in `words`), its other readings: the line's
        alternatives that differ from the line's text only inside that word, so
        picking one changes that word alone. Most likely first, each once; the
        confidence is the whole line alternative's."""
        spans = _word_spans(self.text)
        found: list[dict[str, float]] = [{} for _ in spans]
        for alternative in self.alternatives:
            placed = _differs_inside(self.text, alternative.text, spans)
            if placed is not None:
                number, reading = placed
                found[number].setdefault(reading, alternative.confidence)
        return tuple(tuple(Alternative(text, conf) for text, conf in readings.items()) for readings in found)


@dataclass(frozen=True)
class Result:
    """A transcription with its confidence (0..1) and n-best alternatives.

    For a page, `text` joins the lines by newlines, `lines` holds each line and
    `words` every word of every line; the alternatives are then those of a
    single line only (a page has none).
    """

    text: str
    confidence: float
    alternatives: tuple[Alternative, ...] = ()
    words: tuple[Word, ...] = field(default=())
    char_confidences: tuple[float, ...] = field(default=(), repr=False)
    lines: tuple[Line, ...] = field(default=())
    page_count: int = 1

    def __post_init__(self) -> None:
        if self.page_count < 1 or any(not 1 <= line.page <= self.page_count for line in self.lines):
            raise ValueError(f"line pages {[line.page for line in self.lines]} outside 1..{self.page_count}")

    def pages(self) -> list[list[Line]]:
        """The lines of each page, pages in order (an empty page has no lines)."""
        pages: list[list[Line]] = [[] for _ in range(self.page_count)]
        for line in self.lines:
            pages[line.page - 1].append(line)
        return pages

    def to_dict(self) -> dict:
        """The page schema: text, confidence and pages of lines of words."""
        return {
            "text": self.text,
            "confidence": rounded_confidence(self.confidence),
            "pages": [
                {"number": number, "lines": [_line_dict(line) for line in lines]}
                for number, lines in enumerate(self.pages(), start=1)
            ],
        }


def _word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word: the runs between spaces, as the decoder's words are cut."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^ ]+", text)]


def _differs_inside(best: str, other: str, spans: list[tuple[int, int]]) -> tuple[int, str] | None:
    """(word number, the word as `other` reads it) when `other` differs from `best`
    only within one word of `best` (an insertion at a word's edge counts as that
    word's); None when the texts are the same or differ across words."""
    if other == best or not spans:
        return None
    prefix = _common_start(best, other)
    room = min(len(best), len(other)) - prefix  # the common suffix may not overlap the prefix
    suffix = min(_common_start(best[::-1], other[::-1]), room)
    changed = (prefix, len(best) - suffix)  # the part of best that other replaces
    for number, (start, end) in enumerate(spans):
        if start <= changed[0] and changed[1] <= end:
            reading = other[start : len(other) - (len(best) - end)]
            return (number, reading) if reading.strip() else None
    return None


def _common_start(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _line_dict(line: Line) -> dict:
    record = {"text": line.text, "confidence": rounded_confidence(line.confidence), "box": _box(line.box)}
    if line.strokes:
        record["strokes"] = list(line.strokes)
    record["words"] = [_word_dict(word) for word in line.words]
    return record


def _word_dict(word: Word) -> dict:
    record = {"text": word.text, "confidence": rounded_confidence(word.confidence), "box": _box(word.box)}
    if word.strokes:
        record["strokes"] = list(word.strokes)
    return record


def _box(box: Box | None) -> list[float] | None:
    return None if box is None else [round(float(v), 2) for v in box]


def rounded_confidence(value: float) -> float:
    """Four places; a confidence that is not a number (a broken model) reads as 0, so the
    JSON stays valid."""
    value = float(value)
    return round(value, 4) if value == value and abs(value) != float("inf") else 0.0

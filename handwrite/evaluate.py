"""Character and word error rates, with the normalisation of docs/formats.md:
no space before . , ; : ! ? ' ; runs of spaces collapsed; lines holding `#`
(crossed-out words) left out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import editdistance
from PIL import Image

from handwrite.codec import normalize_spacing
from handwrite.ink import Ink
from handwrite.inputs import item_truth
from handwrite.printable import counted

if TYPE_CHECKING:
    from handwrite.recognizer import Recognizer


@dataclass(frozen=True)
class ErrorRates:
    cer: float
    wer: float
    lines: int
    chars: int
    words: int
    skipped: int  # lines left out (their input holds a crossed-out word)

    def __str__(self) -> str:
        return f"CER {self.cer:.2%}  WER {self.wer:.2%}  ({counted(self.lines, 'line')}, {self.chars} chars)"

    def figures(self) -> dict[str, float | int]:
        """The rates and the lines scored: what a model file records. Not rounded: a
        rounded rate, rounded again for display, can differ from what eval printed
        (5.77% recorded as 0.05775 showed as 5.78%)."""
        return {"cer": self.cer, "wer": self.wer, "lines": self.lines}


def error_rates(pairs: Iterable[tuple[str, str]]) -> ErrorRates:
    """(reference, hypothesis) pairs -> corpus-level CER and WER."""
    char_errors = word_errors = chars = words = lines = skipped = 0
    for reference, hypothesis in pairs:
        count = max(1, sum(1 for line in reference.splitlines() if line.strip()))  # a page is several lines
        if "#" in reference:  # an input holding a crossed-out word is left out whole
            skipped += count
            continue
        ref, hyp = normalize_spacing(reference), normalize_spacing(hypothesis)
        char_errors += editdistance.eval(ref, hyp)
        word_errors += editdistance.eval(ref.split(), hyp.split())
        chars += len(ref)
        words += len(ref.split())
        lines += count
    return ErrorRates(char_errors / max(chars, 1), word_errors / max(words, 1), lines, chars, words, skipped)


def evaluate(
    model: Recognizer,
    items: Sequence[Ink | Image.Image],
    on_line: Callable[[Ink | Image.Image, str, str], object] | None = None,
) -> ErrorRates:
    """CER and WER of a model on labelled inputs (inks with their text, images with
    their .gt.txt), read in one batch. ``on_line(item, reference, hypothesis)`` sees each
    line scored, in order (to keep the errors)."""
    results = model.recognize_batch(items)
    pairs = [(item_truth(item), result.text) for item, result in zip(items, results, strict=True)]
    if on_line is not None:
        for item, (reference, hypothesis) in zip(items, pairs, strict=True):
            on_line(item, reference, hypothesis)
    return error_rates(pairs)

"""Character and word error rates, with the normalisation DESIGN.md fixes:
no space before . , ; : ! ? ' ; runs of spaces collapsed; lines holding `#`
(crossed-out words) left out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import editdistance

_SPACE_BEFORE_PUNCT = re.compile(r" +([.,;:!?'])")


def normalize_for_scoring(text: str) -> str:
    text = " ".join(text.split())
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text)


@dataclass(frozen=True)
class ErrorRates:
    cer: float
    wer: float
    lines: int
    chars: int
    words: int
    skipped: int  # lines left out (crossed-out words)

    def __str__(self) -> str:
        return f"CER {self.cer:.2%}  WER {self.wer:.2%}  ({self.lines} lines, {self.chars} chars)"


def error_rates(pairs: Iterable[tuple[str, str]]) -> ErrorRates:
    """(reference, hypothesis) pairs -> corpus-level CER and WER."""
    char_errors = word_errors = chars = words = lines = skipped = 0
    for reference, hypothesis in pairs:
        if "#" in reference:
            skipped += 1
            continue
        ref, hyp = normalize_for_scoring(reference), normalize_for_scoring(hypothesis)
        char_errors += editdistance.eval(ref, hyp)
        word_errors += editdistance.eval(ref.split(), hyp.split())
        chars += len(ref)
        words += len(ref.split())
        lines += 1
    return ErrorRates(char_errors / max(chars, 1), word_errors / max(words, 1), lines, chars, words, skipped)


def run_eval(args) -> int:  # noqa: ANN001 - argparse.Namespace
    """`handwrite eval`: score labelled files or an IAM-OnDB split."""
    import json
    import sys
    import time

    from handwrite.data.datasets import iter_ink_files, load_iam_split
    from handwrite.errors import HandwriteError
    from handwrite.fileio import atomic_write_text
    from handwrite.formats import read_ink
    from handwrite.recognizer import load_model

    model = load_model(args.model, beam_size=args.beam, language_model=args.lm)
    inks, failed = [], 0
    for path in iter_ink_files(args.paths):
        try:
            ink = read_ink(path)
        except HandwriteError as exc:
            print(f"handwrite: {exc}", file=sys.stderr)
            failed += 1
            continue
        if ink.text is None:
            print(f"handwrite: {path}: no ground truth (truth annotation or text); left out", file=sys.stderr)
            failed += 1
            continue
        inks.append(ink)
    if args.iam_ondb:
        inks += load_iam_split(args.iam_ondb, args.split)
    if not inks:
        print("handwrite: error: nothing to score (no labelled inputs)", file=sys.stderr)
        return 1
    started = time.perf_counter()
    results = model.recognize_batch(inks)
    seconds = time.perf_counter() - started
    pairs = [(ink.text or "", result.text) for ink, result in zip(inks, results, strict=True)]
    rates = error_rates(pairs)
    if args.errors:
        atomic_write_text(
            args.errors,
            "".join(
                json.dumps({"source": ink.source, "reference": ref, "hypothesis": hyp}, ensure_ascii=False) + "\n"
                for ink, (ref, hyp) in zip(inks, pairs, strict=True)
            ),
        )
    decoding = f"beam {model.decoding.beam_size}" + (" + LM" if model.decoding.lm else "")
    print(f"{rates}  [{decoding}; {rates.skipped} lines with '#' left out; {seconds:.1f} s]")
    return 1 if failed else 0

"""Character and word error rates, with the normalisation DESIGN.md fixes:
no space before . , ; : ! ? ' ; runs of spaces collapsed; lines holding `#`
(crossed-out words) left out."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import editdistance

from handwrite.data.datasets import iter_ink_files, load_iam_split, spread_subset
from handwrite.errors import HandwriteError
from handwrite.fileio import atomic_write_text
from handwrite.formats import read_ink
from handwrite.ink import Ink
from handwrite.modelfile import save_model_file

if TYPE_CHECKING:
    from handwrite.recognizer import Recognizer

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


def run_eval(args: argparse.Namespace) -> int:
    """`handwrite eval`: score labelled files and/or an IAM-OnDB split."""
    from handwrite.recognizer import load_model

    model = load_model(args.model, beam_size=args.beam, language_model=args.lm)
    if args.lm_weight is not None or args.insertion_bonus is not None:
        tuned = {"lm_weight": args.lm_weight, "insertion_bonus": args.insertion_bonus}
        model = model.with_decoding(**{k: v for k, v in tuned.items() if v is not None})
    inks, failed = _labelled_inks(args.paths)
    if args.iam_ondb:
        inks += spread_subset(load_iam_split(args.iam_ondb, args.split), args.limit or 10**9)
    if not inks:
        print("handwrite: error: nothing to score (no labelled inputs)", file=sys.stderr)
        return 1
    started = time.perf_counter()
    results = model.recognize_batch(inks)
    seconds = time.perf_counter() - started
    pairs = [(ink.text or "", result.text) for ink, result in zip(inks, results, strict=True)]
    rates = error_rates(pairs)
    if args.errors:
        rows = [
            {"source": ink.source, "reference": ref, "hypothesis": hyp}
            for ink, (ref, hyp) in zip(inks, pairs, strict=True)
        ]
        atomic_write_text(args.errors, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    options = model.decoding
    decoding = f"beam {options.beam_size}" + (f" + LM (weight {options.lm_weight})" if options.lm else "")
    print(f"{rates}  [{decoding}; {rates.skipped} lines with '#' left out; {seconds:.1f} s]")
    if args.record_metrics:
        _record(args, model, rates, decoding)
    return 1 if failed else 0


def _labelled_inks(paths: list[str]) -> tuple[list[Ink], int]:
    inks, failed = [], 0
    for path in iter_ink_files(paths):
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
    return inks, failed


def _record(args: argparse.Namespace, model: Recognizer, rates: ErrorRates, decoding: str) -> None:
    """Store the figures in the model file's metadata (atomically), under the set's name."""
    if not model.path:
        return
    model_file = model.model_file  # the file as loaded: weights and metadata, no second read
    name = f"IAM-OnDB {args.split}" if args.iam_ondb and not args.paths else "labelled files"
    entry = {"cer": round(rates.cer, 5), "wer": round(rates.wer, 5), "lines": rates.lines, "decoding": decoding}
    metrics = model_file.info.setdefault("metrics", {})
    metrics.setdefault(name, {})[decoding] = entry
    save_model_file(model_file, model.path)
    print(f"recorded in {model.path}", file=sys.stderr)

"""Character and word error rates, with the normalisation DESIGN.md fixes:
no space before . , ; : ! ? ' ; runs of spaces collapsed; lines holding `#`
(crossed-out words) left out."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import editdistance
from PIL import Image

from handwrite.codec import normalize_spacing
from handwrite.fileio import atomic_write_text
from handwrite.formats import IMAGE_SUFFIXES, INK_SUFFIXES
from handwrite.ink import Ink
from handwrite.inputs import item_source, item_text
from handwrite.modelfile import save_model_file

if TYPE_CHECKING:
    from handwrite.recognizer import Recognizer


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
        ref, hyp = normalize_spacing(reference), normalize_spacing(hypothesis)
        char_errors += editdistance.eval(ref, hyp)
        word_errors += editdistance.eval(ref.split(), hyp.split())
        chars += len(ref)
        words += len(ref.split())
        lines += 1
    return ErrorRates(char_errors / max(chars, 1), word_errors / max(words, 1), lines, chars, words, skipped)


def run_eval(args: argparse.Namespace) -> int:
    """`handwrite eval`: score labelled files and/or an IAM-OnDB split."""
    from handwrite.recognizer import load_model
    from handwrite.training.data.datasets import iter_ink_files, load_iam_split, spread_subset
    from handwrite.training.inputs import rendered_line  # an image model scored on ink (torchvision)

    suffixes = {path.suffix.lower() for path in iter_ink_files(args.paths, IMAGE_SUFFIXES + INK_SUFFIXES)}
    images_only = bool(suffixes) and suffixes <= set(IMAGE_SUFFIXES)
    kind = args.kind or ("image" if images_only and not args.iam_ondb else "ink")
    model = load_model(args.model, beam_size=args.beam, language_model=args.lm, kind=kind)
    if args.lm_weight is not None or args.insertion_bonus is not None:
        tuned = {"lm_weight": args.lm_weight, "insertion_bonus": args.insertion_bonus}
        model = model.with_decoding(**{k: v for k, v in tuned.items() if v is not None})
    items, failed = _labelled_inputs(args.paths, model.kind)
    if args.iam_ondb:
        inks = spread_subset(load_iam_split(args.iam_ondb, args.split), args.limit or 10**9)
        # an image model is scored on the split's ink rendered to images (a fixed look per line)
        items += [rendered_line(ink) for ink in inks] if model.kind == "image" else inks
    if not items:
        print("handwrite: error: nothing to score (no labelled inputs)", file=sys.stderr)
        return 1
    started = time.perf_counter()
    results = model.recognize_batch(items)
    seconds = time.perf_counter() - started
    pairs = [(item_text(item), result.text) for item, result in zip(items, results, strict=True)]
    rates = error_rates(pairs)
    if args.errors:
        rows = [
            {"source": item_source(item), "reference": ref, "hypothesis": hyp}
            for item, (ref, hyp) in zip(items, pairs, strict=True)
        ]
        atomic_write_text(args.errors, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    options = model.decoding
    decoding = f"beam {options.beam_size}" + (f" + LM (weight {options.lm_weight})" if options.lm else "")
    print(f"{rates}  [{decoding}; {rates.skipped} lines with '#' left out; {seconds:.1f} s]")
    if args.record_metrics:
        _record(args, model, rates, decoding)
    return 1 if failed else 0


def _labelled_inputs(paths: list[str], kind: str) -> tuple[list[Ink | Image.Image], int]:
    """Labelled files the model's kind reads (ink files, or images with a .gt.txt), and
    how many were left out; each one left out is named on stderr."""
    from handwrite.training.data.datasets import load_labelled

    left_out: list[str] = []

    def report(reason: str) -> None:
        left_out.append(reason)
        print(f"handwrite: {reason}; left out", file=sys.stderr)

    suffixes = IMAGE_SUFFIXES if kind == "image" else INK_SUFFIXES
    return load_labelled(paths, suffixes, on_skip=report), len(left_out)


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

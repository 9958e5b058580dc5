"""Decoders side by side on IAM-OnDB lines with the bundled online model: greedy,
beam, beam + character LM, beam + word lexicon, beam + both. For each: CER, WER,
decoding time per line, and CER on capitals, digits, punctuation and lower-case
letters separately (a language model must not buy lower-case accuracy with them).

The network reads every line once (its time is reported apart); the decoders then
take turns on each line, so their times are measured under the same load.

    python scripts/lm_benchmark.py --split testset_v [--limit N] [--beam 8]
        [--lm-weight W] [--insertion-bonus B] [--mark-floor F] [--word-weight W] [--unknown-word-penalty P]

Choose settings on testset_v; testset_t is for the final measure only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from handwrite.codec import normalize_spacing
from handwrite.decoding import GREEDY, DecodingOptions, decode
from handwrite.evaluate import error_rates
from handwrite.inputs import item_text
from handwrite.layout import find_lines
from handwrite.lm import CharNgramModel, WordLexicon
from handwrite.page_reading import ink_line
from handwrite.recognizer import DEFAULT_LEXICON, DEFAULT_LM, Recognizer, load_model
from handwrite.training.data.datasets import load_iam_split, spread_subset

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
CLASSES = ("capitals", "digits", "punctuation", "lowercase")


def char_class(char: str) -> str | None:
    """The class a character's errors are counted in (None: spaces)."""
    if char.isspace():
        return None
    if char.isdigit():
        return "digits"
    if char.isalpha():
        return "capitals" if char.isupper() else "lowercase"
    return "punctuation"


def class_errors(reference: str, hypothesis: str) -> tuple[Counter, Counter]:
    """(errors, reference characters) per class, from one minimum-edit alignment: a
    substituted or deleted character counts against its reference class, an inserted
    one against its own class."""
    ref, hyp = normalize_spacing(reference), normalize_spacing(hypothesis)
    rows = [list(range(len(hyp) + 1))]
    for i, r in enumerate(ref, 1):
        row = [i]
        for j, h in enumerate(hyp, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (r != h)))
        rows.append(row)
    errors: Counter = Counter()
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and rows[i][j] == rows[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] != hyp[j - 1]:
                errors[char_class(ref[i - 1])] += 1
            i, j = i - 1, j - 1
        elif i and rows[i][j] == rows[i - 1][j] + 1:
            errors[char_class(ref[i - 1])] += 1
            i -= 1
        else:
            errors[char_class(hyp[j - 1])] += 1
            j -= 1
    return errors, Counter(char_class(c) for c in ref)


def network_outputs(model: Recognizer, inks: list) -> tuple[list[list[np.ndarray]], float]:
    """Each ink's lines (as layout finds them, as recognize() reads them) through the
    network: their log-probabilities, and the seconds that took."""
    started = time.perf_counter()
    outputs = []
    for ink in inks:
        frames = [ink_line(ink, line, model.inputs.settings).frames for line in find_lines(ink)]
        outputs.append(model.log_probs(frames))
    return outputs, time.perf_counter() - started


def decoders(args: argparse.Namespace) -> dict[str, DecodingOptions]:
    """The decoders compared, with the weights asked for (default: the library's)."""
    lm = CharNgramModel.load(args.lm_file)
    lexicon = WordLexicon.load(args.lexicon)
    tuned = _given(args, "lm_weight", "insertion_bonus", "mark_floor")
    words = _given(args, "word_weight", "unknown_word_penalty")
    beam = DecodingOptions(beam_size=args.beam)
    return {
        "greedy": GREEDY,
        f"beam {args.beam}": beam,
        f"beam {args.beam} + char LM": dataclasses.replace(beam, lm=lm, **tuned),
        f"beam {args.beam} + words": dataclasses.replace(beam, lexicon=lexicon, **words),
        f"beam {args.beam} + char LM + words": dataclasses.replace(beam, lm=lm, lexicon=lexicon, **tuned, **words),
    }


def _given(args: argparse.Namespace, *names: str) -> dict[str, float]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def compare(
    outputs: list[list[np.ndarray]], references: list[str], model: Recognizer, options: dict[str, DecodingOptions]
) -> dict[str, dict[str, float]]:
    """Every decoder on every line, taking turns line by line."""
    texts: dict[str, list[str]] = {name: [] for name in options}
    seconds = dict.fromkeys(options, 0.0)
    for line_outputs in outputs:
        for name, decoding in options.items():
            started = time.perf_counter()
            texts[name].append("\n".join(decode(lp, model.codec, decoding)[0].text for lp in line_outputs))
            seconds[name] += time.perf_counter() - started
    return {name: figures(references, texts[name]) | {"ms": 1000 * seconds[name] / len(outputs)} for name in options}


def figures(references: list[str], hypotheses: list[str]) -> dict[str, float]:
    kept = [(r, h) for r, h in zip(references, hypotheses, strict=True) if "#" not in r]
    rates = error_rates(kept)
    errors: Counter = Counter()
    counts: Counter = Counter()
    for reference, hypothesis in kept:
        e, c = class_errors(reference, hypothesis)
        errors.update(e)
        counts.update(c)
    return {"cer": rates.cer, "wer": rates.wer} | {k: errors[k] / max(counts[k], 1) for k in CLASSES}


def table(results: dict[str, dict[str, float]], network_ms: float) -> Iterable[str]:
    yield "| decoder | CER | WER | ms/line (decoding) | " + " | ".join(f"CER {k}" for k in CLASSES) + " |"
    yield "|---" * (4 + len(CLASSES)) + "|"
    for name, row in results.items():
        classes = " | ".join(f"{row[k]:.2%}" for k in CLASSES)
        yield f"| {name} | {row['cer']:.2%} | {row['wer']:.2%} | {row['ms']:.1f} | {classes} |"
    yield f"\nnetwork (same for all): {network_ms:.1f} ms/line"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iam-ondb", type=Path, default=IAM)
    parser.add_argument("--split", default="testset_v")
    parser.add_argument("--limit", type=int, default=None, help="only this many lines, spread over the split")
    parser.add_argument("-m", "--model", default=None, help="model file (default: the bundled online model)")
    parser.add_argument("--beam", type=int, default=8)
    parser.add_argument("--lm-file", type=Path, default=DEFAULT_LM)
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    for name in ("lm-weight", "insertion-bonus", "mark-floor", "word-weight", "unknown-word-penalty"):
        parser.add_argument(f"--{name}", type=float, default=None, help="default: the library's")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    inks = spread_subset(load_iam_split(args.iam_ondb, args.split), args.limit or 10**9)
    outputs, network_seconds = network_outputs(model, inks)
    results = compare(outputs, [item_text(ink) for ink in inks], model, decoders(args))
    print(f"IAM-OnDB {args.split}, {len(inks)} lines, {args.threads} thread(s)\n")
    print("\n".join(table(results, 1000 * network_seconds / len(inks))))


if __name__ == "__main__":
    main()

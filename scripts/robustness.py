"""Robustness sets: IAM-OnDB lines as real devices and writers give them, read
through `recognize()` (layout analysis, levelling, word by word) beside the
lines as written.

Each set is built from the same lines by one deterministic transform (seeded
by the line's id), the transforms training augmentation draws from
(handwrite/training/data/augment.py):

- rotated 5 / 15 degrees: the line turned about its centre, clockwise or
  anticlockwise (by the seed);
- marks last: dots, crosses and commas written after the whole line;
- fast noisy pen: each stroke at 4x its points, Gaussian jitter of 1% of the
  line's height;
- y up: y negated, as a device with y pointing up gives it, declared so in
  InkML (`<channel name="Y" orientation="-ve">`) and read back from that text;
- short words: the line's 1-2 letter words, each cut out alone (the layout's
  words, paired with the transcription's where both count the same words and
  each lies about where its characters put it).

Greedy decoding, one thread; CER / WER per set and its CER less the lines'.

    python scripts/robustness.py [--split testset_v] [--lines 300] [--sets rot5,marks] [-m MODEL]
"""

from __future__ import annotations

import argparse
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import handwrite
from handwrite.evaluate import error_rates
from handwrite.formats.inkml import format_inkml, parse_inkml
from handwrite.training.data.augment import marks_last, resampled_noisy, rotated
from handwrite.training.data.datasets import load_iam_split

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
SHORT_WORD_DRIFT = 0.08  # of the line's width: how far a word may lie from where its characters put it
Transform = Callable[[handwrite.Ink, np.random.Generator], list[handwrite.Ink]]


def _turned(degrees: float) -> Transform:
    def turn(ink: handwrite.Ink, rng: np.random.Generator) -> list[handwrite.Ink]:
        return [rotated(ink, degrees * rng.choice([-1.0, 1.0]))]

    return turn


def _marks_last(ink: handwrite.Ink, rng: np.random.Generator) -> list[handwrite.Ink]:
    return [marks_last(ink)[0]]


def _fast_noisy(ink: handwrite.Ink, rng: np.random.Generator) -> list[handwrite.Ink]:
    return [resampled_noisy(ink, 4.0, 0.01, rng)]


def _y_up(ink: handwrite.Ink, rng: np.random.Generator) -> list[handwrite.Ink]:
    """The line as an InkML file from a y-up device declares it, read back."""
    flipped = handwrite.Ink([s * [1.0, -1.0, 1.0] for s in ink.strokes], text=ink.text)
    plain = '<channel name="Y" type="decimal"/>'
    text = format_inkml(flipped)
    assert plain in text, "format_inkml no longer writes the Y channel as expected"
    declared = text.replace(plain, '<channel name="Y" type="decimal" orientation="-ve"/>', 1)
    return [parse_inkml(declared.encode(), ink.source or "<y-up>")]


def _short_words(ink: handwrite.Ink, rng: np.random.Generator) -> list[handwrite.Ink]:
    """The 1-2 letter words of the line, each alone: the layout's words paired with the
    transcription's, on lines where both count the same words and each word lies
    about where its characters' share of the line puts it (else the pairing is off)."""
    lines = handwrite.find_lines(ink)
    tokens = (ink.text or "").split()
    if len(lines) != 1 or len(lines[0].words) != len(tokens) or not _aligned(ink, lines[0].words, tokens):
        return []
    return [
        handwrite.Ink([ink.strokes[i] for i in word], text=token)
        for word, token in zip(lines[0].words, tokens, strict=True)
        if len(token) <= 2 and token.isalpha()
    ]


def _aligned(ink: handwrite.Ink, words: tuple[tuple[int, ...], ...], tokens: list[str]) -> bool:
    """Whether every word's centre lies within SHORT_WORD_DRIFT of the line's width of
    where the transcription's characters put it (letters differ in width, so loosely)."""
    x0, _, x1, _ = ink.bounds()
    width = max(x1 - x0, 1e-9)
    text = " ".join(tokens)
    starts = np.cumsum([0] + [len(t) + 1 for t in tokens[:-1]])
    for word, token, start in zip(words, tokens, starts, strict=True):
        xs = np.concatenate([ink.strokes[i][:, 0] for i in word])
        expected = (start + len(token) / 2) / len(text)
        if abs(((xs.min() + xs.max()) / 2 - x0) / width - expected) > SHORT_WORD_DRIFT:
            return False
    return True


SETS: dict[str, tuple[str, Transform]] = {
    "lines": ("lines as written", lambda ink, rng: [ink]),
    "rot5": ("rotated 5 degrees", _turned(5.0)),
    "rot15": ("rotated 15 degrees", _turned(15.0)),
    "marks": ("dots and crosses last", _marks_last),
    "fast": ("fast noisy pen (4x points, 1% jitter)", _fast_noisy),
    "yup": ("y up, declared in InkML", _y_up),
    "short": ("short words (1-2 letters) alone", _short_words),
}


def build_set(name: str, lines: list[handwrite.Ink]) -> list[handwrite.Ink]:
    """The set's inks, each line's transform seeded by the line's id and the set's name."""
    transform = SETS[name][1]
    out = []
    for ink in lines:
        seed = zlib.crc32(f"{ink.source}:{name}".encode())
        out += transform(ink, np.random.default_rng(seed))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="testset_v", choices=("testset_v", "testset_t"))
    parser.add_argument("--lines", type=int, default=300, help="the first N lines of the split (0: all)")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("-m", "--model", help="a model file (default: the bundled online model)")
    parser.add_argument("--smooth", type=float, help="override the model's smoothing (writing heights; to choose it)")
    args = parser.parse_args()
    names = [n for n in args.sets.split(",") if n]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        parser.error(f"unknown sets {unknown}; known: {', '.join(SETS)}")
    torch.set_num_threads(1)
    model = handwrite.load_model(args.model)
    if args.smooth is not None:
        model.inputs.settings = replace(model.inputs.settings, smooth=args.smooth)
    lines = [ink for ink in load_iam_split(IAM, args.split, limit=args.lines or None) if "#" not in (ink.text or "")]
    smooth = getattr(model.inputs.settings, "smooth", 0.0)  # 0: a tree from before smoothing
    print(f"## {args.split}: {len(lines)} lines (crossed-out ones left out), greedy, one thread, smooth {smooth}\n")
    print("| set | inputs | CER | WER | CER - lines' | s |\n|---|---|---|---|---|---|")
    baseline = None
    for name in ["lines", *(n for n in names if n != "lines")]:
        inks = build_set(name, lines)
        start = time.perf_counter()
        texts = [model.recognize(ink).text.replace("\n", " ") for ink in inks]
        rates = error_rates((ink.text or "", text) for ink, text in zip(inks, texts, strict=True))
        baseline = rates.cer if baseline is None else baseline
        seconds = time.perf_counter() - start
        print(
            f"| {SETS[name][0]} | {len(inks)} | {rates.cer:.2%} | {rates.wer:.2%} | "
            f"{(rates.cer - baseline) * 100:+.2f} | {seconds:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

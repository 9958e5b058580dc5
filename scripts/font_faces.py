"""How models read lines written in each Hershey face: connected school script
(`scripts`, `cursive`) and print (`futural`, `rowmans`), as the product's demo
inks and images are written.

Each face writes the same made-up lines (2-5 of wordfreq's common words, a fixed
seed, so no text of the demo files on purpose), jittered and slanted as
training's synthetic ink is (`handwrite.training.data.synthetic.render_text`).
Ink models read the ink; image models read it rendered with a random pen and
paper (`render_ink`). Greedy, one thread; CER and the share of lines read
exactly, per face and model.

    python scripts/font_faces.py [--kind image] [--lines 100] [-m MODEL ...]
"""

from __future__ import annotations

import argparse
import random

import torch

import handwrite
from handwrite.evaluate import error_rates
from handwrite.training.data.render import render_ink
from handwrite.training.data.synthetic import FONT_NAMES, common_words, render_text

SEED = 20261202


def face_lines(face: str, count: int, words: list[str]) -> list[tuple[handwrite.Ink, str]]:
    """The same texts for every face (their own seed), each written with its own jitter."""
    texts = random.Random(SEED)
    pens = random.Random(f"{SEED}-{face}")
    lines = []
    for _ in range(count):
        text = " ".join(texts.choice(words) for _ in range(texts.randint(2, 5)))
        lines.append((render_text(text, pens, face), text))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="image", choices=("ink", "image"))
    parser.add_argument("--lines", type=int, default=100, help="lines per face")
    parser.add_argument("-m", "--model", action="append", help="a model file (repeatable; default: bundled)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = args.model or [None]
    models = [handwrite.load_model(path, kind=args.kind) for path in paths]
    words = common_words(5000)
    print(f"## {args.lines} made-up lines per Hershey face, {args.kind} models, greedy, one thread\n")
    print("| model | face | CER | lines exact |\n|---|---|---|---|")
    for face in FONT_NAMES:
        lines = face_lines(face, args.lines, words)
        pens = random.Random(f"{SEED}-{face}-render")
        items = [render_ink(ink, pens) if args.kind == "image" else ink for ink, _ in lines]
        for path, model in zip(paths, models, strict=True):
            texts = [model.recognize(item).text.replace("\n", " ") for item in items]
            rates = error_rates(zip((text for _, text in lines), texts, strict=True))
            exact = sum(got == text for (_, text), got in zip(lines, texts, strict=True))
            print(f"| {path or 'bundled'} | {face} | {rates.cer:.2%} | {exact}/{len(lines)} |", flush=True)


if __name__ == "__main__":
    main()

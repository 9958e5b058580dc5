"""Image models on lines that look like scans and photos, beside the clean renders
they are scored on.

Each IAM-OnDB line is rendered twice with a look fixed by its id
(`handwrite.training.inputs.rendered_line`): once clean, as `handwrite eval`
renders it, and once with every flaw of a real page that training draws from
(`handwrite/training/data/realism.py`: a pen whose width follows its speed,
paper texture, ruled lines, bleed-through, uneven light, a camera a little
askew, JPEG at poor qualities). Both are read through `recognize()`, greedy, one
thread; CER / WER per set and model.

    python scripts/scan_realism.py [--split testset_v] [--lines 300] [-m MODEL ...]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

import handwrite
from handwrite.evaluate import error_rates
from handwrite.training.data.datasets import load_iam_split
from handwrite.training.data.render import SCANNED, PaperStyle
from handwrite.training.inputs import rendered_line

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
STYLES = {"clean renders": PaperStyle(), "scans and photos": SCANNED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="testset_v", choices=("testset_v", "testset_t"))
    parser.add_argument("--lines", type=int, default=300, help="the first N lines of the split (0: all)")
    parser.add_argument("-m", "--model", action="append", help="an image model file (repeatable; default: bundled)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = args.model or [None]
    models = [handwrite.load_model(path, kind="image") for path in paths]
    lines = [ink for ink in load_iam_split(IAM, args.split, limit=args.lines or None) if "#" not in (ink.text or "")]
    print(f"## {args.split}: {len(lines)} lines (crossed-out ones left out), greedy, one thread\n")
    print("| model | set | CER | WER | s |\n|---|---|---|---|---|")
    for name, style in STYLES.items():
        images = [rendered_line(ink, style) for ink in lines]
        for path, model in zip(paths, models, strict=True):
            start = time.perf_counter()
            texts = [model.recognize(image).text.replace("\n", " ") for image in images]
            rates = error_rates((ink.text or "", text) for ink, text in zip(lines, texts, strict=True))
            seconds = time.perf_counter() - start
            print(f"| {path or 'bundled'} | {name} | {rates.cer:.2%} | {rates.wer:.2%} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()

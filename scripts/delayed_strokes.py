"""Dots and crosses written last: how much they cost a line, fed in writing order
and through layout analysis.

Each IAM-OnDB line is read as written and with its small strokes (dots,
crosses, commas: under 0.12 of the line's height tall and 0.4 of it wide) moved
to the end of the line, (a) fed whole in writing order, as lines were read
before layout analysis, and (b) through `recognize()`, which puts each mark
back after the stroke it sits on. Greedy CER and WER.

    python scripts/delayed_strokes.py [--split testset_v] [--forms 40]
"""

from __future__ import annotations

import argparse

import torch
from page_benchmark import _forms, _without_layout

import handwrite
from handwrite.evaluate import error_rates
from handwrite.training.data.augment import marks_last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="testset_v", choices=("testset_v", "testset_t"))
    parser.add_argument("--forms", type=int, default=40, help="the first N forms (0: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = handwrite.load_model()
    lines = [line.ink for lines in _forms(args.split, args.forms).values() for line in lines]
    moved = [marks_last(ink) for ink in lines]
    rows = {
        "fed whole in writing order, as written": [_without_layout(model, ink) for ink in lines],
        "fed whole in writing order, marks last": [_without_layout(model, ink) for ink, _ in moved],
        "recognize() (layout analysis), as written": [model.recognize(ink).text for ink in lines],
        "recognize() (layout analysis), marks last": [model.recognize(ink).text for ink, _ in moved],
    }
    print(f"## {args.split}: {len(lines)} lines, {sum(n for _, n in moved)} small strokes moved\n")
    print("| reading | CER / WER |\n|---|---|")
    for name, texts in rows.items():
        rates = error_rates((ink.text or "", text.replace("\n", " ")) for ink, text in zip(lines, texts, strict=True))
        print(f"| {name} | {rates.cer:.2%} / {rates.wer:.2%} |")


if __name__ == "__main__":
    main()

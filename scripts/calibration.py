"""Does a line's confidence mean something? Reliability of confidences on IAM-OnDB lines.

Each line of the split is read through `recognize()` (an image model reads the
ink rendered to a line image, a fixed look per line, as `handwrite eval` does).
Lines are binned by their confidence; per bin the script prints the mean
confidence, the mean character accuracy of its lines (1 - the line's CER,
at least 0) and the share of lines read exactly right. A calibrated model has
mean confidence close to mean accuracy in every bin; the expected calibration
error (ECE) is the line-weighted mean of their gaps.

    python scripts/calibration.py --kind image --split testset_v [--lines 400] [--beam 8 --lm]
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

import editdistance
import numpy as np
import torch

import handwrite
from handwrite.codec import normalize_spacing
from handwrite.formats.iamondb import iter_lines, read_split

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="image", choices=("ink", "image"))
    parser.add_argument("--split", default="testset_v", choices=("testset_v", "testset_t"))
    parser.add_argument("--lines", type=int, default=0, help="lines spread evenly over the split (0: all)")
    parser.add_argument("-m", "--model", help="a model file (default: the bundled model of --kind)")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--lm", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = handwrite.load_model(args.model, kind=args.kind, beam_size=args.beam, language_model=args.lm)
    lines = [
        line
        for line in iter_lines(IAM, set(read_split(IAM / "splits" / f"{args.split}.txt")))
        if "#" not in line.ink.text
    ]
    if args.lines:
        lines = [lines[round(i * len(lines) / args.lines)] for i in range(min(args.lines, len(lines)))]
    confidences, accuracies, exact = [], [], []
    for line in lines:
        item = line.ink if args.kind == "ink" else _rendered(line.ink)
        result = model.recognize(item)
        reference, hypothesis = normalize_spacing(line.ink.text), normalize_spacing(result.text.replace("\n", " "))
        errors = editdistance.eval(reference, hypothesis)
        confidences.append(result.confidence)
        accuracies.append(max(0.0, 1.0 - errors / max(len(reference), 1)))
        exact.append(errors == 0)
    _report(args, np.array(confidences), np.array(accuracies), np.array(exact))


def _rendered(ink: handwrite.Ink) -> object:
    from handwrite.training.inputs import rendered_line  # the look `handwrite eval` scores image models on

    return rendered_line(ink)


def _report(args: argparse.Namespace, confidences: np.ndarray, accuracies: np.ndarray, exact: np.ndarray) -> None:
    decoding = f"beam {args.beam}" + (" + LM" if args.lm else "") if args.beam > 1 or args.lm else "greedy"
    print(f"## confidence of {args.kind} lines, {args.split}, {decoding}: {len(confidences)} lines\n")
    print("| confidence | lines | mean confidence | mean character accuracy | read exactly |")
    print("|---|---|---|---|---|")
    gaps = 0.0
    for low, high in itertools.pairwise(BINS):
        chosen = (confidences >= low) & (confidences < high)
        if not chosen.any():
            continue
        mean_confidence, mean_accuracy = confidences[chosen].mean(), accuracies[chosen].mean()
        gaps += chosen.sum() * abs(mean_confidence - mean_accuracy)
        print(
            f"| {low:.0%}-{min(high, 1.0):.0%} | {chosen.sum()} | {mean_confidence:.1%} | {mean_accuracy:.1%} "
            f"| {exact[chosen].mean():.0%} |"
        )
    print(f"\nexpected calibration error (confidence vs character accuracy): {gaps / len(confidences):.2%}")
    order = np.argsort(confidences)
    worst = order[: max(1, len(order) // 10)]
    rest = np.delete(accuracies, worst).mean()
    print(f"least confident tenth: mean character accuracy {accuracies[worst].mean():.1%}; the rest {rest:.1%}")


if __name__ == "__main__":
    main()

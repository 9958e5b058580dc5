"""Does a line's confidence mean something? Reliability of confidences on IAM-OnDB lines.

Each line of the split is read through `recognize()` (an image model reads the
ink rendered to a line image, a fixed look per line, as `handwrite eval` does).
Lines are binned by their confidence; per bin the script prints the mean
confidence, the mean character accuracy of its lines (1 - the line's CER,
at least 0) and the share of lines read exactly right. A calibrated model has
mean confidence close to mean accuracy in every bin; the expected calibration
error (ECE) is the line-weighted mean of their gaps.

With `--fit`, the line confidences are measured raw (without the model's own
calibration), doubt (1 - confidence) is fitted to the lines' error share by
least squares (offset + scale x doubt), and both tables are printed; `--write
MODEL` then stores the fit in that model file's metadata ("calibration"), which
`recognize()` applies to line and word confidences. Fit on testset_v only.

    python scripts/calibration.py --kind image --split testset_v [--lines 400] [--beam 8 --lm]
    python scripts/calibration.py --kind image --fit [--write handwrite/models/image-default.safetensors]
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
from handwrite.modelfile import CALIBRATION_LIMITS, load_model_file, save_model_file
from handwrite.results import Calibration

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
    parser.add_argument("--fit", action="store_true", help="fit a calibration to raw confidences (testset_v)")
    parser.add_argument("--write", metavar="MODEL", help="with --fit: store the fit in this model file")
    args = parser.parse_args()
    if args.fit and args.split != "testset_v":
        parser.error("--fit chooses a setting: fit on testset_v only")
    torch.set_num_threads(1)
    model = handwrite.load_model(args.model, kind=args.kind, beam_size=args.beam, language_model=args.lm)
    if args.fit:
        model.calibration = Calibration()  # raw confidences
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
    confidences, accuracies, exact = np.array(confidences), np.array(accuracies), np.array(exact)
    _report(args, "raw" if args.fit else "as the model reports them", confidences, accuracies, exact)
    if args.fit:
        calibration = _fit(confidences, accuracies)
        print(f"\nfit: offset {calibration.offset}, scale {calibration.scale}\n")
        calibrated = np.array([calibration(c) for c in confidences])
        _report(args, "calibrated", calibrated, accuracies, exact)
        if args.write:
            model_file = load_model_file(args.write)
            model_file.info["calibration"] = {"offset": calibration.offset, "scale": calibration.scale}
            save_model_file(model_file, args.write)
            print(f"\nwrote the calibration into {args.write}")


def _fit(confidences: np.ndarray, accuracies: np.ndarray) -> Calibration:
    """Least squares: error share = offset + scale x doubt, rounded to 3 places."""
    doubt, errors = 1.0 - confidences, 1.0 - accuracies
    scale, offset = np.polyfit(doubt, errors, 1)
    # within the bounds a model file may hold (modelfile.CALIBRATION_LIMITS), or it would not load
    (low_offset, high_offset), (low_scale, high_scale) = CALIBRATION_LIMITS["offset"], CALIBRATION_LIMITS["scale"]
    offset, scale = min(max(float(offset), low_offset), high_offset), min(max(float(scale), low_scale), high_scale)
    return Calibration(offset=round(offset, 3), scale=round(scale, 3))


def _rendered(ink: handwrite.Ink) -> object:
    from handwrite.training.inputs import rendered_line  # the look `handwrite eval` scores image models on

    return rendered_line(ink)


def _report(
    args: argparse.Namespace, how: str, confidences: np.ndarray, accuracies: np.ndarray, exact: np.ndarray
) -> None:
    decoding = f"beam {args.beam}" + (" + LM" if args.lm else "") if args.beam > 1 or args.lm else "greedy"
    print(f"## confidence ({how}) of {args.kind} lines, {args.split}, {decoding}: {len(confidences)} lines\n")
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

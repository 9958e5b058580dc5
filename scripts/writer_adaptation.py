"""Writer adaptation on IAM-OnDB testset_t (writers never seen in training):
for each form, fine-tune the bundled model on 5 labelled lines and test on the
form's other lines; also measure forgetting on lines of the other forms.

    python scripts/writer_adaptation.py [--split testset_t] [--forms N] [--form ID] [--lm] [--max-seconds 110]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

import handwrite
from handwrite.evaluate import error_rates
from handwrite.formats import iamondb
from handwrite.training.data.datasets import find_iam_split_file, spread_subset
from handwrite.training.finetune import FinetuneOptions, finetune

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))


def cer(model: handwrite.Recognizer, inks: list[handwrite.Ink]) -> float:
    results = model.recognize_batch(inks)
    return error_rates((ink.text or "", r.text) for ink, r in zip(inks, results, strict=True)).cer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--forms", type=int, default=0, help="the first N forms (default 0: every form with enough lines)"
    )
    parser.add_argument("--form", action="append", default=[], help="only this form (repeatable)")
    parser.add_argument("--train-lines", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=110.0)
    parser.add_argument("--rest-lines", type=int, default=300)
    parser.add_argument("--split", default="testset_t", help="testset_v to choose settings, testset_t to report")
    parser.add_argument("--lr", type=float, default=FinetuneOptions.learning_rate)
    parser.add_argument("--max-steps", type=int, default=FinetuneOptions.max_steps)
    parser.add_argument("--batch-size", type=int, default=FinetuneOptions.batch_size)
    parser.add_argument("--holdout", type=float, default=FinetuneOptions.holdout)
    parser.add_argument("--head-lr-scale", type=float, default=FinetuneOptions.head_lr_scale)
    parser.add_argument("--synthetic-fraction", type=float, default=FinetuneOptions.synthetic_fraction)
    parser.add_argument("--augmentation", type=float, default=FinetuneOptions.augmentation)
    parser.add_argument("--recombined-fraction", type=float, default=FinetuneOptions.recombined_fraction)
    parser.add_argument("--lm", action="store_true", help="also decode with beam 8 + the English character LM")
    args = parser.parse_args()

    forms = sorted(iamondb.read_split(find_iam_split_file(IAM, args.split)))
    by_form: dict[str, list[handwrite.Ink]] = {}
    for line in iamondb.iter_lines(IAM, set(forms)):
        by_form.setdefault(line.form_id, []).append(line.ink)
    chosen = [f for f in forms if len(by_form.get(f, [])) >= args.train_lines + 4][: args.forms or None]
    chosen = [f for f in chosen if f in args.form] if args.form else chosen
    rest = spread_subset([ink for f, inks in by_form.items() if f not in chosen for ink in inks], args.rest_lines)
    base = handwrite.load_model()
    # the LM is loaded once; each personal model then decodes the way this one does
    base_lm = handwrite.load_model(language_model=True) if args.lm else None
    rest_before = cer(base, rest)
    header = "| form | lines (train/test) | CER before | CER after | change | fine-tune s | rest of the split after |"
    rule = "|---|---|---|---|---|---|---|"
    if args.lm:
        header, rule = header + " LM before | LM after |", rule + "---|---|"
    print(header)
    print(rule)
    rows, lm_rows = [], []
    for form in chosen:
        train, test = by_form[form][: args.train_lines], by_form[form][args.train_lines :]
        before = cer(base, test)
        with tempfile.TemporaryDirectory() as tmp:
            for i, ink in enumerate(train):
                handwrite.write_ink(ink, Path(tmp) / f"{form}-{i}.inkml")
            out = Path(tmp) / "personal.safetensors"
            started = time.monotonic()
            options = FinetuneOptions(
                data=[tmp],
                output=str(out),
                max_seconds=args.max_seconds,
                progress=False,
                learning_rate=args.lr,
                max_steps=args.max_steps,
                holdout=args.holdout,
                batch_size=args.batch_size,
                head_lr_scale=args.head_lr_scale,
                synthetic_fraction=args.synthetic_fraction,
                augmentation=args.augmentation,
                recombined_fraction=args.recombined_fraction,
            )
            finetune(options)
            seconds = time.monotonic() - started
            tuned = handwrite.load_model(out)
            after, rest_after = cer(tuned, test), cer(tuned, rest)
            lm_cells = ""
            if base_lm is not None:
                tuned_lm = tuned.with_decoding(beam_size=base_lm.decoding.beam_size, lm=base_lm.decoding.lm)
                lm_rows.append((cer(base_lm, test), cer(tuned_lm, test)))
                lm_cells = f" {lm_rows[-1][0]:.2%} | {lm_rows[-1][1]:.2%} |"
        rows.append((before, after, seconds, rest_after))
        change = f"{(after - before) / before:+.1%}" if before else "n/a (0% before)"
        print(
            f"| {form} | {len(train)}/{len(test)} | {before:.2%} | {after:.2%} | {change} "
            f"| {seconds:.0f} | {rest_after:.2%} |" + lm_cells,
            flush=True,
        )
    before, after, seconds, rest_after = (np.array(c) for c in zip(*rows, strict=True))
    print(
        f"\nmean CER {before.mean():.2%} -> {after.mean():.2%} "
        f"({(after.mean() - before.mean()) / before.mean():+.1%} relative); "
        f"fine-tune max {seconds.max():.0f} s; rest of {args.split} ({len(rest)} lines) "
        f"{rest_before:.2%} before, {rest_after.mean():.2%} mean after"
    )
    print(f"forms better {(after < before).sum()}, unchanged {(after == before).sum()}, worse {(after > before).sum()}")
    low, high = relative_change_interval(before, after)
    print(f"95% interval of the relative change, forms resampled: {low:+.1%} to {high:+.1%}")
    if lm_rows:
        lm_before, lm_after = (np.array(c) for c in zip(*lm_rows, strict=True))
        low, high = relative_change_interval(lm_before, lm_after)
        print(
            f"beam 8 + LM: mean CER {lm_before.mean():.2%} -> {lm_after.mean():.2%} "
            f"({(lm_after.mean() - lm_before.mean()) / lm_before.mean():+.1%} relative; "
            f"95% interval {low:+.1%} to {high:+.1%})"
        )


def relative_change_interval(before: np.ndarray, after: np.ndarray, draws: int = 5000) -> tuple[float, float]:
    """A bootstrap interval over forms: with 4-6 test lines a form, which forms are drawn
    moves the mean a lot, and this says how much."""
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(before), size=(draws, len(before)))
    changes = after[picks].mean(axis=1) / before[picks].mean(axis=1) - 1
    return float(np.percentile(changes, 2.5)), float(np.percentile(changes, 97.5))


if __name__ == "__main__":
    main()

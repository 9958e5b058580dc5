"""`handwrite train` and `handwrite finetune`: their flags are the option fields of
handwrite/training/options.py, loaded only when one of them is run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from handwrite.commands import EXIT_OK, Command
from handwrite.options import add_flags, check_model_named, from_args

if TYPE_CHECKING:
    from handwrite.training.finetune import FinetuneReport


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from handwrite.training.options import TrainOptions

    add_flags(parser, TrainOptions)


def run_train(args: argparse.Namespace) -> int:
    from handwrite.training.options import TrainOptions
    from handwrite.training.train import Trainer

    options = from_args(TrainOptions, args)
    check_model_named(options.load, "--load")
    check_model_named(options.teacher, "--teacher")
    trainer = Trainer(options)
    result = trainer.run()
    if result is not None:
        print(
            f"validation CER {result.cer:.2%} at the end; the best, {trainer.best_cer:.2%}, is in {options.output}",
            file=sys.stderr,
        )
    return EXIT_OK


def add_finetune_arguments(parser: argparse.ArgumentParser) -> None:
    from handwrite.training.options import FinetuneOptions

    add_flags(parser, FinetuneOptions)
    parser.add_argument("--json", action="store_true", help="progress and result as JSON lines on stdout (for the app)")


def run_finetune(args: argparse.Namespace) -> int:
    from handwrite.training.finetune import finetune
    from handwrite.training.options import FinetuneOptions

    def emit(step: int, total: int, loss: float) -> None:
        print(json.dumps({"step": step, "total": total, "loss": round(loss, 4)}), flush=True)

    # --json speaks to the app on stdout: each step as a line, and no progress bar beside them
    steps = {"progress": args.progress and not args.json, "on_step": emit if args.json else None}
    options = from_args(FinetuneOptions, args, **steps)
    check_model_named(options.base, "-b")
    report = finetune(options)
    if args.json:
        print(json.dumps(finetune_summary(report)), flush=True)
    else:
        _print_report(report, args.max_seconds)
    return EXIT_OK


def _print_report(report: FinetuneReport, max_seconds: float) -> None:
    print(
        f"{report.train_samples} samples trained, {report.heldout_samples} held out; "
        f"{report.steps} steps in {report.seconds:.0f} s"
    )
    if report.new_chars:
        print(f"new characters: {report.new_chars}")
    if report.before and report.after:
        print(f"held-out CER before {report.before.cer:.2%} -> after {report.after.cer:.2%}")
    if not report.changed:
        print("no training step was kept: the model written reads as the base model does")
    if report.stopped == "time":
        print(f"stopped early: the time budget (--max-seconds {max_seconds:g}) ran out")
    print(f"wrote {report.output}")


def finetune_summary(report: FinetuneReport) -> dict:
    """`finetune --json`'s last line: what was done and the held-out CER before and after."""
    before, after = report.before, report.after
    return {
        "done": True,
        "output": report.output,
        "new_chars": report.new_chars,
        "steps": report.steps,
        "seconds": round(report.seconds, 1),
        "train_samples": report.train_samples,
        "heldout_samples": report.heldout_samples,
        "cer_before": round(before.cer, 5) if before else None,
        "cer_after": round(after.cer, 5) if after else None,
        "stopped": report.stopped,
        "changed": report.changed,
    }


COMMANDS = [
    Command(
        "train",
        "train a model from datasets",
        "Train an online (ink) model on IAM-OnDB and/or labelled ink files, with "
        "synthetic Hershey ink; or an image model on IAM-OnDB ink rendered to images and/or "
        "labelled images, with lines in handwriting fonts. Keeps the best model by validation CER.",
        add_train_arguments,
        run_train,
    ),
    Command(
        "finetune",
        "adapt a model to labelled samples",
        "Fine-tune a model on labelled samples: InkML/JSON ink, or images with a .gt.txt beside "
        "them (default base: the bundled model of that kind). Starts from the "
        "base model's weights, adds outputs for new characters, holds out a slice of the samples to stop early, "
        "and writes OUT only when done. The base model file is never changed.",
        add_finetune_arguments,
        run_finetune,
    ),
]

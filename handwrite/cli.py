"""The `handwrite` command: transcribe, eval, train."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handwrite.training.finetune import FinetuneReport

from handwrite.errors import HandwriteError

EXIT_OK, EXIT_FAILED_INPUT, EXIT_USAGE = 0, 1, 2


class UsageError(HandwriteError):
    """The command cannot run as given: exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # PATHs after options (`transcribe a.inkml --lm b/`): argparse takes one run of
        # positionals only; further ones come back here, in the order given
        options = [extra for extra in extras if extra.startswith("-")]
        if options or not isinstance(getattr(args, "paths", None), list):
            parser.error(f"unrecognized arguments: {' '.join(options or extras)}")
        args.paths += extras
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"handwrite: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HandwriteError as exc:
        print(f"handwrite: error: {exc}", file=sys.stderr)
        return EXIT_FAILED_INPUT
    except BrokenPipeError:  # the reader of stdout stopped (`| head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_FAILED_INPUT
    except OSError as exc:  # a full disk or a folder that cannot be written: say which file, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"handwrite: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED_INPUT
    except KeyboardInterrupt:
        print("handwrite: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    from handwrite import __version__

    parser = argparse.ArgumentParser(prog="handwrite", description="Read connected handwriting from ink or images.")
    parser.add_argument("--version", action="version", version=f"handwrite {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_transcribe(commands)
    _add_eval(commands)
    _add_train(commands)
    _add_finetune(commands)
    _add_gui(commands)
    return parser


MAX_BEAM = 64  # wider beams cost memory and time (10^6: more than 3 GB) for no measurable gain


def _bounded_int(low: int, high: int | None = None, what: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from low to high (a usage error otherwise)."""

    def parse(text: str) -> int:
        top = high if high is not None else max_workers()
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if not low <= value <= top:
            raise argparse.ArgumentTypeError(f"must be from {low} to {top}{what}, not {text}")
        return value

    return parse


def max_workers() -> int:
    """-j: at most one worker process per core this process may use (each holds its own models)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _add_decoding_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", help="model file (default: the bundled model for the input kind)")
    parser.add_argument(
        "--beam",
        type=_bounded_int(1, MAX_BEAM),
        default=1,
        metavar="N",
        help=f"beam width, 1 to {MAX_BEAM} (1 = greedy; default 1)",
    )
    language_model = parser.add_mutually_exclusive_group()  # one LM or the other, never both
    language_model.add_argument(
        "--lm",
        action="store_true",
        help="decode with the bundled English character language model (beam 8 unless --beam says)",
    )
    language_model.add_argument(
        "--lm-file", metavar="FILE", help="decode with this character language model instead (implies --lm)"
    )


def _language_model(args: argparse.Namespace) -> None:
    """args.lm as load_model takes it: False, True (bundled) or the --lm-file path."""
    if getattr(args, "lm_file", None):
        args.lm = args.lm_file


def _add_transcribe(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "transcribe",
        help="transcribe ink files, images and folders",
        description="Transcribe .inkml, IAM-OnDB .xml and ink .json files with the online model and "
        ".png .jpg .jpeg .tif .tiff .bmp images with the image model (a page image is cut into lines); "
        "folders are searched recursively. Exit status 1 if any input failed.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    _add_decoding_options(p)
    p.add_argument("-f", "--format", choices=("txt", "json", "jsonl", "csv", "pdf"), default="txt")
    p.add_argument(
        "-o",
        "--output-dir",
        metavar="OUTDIR",
        help="write one file per input here (txt/json/pdf: NAME.inkml.txt, ...), or results.jsonl/.csv; "
        "files that exist are not replaced",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="with -o: replace files an earlier run wrote there (never an input file)",
    )
    p.add_argument(
        "-j",
        "--workers",
        type=_bounded_int(1, None, " (the cores this process may use)"),
        default=0,
        metavar="N",
        help="worker processes, at most one per core (default: 1, or 2 for large batches on 2+ cores)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def run(args: argparse.Namespace) -> int:
        from handwrite.transcribe import run_transcribe

        _language_model(args)
        return run_transcribe(args)

    p.set_defaults(handler=run)


def _add_eval(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "eval",
        help="CER / WER against ground truth",
        description="Score labelled files (InkML truth, ink JSON text, IAM-OnDB line files "
        "with their ascii/ tree, images with a .gt.txt), or an IAM-OnDB split with --iam-ondb "
        "(for an image model, the split's ink rendered to line images, a fixed look per line).",
    )
    p.add_argument(
        "--kind",
        choices=("ink", "image"),
        help="without -m: the bundled model of this kind (default: image if all PATHs are images, else ink)",
    )
    p.add_argument("paths", nargs="*", metavar="PATH")
    _add_decoding_options(p)
    p.add_argument("--iam-ondb", metavar="DIR", help="IAM-OnDB folder (lineStrokes/ascii or their .tar.gz)")
    p.add_argument("--split", default="testset_t", help="IAM-OnDB split with --iam-ondb (default testset_t)")
    p.add_argument("--limit", type=int, help="with --iam-ondb: only this many lines, spread over the split")
    p.add_argument("--lm-weight", type=float, help="language model weight (with --lm or --lm-file)")
    p.add_argument(
        "--insertion-bonus", type=float, help="per-character bonus balancing the LM (with --lm or --lm-file)"
    )
    p.add_argument("--errors", metavar="FILE", help="write every reference/hypothesis pair to this JSONL file")
    p.add_argument("--record-metrics", action="store_true", help="store the figures in the model file's metadata")

    def run(args: argparse.Namespace) -> int:
        from handwrite.evaluate import run_eval

        _language_model(args)
        return run_eval(args)

    p.set_defaults(handler=run)


def _add_train(commands: argparse._SubParsersAction) -> None:
    from handwrite.training.options import TrainOptions

    d = TrainOptions(output="", work_dir="")
    p = commands.add_parser(
        "train",
        help="train a model from datasets",
        description="Train an online (ink) model on IAM-OnDB and/or labelled ink files, with "
        "synthetic Hershey ink; or an image model on IAM-OnDB ink rendered to images and/or "
        "labelled images, with lines in handwriting fonts. Keeps the best model by validation CER.",
    )
    p.add_argument("--kind", choices=("ink", "image"), default=d.kind, help="the model to train")
    p.add_argument("-o", "--output", required=True, help="the best model file")
    p.add_argument("--work-dir", default="runs/train", help="checkpoints, metrics.jsonl, learning-curve.png")
    p.add_argument("--iam-ondb", metavar="DIR", help="IAM-OnDB folder: trainset for training, testset_v to select")
    p.add_argument("--train", nargs="*", default=[], metavar="PATH", help="labelled ink/image files or folders")
    p.add_argument("--valid", nargs="*", default=[], metavar="PATH", help="labelled validation files or folders")
    p.add_argument("--valid-lines", type=int, default=d.valid_lines, help="validation lines scored (0 = all)")
    p.add_argument("--synthetic-fraction", type=float, default=d.synthetic_fraction)
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--max-minutes", type=float, help="stop (and finish the LR decay) after this long")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.learning_rate)
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="steps between evaluations (0 = per epoch)")
    p.add_argument("--rnn", choices=("lstm", "gru"), default=d.rnn)
    p.add_argument("--hidden", type=int, default=d.hidden)
    p.add_argument("--layers", type=int, default=d.layers)
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--step", type=float, default=d.step, help="ink: resampling step in writing heights")
    p.add_argument("--image-height", type=int, default=d.image_height, help="image: line height in pixels")
    p.add_argument(
        "--ema-decay",
        type=float,
        default=d.ema_decay,
        help="evaluate and save a moving average of the weights with this decay (e.g. 0.999; 0 = off)",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--threads", type=int, help="torch threads per process")
    p.add_argument("--limit-train", type=int, help="use only this many training lines")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--resume", metavar="CHECKPOINT", help="continue an interrupted run (optimizer, step, ...)")
    start.add_argument("--load", metavar="MODEL", help="start from this model file's weights (a new run)")
    p.add_argument("--no-progress", action="store_true")

    def run(args: argparse.Namespace) -> int:
        from handwrite.training.options import TrainOptions
        from handwrite.training.train import Trainer

        options = TrainOptions(
            output=args.output,
            work_dir=args.work_dir,
            kind=args.kind,
            iam_ondb=args.iam_ondb,
            train_files=args.train,
            valid_files=args.valid,
            valid_lines=args.valid_lines,
            synthetic_fraction=args.synthetic_fraction,
            epochs=args.epochs,
            max_minutes=args.max_minutes,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            eval_every=args.eval_every,
            rnn=args.rnn,
            hidden=args.hidden,
            layers=args.layers,
            dropout=args.dropout,
            step=args.step,
            image_height=args.image_height,
            ema_decay=args.ema_decay,
            seed=args.seed,
            resume=args.resume,
            load=args.load,
            limit_train=args.limit_train,
            threads=args.threads,
            progress=not args.no_progress,
        )
        trainer = Trainer(options)
        result = trainer.run()
        if result is not None:
            print(
                f"validation CER {result.cer:.2%} at the end; the best, {trainer.best_cer:.2%}, is in {args.output}",
                file=sys.stderr,
            )
        return EXIT_OK

    p.set_defaults(handler=run)


def _add_finetune(commands: argparse._SubParsersAction) -> None:
    from handwrite.training.options import FinetuneOptions

    d = FinetuneOptions(data=[], output="")
    p = commands.add_parser(
        "finetune",
        help="adapt a model to labelled samples",
        description="Fine-tune a model on labelled samples: InkML/JSON ink, or images with a .gt.txt beside "
        "them (default base: the bundled model of that kind). Starts from the "
        "base model's weights, adds outputs for new characters, holds out a slice of the samples to stop early, "
        "and writes OUT only when done. The base model file is never changed.",
    )
    p.add_argument("data", nargs="+", metavar="DATA", help="labelled files or folders")
    p.add_argument("-b", "--base", metavar="BASE", help="model to start from (default: the bundled one of the kind)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="the fine-tuned model file")
    p.add_argument("--holdout", type=float, default=d.holdout, help="share of samples held out (default 0.2)")
    p.add_argument(
        "--holdout-from", type=int, default=d.holdout_from, metavar="N", help="hold out only from N samples up"
    )
    p.add_argument("--max-steps", type=int, default=d.max_steps)
    p.add_argument("--max-seconds", type=float, default=d.max_seconds)
    p.add_argument("--lr", type=float, default=d.learning_rate)
    p.add_argument("--head-lr-scale", type=float, default=d.head_lr_scale, help="output layer's LR, relative")
    p.add_argument("--synthetic-fraction", type=float, default=d.synthetic_fraction)
    p.add_argument("--mix", nargs="*", default=[], metavar="PATH", help="labelled base-like data mixed in")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true", help="progress and result as JSON lines on stdout (for the app)")

    def run(args: argparse.Namespace) -> int:
        import json

        from handwrite.training.finetune import finetune
        from handwrite.training.options import FinetuneOptions

        def emit(step: int, total: int, loss: float) -> None:
            print(json.dumps({"step": step, "total": total, "loss": round(loss, 4)}), flush=True)

        report = finetune(
            FinetuneOptions(
                data=args.data,
                output=args.output,
                base=args.base,
                holdout=args.holdout,
                holdout_from=args.holdout_from,
                max_steps=args.max_steps,
                max_seconds=args.max_seconds,
                learning_rate=args.lr,
                head_lr_scale=args.head_lr_scale,
                synthetic_fraction=args.synthetic_fraction,
                replay_data=args.mix,
                seed=args.seed,
                progress=not (args.no_progress or args.json),
                on_step=emit if args.json else None,
            )
        )
        if args.json:
            print(json.dumps(_finetune_summary(report)), flush=True)
            return EXIT_OK
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
            print(f"stopped early: the time budget (--max-seconds {args.max_seconds:g}) ran out")
        print(f"wrote {report.output}")
        return EXIT_OK

    p.set_defaults(handler=run)


def _finetune_summary(report: FinetuneReport) -> dict:
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


def _add_gui(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("gui", help="the drawing app", description="Write with mouse or pen; read live.")
    p.add_argument("--replay", metavar="INK", help="feed this ink's strokes through the pen input path")
    p.add_argument("--screenshot", metavar="PNG", help="with --replay: save a screenshot, print the text, exit")
    p.add_argument("--text-out", metavar="TXT", help="with --replay: also write the page's transcription here")

    def run(args: argparse.Namespace) -> int:
        from gui.app import main as gui_main

        return gui_main(
            [
                *(["--replay", args.replay] if args.replay else []),
                *(["--screenshot", args.screenshot] if args.screenshot else []),
                *(["--text-out", args.text_out] if args.text_out else []),
            ]
        )

    p.set_defaults(handler=run)


if __name__ == "__main__":
    raise SystemExit(main())

"""`handwrite eval PATH...`: CER / WER of a model on labelled files and/or an
IAM-OnDB split (handwrite/evaluate.py), optionally recorded in the model file."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from handwrite.commands import EXIT_FAILED_INPUT, EXIT_OK, Command
from handwrite.errors import UsageError
from handwrite.options import ModelOptions, add_flags, from_args, option

if TYPE_CHECKING:
    from PIL import Image

    from handwrite.evaluate import ErrorRates
    from handwrite.ink import Ink
    from handwrite.recognizer import Recognizer


@dataclass(frozen=True)
class EvalOptions:
    """What is scored, how, and where the figures go."""

    kind: str | None = option(
        None,
        choices=("ink", "image"),
        help="without -m: the bundled model of this kind (default: image if all PATHs are images, else ink)",
    )
    iam_ondb: str | None = option(None, metavar="DIR", help="IAM-OnDB folder (lineStrokes/ascii or their .tar.gz)")
    split: str = option("testset_t", help="IAM-OnDB split with --iam-ondb (default testset_t)")
    limit: int | None = option(None, help="with --iam-ondb: only this many lines, spread over the split")
    lm_weight: float | None = option(None, help="language model weight (with --lm or --lm-file)")
    insertion_bonus: float | None = option(None, help="per-character bonus balancing the LM (with --lm or --lm-file)")
    errors: str | None = option(None, metavar="FILE", help="write every reference/hypothesis pair to this JSONL file")
    record_metrics: bool = option(False, help="store the figures in the model file's metadata")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH")
    add_flags(parser, ModelOptions, "model and decoding")
    add_flags(parser, EvalOptions, "scoring")


def run(args: argparse.Namespace) -> int:
    return evaluate_paths(args.paths, from_args(ModelOptions, args), from_args(EvalOptions, args))


def evaluate_paths(paths: list[str], choice: ModelOptions, options: EvalOptions) -> int:
    """Score labelled files and/or an IAM-OnDB split; print the figures: the exit status
    (1 when a file was left out or nothing could be scored)."""
    from handwrite.evaluate import evaluate
    from handwrite.inputs import item_source
    from handwrite.printable import shown

    _check(paths, choice, options)
    choice.check_model_named()
    files = _files(paths)  # folders walked once: for the model's kind, then for the inputs
    if not files and not options.iam_ondb:  # as transcribe says it: nothing was named to read
        raise UsageError(f"nothing to score: no ink files or images found in {', '.join(map(shown, paths))}")
    model = _model([path for path, _ in files], choice, options)
    items, left_out = _labelled_inputs(files, model.kind)
    items += _iam_ondb_lines(options, model.kind)
    if not items:
        print("handwrite: error: nothing to score (no labelled inputs)", file=sys.stderr)
        return EXIT_FAILED_INPUT
    rows: list[dict] = []
    started = time.perf_counter()
    rates = evaluate(model, items, lambda item, ref, hyp: rows.append(_row(item_source(item), ref, hyp)))
    seconds = time.perf_counter() - started
    if options.errors:
        _write_rows(options.errors, rows)
    decoding = model.decoding
    described = f"beam {decoding.beam_size}" + (f" + LM (weight {decoding.lm_weight})" if decoding.lm else "")
    described += " + word lexicon" if decoding.lexicon else ""  # recorded with the figures: say what decoded
    described += f" with word pairs (weight {decoding.pair_weight})" if decoding.uses_word_pairs else ""
    crossed_out = f"; {rates.skipped} lines with '#' left out" if rates.skipped else ""
    print(f"{rates}  [{described}{crossed_out}; {seconds:.1f} s]")
    if options.record_metrics:
        _record(model, rates, described, _dataset(paths, options))
    return EXIT_FAILED_INPUT if left_out else EXIT_OK


def _check(paths: list[str], choice: ModelOptions, options: EvalOptions) -> None:
    """Usage errors, said before any work."""
    if not paths and not options.iam_ondb:
        raise UsageError("nothing to score: name labelled files or folders, or an IAM-OnDB split with --iam-ondb")
    if options.limit is not None and (options.limit < 1 or not options.iam_ondb):
        raise UsageError("--limit takes a number of lines (1 or more) of the --iam-ondb split")
    if options.record_metrics and options.limit is not None:
        raise UsageError("--record-metrics stores a whole split's figures: not with --limit")
    if options.record_metrics and _names_a_bundled_model(choice.model):
        raise UsageError(
            "--record-metrics writes the figures into the model file: name the file by its path with -m "
            "(not by a bundled model's name: a run without -m wrote into the installed package)"
        )


def _names_a_bundled_model(name: str | None) -> bool:
    """Whether -m is absent or a bundled model's bare name (a local file of that name
    is itself, as load_model reads it)."""
    from handwrite.errors import ModelFileError
    from handwrite.recognizer import bundled_models, model_file_path

    if not name:
        return True
    try:
        return model_file_path(name) == bundled_models().get(name)
    except ModelFileError:
        return False  # loading it says what is wrong


def _row(source: str | None, reference: str, hypothesis: str) -> dict:
    return {"source": source, "reference": reference, "hypothesis": hypothesis}


def _write_rows(path: str, rows: list[dict]) -> None:
    from handwrite.fileio import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def _dataset(paths: list[str], options: EvalOptions) -> str:
    """The name the figures are recorded under."""
    return f"IAM-OnDB {options.split}" if options.iam_ondb and not paths else "labelled files"


def _record(model: Recognizer, rates: ErrorRates, decoding: str, dataset: str) -> None:
    from handwrite.modelfile import record_metrics

    # the file as loaded: weights and metadata, no second read
    record_metrics(model.model_file, model.path, dataset, decoding, rates.figures() | {"decoding": decoding})
    print(f"recorded in {model.path}", file=sys.stderr)


def _files(paths: list[str]) -> list[tuple[Path, bool]]:
    """Each file named, and each ink file or image under each folder named (searched
    recursively, sorted), in order, with whether it was found in a folder."""
    from handwrite.formats import IMAGE_SUFFIXES, INK_SUFFIXES
    from handwrite.training.data.datasets import iter_ink_files

    files: list[tuple[Path, bool]] = []
    for path in map(Path, paths):
        found = path.is_dir()
        files += [(file, found) for file in iter_ink_files([path], IMAGE_SUFFIXES + INK_SUFFIXES)]
    return files


def _model(files: list[Path], choice: ModelOptions, options: EvalOptions) -> Recognizer:
    """The model -m names, or the bundled one of the kind asked or of the inputs; with
    the language model's weights when given."""
    from handwrite.formats import IMAGE_SUFFIXES
    from handwrite.recognizer import load_model

    suffixes = {path.suffix.lower() for path in files}
    images_only = bool(suffixes) and suffixes <= set(IMAGE_SUFFIXES)
    kind = options.kind or ("image" if images_only and not options.iam_ondb else "ink")
    model = load_model(choice.model, **choice.decoding(), kind=kind)
    tuned = {"lm_weight": options.lm_weight, "insertion_bonus": options.insertion_bonus}
    if any(value is not None for value in tuned.values()):
        model = model.with_decoding(**{name: value for name, value in tuned.items() if value is not None})
    return model


def _labelled_inputs(files: list[tuple[Path, bool]], kind: str) -> tuple[list[Ink | Image.Image], int]:
    """Labelled files the model's kind reads (ink files, or images with a .gt.txt; of
    the files found in folders, those of its suffixes; a file named is read whatever
    its suffix), and how many were left out; each one left out is named on stderr."""
    from handwrite.formats import IMAGE_SUFFIXES, INK_SUFFIXES
    from handwrite.printable import printable
    from handwrite.training.data.datasets import load_labelled

    left_out: list[str] = []

    def report(reason: str) -> None:
        left_out.append(reason)
        print(f"handwrite: {printable(reason)}; left out", file=sys.stderr)

    suffixes = IMAGE_SUFFIXES if kind == "image" else INK_SUFFIXES
    chosen = [path for path, in_folder in files if not in_folder or path.suffix.lower() in suffixes]
    if other := len(files) - len(chosen):  # found in folders, of the kind this model does not read
        what, reader = ("ink files", "online-default") if kind == "image" else ("images", "image-default")
        print(
            f"handwrite: {other} {what} in the folders not scored: this is an {kind} model (-m {reader} reads them)",
            file=sys.stderr,
        )
    return load_labelled(chosen, suffixes, on_skip=report, truth_beside_ink=True), len(left_out)


def _iam_ondb_lines(options: EvalOptions, kind: str) -> list[Ink | Image.Image]:
    """The lines of the IAM-OnDB split asked for (none without --iam-ondb); for an image
    model, rendered to line images, a fixed look per line."""
    if not options.iam_ondb:
        return []
    from handwrite.training.data.datasets import load_iam_split, spread_subset

    inks = spread_subset(load_iam_split(options.iam_ondb, options.split), options.limit or 10**9)
    if kind != "image":
        return list(inks)
    from handwrite.training.inputs import rendered_line  # an image model scored on ink: training's renders

    return [rendered_line(ink) for ink in inks]


COMMANDS = [
    Command(
        "eval",
        "CER / WER against ground truth",
        "Score labelled files (InkML truth, ink JSON text, IAM-OnDB line files "
        "with their ascii/ tree, images with a .gt.txt), or an IAM-OnDB split with --iam-ondb "
        "(for an image model, the split's ink rendered to line images, a fixed look per line).",
        add_arguments,
        run,
    ),
]

"""`handwrite transcribe PATH...`: files and folders in, one result per input out
(handwrite/transcribe.py), written in the format `-f` names (handwrite/writers.py)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from handwrite.commands import EXIT_FAILED_INPUT, EXIT_OK, Command
from handwrite.errors import UsageError
from handwrite.options import ModelOptions, add_flags, from_args, option

if TYPE_CHECKING:
    from handwrite.output_folder import OutputFolder
    from handwrite.transcribe import Item, Source
    from handwrite.writers import Writer

PROGRESS_THRESHOLD = 20  # show a progress bar from this many inputs
PARALLEL_THRESHOLD = 200  # use worker processes from this many inputs


def max_workers() -> int:
    """-j: at most one worker process per core this process may use (each holds its own models)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _formats() -> tuple[str, ...]:
    from handwrite.writers import WRITERS

    return tuple(WRITERS)


@dataclass(frozen=True)
class BatchOptions:
    """Where and how a batch's results are written."""

    format: str = option("txt", flags=("-f", "--format"), choices=_formats, help="output format")
    output_dir: str | None = option(
        None,
        flags=("-o", "--output-dir"),
        metavar="OUTDIR",
        help="write one file per input here (txt/json/pdf: NAME.inkml.txt, ...), or results.jsonl/.csv; "
        "files that exist are not replaced",
    )
    overwrite: bool = option(False, help="with -o: replace files an earlier run wrote there (never an input file)")
    skip_existing: bool = option(
        False,
        help="with -o and -f txt, json or pdf: inputs whose file an earlier run wrote there are not read "
        "again (an interrupted run goes on where it stopped)",
    )
    workers: int = option(
        0,
        flags=("-j", "--workers"),
        metavar="N",
        bounds=(1, max_workers),
        bounds_note=" (the cores this process may use)",
        help="worker processes, at most one per core (default: 1, or 2 for large batches on 2+ cores)",
    )
    progress: bool = option(True, help="no progress bar on stderr")

    def __post_init__(self) -> None:
        if self.overwrite and not self.output_dir:
            raise UsageError("--overwrite replaces files in the -o folder: give -o OUTDIR too")
        if self.skip_existing and not self.output_dir:
            raise UsageError("--skip-existing passes by inputs whose file is in the -o folder: give -o OUTDIR too")
        if self.skip_existing and self.overwrite:
            raise UsageError(
                "--skip-existing keeps the files an earlier run wrote, --overwrite replaces them: choose one"
            )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH")
    add_flags(parser, ModelOptions, "model and decoding")
    add_flags(parser, BatchOptions, "batch and output")


def run(args: argparse.Namespace) -> int:
    return transcribe_paths(args.paths, from_args(ModelOptions, args), from_args(BatchOptions, args))


def transcribe_paths(paths: Sequence[str], model: ModelOptions, batch: BatchOptions) -> int:
    """Transcribe every input under `paths` and write the results: the exit status
    (1 when any input failed)."""
    from handwrite.transcribe import load_model, transcribe_files

    model.check_model_named()
    sources, writer, folder = _prepare(paths, batch)
    try:
        _one_torch_thread()
        decoding = model.decoding()
        # fail early, once, on a bad model named with -m; bundled models load when needed
        named = load_model(model.model, **decoding) if model.model else None
        readable = [source.path for source in sources if source.error is None]
        workers = batch.workers or (min(2, max_workers()) if len(readable) >= PARALLEL_THRESHOLD else 1)
        given = named if workers <= 1 else None
        results = transcribe_files(readable, given, model.model, workers, decoding, writer.needs_sources)
        failed = _write_in_order(sources, results, writer, batch.progress)
    finally:  # a bad model or an interruption too: folders made for nothing go, what was written is said
        if folder is not None:
            folder.tidy()
            print(f"handwrite: {folder.summary()}", file=sys.stderr)
    return EXIT_FAILED_INPUT if failed else EXIT_OK


def _write_in_order(sources: list[Source], results: Iterator[Item], writer: Writer, show_progress: bool) -> bool:
    """Each input's item to the writer in input order (a folder that could not be
    searched, in its place), each failure on stderr: whether any input failed."""
    from handwrite.transcribe import Item

    failed = False
    progress = _progress(len(sources), show_progress)
    try:
        for source in sources:
            item = Item(source.path, error=source.error) if source.error is not None else next(results)
            write_error = writer.add(item, source.root)  # failures are written too (jsonl, csv, json)
            error = item.error or write_error
            if error is not None:
                failed = True
                _report_error(error, progress)
            if progress:
                progress.update(1)
    finally:  # interrupted (Ctrl+C) too: results.jsonl/.csv keep the inputs read so far
        if progress:
            progress.close()
        writer.close()
    return failed


def _one_torch_thread() -> None:
    """Recognition runs torch on one thread in every process, as the app and the -j
    workers do: with two, a machine busy with other work made each thread wait for the
    other (64 lines: 10-16 s instead of 1.1-1.6 s at load 6 on 2 cores; one line 1.6-6 s
    instead of 0.04 s). Throughput on many files comes from -j worker processes."""
    import torch

    torch.set_num_threads(1)


def _prepare(paths: Sequence[str], batch: BatchOptions) -> tuple[list[Source], Writer, OutputFolder | None]:
    """The inputs, the writer and the output folder; a usage error when they cannot go together."""
    from handwrite.output_folder import OutputFolder
    from handwrite.printable import shown
    from handwrite.transcribe import collect_inputs
    from handwrite.writers import WRITERS

    writer_class = WRITERS[batch.format]
    output_dir = Path(batch.output_dir) if batch.output_dir else None
    writer_class.check(output_dir)
    if output_dir is not None and os.path.lexists(output_dir) and not output_dir.is_dir():
        raise UsageError(f"{output_dir}: not a folder (-o names the folder to write into)")
    sources = collect_inputs(paths, skip=output_dir if output_dir is not None and output_dir.is_dir() else None)
    if not sources:
        raise UsageError(f"no ink files or images found in {', '.join(map(shown, map(Path, paths)))}")
    folder = OutputFolder(output_dir, sources, batch.overwrite) if output_dir else None
    writer = writer_class(folder, many=len(sources) > 1)
    if folder is not None and batch.skip_existing:
        sources = _without_written(sources, folder, writer.per_input_suffix, batch.format)
    if folder is not None:
        folder.check_targets(writer.per_input_suffix)
        folder.make()
    return sources, writer, folder


def _without_written(sources: list[Source], folder: OutputFolder, suffix: str | None, format_: str) -> list[Source]:
    """--skip-existing: the inputs left once those with a result in the folder are passed by
    (each result is written whole or not at all, so one there is complete); said on stderr."""
    if suffix is None:
        raise UsageError(f"--skip-existing: -f {format_} writes one file for the whole run; use -f txt, json or pdf")
    from handwrite.printable import counted, shown

    left, passed_by = folder.pass_by_written(sources, suffix)
    if passed_by:
        said = f"{counted(passed_by, 'input')} already transcribed in {shown(folder.folder)}"
        print(f"handwrite: {said}, passed by (--skip-existing)", file=sys.stderr)
    return left


def _progress(total: int, shown: bool):  # a tqdm bar or None: tqdm loads only when shown
    # on a terminal only: redirected, each redraw would be a line of the log
    if not shown or total < PROGRESS_THRESHOLD or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True)


def _report_error(message: str, progress: object) -> None:
    from handwrite.printable import printable

    line = f"handwrite: {printable(message)}"
    if progress is not None:
        progress.write(line, file=sys.stderr)  # type: ignore[attr-defined]
    else:
        print(line, file=sys.stderr)


COMMANDS = [
    Command(
        "transcribe",
        "transcribe ink files, images and folders",
        "Transcribe .inkml, IAM-OnDB .xml, ink .json and Xournal++ .xopp files with the online model and "
        ".png .jpg .jpeg .tif .tiff .bmp images with the image model (a page image is cut into lines); "
        "folders are searched recursively. Exit status 1 if any input failed.",
        add_arguments,
        run,
    ),
]

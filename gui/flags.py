"""The app's command-line flags, in one table for `handwrite gui` and `python -m gui`
(gui/app.py). Plain argparse: `handwrite gui --help` loads no PyQt, numpy or torch."""

from __future__ import annotations

import argparse

FLAGS = (
    (
        ("-m", "--model"),
        "MODEL",
        "read with this model (a file, a bundled model's name, or personal), and keep it for later starts "
        "as File > Models does (an image model reads pictures); without it the app reads with the model "
        "chosen last. A replay keeps nothing, reads with the bundled model unless -m names an ink model, "
        "and refuses another kind",
    ),
    (("--replay",), "INK", "feed this ink's strokes through the pen input path (as a pen would write them)"),
    (("--screenshot",), "PNG", "with --replay: save a screenshot of the window, print the text, exit"),
    (("--text-out",), "TXT", "with --replay: also write the page's whole transcription here"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for flags, metavar, text in FLAGS:
        parser.add_argument(*flags, metavar=metavar, help=text)


def as_argv(args: argparse.Namespace) -> list[str]:
    """The flags given, back as arguments (what `handwrite gui` passes on to the app)."""
    given = ((flags[-1], getattr(args, flags[-1][2:].replace("-", "_"))) for flags, _, _ in FLAGS)
    return [part for flag, value in given if value for part in (flag, value)]


def problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags together (a usage error), if anything: without
    --replay, --screenshot and --text-out would leave the app waiting for a pen."""
    alone = [flag for flag in ("--screenshot", "--text-out") if getattr(args, flag[2:].replace("-", "_"))]
    if alone and not args.replay:
        verb = "need" if len(alone) > 1 else "needs"
        return f"{' and '.join(alone)} {verb} --replay INK (the ink to write before the window is saved)"
    return None

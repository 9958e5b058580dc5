"""`handwrite gui`: the drawing app (gui/app.py); its flags are the app's own table
(gui/flags.py, which loads no PyQt), so the two cannot drift apart."""

from __future__ import annotations

import argparse

from handwrite.commands import Command
from handwrite.errors import UsageError
from handwrite.options import check_model_named


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gui.flags import add_arguments as add_gui_arguments

    add_gui_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from gui.flags import as_argv, problem

    if wrong := problem(args):
        raise UsageError(wrong)
    check_model_named(args.model, "-m")  # a usage error before the window opens
    from gui.app import main as gui_main

    return gui_main(as_argv(args))


COMMANDS = [
    Command("gui", "the drawing app", "Write with mouse or pen; read live.", add_arguments, run),
]

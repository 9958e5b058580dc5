"""`handwrite gui`: the drawing app (gui/app.py, which has its own parser)."""

from __future__ import annotations

import argparse

from handwrite.commands import Command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--replay", metavar="INK", help="feed this ink's strokes through the pen input path")
    parser.add_argument("--screenshot", metavar="PNG", help="with --replay: save a screenshot, print the text, exit")
    parser.add_argument("--text-out", metavar="TXT", help="with --replay: also write the page's transcription here")


def run(args: argparse.Namespace) -> int:
    from gui.app import main as gui_main

    given = {"--replay": args.replay, "--screenshot": args.screenshot, "--text-out": args.text_out}
    return gui_main([part for flag, value in given.items() if value for part in (flag, value)])


COMMANDS = [
    Command("gui", "the drawing app", "Write with mouse or pen; read live.", add_arguments, run),
]

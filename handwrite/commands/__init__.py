"""The `handwrite` command's subcommands, one module per family: transcribe,
evaluate (eval), training (train, finetune) and gui.

Each family's module lists its `Command`s in `COMMANDS`. Importing one loads no
torch, numpy or training code: a command's flags are added only when that command
is the one being run (`add_arguments`), and its work imports what it needs when it
runs (`run`)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass

EXIT_OK, EXIT_FAILED_INPUT, EXIT_USAGE = 0, 1, 2

FAMILIES = ("transcribe", "evaluate", "training", "gui")


@dataclass(frozen=True)
class Command:
    name: str
    help: str  # one line, in `handwrite --help`
    description: str  # in `handwrite NAME --help`
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]  # the exit status


def all_commands() -> list[Command]:
    """Every subcommand, in the order `handwrite --help` lists them."""
    return [
        command for family in FAMILIES for command in importlib.import_module(f"handwrite.commands.{family}").COMMANDS
    ]

"""Options as dataclasses, and the command-line flags made from them.

A field declared with `option(...)` (or `field(..., metadata=flag(...))`) becomes a
flag: its name (`--valid-lines` for `valid_lines`, or the flags given), its type from
the annotation (`int`, `float`, `str`, `bool` as a switch, `list[str]` as a list, any
of them `| None`), its default, help, choices and bounds from the field. `add_flags` adds a dataclass's flags to a
parser, `from_args` builds the dataclass back from the parsed namespace. Fields
declared plainly are no flags (settings only the library sets).

Importable without torch or numpy: every command's parser is made from these.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass
from typing import Any, TypeVar

from handwrite.errors import HandwriteError, UsageError
from handwrite.limits import LM_BEAM, MAX_BEAM

T = TypeVar("T")

_KEY = "handwrite.option"  # the key of a field's metadata that makes it a flag


@dataclass(frozen=True)
class Flag:
    """How a field appears on the command line."""

    help: str
    flags: tuple[str, ...] = ()  # default: --field-name (--no-field-name for a switch that defaults on)
    metavar: str | None = None
    choices: tuple[str, ...] | Callable[[], Sequence[str]] | None = None  # a function: names from a registry
    bounds: tuple[float | None, float | Callable[[], float] | None] | None = None  # inclusive; None: open
    bounds_note: str = ""  # what the upper bound is, when it is not obvious
    positional: bool = False
    nargs: str | None = None  # for a positional list: "+" or "*"
    exclusive: str | None = None  # flags with the same name here cannot be given together


def option(default: object = MISSING, **settings: Any) -> Any:
    """A dataclass field that is also a command-line flag (`Flag`'s fields as keywords)."""
    return dataclasses.field(default=default, metadata=flag(**settings))


def flag(**settings: Any) -> dict[str, Flag]:
    """The metadata that makes a field a flag, for `dataclasses.field` where `option`
    does not do (a default_factory): `field(default_factory=list, metadata=flag(help=...))`."""
    return {_KEY: Flag(**settings)}


def flag_fields(options: type) -> list[tuple[dataclasses.Field, Flag]]:
    """The fields of a dataclass that are flags, in declaration order."""
    return [(f, f.metadata[_KEY]) for f in dataclasses.fields(options) if _KEY in f.metadata]


def add_flags(parser: argparse.ArgumentParser, options: type, title: str | None = None) -> None:
    """Add a flag for each `option` field of the dataclass `options` (in a titled group when given)."""
    target: Any = parser.add_argument_group(title) if title else parser
    exclusive: dict[str, Any] = {}
    hints = typing.get_type_hints(options)
    for field, flag in flag_fields(options):
        where = target
        if flag.exclusive:
            if flag.exclusive not in exclusive:
                exclusive[flag.exclusive] = target.add_mutually_exclusive_group()
            where = exclusive[flag.exclusive]
        names, settings = _argument(field, flag, hints[field.name])
        where.add_argument(*names, **settings)


def from_args(options: type[T], args: argparse.Namespace, **given: object) -> T:
    """The dataclass `options` from a parsed namespace: its flags' values, plus `given`
    (for fields that are no flags, or that the command works out itself)."""
    values = {field.name: getattr(args, field.name) for field, _ in flag_fields(options) if hasattr(args, field.name)}
    return options(**(values | given))


def _argument(field: dataclasses.Field, flag: Flag, hint: object) -> tuple[list[str], dict[str, Any]]:
    kind, is_list = _base_type(hint)
    default = field.default_factory() if field.default_factory is not MISSING else field.default
    settings: dict[str, Any] = {"help": _help(flag.help, default, kind)}
    if flag.positional:
        return [field.name], settings | {"nargs": flag.nargs, "metavar": flag.metavar}
    names = list(flag.flags) or [_flag_name(field.name, kind, default)]
    settings["dest"] = field.name
    if kind is bool:
        return names, settings | {"action": "store_false" if default is True else "store_true"}
    if default is MISSING:
        settings["required"] = True
    else:
        settings["default"] = default
    if is_list:
        settings["nargs"] = flag.nargs or "*"
    if flag.metavar:
        settings["metavar"] = flag.metavar
    if flag.choices is not None:
        settings["choices"] = tuple(flag.choices() if callable(flag.choices) else flag.choices)
    settings["type"] = bounded(kind, *flag.bounds, flag.bounds_note) if flag.bounds else kind
    return names, settings


def _base_type(hint: object) -> tuple[type, bool]:
    """(int, False) for `int | None`, (str, True) for `list[str]`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    if typing.get_origin(hint) is list:
        return typing.get_args(hint)[0], True
    if not isinstance(hint, type):
        raise TypeError(f"option of type {hint!r}: not a flag type")
    return hint, False


def _flag_name(name: str, kind: type, default: object) -> str:
    name = name.replace("_", "-")
    return f"--no-{name}" if kind is bool and default is True else f"--{name}"


def _help(text: str, default: object, kind: type) -> str:
    shown = default not in (MISSING, None, [], "") and kind is not bool
    return f"{text} (default {default})" if shown and "default" not in text else text


def bounded(
    kind: type, low: float | None, high: float | Callable[[], float] | None, note: str = ""
) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` from low to high (either may be open; high may
    be a function, read when the flag is parsed); anything else is a usage error."""

    def parse(text: str) -> object:
        top = high() if callable(high) else high
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {_a(kind)}, not {text!r}") from None
        if value != value or (low is not None and value < low) or (top is not None and value > top):  # NaN too
            raise argparse.ArgumentTypeError(f"must be {_range(low, top)}{note}, not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


def _a(kind: type) -> str:
    return "a whole number" if kind is int else "a number"


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"from {low:g} to {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


# ---- the groups more than one command takes ------------------------------------------


def check_model_named(name: str | None, flag: str) -> None:
    """A usage error naming `flag` when `name` is neither a file nor a model's name (a
    bundled one, or personal once trained; a file that is there but cannot be read
    fails when it is loaded)."""
    if name is None:
        return
    from handwrite.recognizer import bundled_models, model_file_path

    try:
        path = model_file_path(name)
    except HandwriteError as exc:
        raise UsageError(f"{flag} {exc}") from None
    if not os.path.lexists(path):
        names = bundled_models()
        hint = f"; did you mean the bundled model {path.stem}?" if path.stem in names else ""
        raise UsageError(f"{flag} {name}: no such model file{hint} (bundled: {', '.join(names)})")


@dataclass(frozen=True)
class ModelOptions:
    """Which model reads and how it decodes: `load_model`'s keyword arguments."""

    model: str | None = option(
        None,
        flags=("-m", "--model"),
        help="a model file, a bundled model's name, or personal (the model trained on your samples); "
        "default: the bundled model for the input kind",
    )
    beam: int = option(
        1, metavar="N", bounds=(1, MAX_BEAM), help=f"beam width, 1 to {MAX_BEAM} (1 = greedy; default 1)"
    )
    lm: bool = option(
        False,
        exclusive="language model",  # one LM or the other, never both
        help="decode with the bundled English language model: characters and a word lexicon "
        f"that still lets other words through (beam {LM_BEAM} unless --beam says)",
    )
    lm_file: str | None = option(
        None,
        metavar="FILE",
        exclusive="language model",
        help="decode with this character language model instead (implies --lm; no word lexicon)",
    )
    words: bool = option(
        True, help="with --lm: leave out the English word lexicon (the character language model alone)"
    )

    def __post_init__(self) -> None:
        if not self.words and not self.lm:  # --lm-file has no word lexicon to leave out
            raise UsageError("--no-words leaves the word lexicon out of --lm: give --lm too")

    def check_model_named(self) -> None:
        """A usage error, said before any work, when -m names neither a file nor a
        bundled model, or --lm-file no readable language model (else each input that
        loads a model would say it again)."""
        check_model_named(self.model, "-m")
        if self.lm_file:
            from handwrite.recognizer import load_language_model

            try:
                load_language_model(self.lm_file)
            except HandwriteError as exc:
                raise UsageError(f"--lm-file {exc}") from None

    @property
    def language_model(self) -> bool | str:
        """As load_model takes it: False, True (the bundled one) or the --lm-file path."""
        return self.lm_file or self.lm

    def decoding(self) -> dict[str, object]:
        """load_model's decoding keywords."""
        keywords: dict[str, object] = {"beam_size": self.beam, "language_model": self.language_model}
        if not self.words:  # else load_model's default: the word lexicon comes with the bundled LM
            keywords["words"] = False
        return keywords

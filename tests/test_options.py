"""Command-line flags made from option dataclasses (handwrite/options.py): names,
types, defaults, help, choices and bounds come from the fields; the dataclass comes
back from the parsed flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from handwrite.options import ModelOptions, add_flags, bounded, flag, flag_fields, from_args, option


@dataclass(frozen=True)
class Example:
    source: list[str] = field(metadata=flag(positional=True, nargs="+", metavar="SRC", help="inputs"))
    output: str = option(flags=("-o", "--output"), help="where to write")
    valid_lines: int = option(400, bounds=(0, None), help="lines scored (0 = all)")
    rate: float = option(0.5, flags=("--lr",), bounds=(0.0, 1.0), help="a share")
    kind: str = option("ink", choices=("ink", "image"), help="which model")
    limit: int | None = option(None, help="at most this many")
    extra: list[str] = field(default_factory=list, metadata=flag(metavar="PATH", help="more inputs"))
    verbose: bool = option(False, help="say more")
    progress: bool = option(True, help="no progress bar")
    first: str | None = option(None, exclusive="start", help="one")
    second: str | None = option(None, exclusive="start", help="or the other")
    internal: int = 7  # no flag: only the library sets it


def parser_for(options: type) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="example", exit_on_error=True)
    add_flags(parser, options)
    return parser


def test_flags_are_made_from_the_fields():
    flags = {
        action.dest: action for action in parser_for(Example)._actions if action.dest != "help"
    }  # every field declared as an option, none other
    assert set(flags) == {f.name for f, _ in flag_fields(Example)} and "internal" not in flags
    assert flags["valid_lines"].option_strings == ["--valid-lines"] and flags["valid_lines"].default == 400
    assert flags["rate"].option_strings == ["--lr"]
    assert flags["output"].option_strings == ["-o", "--output"] and flags["output"].required
    assert flags["kind"].choices == ("ink", "image")
    assert flags["progress"].option_strings == ["--no-progress"] and flags["progress"].default is True
    assert flags["verbose"].option_strings == ["--verbose"] and flags["verbose"].default is False
    assert flags["extra"].nargs == "*" and flags["extra"].default == []
    assert flags["source"].option_strings == [] and flags["source"].nargs == "+"
    assert "(default 400)" in flags["valid_lines"].help and flags["limit"].help == "at most this many"


def test_the_dataclass_comes_back_from_the_parsed_flags():
    given = "a b -o out --valid-lines 0 --lr 0.25 --kind image --limit 3 --extra c --verbose --no-progress --first x"
    args = parser_for(Example).parse_args(given.split())
    made = from_args(Example, args, internal=9)
    assert made == Example(
        source=["a", "b"],
        output="out",
        valid_lines=0,
        rate=0.25,
        kind="image",
        limit=3,
        extra=["c"],
        verbose=True,
        progress=False,
        first="x",
        internal=9,
    )
    defaults = from_args(Example, parser_for(Example).parse_args(["a", "-o", "out"]))
    assert defaults == Example(source=["a"], output="out")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--valid-lines", "-1"], "argument --valid-lines: must be at least 0, not -1"),
        (["--valid-lines", "2.5"], "argument --valid-lines: expected a whole number, not '2.5'"),
        (["--lr", "1.5"], "argument --lr: must be from 0 to 1, not 1.5"),
        (["--lr", "nan"], "argument --lr: must be from 0 to 1, not nan"),
        (["--lr", "half"], "argument --lr: expected a number, not 'half'"),
        (["--kind", "video"], "argument --kind: invalid choice: 'video'"),
        (["--first", "x", "--second", "y"], "argument --second: not allowed with argument --first"),
        ([], "the following arguments are required: -o/--output"),
    ],
)
def test_values_out_of_bounds_are_usage_errors(capsys, flags, message):
    with pytest.raises(SystemExit) as stop:
        parser_for(Example).parse_args(["a", "-o", "out", *flags] if flags else ["a"])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_a_bound_may_be_read_when_the_flag_is_parsed():
    cores = [2]
    parse = bounded(int, 1, lambda: cores[0], " (the cores)")
    assert parse("2") == 2
    cores[0] = 1
    with pytest.raises(argparse.ArgumentTypeError, match=r"must be from 1 to 1 \(the cores\), not 2"):
        parse("2")


def test_model_options_give_load_models_keywords():
    args = parser_for(ModelOptions).parse_args(["--beam", "4", "--lm-file", "my.lm.json.gz"])
    options = from_args(ModelOptions, args)
    assert options.decoding() == {"beam_size": 4, "language_model": "my.lm.json.gz"}
    assert from_args(ModelOptions, parser_for(ModelOptions).parse_args(["--lm"])).language_model is True
    assert from_args(ModelOptions, parser_for(ModelOptions).parse_args([])).decoding() == {
        "beam_size": 1,
        "language_model": False,
    }


def test_training_flags_build_the_training_options():
    from handwrite.training.options import FinetuneOptions, TrainOptions

    args = parser_for(TrainOptions).parse_args(
        ["-o", "m.safetensors", "--train", "a", "b", "--lr", "0.01", "--epochs", "2", "--no-progress"]
    )
    expected = TrainOptions(
        output="m.safetensors", train_files=["a", "b"], learning_rate=0.01, epochs=2, progress=False
    )
    assert from_args(TrainOptions, args) == expected
    args = parser_for(FinetuneOptions).parse_args(["samples/", "-o", "me.safetensors", "--mix", "x", "-b", "base"])
    tuned = from_args(FinetuneOptions, args)
    assert tuned == FinetuneOptions(data=["samples/"], output="me.safetensors", base="base", replay_data=["x"])


def test_training_bounds_are_usage_errors(capsys):
    from handwrite.cli import main

    for command, value in [
        (["train", "-o", "m"], ["--epochs", "0"]),
        (["finetune", "d", "-o", "m"], ["--holdout", "2"]),
    ]:
        with pytest.raises(SystemExit) as stop:
            main([*command, *value])
        assert stop.value.code == 2 and f"argument {value[0]}: must be" in capsys.readouterr().err

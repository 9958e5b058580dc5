"""The `handwrite` command: picks the subcommand (handwrite/commands/, one module per
family), runs it, and turns what went wrong into a message and an exit status."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Container, Iterator, Sequence
from typing import NoReturn

from handwrite.commands import EXIT_FAILED_INPUT, EXIT_OK, EXIT_USAGE, all_commands
from handwrite.errors import HandwriteError, UsageError
from handwrite.printable import printable

__all__ = ["EXIT_FAILED_INPUT", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command of `argv` (the process's own arguments when None) and return its
    exit status. As the process's own command (argv None) once torch is loaded, and
    the app (Qt) is not, the process then ends here, without the teardown of torch's
    native libraries: that teardown alone raised the peak memory of `handwrite
    transcribe ONE.inkml` by about 130 MB (scripts/startup_benchmark.py), after all
    the work was done."""
    code = _run(argv)
    # not after the app: Qt writes its settings (the window's geometry) as it is torn down
    if argv is None and "torch" in sys.modules and "PyQt6" not in sys.modules:
        _exit_without_teardown(code)
    return code


def _exit_without_teardown(code: int) -> NoReturn:
    """End the process as Python would (other threads joined, atexit handlers run,
    output flushed), less the interpreter's and native libraries' teardown."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more to say there
            stream.flush()
    os._exit(code)


def _run(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(flags_of={_command_named(argv)})
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
        with _warnings_as_messages():
            return args.handler(args)
    except UsageError as exc:
        print(f"handwrite: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except HandwriteError as exc:
        print(f"handwrite: error: {printable(str(exc))}", file=sys.stderr)
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


@contextlib.contextmanager
def _warnings_as_messages() -> Iterator[None]:
    """A warning the library gives (an IAM-OnDB form skipped, a sample left out) as a
    line of the command's own, not Python's two lines naming a source file."""
    import warnings

    def said(message: Warning | str, *_: object, **__: object) -> str:
        return f"handwrite: warning: {printable(str(message))}\n"

    # the format, not the showing: what records warnings (tests, the caller's) still gets them
    formatted, warnings.formatwarning = warnings.formatwarning, said
    try:
        yield
    finally:
        warnings.formatwarning = formatted


def build_parser(flags_of: Container[str | None] | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, with the flags of the commands named in `flags_of`
    (of all when None). A command's flags can need its family's option dataclasses
    (training's), so a run loads only those of the command it runs."""
    from handwrite import __version__

    parser = argparse.ArgumentParser(prog="handwrite", description="Read connected handwriting from ink or images.")
    parser.add_argument("--version", action="version", version=f"handwrite {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for each in all_commands():
        sub = subparsers.add_parser(each.name, help=each.help, description=each.description)
        if flags_of is None or each.name in flags_of:
            each.add_arguments(sub)
        sub.set_defaults(handler=each.run)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand in argv: its first word that is no option (`handwrite` itself takes
    only --help and --version, neither with a value)."""
    return next((word for word in argv if not word.startswith("-")), None)


if __name__ == "__main__":
    raise SystemExit(main())

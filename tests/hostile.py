"""Harness for tests that feed the readers hostile input: a hang, an endless read
or a memory blow-up fails the test (by a time or memory bound in the harness)
instead of stalling or swapping the test run. No timing assertions: the bounds
are generous guards, many times what the fixed code needs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

from handwrite import __version__

REPO = Path(__file__).resolve().parent.parent

# The child imports handwrite's readers without handwrite/__init__ (so nothing but
# the reader under test is loaded), so what it measures is the reader alone.
_CHILD_PRELUDE = f"""
import json, resource, sys, types
package = types.ModuleType("handwrite")
package.__path__ = [{str(REPO / "handwrite")!r}]
package.__version__ = {__version__!r}  # model files name the version they need
sys.modules["handwrite"] = package
"""


@contextlib.contextmanager
def time_limit(seconds: int, what: str) -> Iterator[None]:
    """Raise TimeoutError in this (main) thread when the block runs past `seconds`:
    a blocking open() or a Python loop is interrupted, the test fails instead of hanging."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what} did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_reader(code: str, timeout: float = 120, memory_bytes: int | None = None) -> dict:
    """Run `code` (which sets `result`, a JSON-able value) in a child process with
    handwrite's readers importable; returns {"result", "peak_rss_mb", "error"}.

    The child is killed after `timeout` seconds and may not allocate more than
    `memory_bytes` of data (RLIMIT_DATA): a reader that hangs or reads without
    bound gets an "error" here instead of stalling or swapping the machine."""
    limit = f"resource.setrlimit(resource.RLIMIT_DATA, ({memory_bytes}, {memory_bytes}))\n" if memory_bytes else ""
    script = (
        _CHILD_PRELUDE
        + limit
        + "try:\n"
        + textwrap.indent(textwrap.dedent(code), "    ")
        + "\n    error = None\nexcept BaseException as exc:\n"
        + "    result, error = None, f'{type(exc).__name__}: {str(exc)[:300]}'\n"
        + "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        + "print(json.dumps({'result': result, 'peak_rss_mb': peak, 'error': error}))\n"
    )

    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        return {"result": None, "peak_rss_mb": None, "error": f"timed out after {timeout} s"}
    if done.returncode != 0 or not done.stdout.strip():
        return {"result": None, "peak_rss_mb": None, "error": f"exit {done.returncode}: {done.stderr[-600:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def read_ink_in_child(path: Path | str, timeout: float = 120, memory_bytes: int | None = None) -> dict:
    """`run_reader` of read_ink(path): "result" is "read", or the FormatError's message."""
    return run_reader(
        f"""
        from handwrite.errors import FormatError
        from handwrite.formats import read_ink
        try:
            read_ink({str(path)!r})
            result = "read"
        except FormatError as exc:
            result = str(exc)
        """,
        timeout=timeout,
        memory_bytes=memory_bytes,
    )

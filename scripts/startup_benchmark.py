"""Start-up time of the command line and the library (issue 18), against bare
`import torch` and `import numpy`, in one run so the ratios share the machine's state.

    python scripts/startup_benchmark.py                    # this checkout only
    python scripts/startup_benchmark.py --old /tmp/old     # and an older checkout, alternated
    (git worktree add /tmp/old <commit> makes one)

Each round runs every command once (old and new side by side), after one warm-up
round not counted; it prints the median (p50) wall time of each and its ratio to
the bare imports, and the median peak memory (max RSS, as `/usr/bin/time -v` gives it).
Every command is a fresh `python` process, run from the
checkout's root so `python -m handwrite` imports that checkout's package.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INK = "data/ink/hello-world.inkml"

COMMANDS = {
    "handwrite --help": ["-m", "handwrite", "--help"],
    "handwrite --version": ["-m", "handwrite", "--version"],
    "import handwrite": ["-c", "import handwrite"],
    f"handwrite transcribe {INK}": ["-m", "handwrite", "transcribe", "--no-progress", INK],
}
BARE = {"import torch": ["-c", "import torch"], "import numpy": ["-c", "import numpy"]}


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB) of one fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, args)
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, help="root of an older checkout to alternate with this one")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    trees = {"new": ROOT} | ({"old": args.old.resolve()} if args.old else {})
    jobs = [(name, "", argv, ROOT) for name, argv in BARE.items()]
    for name, argv in COMMANDS.items():
        for label, tree in sorted(trees.items(), reverse=len(trees) > 1):  # old, then new
            jobs.append((name, label, argv, tree))
    times: dict[tuple[str, str], list[float]] = {(name, label): [] for name, label, _, _ in jobs}
    memory: dict[tuple[str, str], list[float]] = {key: [] for key in times}
    for round_ in range(args.runs + 1):
        for name, label, argv, tree in jobs:
            seconds, peak = timed(argv, tree)
            if round_:  # the first round warms caches and is not counted
                times[name, label].append(seconds)
                memory[name, label].append(peak)
    p50 = {key: statistics.median(values) for key, values in times.items()}
    torch_s, numpy_s = p50["import torch", ""], p50["import numpy", ""]
    print(f"python {sys.version.split()[0]}; {args.runs} runs each, alternated; p50 wall seconds, p50 max RSS")
    print(f"{'command':48} {'tree':4} {'p50 s':>7} {'/torch':>7} {'/numpy':>7} {'MiB':>6}")
    for (name, label), seconds in p50.items():
        peak = statistics.median(memory[name, label])
        print(f"{name:48} {label:4} {seconds:7.3f} {seconds / torch_s:7.2f} {seconds / numpy_s:7.2f} {peak:6.0f}")


if __name__ == "__main__":
    main()

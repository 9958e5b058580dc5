"""Speed and size of a bundled model (online by default, `--kind image` for
the image model, fed IAM-OnDB lines rendered to images). Prints a Markdown table.

- latency: recognize() on a median line (~600 points, or a median-width line
  image given as a PIL image), one thread, p50/p95
- batch: recognize_batch() throughput on all cores, and the CLI on a folder
- cold start: one file through `handwrite transcribe`, start to finish, p50/p95
- peak memory of that CLI run, and the model file's size

Lines come from IAM-OnDB testset_v when available (HANDWRITE_IAM_ONDB or
../shared/datasets/iam-ondb), otherwise synthetic Hershey ink.

    python scripts/benchmark.py [--runs 50] [--kind ink|image]

With `--old ROOT` (the root of an older checkout: `git worktree add /tmp/old COMMIT`)
it instead compares recognize() of that checkout's code and this one's on the
bundled ink model, in one process: old, this code in float32, as torch reads it
(HANDWRITE_PRECISION=torch: bfloat16 LSTMs where the CPU runs them natively) and
as it reads by default (int8 LSTMs through onnxruntime), alternated
run by run, p50/p95 of the median line, and greedy CER on `--cer-lines` testset_v
lines for each; the choices made in model.py and recognizer.py are measured here.

    python scripts/benchmark.py --old /tmp/old [--runs 200] [--lines 100] [--cer-lines 300]

`--candidate MODEL` (repeatable, with or without `--old`) adds rows for other
online model files read by this code (by default and with torch's layers), e.g.
the bundled GRU: the bundled model and the candidates alternated in one process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import handwrite
from handwrite.evaluate import error_rates
from handwrite.model import PRECISION_VARIABLE
from handwrite.recognizer import default_model_path
from handwrite.training.data.synthetic import render_text
from handwrite.training.inputs import rendered_line

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))


def benchmark_lines(count: int) -> tuple[list[handwrite.Ink], str]:
    if (IAM / "splits").is_dir():
        from handwrite.training.data.datasets import load_iam_split

        return load_iam_split(IAM, "testset_v", limit=count), "IAM-OnDB testset_v"
    rng = random.Random(0)
    words = [
        "the",
        "of",
        "and",
        "to",
        "in",
        "that",
        "is",
        "was",
        "he",
        "for",
        "it",
        "with",
        "as",
        "his",
        "on",
        "be",
        "at",
        "by",
        "had",
    ]
    texts = [" ".join(rng.choice(words) for _ in range(7)) for _ in range(count)]
    return [render_text(t, rng) for t in texts], "synthetic Hershey lines"


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def latency(model: handwrite.Recognizer, ink: object, runs: int) -> list[float]:
    torch.set_num_threads(1)
    for _ in range(5):
        model.recognize(ink)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.recognize(ink)
        times.append(time.perf_counter() - start)
    return times


def batch_throughput(model: handwrite.Recognizer, inks: list) -> float:
    torch.set_num_threads(os.cpu_count() or 1)
    model.recognize_batch(inks[:32])
    start = time.perf_counter()
    model.recognize_batch(inks)
    return len(inks) / (time.perf_counter() - start)


def cli_runs(args: list[str], runs: int, check: bool = False) -> tuple[list[float], int]:
    """Wall times of a CLI command and the peak RSS (KiB) of its largest run; `check`:
    a run that fails raises (a failed run's time is no throughput)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "handwrite", *args], check=check, capture_output=True)
        times.append(time.perf_counter() - start)
    return times, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def write_inputs(items: list, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, item in enumerate(items):
        if isinstance(item, handwrite.Ink):
            paths.append(folder / f"line-{i:04d}.inkml")
            handwrite.write_ink(item, paths[-1])
        else:
            paths.append(folder / f"line-{i:04d}.png")
            item.save(paths[-1])
    return paths


def _package_modules() -> dict[str, object]:
    return {name: module for name, module in sys.modules.items() if name.partition(".")[0] == "handwrite"}


@contextlib.contextmanager
def _modules(package: dict[str, object]):
    """`package`'s modules stand in sys.modules as `handwrite` while the block runs, so
    what the old code imports lazily (inside functions) is its own."""
    current = _package_modules()
    for name in current:
        del sys.modules[name]
    sys.modules.update(package)  # type: ignore[arg-type]
    try:
        yield
    finally:
        for name in _package_modules():
            del sys.modules[name]
        sys.modules.update(current)  # type: ignore[arg-type]


def old_package(root: Path) -> dict[str, object]:
    """The `handwrite` package of another checkout, imported beside this one (its
    modules set aside, to be swapped in by _modules while its code runs)."""
    with _modules({}):
        sys.path.insert(0, str(root))
        try:
            importlib.import_module("handwrite").load_model()  # imports what recognition needs
            return _package_modules()
        finally:
            sys.path.remove(str(root))


def _read_as(precision: str | None, path: Path | None = None) -> handwrite.Recognizer:
    """A model (the bundled one, or `path`) loaded to read as HANDWRITE_PRECISION=precision
    says (None: as by default)."""
    if precision:
        os.environ[PRECISION_VARIABLE] = precision
    try:
        return handwrite.load_model(path)
    finally:
        os.environ.pop(PRECISION_VARIABLE, None)


def compare_code(old_root: Path | None, candidates: list[Path], runs: int, count: int, cer_count: int) -> None:
    """recognize() of the old checkout's code (with its bundled model), this code in
    float32, with torch's layers and as it reads by default, and this code with each
    candidate model file (with torch's layers and by default), alternated in one
    process; speed-ups against the first row."""
    torch.set_num_threads(1)
    models: dict[str, tuple[handwrite.Recognizer, dict[str, object]]] = {}
    old: dict[str, object] = {}
    if old_root is not None:
        old = old_package(old_root)
        with _modules(old):
            models["old code"] = (old["handwrite"].load_model(), old)  # type: ignore[attr-defined]
    models["this code, float32"] = (_read_as("float32"), {})
    models["this code, torch's layers"] = (_read_as("torch"), {})
    models["this code"] = (_read_as(None), {})
    for path in candidates:
        models[f"this code, {path.name}, torch's layers"] = (_read_as("torch", path), {})
        models[f"this code, {path.name}"] = (_read_as(None, path), {})
    inks, source = benchmark_lines(max(count, cer_count))
    as_old = inks
    if old:
        with _modules(old):  # the old Ink type (public names are imported lazily)
            old_ink = old["handwrite"].Ink  # type: ignore[attr-defined]
            as_old = [old_ink(i.strokes, i.text, i.source, i.page_starts, i.page_sizes) for i in inks]
    sizes = [ink.num_points for ink in inks[:count]]
    middle = int(np.argsort(sizes)[len(sizes) // 2])
    times: dict[str, list[float]] = {name: [] for name in models}
    names = list(models)
    for run in range(runs + 5):
        for name in names[run % len(names) :] + names[: run % len(names)]:  # order rotated every run
            model, package = models[name]
            item = as_old[middle] if package else inks[middle]
            with _modules(package) if package else contextlib.nullcontext():
                start = time.perf_counter()
                model.recognize(item)
                if run >= 5:  # five warm-up rounds
                    times[name].append(time.perf_counter() - start)
    print(f"median of {count} lines from {source}: {inks[middle].num_points} points; 1 thread; {runs} runs each")
    print(f"\n| code | p50 ms | p95 ms | speed-up p50 / p95 | greedy CER, {cer_count} lines |\n|---|---|---|---|---|")
    base50, base95 = percentiles(times[names[0]])
    for name, (model, package) in models.items():
        items = as_old if package else inks
        with _modules(package) if package else contextlib.nullcontext():
            texts = [model.recognize(item).text for item in items[:cer_count]]
        rates = error_rates((ink.text or "", text) for ink, text in zip(inks, texts, strict=False))
        p50, p95 = percentiles(times[name])
        speed_up = f"{base50 / p50:.2f}x / {base95 / p95:.2f}x"
        print(f"| {name} | {p50 * 1e3:.2f} | {p95 * 1e3:.2f} | {speed_up} | {rates.cer:.3%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--lines", type=int, default=400)
    parser.add_argument("--kind", choices=("ink", "image"), default="ink", help="which bundled model")
    parser.add_argument("--old", type=Path, help="root of an older checkout: compare its recognize() with this one's")
    parser.add_argument(
        "--candidate", type=Path, action="append", default=[], help="also this online model file, with this code"
    )
    parser.add_argument("--cer-lines", type=int, default=300, help="with --old/--candidate: testset_v lines for CER")
    args = parser.parse_args()
    if args.old or args.candidate:
        compare_code(args.old.resolve() if args.old else None, args.candidate, args.runs, args.lines, args.cer_lines)
        return

    model = handwrite.load_model(kind=args.kind)
    inks, source = benchmark_lines(args.lines)
    items = inks if args.kind == "ink" else [rendered_line(ink) for ink in inks]
    sizes = [ink.num_points for ink in inks] if args.kind == "ink" else [image.width for image in items]
    median = items[int(np.argsort(sizes)[len(sizes) // 2])]
    lat = latency(model, median, args.runs)
    lm_model = handwrite.load_model(language_model=True, kind=args.kind)
    lat_lm = latency(lm_model, median, max(10, args.runs // 5))
    throughput = batch_throughput(model, items)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "lines"
        paths = write_inputs(items, folder)
        cold, peak_kib = cli_runs(["transcribe", str(paths[0])], max(5, args.runs // 10))
        folder_times, _ = cli_runs(["transcribe", str(folder), "-f", "jsonl", "--no-progress"], 3)
    cli_throughput = len(items) / statistics.median(folder_times)

    p50, p95 = percentiles(lat)
    lm50, lm95 = percentiles(lat_lm)
    c50, c95 = percentiles(cold)
    size = f"{median.num_points} points" if args.kind == "ink" else f"{median.width} x {median.height} pixels"
    what = "ink" if args.kind == "ink" else "rendered to line images"
    print(
        f"Lines: {len(items)} from {source} ({what}); median line {size}; "
        f"{os.cpu_count()} cores; torch {torch.__version__}\n"
    )
    model_path = default_model_path(args.kind)
    print(f"| measure ({args.kind} model) | figure |")
    print("|---|---|")
    print(f"| `recognize()` latency, median line, 1 thread, greedy | p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms |")
    print(f"| `recognize()` latency, same line, beam 8 + LM | p50 {lm50 * 1e3:.1f} ms, p95 {lm95 * 1e3:.1f} ms |")
    print(f"| `recognize_batch()` throughput, {os.cpu_count()} threads | {throughput:.0f} lines/s |")
    print(f"| `handwrite transcribe FOLDER` ({len(items)} files, reading included) | {cli_throughput:.0f} lines/s |")
    print(f"| cold start, one file through the CLI | p50 {c50:.2f} s, p95 {c95:.2f} s |")
    print(f"| peak memory of that CLI run | {peak_kib / 1024:.0f} MiB |")
    print(f"| model file | {model_path.stat().st_size / 2**20:.1f} MiB |")


if __name__ == "__main__":
    main()

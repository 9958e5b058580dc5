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
"""

from __future__ import annotations

import argparse
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


def cli_runs(args: list[str], runs: int) -> tuple[list[float], int]:
    """Wall times of a CLI command and the peak RSS (KiB) of its largest run."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "handwrite", *args], check=False, capture_output=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--lines", type=int, default=400)
    parser.add_argument("--kind", choices=("ink", "image"), default="ink", help="which bundled model")
    args = parser.parse_args()

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

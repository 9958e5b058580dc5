"""Speed and size of the bundled online model. Prints a Markdown table.

- latency: recognize() on a median line (~600 points), one thread, p50/p95
- batch: recognize_batch() throughput on all cores, and the CLI on a folder
- cold start: one file through `handwrite transcribe`, start to finish, p50/p95
- peak memory of that CLI run, and the model file's size

Lines come from IAM-OnDB testset_v when available (HANDWRITE_IAM_ONDB or
../shared/datasets/iam-ondb), otherwise synthetic Hershey ink.

    python scripts/benchmark.py [--runs 50]
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
from handwrite.data.synthetic import render_text
from handwrite.recognizer import DEFAULT_INK_MODEL

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))


def benchmark_lines(count: int) -> tuple[list[handwrite.Ink], str]:
    if (IAM / "splits").is_dir():
        from handwrite.data.datasets import load_iam_split

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


def latency(model: handwrite.Recognizer, ink: handwrite.Ink, runs: int) -> list[float]:
    torch.set_num_threads(1)
    for _ in range(5):
        model.recognize(ink)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.recognize(ink)
        times.append(time.perf_counter() - start)
    return times


def batch_throughput(model: handwrite.Recognizer, inks: list[handwrite.Ink]) -> float:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--lines", type=int, default=400)
    args = parser.parse_args()

    model = handwrite.load_model()
    inks, source = benchmark_lines(args.lines)
    points = [ink.num_points for ink in inks]
    median_ink = inks[int(np.argsort(points)[len(points) // 2])]
    lat = latency(model, median_ink, args.runs)
    lm_model = handwrite.load_model(language_model=True)
    lat_lm = latency(lm_model, median_ink, max(10, args.runs // 5))
    throughput = batch_throughput(model, inks)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "inks"
        for i, ink in enumerate(inks):
            handwrite.write_ink(ink, folder / f"line-{i:04d}.inkml")
        one_file = str(folder / "line-0000.inkml")
        cold, peak_kib = cli_runs(["transcribe", one_file], max(5, args.runs // 10))
        folder_times, _ = cli_runs(["transcribe", str(folder), "-f", "jsonl", "--no-progress"], 3)
    cli_throughput = len(inks) / statistics.median(folder_times)

    p50, p95 = percentiles(lat)
    lm50, lm95 = percentiles(lat_lm)
    c50, c95 = percentiles(cold)
    print(
        f"Lines: {len(inks)} from {source}; median line {median_ink.num_points} points; "
        f"{os.cpu_count()} cores; torch {torch.__version__}\n"
    )
    print("| measure | figure |")
    print("|---|---|")
    print(f"| `recognize()` latency, median line, 1 thread, greedy | p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms |")
    print(f"| `recognize()` latency, same line, beam 8 + LM | p50 {lm50 * 1e3:.1f} ms, p95 {lm95 * 1e3:.1f} ms |")
    print(f"| `recognize_batch()` throughput, {os.cpu_count()} threads | {throughput:.0f} lines/s |")
    print(f"| `handwrite transcribe FOLDER` ({len(inks)} files, reading included) | {cli_throughput:.0f} lines/s |")
    print(f"| cold start, one file through the CLI | p50 {c50:.2f} s, p95 {c95:.2f} s |")
    print(f"| peak memory of that CLI run | {peak_kib / 1024:.0f} MiB |")
    print(f"| model file | {DEFAULT_INK_MODEL.stat().st_size / 2**20:.1f} MiB |")


if __name__ == "__main__":
    main()

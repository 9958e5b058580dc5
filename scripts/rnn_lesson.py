"""Plain RNN, LSTM and GRU measured side by side: the lesson of issue 19.

Three bidirectional recurrent networks (same convolutional front, same
features, same data, same learning rate schedule, same wall-clock budget) were
trained by `scripts/train_lesson.sh`, which runs the three at once on one
thread each so they share the machine equally. This script reads their work
folders and prints one Markdown table:

- parameters of each network
- steps trained in the budget, and one training step timed alone (forward,
  backward and optimizer step on a batch of 24 median-length lines, one
  thread, the three networks alternated in one loop), p50
- the best validation CER the run logged (400 testset_v lines, greedy)
- CER and WER on a whole split through `handwrite.evaluate` (greedy)
- latency of `recognize()` on the median line, one thread, alternated, p50/p95
- a long gap: each line fed whole in writing order (no layout analysis) with its
  dots and crosses moved to the end of the line, so the network must carry
  them across the line to their letters, against the same lines as written

All three run in float32 (HANDWRITE_PRECISION), so they read with the same arithmetic.

and draws the learning curves (validation CER against minutes of training and
against steps) to `--plot`.

    scripts/train_lesson.sh            # about 50 minutes
    python scripts/rnn_lesson.py [--runs runs/lesson] [--split testset_v] [--plot docs/rnn-lstm-gru.png]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ["HANDWRITE_PRECISION"] = "float32"  # before handwrite is imported: the same arithmetic for all three

import torch

import handwrite
from handwrite.decoding import decode
from handwrite.evaluate import error_rates, evaluate
from handwrite.model import RecognizerNet
from handwrite.modelfile import load_model_file

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
KINDS = ("rnn", "lstm", "gru")
LABEL = {"rnn": "plain RNN (tanh)", "lstm": "LSTM", "gru": "GRU"}


def run_log(folder: Path) -> list[dict]:
    with open(folder / "metrics.jsonl", encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]


def median_line(lines: list[handwrite.Ink]) -> handwrite.Ink:
    by_points = sorted(lines, key=lambda ink: sum(len(s) for s in ink.strokes))
    return by_points[len(by_points) // 2]


def alternated(works: dict[str, object], runs: int) -> dict[str, list[float]]:
    """Seconds of each `works[name]()` call, the names taking turns so that a
    busy machine slows them alike; two untimed warm-up rounds."""
    times: dict[str, list[float]] = {name: [] for name in works}
    for round_number in range(runs + 2):
        for name, work in works.items():
            start = time.perf_counter()
            work()
            if round_number >= 2:
                times[name].append(time.perf_counter() - start)
    return times


def training_step(net: RecognizerNet, frames: torch.Tensor, batch: int = 24):
    """One optimizer step on `batch` copies of a line's frames with random labels:
    the cost of a step depends on the shapes, not on what the labels say."""
    net.train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    inputs = frames.unsqueeze(0).repeat(batch, 1, 1)
    lengths = torch.full((batch,), frames.shape[0], dtype=torch.long)
    generator = torch.Generator().manual_seed(0)
    label_length = max(1, frames.shape[0] // 12)
    targets = torch.randint(1, net.config.num_classes, (batch, label_length), generator=generator)

    def step() -> None:
        log_probs, out_lengths = net(inputs, lengths)
        loss = torch.nn.functional.ctc_loss(
            log_probs, targets, out_lengths, torch.full((batch,), label_length), zero_infinity=True
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def fed_whole(model: handwrite.Recognizer, ink: handwrite.Ink) -> str:
    """A line's text when its strokes are fed as they are, in writing order (no layout analysis)."""
    log_probs = model.log_probs([model.inputs.frames(ink)])[0]
    return decode(log_probs, model.codec, model.decoding)[0].text


def long_gap_cer(model: handwrite.Recognizer, lines: list[handwrite.Ink]) -> tuple[float, float]:
    """CER of the lines fed whole as written, and with their marks written last."""
    from handwrite.training.data.augment import marks_last

    as_written = error_rates((ink.text or "", fed_whole(model, ink)) for ink in lines)
    moved = error_rates((ink.text or "", fed_whole(model, marks_last(ink)[0])) for ink in lines)
    return as_written.cer, moved.cer


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def plot_curves(logs: dict[str, list[dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (by_time, by_step) = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for kind, log in logs.items():
        cer = [100 * entry["cer"] for entry in log]
        by_time.plot([entry["minutes"] for entry in log], cer, marker="o", label=LABEL[kind])
        by_step.plot([entry["step"] for entry in log], cer, marker="o", label=LABEL[kind])
    by_time.set_xlabel("minutes of training (the three side by side, one thread each)")
    by_step.set_xlabel("training steps (24 lines each)")
    by_time.set_ylabel("validation CER, % (400 testset_v lines, greedy)")
    top = min(100.0, 1.2 * max(100 * e["cer"] for log in logs.values() for e in log[1:] or log))
    by_time.set_ylim(0, top)
    for axes in (by_time, by_step):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle("Bidirectional plain RNN vs LSTM vs GRU, same data, features and time budget")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "lesson", help="folder of rnn/ lstm/ gru/")
    parser.add_argument("--split", default="testset_v")
    parser.add_argument("--limit", type=int, help="score only this many lines of the split")
    parser.add_argument("--timing-runs", type=int, default=20)
    parser.add_argument("--plot", type=Path, help="write the learning curves here (PNG)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from handwrite.training.data.datasets import load_iam_split

    lines = load_iam_split(IAM, args.split, limit=args.limit)
    models = {kind: handwrite.load_model(args.runs / kind / "best.safetensors") for kind in KINDS}
    logs = {kind: run_log(args.runs / kind) for kind in KINDS}

    scores = {kind: evaluate(model, lines) for kind, model in models.items()}
    gaps = {kind: long_gap_cer(model, lines) for kind, model in models.items()}
    line = median_line(lines)
    latency = alternated(
        {kind: (lambda m=model: m.recognize(line)) for kind, model in models.items()}, args.timing_runs
    )
    nets = {kind: load_model_file(args.runs / kind / "best.safetensors").build_network() for kind in KINDS}
    frames = torch.from_numpy(models["lstm"].inputs.frames(line)).float()
    steps = alternated({kind: training_step(net, frames) for kind, net in nets.items()}, max(5, args.timing_runs // 2))

    print(
        f"Lines scored: {scores['lstm'].lines} of IAM-OnDB {args.split} (greedy); median line "
        f"{sum(len(s) for s in line.strokes)} points, {frames.shape[0]} frames\n"
    )
    print(
        "| network | parameters | steps in budget | best valid CER (step) | "
        f"{args.split} CER | WER | fed whole: as written -> marks last | train step p50 | recognize() p50 / p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        log, best = logs[kind], min(logs[kind], key=lambda e: e["cer"])
        parameters = sum(p.numel() for p in nets[kind].parameters())
        print(
            f"| {LABEL[kind]} | {parameters:,} | {log[-1]['step']:,} in {log[-1]['minutes']:.0f} min | "
            f"{best['cer']:.2%} ({best['step']:,}) | {scores[kind].cer:.2%} | {scores[kind].wer:.2%} | "
            f"{gaps[kind][0]:.2%} -> {gaps[kind][1]:.2%} ({gaps[kind][1] / gaps[kind][0]:.2f}x) | "
            f"{1000 * statistics.median(steps[kind]):.0f} ms | "
            f"{1000 * statistics.median(latency[kind]):.1f} / {1000 * percentile(latency[kind], 0.95):.1f} ms |"
        )
    base = statistics.median(steps["lstm"])
    print(
        "\nTraining step relative to the LSTM: "
        + ", ".join(f"{LABEL[k]} {statistics.median(steps[k]) / base:.2f}x" for k in KINDS)
    )
    if args.plot:
        plot_curves(logs, args.plot)
        print(f"learning curves: {args.plot}")


if __name__ == "__main__":
    main()

"""Where the time of `recognize()` goes on one thread, and torch's int8 dynamic
quantization of the float32 network (nn.LSTM and nn.Linear) measured against the
bundled model as it reads by default, in the same process.

- breakdown: layout, features, network (one onnxruntime graph by default; when
  torch reads it, its front, each BiLSTM layer's forward and backward LSTM, and
  its head), decoding, on the median of the IAM-OnDB testset_v
  lines loaded (~600 points); each stage timed alone, median over `--runs`
- cProfile of recognize() on that line (top functions by total time)
- baseline (as it reads by default) vs torch's int8, alternated in one loop:
  p50/p95 latency of recognize() on the median line, and greedy CER on the same
  testset_v lines

    python scripts/profile_recognize.py [--lines 300] [--runs 100]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import os
import pstats
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import handwrite
from handwrite.decoding import decode
from handwrite.evaluate import error_rates
from handwrite.layout import find_lines
from handwrite.model import PRECISION_VARIABLE, RecognizerNet, weight_dtype
from handwrite.page_reading import ink_line
from handwrite.recognizer import Recognizer

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))


def testset_v_lines(count: int) -> list[handwrite.Ink]:
    from handwrite.training.data.datasets import load_iam_split

    return load_iam_split(IAM, "testset_v", limit=count)


def timed(work, runs: int) -> float:
    """Median seconds of `work()` over `runs` calls, after two warm-up calls."""
    work()
    work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def quantized(model: Recognizer) -> Recognizer:
    clone = object.__new__(Recognizer)
    clone.__dict__.update(model.__dict__)
    clone.net = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(model.net), {nn.LSTM, nn.Linear}, dtype=torch.qint8
    )
    return clone


@torch.inference_mode()
def breakdown(model: Recognizer, ink: handwrite.Ink, runs: int) -> list[tuple[str, float]]:
    settings = model.inputs.settings
    lines = find_lines(ink)
    prepared = [ink_line(ink, line, settings) for line in lines]
    log_probs = model.log_probs([p.frames for p in prepared])
    rows: list[tuple[str, float]] = [
        ("recognize() total", timed(lambda: model.recognize(ink), runs)),
        ("layout (find_lines)", timed(lambda: find_lines(ink), runs)),
        (
            "features (ink_line: level, resample, features)",
            timed(lambda: [ink_line(ink, line, settings) for line in lines], runs),
        ),
        ("network total (batched_log_probs)", timed(lambda: model.log_probs([p.frames for p in prepared]), runs)),
    ]
    if isinstance(model.net, RecognizerNet):  # torch reads: its parts one by one
        rows += torch_network_parts(model.net, prepared[0].frames, runs)
    rows.append(
        ("decoding (greedy)", timed(lambda: [decode(lp, model.codec, model.decoding) for lp in log_probs], runs))
    )
    return rows


def torch_network_parts(net: RecognizerNet, line_frames: np.ndarray, runs: int) -> list[tuple[str, float]]:
    """The front, each BiLSTM layer and its two directions, and the head, each timed alone
    (onnxruntime reads the whole network as one graph, with no parts to time apart)."""
    frames = torch.from_numpy(line_frames[None].astype(np.float32))
    lengths = torch.tensor([len(line_frames)])
    x, _ = net.front(frames, lengths)
    layer_inputs = [x]
    for layer in net.layers:  # one line: each backward direction reads it flipped, as recognize() does
        layer_inputs.append(layer(layer_inputs[-1], None))
    rows = [("  front (3 conv blocks)", timed(lambda: net.front(frames, lengths), runs))]
    for i, layer in enumerate(net.layers):
        inp = layer_inputs[i].to(weight_dtype(layer.forward_rnn, "weight_ih_l0"))  # bfloat16 layers take bfloat16
        reversed_inp = inp.flip(1)
        rows.append((f"  BiLSTM layer {i + 1}", timed(lambda layer=layer, inp=inp: layer(inp, None), runs)))
        rows.append((f"    forward LSTM {i + 1}", timed(lambda layer=layer, inp=inp: layer.forward_rnn(inp), runs)))
        rows.append(
            (f"    backward LSTM {i + 1}", timed(lambda layer=layer, r=reversed_inp: layer.backward_rnn(r), runs))
        )
    last = layer_inputs[-1].float()
    rows.append(("  head (linear + log_softmax)", timed(lambda: net.head(last).log_softmax(2), runs)))
    return rows


def profile(model: Recognizer, ink: handwrite.Ink, runs: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        model.recognize(ink)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    return out.getvalue()


def compare(base: Recognizer, quant: Recognizer, ink: handwrite.Ink, inks: list, runs: int) -> None:
    """Latency alternated run by run (order swapped every run), then CER on the same lines."""
    for _ in range(5):
        base.recognize(ink)
        quant.recognize(ink)
    times: dict[str, list[float]] = {"baseline": [], "int8": []}
    pair = (("baseline", base), ("int8", quant))
    for run in range(runs):
        for name, model in pair if run % 2 == 0 else pair[::-1]:
            start = time.perf_counter()
            model.recognize(ink)
            times[name].append(time.perf_counter() - start)
    rates = {}
    for name, model in pair:
        start = time.perf_counter()
        results = [model.recognize(i) for i in inks]
        elapsed = time.perf_counter() - start
        rates[name] = (error_rates((i.text or "", r.text) for i, r in zip(inks, results, strict=True)), elapsed)
    print(f"\n| model | p50 ms | p95 ms | CER | WER | {len(inks)} lines, s |")
    print("|---|---|---|---|---|---|")
    for name, _ in pair:
        p50, p95 = np.percentile(times[name], 50) * 1e3, np.percentile(times[name], 95) * 1e3
        r, elapsed = rates[name]
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {r.cer:.2%} | {r.wer:.2%} | {elapsed:.1f} |")
    b50, q50 = np.percentile(times["baseline"], 50), np.percentile(times["int8"], 50)
    b95, q95 = np.percentile(times["baseline"], 95), np.percentile(times["int8"], 95)
    d_cer = 100 * (rates["int8"][0].cer - rates["baseline"][0].cer)
    print(f"\nspeed-up p50 {b50 / q50:.2f}x, p95 {b95 / q95:.2f}x; CER change {d_cer:+.2f} points")
    print(f"({rates['baseline'][0].lines} lines scored, {rates['baseline'][0].skipped} with '#' left out)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=300, help="testset_v lines for CER (and the median line)")
    parser.add_argument("--runs", type=int, default=100, help="latency runs of each model")
    parser.add_argument("--stage-runs", type=int, default=30, help="runs per stage in the breakdown")
    parser.add_argument("--skip", choices=("breakdown", "compare"), action="append", default=[])
    args = parser.parse_args()
    torch.set_num_threads(1)

    model = handwrite.load_model()
    os.environ[PRECISION_VARIABLE] = "float32"  # quantized from the float32 network
    quant = quantized(handwrite.load_model())
    del os.environ[PRECISION_VARIABLE]
    inks = testset_v_lines(args.lines)
    sizes = [ink.num_points for ink in inks]
    median = inks[int(np.argsort(sizes)[len(sizes) // 2])]
    print(
        f"{len(inks)} IAM-OnDB testset_v lines; median line {median.num_points} points "
        f"({model.inputs.frames(median).shape[0]} frames); torch {torch.__version__}, "
        f"quantized engine {torch.backends.quantized.engine}, 1 thread"
    )
    if "breakdown" not in args.skip:
        for name, net_model in (("baseline", model), ("int8", quant)):
            rows = breakdown(net_model, median, args.stage_runs)
            total = rows[0][1]
            print(f"\n| stage ({name}) | median ms | share of recognize() |\n|---|---|---|")
            for stage, seconds in rows:
                print(f"| {stage} | {seconds * 1e3:.2f} | {seconds / total:.0%} |")
        print("\ncProfile of recognize() (baseline, 20 runs), by own time:\n")
        print(profile(model, median, 20))
    if "compare" not in args.skip:
        compare(model, quant, median, inks, args.runs)


if __name__ == "__main__":
    main()

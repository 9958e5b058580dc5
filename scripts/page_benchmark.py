"""Pages of ink and page images: how well and how fast whole IAM-OnDB forms are read.

The line files of one IAM-OnDB form share the whiteboard's coordinates, so
stacking a form's lines gives the page as it was written (with `--kind image`,
drawn as a page image: one random pen, size and paper per form, fixed by its
name; its lines alone are drawn as `handwrite eval` draws them). Each page is read
through `recognize()` (layout analysis, then every line), and compared with
its lines read one by one:

- page CER / WER: the page's text with line breaks counted as spaces (so
  reading order matters) against the form's lines joined by spaces;
- line count exact: the share of pages read as exactly as many lines as the
  form has;
- the same lines read one at a time (each line file alone), for comparison,
  and fed whole as one line without layout analysis (how lines were read before);
- time per page (one thread) against its lines read one by one, p50 and p95.

`--order shuffled` writes each page's lines in a random order (a line added
above another later): the page must read the same. Lines holding a crossed-out
word (`#`) are left out of the page, as they are of line-level scores.

    python scripts/page_benchmark.py --split testset_v [--order written|shuffled] [--forms N] [--beam 8 --lm]
    python scripts/page_benchmark.py --kind image --split testset_v [-m MODEL]   # rendered page images
    python scripts/page_benchmark.py --kind image --scans   # the same pages with a scan's or photo's flaws
    python scripts/page_benchmark.py --kind image --throughput 40   # and pages/s through the CLI, 1 and 2 workers
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from benchmark import cli_runs, write_inputs  # scripts/ is on the path when this script runs

import handwrite
from handwrite.decoding import decode
from handwrite.evaluate import error_rates
from handwrite.formats.iamondb import IamLine, iter_lines, read_split

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="testset_v", choices=("testset_v", "testset_t"))
    parser.add_argument("--kind", default="ink", choices=("ink", "image"), help="pages of ink, or rendered page images")
    parser.add_argument("--order", default="written", choices=("written", "shuffled"))
    parser.add_argument("--forms", type=int, default=0, help="only the first N forms (0: all)")
    parser.add_argument("-m", "--model", help="a model file (default: the bundled model of --kind)")
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--lm", action="store_true")
    parser.add_argument("--timing-runs", type=int, default=1, help="time each page this many times (p50 of them)")
    parser.add_argument("--errors", help="write each page's reference, reading and lines read alone here")
    parser.add_argument("--save-pages", help="write each rendered page image here (--kind image)")
    parser.add_argument(
        "--scans", action="store_true", help="--kind image: pages and lines drawn as scans and photos, not clean"
    )
    parser.add_argument(
        "--throughput", type=int, default=0, metavar="N", help="also time `handwrite transcribe` of N pages, -j 1 and 2"
    )
    args = parser.parse_args()
    if args.scans and args.kind != "image":
        parser.error("--scans draws page images: give --kind image")
    torch.set_num_threads(1)
    model = handwrite.load_model(args.model, kind=args.kind, beam_size=args.beam, language_model=args.lm)
    forms = _forms(args.split, args.forms)
    rng = random.Random(0)
    page_pairs, line_pairs, whole_pairs, exact, ratios, page_times = [], [], [], 0, [], []
    per_form: list[tuple[str, int, int, str]] = []  # form, lines, lines found, lines read alone
    kept_pages: list[tuple[str, object, int]] = []  # the first --throughput pages: form, page, its lines
    for form_id, lines in forms.items():
        if args.order == "shuffled":
            lines = rng.sample(lines, len(lines))
        page, line_inputs = _page_and_lines(args, form_id, lines)
        if len(kept_pages) < args.throughput:
            kept_pages.append((form_id, page, len(lines)))
        reference = " ".join(line.ink.text or "" for line in sorted(lines, key=lambda line: line.line_id))
        page_time, result = _timed(lambda page=page: model.recognize(page), args.timing_runs)
        lines_time, alone = _timed(lambda items=line_inputs: [model.recognize(x) for x in items], args.timing_runs)
        page_pairs.append((reference, result.text.replace("\n", " ")))
        line_pairs += [(line.ink.text or "", r.text) for line, r in zip(lines, alone, strict=True)]
        if args.kind == "ink":
            whole_pairs += [(line.ink.text or "", _without_layout(model, line.ink)) for line in lines]
        exact += len(result.lines) == len(lines)
        by_id = sorted(zip(lines, alone, strict=True), key=lambda pair: pair[0].line_id)
        per_form.append((form_id, len(lines), len(result.lines), " ".join(r.text for _, r in by_id)))
        page_times.append(page_time)
        ratios.append(page_time / lines_time)
    _report(args, page_pairs, line_pairs, whole_pairs, exact, len(forms), page_times, ratios)
    if args.errors:
        _write_errors(args.errors, page_pairs, per_form)
    if kept_pages:
        _throughput(kept_pages, args.model)


def _page_and_lines(args: argparse.Namespace, form_id: str, lines: list[IamLine]) -> tuple[object, list[object]]:
    """The page to read and its lines to read one by one: ink, or images rendered
    with a fixed look per form (and per line, as `handwrite eval` renders lines)."""
    if args.kind == "ink":
        return handwrite.Ink([s for line in lines for s in line.ink.strokes], source=form_id), [x.ink for x in lines]
    from handwrite.training.data.render import SCANNED, PaperStyle, render_page
    from handwrite.training.inputs import rendered_line

    style = SCANNED if args.scans else PaperStyle()
    page = render_page([line.ink for line in lines], random.Random(zlib.crc32(form_id.encode())), style)
    if args.save_pages:
        Path(args.save_pages).mkdir(parents=True, exist_ok=True)
        page.save(Path(args.save_pages) / f"{form_id}.png")
    return page, [rendered_line(line.ink, style) for line in lines]


def _without_layout(model: handwrite.Recognizer, ink: handwrite.Ink) -> str:
    """A line file's text when its strokes are fed as they are, in writing order, unlevelled."""
    log_probs = model.log_probs([model.inputs.frames(ink)])[0]
    return decode(log_probs, model.codec, model.decoding)[0].text


def _forms(split: str, limit: int) -> dict[str, list[IamLine]]:
    """Each form's lines, without those holding a crossed-out word; forms of at least 2 lines."""
    wanted = set(read_split(IAM / "splits" / f"{split}.txt"))
    forms: dict[str, list[IamLine]] = defaultdict(list)
    for line in iter_lines(IAM, wanted):
        if "#" not in (line.ink.text or ""):
            forms[line.form_id].append(line)
    chosen = sorted(f for f, lines in forms.items() if len(lines) >= 2)
    return {f: forms[f] for f in (chosen[:limit] if limit else chosen)}


def _write_errors(path: str, page_pairs: list[tuple[str, str]], per_form: list[tuple[str, int, int, str]]) -> None:
    """Every page's reference, page reading and lines read alone, the pages that lose
    most to layout analysis (page CER minus its lines' CER) first."""
    rows = []
    for (reference, page_text), (form_id, count, found, alone_text) in zip(page_pairs, per_form, strict=True):
        page, alone = error_rates([(reference, page_text)]), error_rates([(reference, alone_text)])
        loss = page.cer - alone.cer
        rows.append((loss, form_id, count, found, page.cer, alone.cer, reference, page_text, alone_text))
    with open(path, "w", encoding="utf-8") as out:
        for loss, form_id, count, found, page, alone, reference, page_text, alone_text in sorted(rows, reverse=True):
            out.write(f"{form_id}: {count} lines, {found} found; page {page:.2%}, alone {alone:.2%} ({loss:+.2%})\n")
            out.write(f"REF   {reference}\nPAGE  {page_text}\nALONE {alone_text}\n\n")


def _throughput(pages: list[tuple[str, object, int]], model: str | None) -> None:
    """Pages through the command line, as a user runs it on a folder: start, reading
    the files and writing JSONL included; one worker, then two."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        write_inputs([page for _, page, _ in pages], folder)
        lines = sum(count for _, _, count in pages)
        print(f"\n| `handwrite transcribe` of {len(pages)} pages ({lines} lines) | seconds | pages/s | lines/s |")
        print("|---|---|---|---|")
        for workers in (1, 2):
            command = ["transcribe", str(folder), "-f", "jsonl", "--no-progress", "-j", str(workers)]
            (seconds,), _ = cli_runs(command + (["-m", model] if model else []), runs=1, check=True)
            print(f"| -j {workers} | {seconds:.1f} | {len(pages) / seconds:.2f} | {lines / seconds:.1f} |")


def _timed(work, runs: int):
    times, value = [], None
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        value = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def _report(args, page_pairs, line_pairs, whole_pairs, exact, forms, page_times, ratios) -> None:
    pages, lines = error_rates(page_pairs), error_rates(line_pairs)
    decoding = f"beam {args.beam}" + (" + LM" if args.lm else "") if args.beam > 1 or args.lm else "greedy"
    kind = "ink" if args.kind == "ink" else "rendered page images"
    kind += " drawn as scans and photos" if args.scans else ""
    print(f"## {args.split} {kind}, lines {args.order}, {decoding}: {forms} pages, {lines.lines} lines\n")
    print("| measure | figure |\n|---|---|")
    print(f"| page CER / WER (line breaks as spaces) | {pages.cer:.2%} / {pages.wer:.2%} |")
    print(f"| the same lines read one by one, CER / WER | {lines.cer:.2%} / {lines.wer:.2%} |")
    if whole_pairs:
        whole = error_rates(whole_pairs)
        print(f"| the same lines fed whole, no layout analysis, CER / WER | {whole.cer:.2%} / {whole.wer:.2%} |")
    print(f"| page CER minus line CER | {100 * (pages.cer - lines.cer):+.2f} points |")
    print(f"| line count exact | {exact}/{forms} pages ({exact / forms:.1%}) |")
    p95 = float(np.percentile(page_times, 95))
    print(f"| time per page, 1 thread | p50 {1000 * statistics.median(page_times):.0f} ms, p95 {1000 * p95:.0f} ms |")
    r50, r95 = statistics.median(ratios), float(np.percentile(ratios, 95))
    print(f"| page time / its lines read one by one | p50 {r50:.2f}x, p95 {r95:.2f}x |")


if __name__ == "__main__":
    main()

"""Pen-up-to-text latency of the drawing app on a page of notes: 10 lines are
written onto one page through mouse events (one under another, as the app's
replay path writes them), then, many times over, a stroke is added to the end
of one line (a copy of one of its strokes, moved a little each time so it is
new ink) and the time from its pen-up to the page's text shown on screen is
recorded (the stroke is then undone, unmeasured). Only the changed line should
be read again: the lines read per pen-up are reported with p50/p95/max.

Lines come from IAM-OnDB testset_v when available, else the demo inks in data/.

    QT_QPA_PLATFORM=offscreen python scripts/gui_latency.py [--lines 10] [--repeats 60] [--no-lm]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QApplication

import handwrite
from gui.app import _write_stroke, replay, wait_for_transcription
from gui.window import MainWindow

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
LINE_GAP = 24.0  # points between one line's lowest ink and the next line's top


def lines(count: int) -> list[handwrite.Ink]:
    if (IAM / "splits").is_dir():
        from handwrite.training.data.datasets import load_iam_split, spread_subset

        return spread_subset(load_iam_split(IAM, "testset_v"), count)
    demos = [handwrite.read_ink(p) for p in sorted((REPO / "data" / "ink").glob("*.inkml"))]
    return [demos[i % len(demos)] for i in range(count)]


def write_page(window: MainWindow, inks: list[handwrite.Ink]) -> None:
    """The lines one under another, each waited for (not measured)."""
    bottom = 0.0
    for ink in inks:
        bottom = replay(window, ink, top=bottom + LINE_GAP)
        wait_for_transcription(window, 120)


def added_stroke(window: MainWindow, rng: random.Random) -> np.ndarray:
    """A copy of one of a random line's larger strokes, just past the line's end."""
    result = window.page_result()
    line = rng.choice(result.lines)
    strokes = [window.canvas.strokes[i].array() for i in line.strokes]
    model = max(strokes, key=lambda s: np.ptp(s[:, 1]) + np.ptp(s[:, 0]))
    x0, _, x1, _ = line.box
    shift = x1 + 0.3 * (x1 - x0) / max(len(line.words), 1) * rng.uniform(0.2, 0.6) - model[:, 0].min()
    return model + np.array([shift, rng.uniform(-1.0, 1.0), 0.0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--no-lm", action="store_true", help="with File > English language model off")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(
        str(Path(os.environ.get("TMPDIR", "/tmp")) / "handwrite-latency.ini"), QSettings.Format.IniFormat
    )
    settings.setValue("language_model", not args.no_lm)
    window = MainWindow(settings=settings, use_autosave=False)
    window.resize(1200, 800)
    window.show()
    write_page(window, lines(args.lines))
    found = len(window.page_result().lines)
    rng, samples, read = random.Random(15), [], []
    for _ in range(args.repeats):
        window.latencies_ms.clear()
        _write_stroke(window.canvas, added_stroke(window, rng))
        wait_for_transcription(window, 120)
        samples += window.latencies_ms
        read.append(window.reading().read)
        window.undo_action.trigger()  # back to the 10 lines: read before, so not read again
        wait_for_transcription(window, 120)
    p50, p95 = np.percentile(samples, [50, 95])
    print(
        f"pen-up to text on a {found}-line page: {len(samples)} pen-ups; "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(samples):.0f} ms; "
        f"lines read per pen-up: {min(read)}-{max(read)} (mean {np.mean(read):.2f})"
    )
    window.close()
    app.quit()


if __name__ == "__main__":
    main()

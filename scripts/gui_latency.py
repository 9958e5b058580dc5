"""Pen-up-to-text latency of the drawing app: each stroke of each line is
written into the canvas through mouse events; the time from the pen-up to the
transcription shown on screen is recorded. Prints p50/p95.

Lines come from IAM-OnDB testset_v when available, else the demo inks in data/.

    QT_QPA_PLATFORM=offscreen python scripts/gui_latency.py [--lines 20] [--no-lm]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QApplication

import handwrite
from gui.app import replay, wait_for_transcription
from gui.window import MainWindow

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))


def lines(count: int) -> list[handwrite.Ink]:
    if (IAM / "splits").is_dir():
        from handwrite.training.data.datasets import load_iam_split, spread_subset

        return spread_subset(load_iam_split(IAM, "testset_v"), count)
    return [handwrite.read_ink(p) for p in sorted((REPO / "data" / "ink").glob("*.inkml"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--no-lm", action="store_true", help="with File > English language model off")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings(
        str(Path(os.environ.get("TMPDIR", "/tmp")) / "handwrite-latency.ini"), QSettings.Format.IniFormat
    )
    settings.setValue("language_model", not args.no_lm)
    window = MainWindow(settings=settings, restore_autosave=False)
    window.resize(1200, 700)
    window.show()
    samples = []
    for ink in lines(args.lines):
        window.canvas.clear()
        wait_for_transcription(window, 30)
        window.latencies_ms.clear()
        # one pen-up at a time, each waiting for its text, as a writer would see it
        replay(window, ink, after_stroke=lambda: wait_for_transcription(window, 30))
        samples += window.latencies_ms
    p50, p95 = np.percentile(samples, [50, 95])
    print(
        f"pen-up to text: {len(samples)} pen-ups over {args.lines} lines; "
        f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(samples):.0f} ms"
    )
    window.close()
    app.quit()


if __name__ == "__main__":
    main()

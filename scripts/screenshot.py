"""Screenshots of the app in a real window for the README: run under Xvfb
(`xvfb-run -s "-screen 0 1100x720x24" python scripts/screenshot.py docs/screenshot.png`);
writes three demo lines through mouse events, waits for the transcription and
captures the window from the X server's screen. With `--image IMAGE`, captures
File > Open image's dialog for that image instead."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QApplication, QWidget

import handwrite
from gui.app import replay, wait_for_transcription
from gui.window import MainWindow, save_png_atomically

REPO = Path(__file__).resolve().parent.parent
LINES = ["quick-fox.inkml", "meeting.inkml", "handwriting.inkml"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", nargs="?", default=str(REPO / "docs" / "screenshot.png"))
    parser.add_argument("--image", help="capture the Open image dialog for this image")
    args = parser.parse_args()
    out = Path(args.output)
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat), use_autosave=False)
        window.move(0, 0)
        window.resize(1100, 700)
        window.show()
        if args.image:
            dialog = window.open_image(args.image)
            if dialog is None:
                return 1
            dialog.move(0, 0)
            _capture(app, dialog, out)
            print(dialog.text.toPlainText())
            dialog.close()
            window.close()
            return 0
        bottom = 40.0
        for name in LINES:  # one under another, a line's height apart
            bottom = replay(window, handwrite.read_ink(REPO / "data" / "ink" / name), top=bottom + 30.0)
        wait_for_transcription(window, 60)
        _capture(app, window, out)
        print(window.transcription())
        window.close()
    return 0


def _capture(app: QApplication, widget: QWidget, out: Path) -> None:
    for _ in range(20):
        app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    # grabWindow(0) reads the X server's framebuffer: the window as it is really shown
    frame = widget.frameGeometry()
    save_png_atomically(app.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()), out)


if __name__ == "__main__":
    raise SystemExit(main())

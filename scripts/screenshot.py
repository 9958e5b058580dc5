"""Screenshot of the app in a real window for the README: run under Xvfb
(`xvfb-run -s "-screen 0 1100x720x24" python scripts/screenshot.py docs/screenshot.png`);
writes three demo lines through mouse events, waits for the transcription and
captures the window from the X server's screen."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QApplication

import handwrite
from gui.app import replay, wait_for_transcription
from gui.window import MainWindow, save_png_atomically

REPO = Path(__file__).resolve().parent.parent
LINES = ["quick-fox.inkml", "meeting.inkml", "handwriting.inkml"]


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "docs" / "screenshot.png")
    app = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat), restore_autosave=False)
        window.move(0, 0)
        window.resize(1100, 700)
        window.show()
        for line, name in enumerate(LINES):
            replay(window, handwrite.read_ink(REPO / "data" / "ink" / name), line=line)
        wait_for_transcription(window, 60)
        for _ in range(20):
            app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        # grabWindow(0) reads the X server's framebuffer: the window as it is really shown
        frame = window.frameGeometry()
        screen = app.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        save_png_atomically(screen, out)
        print(window.transcription())
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

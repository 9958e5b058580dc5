"""A screenshot of a page of notes with its text on the page (View > Text on the
page), light or dark, for the docs. Run under Xvfb:

    xvfb-run -a -s "-screen 0 1400x860x24" python scripts/notes_screenshot.py docs/notes-light.png
    xvfb-run -a -s "-screen 0 1400x860x24" python scripts/notes_screenshot.py --dark docs/notes-dark.png

Writes the demo lines through mouse events (as a pen would), waits for the
transcription and captures the window from the X server's screen. `--dark` gives
the app the dark palette a dark desktop would (Xvfb has no desktop to follow).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PyQt6.QtCore import QSettings
from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication

import handwrite
from gui.app import replay, wait_for_transcription
from gui.window import MainWindow, save_png_atomically

REPO = Path(__file__).resolve().parent.parent
NOTES = ["meeting.inkml", "quick-fox.inkml", "handwriting.inkml", "hello-world.inkml"]
DARK = {
    QPalette.ColorRole.Window: "#202124",
    QPalette.ColorRole.WindowText: "#e8eaed",
    QPalette.ColorRole.Base: "#17181b",
    QPalette.ColorRole.AlternateBase: "#2a2b2f",
    QPalette.ColorRole.Text: "#e8eaed",
    QPalette.ColorRole.Button: "#2a2b2f",
    QPalette.ColorRole.ButtonText: "#e8eaed",
    QPalette.ColorRole.Highlight: "#3d6fb4",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.Dark: "#111214",
    QPalette.ColorRole.Mid: "#3a3b3f",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output")
    parser.add_argument("--dark", action="store_true", help="a dark palette, as a dark desktop gives")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    if args.dark:
        app.setStyle("Fusion")
        palette = QPalette()
        for role, color in DARK.items():
            palette.setColor(role, QColor(color))
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f7378"))
        app.setPalette(palette)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat), use_autosave=False)
        window.move(0, 0)
        window.resize(1380, 820)
        window.show()
        window.word_dock.toggleViewAction().trigger()
        bottom = 30.0
        for name in NOTES:  # one under another, a line's height apart
            bottom = replay(window, handwrite.read_ink(REPO / "data" / "ink" / name), top=bottom + 28.0)
        if not wait_for_transcription(window, 120):
            print("the transcription did not finish in time", file=sys.stderr)
            return 1
        for _ in range(30):
            app.processEvents()
        # grabWindow(0) reads the X server's framebuffer: the window as it is really shown
        frame = window.frameGeometry()
        shot = app.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        if not save_png_atomically(shot, args.output):
            return 1
        print(window.transcription())
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Start the drawing app; or, with --replay, feed an ink file through the pen
input path, wait for the live transcription, save a screenshot and print the
text (how the app is tested). A replayed page keeps its layout: strokes go
where the ink has them (each page of a notebook on a page of its own, of the
notebook's page size), scaled down only to fit the page's width."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QEvent, QEventLoop, QPointF, QSettings, Qt, QTimer
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication

import handwrite
from gui.canvas import InkCanvas
from gui.document import MARGIN
from gui.flags import add_arguments, problem
from gui.window import MainWindow, save_png_atomically, save_text_atomically

REPLAY_TIMEOUT_S = 60.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handwrite gui", description="The handwrite drawing app.")
    add_arguments(parser)  # the one flag table, shared with `handwrite gui`
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if wrong := problem(args):
        parser.error(wrong)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("handwrite")
    app.setOrganizationName("handwrite")
    if not args.replay:
        window = MainWindow()
        if args.model:
            window.load_model(args.model)  # one that cannot be used is said, and the last one stays
        window.show()
        return app.exec()
    try:
        ink = handwrite.read_ink(args.replay)
    except handwrite.HandwriteError as exc:
        print(f"handwrite gui: {exc}", file=sys.stderr)
        return 1
    # a replay reads as a fresh app would (the user's model choice and layout do not
    # change what it prints) and leaves the user's settings and autosave as they were
    with tempfile.TemporaryDirectory(prefix="handwrite-replay-") as scratch:
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings, use_autosave=False)
        if args.model and not _use_model(window, args.model):
            window.close()
            return 1
        window.show()
        try:
            return _replay_and_report(window, ink, args.screenshot, args.text_out)
        finally:
            window.close()  # stops the recognition thread, whatever happened


def _use_model(window: MainWindow, model: str) -> bool:
    """The replay reads with this ink model; one that cannot be used is an error on
    stderr (there is no one to read a message box)."""
    if error := window.use_model(model, kind="ink"):
        print(f"handwrite gui: {error}", file=sys.stderr)
    return error is None


def _replay_and_report(window: MainWindow, ink: handwrite.Ink, screenshot: str | None, text_out: str | None) -> int:
    window.new_document()
    replay(window, ink)
    if not wait_for_transcription(window, REPLAY_TIMEOUT_S):
        print("handwrite gui: the transcription did not finish in time", file=sys.stderr)
        return 1
    if screenshot and not save_png_atomically(window.grab(), screenshot):
        print(f"handwrite gui: cannot write {screenshot}", file=sys.stderr)
        return 1
    text = window.transcription()
    if text_out and not save_text_atomically(text + "\n", text_out):
        print(f"handwrite gui: cannot write {text_out}", file=sys.stderr)
        return 1
    print(" ".join(text.splitlines()))  # the whole page on the last line of stdout
    return 0


def replay(
    window: MainWindow, ink: handwrite.Ink, after_stroke: Callable[[], object] | None = None, top: float | None = None
) -> float:
    """Write the ink onto the shown page as real mouse press/move/release events, through
    the page's zoom, calling `after_stroke` after each pen-up. Further pages of a notebook
    go on new pages after it. With `top`, the ink's writing starts that far down the page
    (page units) at its left margin. Returns where the writing ends (page units, y)."""
    canvas, bottom = window.canvas, 0.0
    for number, page in enumerate(ink.pages()):
        if number:
            canvas.new_page()
        if ink.page_sizes and not canvas.strokes and top is None:
            canvas.set_page_size(*ink.page_sizes[number])  # the notebook's own page
        placed = placed_on_page(page, canvas, top)
        for stroke in placed.strokes:
            _write_stroke(canvas, stroke)
            if after_stroke is not None:
                after_stroke()
        bottom = placed.bounds()[3]
    return bottom


def placed_on_page(ink: handwrite.Ink, canvas: InkCanvas, top: float | None = None) -> handwrite.Ink:
    """The ink where it goes on the shown page: where it is, when it lies on the page;
    else (or with `top`) moved to the page's left margin (and `top`), scaled down to fit
    the page's width if it is wider."""
    page = canvas.page
    x0, y0, x1, _ = ink.bounds()
    if top is None and page.left <= x0 and page.top <= y0 and x1 <= page.right:
        return ink
    margin = MARGIN * page.width
    scale = min(1.0, (page.width - 2 * margin) / max(x1 - x0, 1e-9))
    left, upper = page.left + margin, (top if top is not None else page.top + margin)
    strokes = [
        np.column_stack([(s[:, 0] - x0) * scale + left, (s[:, 1] - y0) * scale + upper, s[:, 2]]) for s in ink.strokes
    ]
    return handwrite.Ink(strokes)


def _write_stroke(canvas: InkCanvas, stroke: np.ndarray) -> None:
    points = [canvas.to_widget(float(x), float(y)) for x, y, _ in stroke]
    _send(canvas, QEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton)
    for point in points[1:]:
        _send(canvas, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton)
    _send(canvas, QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.LeftButton)
    QApplication.processEvents()


def _send(widget: object, kind: QEvent.Type, point: QPointF, button: Qt.MouseButton) -> None:
    held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, point, widget.mapToGlobal(point), button, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def wait_for_transcription(window: MainWindow, timeout: float) -> bool:
    """Process events until the newest recognition request has been shown. Waits for
    events rather than polling, so a result is shown the moment it arrives, as in the app."""
    deadline = time.monotonic() + timeout
    waker = QTimer(interval=20)  # wakes the wait now and then to look at the clock
    waker.start()
    try:
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if not window._debounce.isActive() and window.last_shown_request == window.live.latest:
                return True
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        return False
    finally:
        waker.stop()

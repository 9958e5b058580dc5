"""The free page: lines found by layout analysis wherever they are written, a page
that grows and scrolls, zoom that changes the view and never the ink, several
pages, files that give back the page exactly, and only changed lines read again.
Driven through real input events (qtbot mouse events and the app's replay path)."""

import numpy as np
import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QTextCursor, QWheelEvent
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QMessageBox

import handwrite
from gui import dialogs
from gui.app import replay, wait_for_transcription
from tests.conftest import REPO, SAMPLE_INK

WAIT_S = 120  # the machine is slow and busy: generous, never a fixed sleep


def ink(name: str, size: float = 1.0) -> handwrite.Ink:
    """A demo line, written `size` times as large (larger: taller than any ruled line)."""
    line = handwrite.read_ink(SAMPLE_INK / name)
    return handwrite.Ink([s * [size, size, 1.0] for s in line.strokes])


def write(window, name: str, top: float, size: float = 1.0) -> None:
    replay(window, ink(name, size), top=top)
    assert wait_for_transcription(window, WAIT_S)


def draw(canvas, points) -> None:
    """A stroke through widget positions, as the mouse would make it."""
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*points[0]))
    for point in points[1:]:
        QTest.mouseMove(canvas, QPoint(*point))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*points[-1]))


class CountingModel:
    """The window's model, counting the line inks it is asked to read."""

    def __init__(self, model: handwrite.Recognizer) -> None:
        self.model, self.inks = model, []

    def recognize_batch(self, inks):
        self.inks += inks
        return self.model.recognize_batch(inks)


def test_tall_writing_stays_one_line(make_window):
    window = make_window()
    write(window, "hello-world.inkml", top=60, size=5.0)  # about 100 points tall: three ruled lines
    result = window.page_result()
    assert len(result.lines) == 1 and len(result.lines[0].strokes) == len(window.canvas.strokes)
    assert window.transcription().replace(" ", "").lower().startswith("hel")


def test_a_line_written_above_an_earlier_one_comes_first(make_window):
    window = make_window()
    write(window, "quick-fox.inkml", top=300)
    write(window, "hello-world.inkml", top=100)
    lines = window.transcription().split("\n")
    assert len(lines) == 2 and lines[1].startswith("the") and not lines[0].startswith("the")
    boxes = [line.box for line in window.page_result().lines]
    assert boxes[0][1] < 150 < 300 <= boxes[1][3]  # page coordinates, in reading order


def test_writing_past_the_first_screen_grows_the_page_and_scrolls(make_window, qtbot):
    window = make_window()
    canvas, view = window.canvas, window.view
    first_bottom, first_scroll = canvas.page.bottom, view.verticalScrollBar().maximum()
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())  # scrolled to the page's end
    below = canvas.height() - 20  # widget pixels: far below what the first screen showed
    assert below > view.viewport().height()
    draw(canvas, [(100, below - 30), (120, below), (140, below - 30), (160, below)])
    assert canvas.strokes[0].points[0][1] > first_bottom - 60  # page units, whatever the zoom
    assert canvas.page.bottom > first_bottom and view.verticalScrollBar().maximum() > first_scroll
    qtbot.waitUntil(lambda: window.last_shown_request == window.live.latest, timeout=WAIT_S * 1000)
    assert len(window.page_result().lines) == 1


def test_zoom_changes_the_view_not_the_ink(make_window):
    window = make_window()
    canvas, view = window.canvas, window.view
    draw(canvas, [(100, 100), (150, 120), (200, 100)])
    before = [list(p) for p in canvas.strokes[0].points]
    zoom, width = canvas.zoom, canvas.width()
    wheel = QWheelEvent(
        QPointF(50, 50),
        QPointF(view.viewport().mapToGlobal(QPoint(50, 50))),
        QPoint(),
        QPoint(0, 120),  # one notch up, with Ctrl: zoom in
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert canvas.zoom > zoom * 1.1 and canvas.width() > width
    assert [list(p) for p in canvas.strokes[0].points] == before
    # the same page point, written at the new zoom, lands where the first stroke starts
    start = canvas.to_widget(*before[0][:2])
    draw(canvas, [(round(start.x()), round(start.y())), (round(start.x()) + 30, round(start.y()))])
    assert canvas.strokes[1].points[0][:2] == pytest.approx(before[0][:2], abs=1.0 / canvas.zoom)
    view.fit_width()
    assert [list(p) for p in canvas.strokes[0].points] == before


def test_one_erase_gesture_is_one_undo_step(make_window):
    window = make_window()
    canvas = window.canvas
    for y in (100, 130, 160):
        draw(canvas, [(100, y), (300, y)])
    window.erase_action.trigger()
    draw(canvas, [(200, 90), (200, 120), (200, 150), (200, 170)])  # one swipe across all three
    assert canvas.strokes == []
    window.undo_action.trigger()
    assert len(canvas.strokes) == 3


def test_only_the_changed_line_is_read_again(make_window):
    window = make_window()
    counting = CountingModel(window.model)
    window.live.set_model(counting)
    for top in (60, 140, 220):
        write(window, "hello-world.inkml", top=top)
    assert len(window.page_result().lines) == 3
    counting.inks.clear()
    middle = window.page_result().lines[1]
    x1, y1 = middle.box[2], middle.box[3]
    tail = canvas_point(window, x1 + 4, y1 - 2)
    draw(window.canvas, [tail, (tail[0] + 12, tail[1] - 6)])  # a stroke added to the middle line
    assert wait_for_transcription(window, WAIT_S)
    assert len(window.page_result().lines) == 3
    assert len(counting.inks) == 1 and len(counting.inks[0].strokes) == len(middle.strokes) + 1
    assert window.reading().read == 1
    counting.inks.clear()
    window.undo_action.trigger()  # back as it was: read before, so nothing is read
    assert wait_for_transcription(window, WAIT_S)
    assert counting.inks == [] and len(window.page_result().lines) == 3


def canvas_point(window, x: float, y: float) -> tuple[int, int]:
    point = window.canvas.to_widget(x, y)
    return round(point.x()), round(point.y())


def test_pages_of_a_document(make_window):
    window = make_window()
    write(window, "hello-world.inkml", top=80)
    window.canvas.new_page()
    assert window.document.current == 1 and window.canvas.strokes == []
    assert window.page_label.text() == "Page 2 of 2"
    write(window, "quick-fox.inkml", top=80)
    assert window.page_text().startswith("the")
    assert window.transcription() == window.page_text(0) + "\n" + window.page_text(1)
    next(a for a in window.actions() if a.text() == "&Previous page").trigger()
    assert window.page_label.text() == "Page 1 of 2" and window.page_text() == window.page_text(0)
    assert window.text_view.toPlainText() == window.page_text(0)  # the text pane shows the shown page


def test_delete_page_removes_a_blank_page_at_once_and_asks_for_one_with_writing(make_window, asked):
    from PyQt6.QtWidgets import QMessageBox

    window = make_window()
    write(window, "hello-world.inkml", top=80)
    window.delete_page_action.trigger()  # the only page stays
    assert len(window.document.pages) == 1 and "at least one page" in window.statusBar().currentMessage()
    window.canvas.new_page()  # by mistake: a blank page goes without a question
    window.delete_page_action.trigger()
    assert len(window.document.pages) == 1 and window.page_label.text() == "Page 1 of 1" and not asked
    window.canvas.new_page()
    write(window, "quick-fox.inkml", top=80)
    window.canvas.show_page(0)
    asked.answer = QMessageBox.StandardButton.Cancel
    window.delete_page_action.trigger()  # page 1 has writing: asked, and Cancel keeps it
    assert asked == ["Delete the page?"] and len(window.document.pages) == 2
    asked.answer = QMessageBox.StandardButton.Discard
    window.delete_page_action.trigger()
    assert len(window.document.pages) == 1 and window.page_label.text() == "Page 1 of 1"
    assert wait_for_transcription(window, WAIT_S)
    assert window.transcription() == window.page_text() and window.page_text().startswith("the")


def test_a_page_deleted_before_an_opened_file_is_read_gives_no_text_to_another(make_window, tmp_path):
    window = make_window()
    write(window, "hello-world.inkml", top=80)
    window.canvas.new_page()
    write(window, "quick-fox.inkml", top=80)
    fox = window.page_text()
    assert window.save_ink(str(tmp_path / "two.inkml"))
    assert window.open_ink(str(tmp_path / "two.inkml"))
    window.canvas.show_page(0)
    window.delete_page_action.trigger()  # at once: the pages are still being read
    assert wait_for_transcription(window, WAIT_S)
    assert window.line_texts() == [fox]  # page 1's saved text was taken for a correction of the fox page
    window.set_line_text(0, fox)  # a "correction" to the text as read is none
    assert window.corrections == {}


def test_a_page_turned_to_is_shown_from_its_top(make_window, qtbot):
    """Page > New page (and next/previous) showed the other page scrolled as far down as
    the page left, often at its very end: a new page must start where one writes first."""
    window = make_window()
    view = window.view
    window.activateWindow()  # the shortcuts go to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())  # at the first page's end
    assert view.verticalScrollBar().value() > 0
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window, Qt.Key.Key_N, shift_ctrl)  # Page > New page
    qtbot.waitUntil(lambda: window.page_label.text() == "Page 2 of 2", timeout=10_000)
    assert view.verticalScrollBar().value() == 0
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    QTest.keyClick(window, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)  # Page > Previous page
    qtbot.waitUntil(lambda: window.page_label.text() == "Page 1 of 2", timeout=10_000)
    assert view.verticalScrollBar().value() == 0


def test_ctrl_equals_zooms_in_as_ctrl_plus_does(make_window, qtbot):
    """On most keyboards + is Shift+=: Ctrl and the =/+ key without Shift did nothing."""
    window = make_window()
    window.activateWindow()  # the shortcuts go to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    zoom = window.canvas.zoom
    QTest.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.canvas.zoom > zoom * 1.2, timeout=10_000)
    QTest.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)  # and back
    qtbot.waitUntil(lambda: abs(window.canvas.zoom - zoom) < 1e-6, timeout=10_000)


def test_writing_past_the_view_s_edge_scrolls_the_page_along(make_window):
    """A stroke carried below the bottom of the view went on out of sight: at pen-up the
    page scrolls so where the pen lifted is in view; not during the stroke, where a pen
    held still past the edge would draw on down the page as it scrolled under it."""
    window = make_window()
    canvas, view = window.canvas, window.view
    assert view.verticalScrollBar().value() == 0
    bottom = view.viewport().height()
    points = [(100, bottom - 60), (110, bottom - 20), (120, bottom + 30), (130, bottom + 60)]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*points[0]))
    for point in points[1:]:
        QTest.mouseMove(canvas, QPoint(*point))
    assert view.verticalScrollBar().value() == 0  # the page stays still under the pen
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*points[-1]))
    assert view.verticalScrollBar().value() > 0
    end = canvas.mapTo(view.viewport(), QPoint(130, bottom + 60))
    assert view.viewport().rect().contains(end), (end, view.viewport().rect())
    assert len(canvas.strokes) == 1 and canvas.strokes[0].points[-1][1] > canvas.to_page(QPointF(0, bottom))[1]


@pytest.mark.parametrize("suffix", [".inkml", ".xopp"])
def test_save_and_open_give_back_the_same_pages_and_text(make_window, tmp_path, suffix):
    window = make_window()
    write(window, "quick-fox.inkml", top=60)
    write(window, "meeting.inkml", top=200, size=1.5)
    window.canvas.new_page()
    write(window, "hello-world.inkml", top=500)
    assert window.save_ink(str(tmp_path / f"notes{suffix}"))
    saved, text = window.document.to_ink(), window.transcription()
    assert len(text.split("\n")) == 3

    again = make_window(restore=False)
    assert again.open_ink(str(tmp_path / f"notes{suffix}"))
    assert wait_for_transcription(again, WAIT_S)
    back = again.document.to_ink()
    assert back.page_starts == saved.page_starts and back.page_sizes == saved.page_sizes
    assert [s[:, :2].tolist() for s in back.strokes] == [s[:, :2].tolist() for s in saved.strokes]  # exactly
    if suffix == ".inkml":  # Xournal++ keeps no times
        assert [s[:, 2].tolist() for s in back.strokes] == [s[:, 2].tolist() for s in saved.strokes]
    assert [(p.left, p.top, p.right, p.bottom) for p in again.document.pages] == [
        (p.left, p.top, p.right, p.bottom) for p in window.document.pages
    ]
    assert again.transcription() == text


def test_saved_text_is_recognized_text_never_truth_and_corrections_come_back(make_window, tmp_path):
    from handwrite.formats.inkml import recognized_texts

    window = make_window()
    write(window, "hello-world.inkml", top=60)
    write(window, "quick-fox.inkml", top=160)
    window.set_line_text(0, "hullo\t\x1b[0mworld")  # pasted from a terminal: kept as plain text
    assert window.line_texts()[0] == "hullo [0mworld" and window.save_ink(str(tmp_path / "pasted.inkml"))
    window.set_line_text(0, "hullo world")
    assert window.save_ink(str(tmp_path / "page.inkml"))
    data = (tmp_path / "page.inkml").read_bytes()
    assert handwrite.read_ink(tmp_path / "page.inkml").text is None  # nothing claims to be ground truth
    assert recognized_texts(data) == ("\n".join(window.line_texts()),)
    again = make_window(restore=False)
    assert again.open_ink(str(tmp_path / "page.inkml"))
    assert wait_for_transcription(again, WAIT_S)
    assert again.line_texts() == window.line_texts() and again.line_texts()[0] == "hullo world"


def test_saving_corrections_as_a_notebook_says_they_are_not_kept(make_window, tmp_path):
    window = make_window()
    write(window, "hello-world.inkml", top=60)
    assert window.save_ink(str(tmp_path / "plain.xopp"))
    assert "keeps no corrected text" not in window.statusBar().currentMessage()
    window.set_line_text(0, "hullo world")
    assert window.save_ink(str(tmp_path / "page.xopp"))
    assert "keeps no corrected text" in window.statusBar().currentMessage()
    assert window.save_ink(str(tmp_path / "page.inkml"))
    assert "keeps no corrected text" not in window.statusBar().currentMessage()


def test_a_correction_is_work_to_save_and_stays_with_its_document(make_window, tmp_path, asked):
    window = make_window()
    write(window, "hello-world.inkml", top=60)
    assert window.save_ink(str(tmp_path / "page.inkml"))
    window.set_line_text(0, "hullo world")
    window.new_document()  # the correction is not in the file: asked first
    assert asked == ["Discard the document?"]
    assert window.open_ink(str(tmp_path / "page.inkml"))  # the file without the correction
    assert wait_for_transcription(window, WAIT_S)
    assert window.line_texts() != ["hullo world"]  # the same strokes in another document are not corrected
    window.set_line_text(0, "hullo world")
    assert window.save_ink(str(tmp_path / "corrected.inkml"))
    assert window.open_ink(str(tmp_path / "corrected.inkml")) and wait_for_transcription(window, WAIT_S)
    assert window.line_texts() == ["hullo world"]
    window.new_document()  # saved, and the text read back from the file: nothing to ask
    assert asked == ["Discard the document?"]


def test_a_correction_is_autosaved(make_window, qtbot):
    window = make_window()
    write(window, "hello-world.inkml", top=60)
    window.set_line_text(0, "hullo world")
    saved = window.autosave_path()
    qtbot.waitUntil(lambda: saved.exists() and b"hullo world" in saved.read_bytes(), timeout=WAIT_S * 1000)
    window.close()  # as after a crash: a new window brings the correction back
    again = make_window()
    assert wait_for_transcription(again, WAIT_S)
    assert again.line_texts() == ["hullo world"]


def test_the_text_pane_follows_the_line_being_written_unless_scrolled_away(make_window):
    window = make_window()
    names = ["hello-world.inkml", "quick-fox.inkml", "meeting.inkml"]
    pane, bar = window.text_view, window.text_view.verticalScrollBar()

    def newest_line_in_view() -> bool:
        cursor = QTextCursor(pane.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return 0 <= pane.cursorRect(cursor).bottom() <= pane.viewport().height()

    for row in range(12):
        write(window, names[row % 3], top=60 + 120 * row)
        assert newest_line_in_view()
    assert len(window.line_texts()) == 12
    assert bar.value() > 0  # the pane holds fewer lines than the page: it scrolled
    bar.triggerAction(bar.SliderAction.SliderToMinimum)  # the user reads the first lines while writing on
    for row in (12, 13):  # and it stays there while they write
        write(window, "hello-world.inkml", top=60 + 120 * row)
        assert bar.value() == 0
    bar.triggerAction(bar.SliderAction.SliderToMaximum)  # back at the end: it follows again
    write(window, "quick-fox.inkml", top=60 + 120 * 14)
    assert newest_line_in_view()


def test_a_pdf_exported_at_once_after_opening_a_notebook_waits_for_its_text(make_window, tmp_path):
    import pypdf

    window = make_window()
    assert window.open_ink(str(REPO / "data" / "notes" / "notebook.xopp"))
    assert window.export_pdf(str(tmp_path / "notes.pdf"))  # straight away: its pages are still being read
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(tmp_path / "notes.pdf").pages)
    assert "hello" in text and "tomorrow" in text and "Exported" in window.statusBar().currentMessage()


def test_ctrl_c_in_the_text_pane_copies_the_selection(make_window):
    window = make_window()
    write(window, "hello-world.inkml", top=60)
    window.text_view.setFocus()
    window.text_view.selectAll()
    cursor = window.text_view.textCursor()
    cursor.setPosition(0)
    cursor.setPosition(5, cursor.MoveMode.KeepAnchor)
    window.text_view.setTextCursor(cursor)
    QTest.keyClick(window.text_view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == window.transcription()[:5]
    window.canvas.setFocus()
    window.copy_text()  # from elsewhere: the whole page
    assert QApplication.clipboard().text() == window.page_text()
    window.canvas.new_page()
    write(window, "quick-fox.inkml", top=60)
    window.copy_text()  # the page shown, as the pane shows it: not the pages before it
    assert QApplication.clipboard().text() == window.page_text() == window.line_texts()[0]


def test_export_png_and_searchable_pdf_of_the_document(make_window, tmp_path):
    window = make_window()
    write(window, "hello-world.inkml", top=60)
    window.canvas.new_page()
    write(window, "quick-fox.inkml", top=60)
    assert window.export_png(str(tmp_path / "page.png"))
    image = handwrite.formats.images.read_image(tmp_path / "page.png")
    assert image.width == round(window.canvas.page.width * 2)  # the whole page, at 2 pixels a point
    assert window.export_pdf(str(tmp_path / "notes.pdf"))
    pdf = (tmp_path / "notes.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 2
    result = window.document_result()
    assert result.page_count == 2 and result.text == window.transcription()
    assert [line.page for line in result.lines] == [1, 2]


def test_exports_named_in_the_dialog_get_their_suffix_and_folder(make_window, tmp_path, monkeypatch, asked):
    """A name typed without a suffix, in a folder not made yet: both exports write
    `name.png` and `name.pdf` there, as Save writes `name.inkml`; the next time, the
    files of those names are asked about before they are replaced (the dialog asked
    about the name as typed)."""
    window = make_window()
    write(window, "hello-world.inkml", top=60)
    typed = tmp_path / "new folder" / "notes"
    # the dialog gives the name as typed and the filter shown (each format's own; Save's first)
    monkeypatch.setattr(dialogs.QFileDialog, "getSaveFileName", lambda *args: (str(typed), args[3].split(";;")[0]))
    assert window.export_png() and window.export_pdf() and window.save_ink()
    assert sorted(p.name for p in typed.parent.iterdir()) == ["notes.inkml", "notes.pdf", "notes.png"]
    assert (typed.parent / "notes.png").read_bytes().startswith(b"\x89PNG") and asked == []
    before = {p.name: p.read_bytes() for p in typed.parent.iterdir()}
    asked.answer = QMessageBox.StandardButton.Cancel
    assert not window.export_png() and not window.export_pdf() and not window.save_ink()
    assert asked == ["Replace the file?"] * 3
    assert {p.name: p.read_bytes() for p in typed.parent.iterdir()} == before


def test_a_replayed_page_keeps_its_layout(make_window):
    """Ink placed where it is: a notebook's pages at their size, strokes at their coordinates."""
    from tests.conftest import REPO

    notebook = handwrite.read_ink(REPO / "data" / "notes" / "notebook.xopp")
    window = make_window()
    window.new_document()
    replay(window, notebook)
    assert wait_for_transcription(window, WAIT_S)
    written = window.document.to_ink()
    assert written.page_sizes == notebook.page_sizes and written.page_starts == notebook.page_starts
    for ours, theirs in zip(written.strokes, notebook.strokes, strict=True):
        np.testing.assert_allclose(ours[:, :2], theirs[:, :2], atol=1e-4)


def test_middle_drag_pans_and_a_fitted_page_follows_the_window(make_window, qtbot):
    window = make_window()
    canvas, view = window.canvas, window.view
    window.resize(700, 640)
    qtbot.waitUntil(lambda: abs(canvas.width() - (view.viewport().width() - 28)) <= 1, timeout=10_000)
    before = view.verticalScrollBar().value()
    QTest.mousePress(canvas, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(200, 300))
    QTest.mouseMove(canvas, QPoint(200, 100))
    QTest.mouseRelease(canvas, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(200, 100))
    assert view.verticalScrollBar().value() > before and canvas.strokes == []  # panned, nothing written


def test_a_fitted_page_keeps_the_place_in_view_when_the_view_changes_width(make_window, qtbot):
    """Showing or hiding View > Text on the page (or resizing the window) zooms a fitted
    page to the new width; what was at the top of the view stays there instead of the
    page jumping to wherever the old scroll position now lands."""
    window = make_window()
    canvas, view = window.canvas, window.view

    def page_y_at_top() -> float:
        return canvas.to_page(QPointF(canvas.mapFrom(view.viewport(), QPoint(0, 0))))[1]

    window.activateWindow()  # the shortcut goes to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum() // 5)  # down the page, not near its end
    before, zoom = page_y_at_top(), canvas.zoom
    assert before > 50
    QTest.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: window.word_dock.isVisible() and canvas.zoom < zoom * 0.9, timeout=10_000)
    assert abs(page_y_at_top() - before) < 2, (before, page_y_at_top())  # page units
    QTest.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not window.word_dock.isVisible() and abs(canvas.zoom - zoom) < 1e-6, timeout=10_000)
    assert abs(page_y_at_top() - before) < 2, (before, page_y_at_top())


def test_a_touchpad_pinch_zooms_and_space_drag_pans(make_window):
    from PyQt6.QtGui import QNativeGestureEvent, QPointingDevice

    window = make_window()
    canvas, view = window.canvas, window.view
    zoom, at = canvas.zoom, QPointF(100, 100)
    pinch = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(), 2, at, at, at, 0.5, QPointF()
    )
    QApplication.sendEvent(view.viewport(), pinch)
    assert canvas.zoom == pytest.approx(zoom * 1.5) and window.zoom_label.text().endswith("%")
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    before = view.verticalScrollBar().value()
    draw(canvas, [(200, 300), (200, 200), (200, 100)])  # with space held: a pan, not a stroke
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert view.verticalScrollBar().value() > before and canvas.strokes == []
    draw(canvas, [(200, 300), (240, 300)])
    assert len(canvas.strokes) == 1


@pytest.mark.parametrize("size", ["0.0001 1000000000", "5e-324 1000"])
def test_a_page_of_hostile_proportions_opens_shows_and_exports(make_window, tmp_path, size):
    """A file's page far narrower than it is tall (a hostile pageSize) made the guide
    lines thinner than a pixel: drawing them (on screen and in an exported PNG) never
    ended, nor did erasing on it (sub-pixel eraser steps). A page so narrow that its
    scale (page units per point) is 0 divided by zero in both."""
    path = tmp_path / "narrow.inkml"
    path.write_text(
        '<ink xmlns="http://www.w3.org/2003/InkML"><traceGroup>'
        f'<annotation type="page">1</annotation><annotation type="pageSize">{size}</annotation>'
        "<trace>0 0, 0 50</trace></traceGroup></ink>"
    )
    window = make_window(restore=False)
    window.set_page_style("squared")
    assert window.open_ink(str(path))
    window.canvas.repaint()
    assert window.export_png(tmp_path / "narrow.png")
    window.erase_action.trigger()
    draw(window.canvas, [(5, 5), (5, 400)])


def test_the_window_title_names_the_documents_file(make_window, tmp_path):
    window = make_window()
    assert window.windowTitle() == "handwrite"
    write(window, "hello-world.inkml", top=60)
    assert window.save_ink(str(tmp_path / "notes.inkml"))
    assert window.windowTitle().startswith("notes.inkml")
    window.new_document()
    assert window.windowTitle() == "handwrite"
    assert window.open_ink(str(tmp_path / "notes.inkml"))
    assert window.windowTitle().startswith("notes.inkml")

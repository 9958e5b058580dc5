"""Text on the page: each line's words over their ink; clicking a word corrects it."""

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QMenu

import handwrite
from gui.app import replay, wait_for_transcription
from tests.conftest import SAMPLE_INK

HANG_GUARD_MS = 60_000  # only for a menu that never opens; the tests wait for events, not for time


def written(make_window, qtbot, *names):
    window = make_window()
    top = None
    for name in names:
        top = replay(window, handwrite.read_ink(SAMPLE_INK / name), top=None if top is None else top + 30) + 10
    assert wait_for_transcription(window, 60)
    window.word_dock.toggleViewAction().trigger()  # View > Text on the page
    view = window.word_dock.view
    qtbot.waitUntil(lambda: view.isVisible() and bool(view.result.lines), timeout=HANG_GUARD_MS)
    return window, view


def click_word_and_pick(qtbot, view, line, word, pick):
    """Click a word; in the menu that opens, `pick(menu)` chooses an action, chosen with the keyboard."""
    seen = {}

    def answer():
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, answer)
            return
        action = pick(menu)
        seen["offered"] = [a.text() for a in menu.actions() if not a.isSeparator()]
        seen["picked"] = action.text()
        menu.setActiveAction(action)
        QTest.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.word_rect(line, word).center().toPoint())
    return seen


def test_each_line_s_text_is_shown_at_its_words_over_the_ink(make_window, qtbot):
    window, view = written(make_window, qtbot, "hello-world.inkml", "quick-fox.inkml")
    assert view.texts == window.line_texts() and len(view.texts) == 2
    first, second = (view.word_rect(0, 0), view.word_rect(1, 0))
    assert first.bottom() <= second.top()  # lines where they were written, in order
    assert view.word_rect(0, 0).right() <= view.word_rect(0, 1).left()  # words left to right
    assert view.word_at(view.word_rect(1, 2).center()) == (1, 2)


def test_picking_a_word_s_alternative_corrects_only_that_word_and_copy_gives_it(make_window, qtbot):
    window, view = written(make_window, qtbot, "hello-world.inkml")
    line = window.page_result().lines[0]
    word = len(line.words) - 1
    offered = [a.text for a in line.word_alternatives()[word]]
    assert offered, "the beam gave no other reading of the last word"
    seen = click_word_and_pick(qtbot, view, 0, word, lambda menu: menu.actions()[0])
    assert seen["offered"][: len(offered)] == offered and seen["offered"][-1] == "Type the word…"
    expected = " ".join([w.text for w in line.words[:word]] + [offered[0]])
    qtbot.waitUntil(lambda: window.transcription() == expected, timeout=HANG_GUARD_MS)
    window.copy_text()
    assert QApplication.clipboard().text() == expected
    assert view.texts == [expected]  # the view shows the correction


def test_typing_a_word_in_place_corrects_it_and_escape_leaves_it(make_window, qtbot):
    window, view = written(make_window, qtbot, "hello-world.inkml", "quick-fox.inkml")
    before = window.line_texts()
    QTest.mouseDClick(view, Qt.MouseButton.LeftButton, pos=view.word_rect(1, 0).center().toPoint())
    assert view.editor.isVisible() and view.editor.selectedText() == before[1].split()[0]
    QTest.keyClicks(view.editor, "A")
    QTest.keyClick(view.editor, Qt.Key.Key_Escape)
    assert not view.editor.isVisible() and window.line_texts() == before
    QTest.mouseDClick(view, Qt.MouseButton.LeftButton, pos=view.word_rect(1, 0).center().toPoint())
    QTest.keyClicks(view.editor, "A")
    QTest.keyClick(view.editor, Qt.Key.Key_Return)
    corrected = " ".join(["A", *before[1].split()[1:]])
    assert window.line_texts() == [before[0], corrected]
    assert window.transcription() == f"{before[0]}\n{corrected}"
    # a word typed as two: the line is then shown, and corrected, whole
    QTest.mouseDClick(view, Qt.MouseButton.LeftButton, pos=view.word_rect(0, 0).center().toPoint())
    QTest.keyClicks(view.editor, "oh hello")
    QTest.keyClick(view.editor, Qt.Key.Key_Return)
    assert window.line_texts()[0] == " ".join(["oh hello", *before[0].split()[1:]])
    assert view.word_at(view.word_rect(0, -1).center()) == (0, -1)


def test_the_view_is_shown_again_next_time_if_it_was_left_shown(make_window, qtbot):
    window = make_window()
    assert not window.word_dock.isVisible()
    window.word_dock.toggleViewAction().trigger()
    assert window.word_dock.isVisible()
    window.close()
    again = make_window()
    assert again.word_dock.isVisible()
    again.word_dock.close()  # its own close button
    again.close()
    assert not make_window().word_dock.isVisible()


def test_a_corrected_word_is_saved_and_comes_back_with_the_page(make_window, qtbot, tmp_path):
    window, view = written(make_window, qtbot, "hello-world.inkml", "quick-fox.inkml")
    QTest.mouseDClick(view, Qt.MouseButton.LeftButton, pos=view.word_rect(1, 1).center().toPoint())
    QTest.keyClicks(view.editor, "quack")
    QTest.keyClick(view.editor, Qt.Key.Key_Return)
    corrected = window.transcription()
    assert "quack" in corrected.split("\n")[1]
    assert window.save_ink(str(tmp_path / "notes.inkml"))
    again = make_window(restore=False)
    assert again.open_ink(str(tmp_path / "notes.inkml"))
    assert wait_for_transcription(again, 60)
    assert again.transcription() == corrected
    again.word_dock.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: again.word_dock.view.texts == corrected.split("\n"), timeout=HANG_GUARD_MS)


def _page_of(*texts):
    """A page's reading with one one-word line per text, lines 40 units apart."""
    lines = tuple(
        handwrite.Line(
            text,
            0.9,
            (0.0, 40.0 * n, 100.0, 40.0 * n + 30),
            (n,),
            (handwrite.Word(text, 0.9, (0.0, 40.0 * n, 100.0, 40.0 * n + 30), (n,)),),
            (handwrite.Alternative(text, 0.6), handwrite.Alternative(text + "s", 0.4)),
        )
        for n, text in enumerate(texts)
    )
    return handwrite.Result("\n".join(texts), 0.9, (), tuple(w for line in lines for w in line.words), lines=lines)


def test_a_word_menu_outlived_by_a_new_reading_of_the_page_changes_nothing(qtbot):
    """A word's menu runs its own event loop: a reading that arrives while it is open (the
    last pen-up's) replaces the lines it was made for. Picking from it then corrected
    whichever line now had that number, or raised (and aborted the app) when there was
    none; it now changes nothing, and typing from it opens no editor."""
    from gui.words import PageTextView

    view = PageTextView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    corrected = []
    view.line_corrected.connect(lambda line, text: corrected.append((line, text)))
    view.set_page(handwrite.Ink([]), _page_of("first", "second"))
    menu = view.word_menu(1, 0)
    view.set_page(handwrite.Ink([]), _page_of("other"))  # the newer reading, while the menu is open
    for action in menu.actions():
        action.trigger()
    assert corrected == [] and view.texts == ["other"] and not view.editor.isVisible()


@pytest.mark.parametrize("size", [(800, 500), (500, 360), (1600, 900)])
def test_the_dock_leaves_the_page_the_larger_part_of_the_window(make_window, qtbot, size):
    window, _ = written(make_window, qtbot, "hello-world.inkml")
    window.resize(*size)
    qtbot.waitUntil(lambda: window.word_dock.width() <= window.width() * 0.4 + 2, timeout=HANG_GUARD_MS)
    assert window.view.width() > window.word_dock.width()

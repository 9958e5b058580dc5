"""The drawing app, offscreen, driven through real input events."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QKeySequence
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QMessageBox

import handwrite
from gui import window as window_module
from gui.app import replay, wait_for_transcription
from tests.conftest import REPO, SAMPLE_INK


def draw(canvas, points):
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*points[0]))
    for point in points[1:]:
        QTest.mouseMove(canvas, QPoint(*point))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(*points[-1]))


def test_writing_a_line_shows_its_transcription(make_window):
    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "quick-fox.inkml"))
    assert wait_for_transcription(window, 30)
    text = window.transcription()
    assert text.startswith("the") and len(text) > 15
    assert window.latencies_ms and "recognized in" in window.statusBar().currentMessage()
    assert window.model_label.text().startswith("Model: bundled model online-default")  # beside it, kept


def test_mouse_strokes_are_recorded_undone_and_redone(make_window, qtbot):
    window = make_window()
    canvas = window.canvas
    draw(canvas, [(50, 60), (60, 70), (70, 60), (80, 75)])
    draw(canvas, [(100, 60), (110, 80), (120, 60)])
    assert len(canvas.strokes) == 2
    assert [len(s.points) for s in canvas.strokes] == [4, 3]
    canvas.undo_stack.undo()
    assert len(canvas.strokes) == 1
    canvas.undo_stack.redo()
    assert len(canvas.strokes) == 2
    # the menu action behind Ctrl+Z (offscreen windows never become active, so no key events)
    assert window.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    window.undo_action.trigger()
    assert len(canvas.strokes) == 1
    window.redo_action.trigger()
    assert len(canvas.strokes) == 2


def test_erase_removes_the_stroke_under_the_pen(make_window):
    window = make_window()
    canvas = window.canvas
    draw(canvas, [(50, 60), (90, 60)])
    draw(canvas, [(300, 60), (340, 60)])
    window.erase_action.trigger()
    draw(canvas, [(70, 61), (71, 61)])
    kept = canvas.to_page(QPointF(300, 60))[0]
    assert len(canvas.strokes) == 1 and canvas.strokes[0].points[0][0] == pytest.approx(kept, abs=1e-4)
    canvas.undo_stack.undo()
    assert len(canvas.strokes) == 2


def test_lines_are_recognized_separately_and_joined_in_order(make_window):
    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"), top=40)
    replay(window, handwrite.read_ink(SAMPLE_INK / "quick-fox.inkml"), top=160)
    assert wait_for_transcription(window, 30)
    assert [len(ink.strokes) for ink in window.line_inks()] == [7, 17]
    lines = window.transcription().split("\n")
    assert len(lines) == 2 and lines[1].startswith("the")


def test_save_and_open_round_trip(make_window, tmp_path):
    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    assert wait_for_transcription(window, 30)
    window.save_ink(str(tmp_path / "page.inkml"))
    saved = handwrite.read_ink(tmp_path / "page.inkml")
    assert len(saved.strokes) == len(window.canvas.strokes)
    assert saved.text is None  # recognized text is kept as such, never as ground truth
    window.canvas.clear()
    assert window.open_ink(str(tmp_path / "page.inkml"))
    assert len(window.canvas.strokes) == len(saved.strokes)


def test_malformed_file_shows_a_message_and_keeps_the_page(make_window, tmp_path, messages):
    window = make_window()
    draw(window.canvas, [(50, 60), (90, 60)])
    (tmp_path / "bad.inkml").write_text("<ink><trace>1 2")
    assert not window.open_ink(str(tmp_path / "bad.inkml"))
    assert messages and "malformed XML" in messages[-1]
    assert len(window.canvas.strokes) == 1


def test_corrupt_model_falls_back_to_the_bundled_one(make_window, tmp_path, messages):
    window = make_window()
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x00" * 64)
    assert not window.load_model(str(bad))
    assert "broken.safetensors" in messages[-1]
    assert window.model is not None and window.model_name == "bundled model online-default"


def test_autosave_brings_the_page_back(make_window):
    window = make_window()
    draw(window.canvas, [(50, 60), (60, 70), (70, 60)])
    window.autosave()
    again = make_window()
    assert len(again.canvas.strokes) == 1
    assert again.canvas.strokes[0].points == window.canvas.strokes[0].points


def test_autosave_brings_back_the_document_s_file_name(make_window, asked):
    window = make_window()
    assert window.open_ink(str(REPO / "data" / "notes" / "notebook.xopp"))
    draw(window.canvas, [(50, 60), (60, 70), (70, 60)])
    window.close()  # autosaved, as a crash would leave it
    again = make_window()
    assert again.path == str(REPO / "data" / "notes" / "notebook.xopp") and "notebook.xopp" in again.windowTitle()
    assert again.may_discard() and asked == ["Discard the document?"]  # the page brought back is unsaved work
    again.close()  # autosaved again, with its name
    # a crash after a newer page was autosaved but before its name was: no name, not the old one
    again.autosave_path().write_bytes(SAMPLE_INK.joinpath("quick-fox.inkml").read_bytes())
    third = make_window()
    assert third.path is None and len(third.canvas.strokes) > 0


def test_a_saved_document_brought_back_is_not_unsaved_work(make_window, asked, tmp_path):
    """Saved, closed and started again: the file holds what comes back, so replacing it
    asks nothing; once the file holds other writing, it asks again."""
    for name in ("saved.inkml", "saved.xopp"):  # a notebook keeps no times: told apart all the same
        asked.clear()
        saved = tmp_path / name
        window = make_window()
        window.show_document(window_module.Document())
        draw(window.canvas, [(50, 60), (60, 70), (70, 60)])
        assert window.save_ink(str(saved))
        window.close()
        again = make_window()
        assert again.path == str(saved) and len(again.canvas.strokes) == 1
        assert again.may_discard() and asked == [], name
        again.close()
        saved.write_bytes(saved.read_bytes() + b" ")  # changed by someone else since
        third = make_window()
        assert third.may_discard() and asked == ["Discard the document?"], name
        third.close()


def test_a_replay_window_leaves_the_user_s_autosave_alone(make_window, tmp_path):
    """`handwrite gui --replay` (and the scripts that drive a window) neither restores nor
    writes the autosave: the replayed ink replaced the user's unsaved page on close."""
    mine = make_window()
    draw(mine.canvas, [(50, 60), (60, 70), (70, 60)])
    mine.close()  # the user's page, autosaved
    saved = mine.autosave_path().read_bytes()
    replaying = make_window(restore=False)
    assert not replaying.canvas.strokes
    replay(replaying, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    assert wait_for_transcription(replaying, 30)
    replaying.autosave()
    replaying.close()
    assert replaying.autosave_path().read_bytes() == saved


def test_a_closed_window_writes_no_late_autosave(make_window, qtbot, monkeypatch, tmp_path):
    """The pending autosave is done on close, not by a timer firing afterwards
    (into whatever the data folder is by then)."""
    window = make_window()
    draw(window.canvas, [(50, 60), (60, 70), (70, 60)])
    window.close()
    later = tmp_path / "elsewhere"
    monkeypatch.setattr(window_module, "data_dir", lambda: later)
    qtbot.wait(window_module.AUTOSAVE_MS + 500)
    assert not later.exists()


def test_drawing_while_recognizing_never_blocks(make_window):
    window = make_window()
    for i in range(30):
        draw(window.canvas, [(30 + 20 * i, 60), (40 + 20 * i, 75), (45 + 20 * i, 55)])
    assert wait_for_transcription(window, 30)
    assert window.last_shown_request == window.live.latest


def test_picking_an_alternative_replaces_the_line(make_window):
    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    assert wait_for_transcription(window, 30)
    window.choose_alternative(0, "picked text")
    assert window.transcription() == "picked text"


def test_replay_command_prints_text_saves_screenshot_and_text(tmp_path):
    shot = tmp_path / "shot.png"
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "handwrite",
            "gui",
            "--replay",
            str(SAMPLE_INK / "quick-fox.inkml"),
            "--screenshot",
            str(shot),
            "--text-out",
            str(tmp_path / "page.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("the")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "page.txt").read_text(encoding="utf-8") == done.stdout.strip().splitlines()[-1] + "\n"
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"shot.png", "page.txt"}  # no settings, no autosave in the user's home


def test_a_replay_reads_with_the_model_named_and_refuses_one_it_cannot_use(tmp_path, monkeypatch, capsys):
    from gui import app

    opened = []

    class Spied(app.MainWindow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(app, "MainWindow", Spied)
    hello = str(SAMPLE_INK / "hello-world.inkml")
    assert app.main(["-m", "online-gru", "--replay", hello]) == 0
    assert opened[-1].model_name == "bundled model online-gru"
    assert capsys.readouterr().out.splitlines()[-1] == "hello world"
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 64)
    assert app.main(["-m", str(broken), "--replay", hello]) == 1
    assert capsys.readouterr().err.startswith(f"handwrite gui: {broken}: ")
    assert app.main(["-m", "image-default", "--replay", hello]) == 1  # a replay writes ink: not read as pictures
    assert "image-default: an image model, and an ink model is needed here" in capsys.readouterr().err


def test_a_model_chosen_by_a_relative_path_is_remembered_as_its_file(make_window, tmp_path, monkeypatch):
    """The next start may be from another folder: the setting names the file itself."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(handwrite.default_model_path("ink"), tmp_path / "mine.safetensors")
    window = make_window()
    assert window.load_model("mine.safetensors")
    assert window.settings.value("model_path") == str(tmp_path / "mine.safetensors")
    (tmp_path / "latest.safetensors").symlink_to(tmp_path / "mine.safetensors")  # one to point elsewhere later
    assert window.load_model("latest.safetensors")
    assert window.settings.value("model_path") == str(tmp_path / "latest.safetensors")


def test_copy_text_and_export_png(make_window, tmp_path):
    from PyQt6.QtWidgets import QApplication

    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    assert wait_for_transcription(window, 30)
    window.copy_text()
    assert QApplication.clipboard().text() == window.transcription()
    window.export_png(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in tmp_path.iterdir() if p.name != "page.png" and "page" in p.name]


def test_settings_remember_the_chosen_model(make_window, tmp_path):
    import shutil

    from handwrite.recognizer import DEFAULT_INK_MODEL

    custom = tmp_path / "mine.safetensors"
    shutil.copy(DEFAULT_INK_MODEL, custom)
    window = make_window()
    assert window.load_model(str(custom))
    window.close()
    again = make_window()
    assert again.model_name == "mine.safetensors"


def test_the_language_model_is_on_until_turned_off_and_that_is_remembered(make_window):
    window = make_window()
    assert window.lm_action.isChecked() and window.model.decoding.lm is not None
    assert "English language model" in window.model_label.text()
    window.lm_action.trigger()
    assert window.model.decoding.lm is None and "language model" not in window.model_label.text()
    again = make_window()
    assert not again.lm_action.isChecked() and again.model.decoding.lm is None


def test_open_image_shows_it_with_its_transcription(make_window, tiny_image_model, labelled_images):
    window = make_window()
    window.load_model(str(tiny_image_model))  # an image model: kept for images, the canvas keeps ink
    assert window.model.kind == "ink" and window.image_model.kind == "image"
    path = sorted(labelled_images.glob("*.png"))[0]
    dialog = window.open_image(str(path), show=False)
    assert dialog is not None and not dialog.preview.pixmap().isNull()
    assert dialog.text.toPlainText() == window.image_model.recognize(path).text
    dialog.copy_text()
    assert QApplication.clipboard().text() == dialog.text.toPlainText()


def test_an_image_s_unsure_words_are_shown_faint_as_in_the_text_pane(qtbot, labelled_images):
    from gui.image_view import ImageTranscriptionDialog
    from gui.theme import page_colors

    words = (handwrite.Word("the", 0.98, (0, 0, 9, 9)), handwrite.Word("quck", 0.31, (10, 0, 19, 9)))
    line = handwrite.Line("the quck", 0.6, (0, 0, 19, 9), (), words)
    result = handwrite.Result("the quck\nfox", 0.7, lines=(line, handwrite.Line("fox", 0.9, (0, 20, 9, 29))))
    dialog = ImageTranscriptionDialog(sorted(labelled_images.glob("*.png"))[0], result)
    qtbot.addWidget(dialog)
    faint = page_colors(dialog.text.palette()).unsure.name()
    marked = dialog.text.toHtml()
    assert marked.count(f"color:{faint}") == 1 and marked.index("quck") > marked.index(f"color:{faint}")
    assert dialog.text.toPlainText() == "the quck\nfox"


def test_open_a_broken_image_says_why(make_window, tmp_path, messages, tiny_image_model):
    window = make_window()
    window.load_model(str(tiny_image_model))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert window.open_image(str(tmp_path / "broken.png"), show=False) is None
    assert any("broken.png" in m for m in messages)


def test_an_image_the_reader_fails_on_unexpectedly_is_said_and_the_app_goes_on(
    make_window, tmp_path, messages, tiny_image_model
):
    """Any error out of reading an image, not only the library's own: an exception escaping
    a menu's slot aborts a PyQt app. (Dust alone, no blob of two pixels, raised IndexError
    in the page layout.)"""
    from PIL import Image

    window = make_window()
    window.load_model(str(tiny_image_model))
    dust = np.full((120, 160), 255, np.uint8)
    dust[::2, ::2] = 0
    Image.fromarray(dust).save(tmp_path / "dust.png")
    shown = window.open_image(str(tmp_path / "dust.png"), show=False)
    assert shown is not None or any("dust.png" in m for m in messages)


def test_replaying_a_notebook_keeps_its_lines_apart(tmp_path):
    """A two-page .xopp notebook: each line on its own ruled line, pages one after the
    other; --text-out has every line, stdout's last line the whole page."""
    notebook = REPO / "data" / "notes" / "notebook.xopp"
    truth = (REPO / "data" / "notes" / "notebook.gt.txt").read_text(encoding="utf-8").split("\n")
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "handwrite", "gui", "--replay", str(notebook), "--text-out", str(tmp_path / "t")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t").read_text(encoding="utf-8").split("\n")[:-1] == [line for line in truth if line]
    assert done.stdout.strip().splitlines()[-1] == " ".join(line for line in truth if line)


def test_an_alternative_picked_after_a_newer_reading_changes_nothing(make_window, monkeypatch):
    """The alternatives menu runs its own event loop: a reading that arrives while it is
    open may put the lines in another order, and the pick went to whichever line then had
    the number of the one clicked."""
    from dataclasses import replace

    from gui.recognition import PageReading

    window = make_window()
    bottom = replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    replay(window, handwrite.read_ink(SAMPLE_INK / "quick-fox.inkml"), top=bottom + 30)
    assert wait_for_transcription(window, 60)
    before = window.line_texts()
    assert len(before) == 2

    def newer_reading_then_first(menu, *args):
        reading = window.reading()  # the same lines, the other way round
        lines = reading.result.lines[::-1]
        newer = PageReading(replace(reading.result, lines=lines), reading.keys[::-1], 0)
        window.readings = {window.document.page.serial: newer}
        return menu.actions()[1]

    monkeypatch.setattr(window_module.QMenu, "exec", newer_reading_then_first)
    window._pick_alternative(window_module.QUrl("line:0"))
    assert window.line_texts() == before[::-1]  # no line took the other's alternative


def test_the_alternatives_menu_offers_distinct_readings_and_marks_the_line_s_text(make_window, monkeypatch):
    from dataclasses import replace

    from gui.recognition import PageReading

    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    assert wait_for_transcription(window, 60)
    reading = window.reading()
    beam = [("hello world", 0.996), ("hello world ", 0.001), ("hella world", 0.03), ("hello warld", 0.001)]
    beam += [(f"hello w{'o' * n}rld", 0.0) for n in range(2, 6)]
    line = replace(reading.result.lines[0], alternatives=tuple(handwrite.Alternative(*a) for a in beam))
    crafted = PageReading(replace(reading.result, lines=(line,)), reading.keys, 0)
    window.readings = {window.document.page.serial: crafted}
    window.set_line_text(0, "hella world")
    offered = {}

    labels = []

    def look(menu, *args):
        offered.update({a.data(): a.isChecked() for a in menu.actions()})
        labels.extend(a.text() for a in menu.actions())

    monkeypatch.setattr(window_module.QMenu, "exec", look)
    window._pick_alternative(window_module.QUrl("line:0"))
    assert offered == {"hello world": False, "hella world": True, "hello warld": False}
    # sure is not certain, and a reading offered is not impossible: never 100% or 0%
    assert labels == ["hello world    (>99%)", "hella world    (3%)", "hello warld    (<1%)"]


def test_new_or_open_asks_before_discarding_unsaved_writing(make_window, qtbot, asked, tmp_path):
    """Ctrl+N (and File > Open) replaced a page nobody had saved without a word, and no
    undo brought it back; now they ask, and Cancel keeps the page."""
    window = make_window()
    window.activateWindow()  # the shortcut goes to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    draw(window.canvas, [(50, 60), (90, 70), (130, 60)])
    asked.answer = QMessageBox.StandardButton.Cancel
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File > New document
    assert asked and len(window.canvas.strokes) == 1  # asked, and kept
    assert not window.open_ink(str(SAMPLE_INK / "quick-fox.inkml")) and len(window.canvas.strokes) == 1
    assert window.save_ink(str(tmp_path / "page.inkml"))
    asked.clear()
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # saved: nothing to ask
    assert not asked and window.canvas.strokes == []
    draw(window.canvas, [(50, 60), (90, 70), (130, 60)])
    asked.answer = QMessageBox.StandardButton.Discard
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert asked and window.canvas.strokes == []


def test_the_text_pane_stays_where_the_user_scrolled_it_after_a_pen_up(make_window, qtbot):
    """Every reading wrote the pane anew and scrolled it back to the first line: on a page
    of more lines than it shows, the user scrolled down to read the end, wrote a stroke,
    and was thrown back to the top."""
    window = make_window()
    for top in range(40, 700, 75):
        replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"), top=top)
    assert wait_for_transcription(window, 60)
    bar = window.text_view.verticalScrollBar()
    assert bar.maximum() > 0, "the pane should hold more lines than it shows"
    bar.setValue(bar.maximum())  # scrolled to the page's last lines
    at = bar.value()
    y = round(window.canvas.to_widget(0, 780).y())  # a new line at the page's foot
    draw(window.canvas, [(100, y), (140, y - 20), (180, y)])
    qtbot.waitUntil(lambda: window.last_shown_request == window.live.latest and len(window.page_result().lines) > 9)
    assert bar.value() >= at, (bar.value(), at)


def test_handwrite_gui_and_the_app_take_the_same_flags():
    """One flag table (gui/flags.py): `handwrite gui` and the app's own parser cannot drift."""
    import argparse

    from gui.app import build_parser
    from handwrite.cli import build_parser as cli_parser

    def options(parser: argparse.ArgumentParser) -> dict[str, tuple[str | None, str | None]]:
        return {a.option_strings[-1]: (a.metavar, a.help) for a in parser._actions if a.option_strings}

    cli = cli_parser(flags_of={"gui"})
    subparsers = next(a for a in cli._actions if isinstance(a, argparse._SubParsersAction))
    assert options(subparsers.choices["gui"]) == options(build_parser())
    assert {"--replay", "--screenshot", "--text-out"} <= set(options(build_parser()))

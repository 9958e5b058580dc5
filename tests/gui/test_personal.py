"""Keeping samples and training on them from the app."""

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import QProcess
from PyQt6.QtWidgets import QDialogButtonBox, QPushButton

import handwrite
from gui.app import replay, wait_for_transcription
from gui.personal import SampleBrowser, TrainDialog
from tests.conftest import SAMPLE_INK


def write(window, name="hello-world.inkml"):
    replay(window, handwrite.read_ink(SAMPLE_INK / name))
    assert wait_for_transcription(window, 30)


def test_keep_corrected_text_as_a_sample_in_one_step(make_window):
    window = make_window()
    write(window)
    assert window.keep_sample(["hello world"]) == 1
    kept = window.store.samples()
    assert [s.text for s in kept] == ["hello world"]
    assert kept[0].ink().num_points == window.canvas.page_ink().num_points


def test_keep_with_mismatched_lines_is_refused_and_keeps_nothing(make_window, messages):
    window = make_window()
    write(window)
    assert window.keep_sample(["one", "two", "three"]) == 0
    assert "lines of text" in messages[-1] and len(window.store) == 0


def test_copy_a_sentence_mode_prompts_then_keeps_and_moves_on(make_window):
    window = make_window()
    window.copy_mode_action.trigger()
    first = window.prompt.text()
    assert window.prompt_bar.isVisible() and first
    write(window)
    window.keep_prompted_sentence()
    assert [s.text for s in window.store.samples()] == [first]
    assert window.canvas.strokes == [] and window.prompt.text() != first


def open_browser(window, qtbot) -> SampleBrowser:
    write(window)
    window.keep_sample(["hello world"])
    browser = SampleBrowser(window.store, window)
    qtbot.addWidget(browser)
    browser.list.setCurrentRow(0)
    return browser


def test_sample_browser_lists_relabels_and_deletes(make_window, qtbot):
    window = make_window()
    browser = open_browser(window, qtbot)
    assert browser.list.count() == 1
    browser.relabel("hello there")
    assert browser.list.item(0).text() == "hello there"
    assert [s.text for s in window.store.samples()] == ["hello there"]
    assert browser.list.currentRow() == 0  # still selected
    button = next(b for b in browser.findChildren(QPushButton) if b.text() == "Delete")
    button.click()
    assert browser.list.count() == 0 and len(window.store) == 0


def test_a_full_disk_in_the_browser_is_shown_and_loses_nothing(make_window, qtbot, messages, monkeypatch, tmp_path):
    window = make_window()
    browser = open_browser(window, qtbot)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:  # only this patch: make_window's data folder stays
        patched.setattr("os.fsync", disk_full)
        browser.relabel("changed")
        assert "No space left on device" in messages[-1]
        browser.export(str(tmp_path / "exported"))
        assert "No space left on device" in messages[-1]
        assert not list((tmp_path / "exported").iterdir())  # no half-written copy
    assert [s.text for s in window.store.samples()] == ["hello world"]
    assert browser.list.item(0).text() == "hello world"


def test_train_on_my_samples_in_a_background_process(make_window, qtbot, tmp_path):
    window = make_window()
    for name in ("hello-world.inkml", "quick-fox.inkml", "meeting.inkml", "handwriting.inkml"):
        window.canvas.clear()
        write(window, name)
        window.keep_sample([handwrite.read_ink(SAMPLE_INK / name).text])
    output = tmp_path / "personal.safetensors"
    dialog = TrainDialog(window.store, None, output, window, extra_args=["--max-steps", "3"])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.process.state() == QProcess.ProcessState.NotRunning, timeout=120_000)
    assert dialog.use_button.isEnabled(), dialog.error
    assert "before" in dialog.status.text() and output.exists()
    assert window.load_model(str(output))


def test_cancelling_training_writes_no_model(make_window, qtbot, tmp_path):
    window = make_window()
    write(window)
    window.keep_sample(["hello world"])
    write(window, "quick-fox.inkml")
    output = tmp_path / "personal.safetensors"
    dialog = TrainDialog(window.store, None, output, window)
    qtbot.addWidget(dialog)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert not output.exists()

"""Fixtures for the app's tests: a window with its own settings and data folder."""

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import QSettings, QStandardPaths
from PyQt6.QtWidgets import QMessageBox

from gui import window as window_module
from gui.window import MainWindow

# Anything not redirected explicitly lands in Qt's test locations, never the user's data.
QStandardPaths.setTestModeEnabled(True)


@pytest.fixture
def messages(monkeypatch):
    """QMessageBox calls, recorded instead of shown (they would block)."""
    shown = []
    for kind in ("warning", "information"):
        monkeypatch.setattr(window_module.QMessageBox, kind, lambda parent, title, text, k=kind: shown.append(text))
    return shown


@pytest.fixture
def asked(monkeypatch):
    """QMessageBox.question calls (their titles), recorded instead of shown and answered
    with `asked.answer`: Discard unless a test says otherwise."""

    class Asked(list):
        answer = QMessageBox.StandardButton.Discard

    shown = Asked()

    def question(parent, title, text, *args, **kwargs):
        shown.append(title)
        return shown.answer

    monkeypatch.setattr(window_module.QMessageBox, "question", question)
    return shown


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch, messages, asked):
    # the app's data folder and the library's (the personal model's) are the same one
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(window_module, "data_dir", lambda: tmp_path / "handwrite")

    windows = []

    def make(restore: bool = True) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, use_autosave=restore)
        qtbot.addWidget(window)
        windows.append(window)
        window.resize(1000, 640)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    for window in windows:  # closed (and autosaved) while data_dir still points into tmp_path
        window.close()

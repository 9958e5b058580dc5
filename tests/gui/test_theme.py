"""Dark mode: with a dark palette the page, its ink, the text pane, the prompt and
the text on the page are light on dark; with a light one, dark on light."""

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtGui import QColor, QImage, QPalette, QPixmap
from PyQt6.QtWidgets import QApplication, QWidget

import handwrite
from gui.app import replay, wait_for_transcription
from tests.conftest import SAMPLE_INK


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#17181b"),
        (QPalette.ColorRole.AlternateBase, "#2a2b2f"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#2a2b2f"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Link, "#8ab4f8"),
    ):
        palette.setColor(role, QColor(color))
    return palette


@pytest.fixture(params=["light", "dark"])
def scheme(request):
    app = QApplication.instance()
    before = app.palette()
    if request.param == "dark":
        app.setPalette(dark_palette())
    yield request.param
    app.setPalette(before)


def lightness(shown: QWidget | QPixmap) -> tuple[int, int]:
    """(the commonest lightness: the background; the lightness farthest from it: the
    writing) of what a widget shows, or of a picture."""
    pixmap = shown.grab() if isinstance(shown, QWidget) else shown
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)
    seen: dict[int, int] = {}
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            value = image.pixelColor(x, y).lightness()
            seen[value] = seen.get(value, 0) + 1
    background = max(seen, key=seen.get)
    writing = max(seen, key=lambda value: abs(value - background) if seen[value] >= 3 else -1)
    return background, writing


def readable(widget: QWidget | QPixmap, scheme: str) -> bool:
    """Dark writing on a light background, or the other way round in dark mode, with
    enough contrast to read."""
    background, writing = lightness(widget)
    light_on_dark = background < 90 and writing > 170
    dark_on_light = background > 200 and writing < 110
    return light_on_dark if scheme == "dark" else dark_on_light


def written(make_window, qtbot):
    """A window with a line written, read, and View > Text on the page showing it."""
    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))
    assert wait_for_transcription(window, 60)
    window.word_dock.toggleViewAction().trigger()
    view = window.word_dock.view
    qtbot.waitUntil(lambda: view.isVisible() and bool(view.result.lines), timeout=60_000)
    return window, view


def test_page_ink_text_prompt_and_text_on_the_page_are_readable(make_window, qtbot, scheme):
    window, view = written(make_window, qtbot)
    for widget in (window.canvas, window.text_view.viewport(), view):
        assert readable(widget, scheme), (type(widget).__name__, lightness(widget))
    window.copy_mode_action.trigger()  # Copy a sentence: the prompt over a page of its own
    assert window.prompt.text() and readable(window.prompt, scheme), lightness(window.prompt)


def test_a_desktop_switching_to_dark_while_the_app_runs_is_followed(make_window, qtbot):
    app = QApplication.instance()
    before = app.palette()
    window, view = written(make_window, qtbot)
    try:
        app.setPalette(dark_palette())
        for widget in (window.canvas, window.text_view.viewport(), view):
            qtbot.waitUntil(lambda widget=widget: readable(widget, "dark"), timeout=10_000)
    finally:
        app.setPalette(before)


def test_the_sample_browser_s_thumbnails_are_readable(make_window, qtbot, scheme):
    from gui.personal import SampleBrowser

    window = make_window()
    window.store.add(handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"), "hello world")
    browser = SampleBrowser(window.store, window)
    qtbot.addWidget(browser)
    thumbnail = browser.list.item(0).icon().pixmap(browser.list.iconSize())
    assert readable(thumbnail, scheme), lightness(thumbnail)


def test_an_exported_page_is_dark_ink_on_light_paper_in_either_mode(make_window, scheme, tmp_path):
    """File > Export page as PNG gives the page as paper (as the searchable PDF does),
    not as the screen shows it: dark mode must not export white ink on a dark page."""
    window = make_window()
    replay(window, handwrite.read_ink(SAMPLE_INK / "hello-world.inkml"))  # real mouse events
    assert window.export_png(str(tmp_path / "page.png"))
    assert readable(QPixmap(str(tmp_path / "page.png")), "light"), lightness(QPixmap(str(tmp_path / "page.png")))

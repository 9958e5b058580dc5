"""The main window: the page above (scrolling, zooming, several pages), live
transcription of the shown page below, menus, status bar, settings and autosave.

For views over the page (word correction and the like): `page_result()` is the
shown page's recognition (lines in reading order, boxes, words and stroke
indices in page coordinates), `line_texts()` its text with the user's
corrections, `set_line_text()` corrects a line, and `results_changed` fires
whenever any of these may have changed."""

from __future__ import annotations

import hashlib
import html
import math
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from PyQt6.QtCore import QByteArray, QEvent, QEventLoop, QIODevice, QSaveFile, QSettings, Qt, QTimer, QUrl, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QKeySequence, QPalette, QPixmap, QTextCursor
from PyQt6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import handwrite
from gui.canvas import STYLES, InkCanvas, PageView
from gui.dialogs import (
    about_dialog,
    confirm,
    counted,
    model_info_dialog,
    model_metadata,
    network_in_brief,
    open_file,
    save_file,
)
from gui.document import Document
from gui.image_view import IMAGE_FILTER, IMAGE_SUFFIXES, ImageTranscriptionDialog
from gui.personal import KeepSampleDialog, SampleBrowser, TrainDialog, is_personal, personal_in_brief, personal_models
from gui.recognition import LineKey, LiveRecognizer, PageReading, PageStrokes
from gui.theme import UNSURE, Banner, page_colors
from gui.words import add_word_view

DEBOUNCE_MS = 0  # the events of one pen-up (or one erase swipe's moves) make one request: the next loop turn
AUTOSAVE_MS = 800
AUTOSAVED_FILE = "autosaved_document_file"  # settings key: the file of the document last autosaved
EXPORT_WAIT_S = 60.0  # a searchable PDF waits this long at most for pages still being read
OPEN_FILTER = "Ink and notebooks (*.inkml *.xopp *.xml *.json)"
SAVE_FILTER = "InkML pages (*.inkml);;Xournal++ notebook (*.xopp)"
PNG_POINTS = 2.0  # an exported page image has this many pixels per point of an A4-wide page (144 dpi)


def data_dir() -> Path:
    """Samples, the personal model and the autosave: the library's data folder, so
    `handwrite.SampleStore()` and `handwrite finetune` see what the app collected."""
    return handwrite.data_home()


def model_name(path: str | None) -> str:
    """How the app names an ink model: "bundled model NAME" for one shipped with
    handwrite (path None: the default), "your personal model" for the one trained on
    the user's samples, else the file's name."""
    file = model_file(path, "ink").resolve()
    bundled = {found.resolve(): name for name, found in handwrite.bundled_models().items()}
    mine = {personal.resolve(): label for personal, label in personal_models()}
    return f"bundled model {bundled[file]}" if file in bundled else mine.get(file, file.name)


def model_file(path: str | None, kind: str) -> Path:
    """The file a remembered model setting means: None (or "") the bundled model of
    the kind, a bare bundled name (as `-m` takes it) that model, else the path."""
    if not path:
        return handwrite.default_model_path(kind)
    bundled = handwrite.bundled_models()
    return bundled[path] if path in bundled and not Path(path).is_file() else Path(path)


class MainWindow(QMainWindow):
    results_changed = pyqtSignal()  # page_result(), line_texts() or the shown page changed

    def __init__(self, settings: QSettings | None = None, use_autosave: bool = True) -> None:
        """`use_autosave`: bring back the page autosaved last time and autosave this one.
        Off for a replay and the windows scripts drive, which must leave the user's
        unsaved page alone."""
        super().__init__()
        self.setWindowTitle("handwrite")
        self.settings = settings or QSettings("handwrite", "handwrite")
        self.canvas = InkCanvas()
        self.canvas.set_style(self.settings.value("page_style", "ruled", str))
        self.view = PageView(self.canvas)
        self.text_view = QTextBrowser()
        self.text_view.setOpenLinks(False)
        self.text_view.anchorClicked.connect(self._pick_alternative)
        # an action is the user's (wheel, bar, keys), never the program's setValue; seen once it is done
        # (a scroll Qt makes itself, Tab between the line links, does not stop the following)
        self.text_view.verticalScrollBar().actionTriggered.connect(
            lambda _: QTimer.singleShot(0, self._text_scrolled_by_user)
        )
        self.text_view.setPlaceholderText("Write anywhere on the page above; the text appears here.")
        # size and margin set directly: a style sheet would keep the pane's colours when the palette changes
        font = self.text_view.font()
        font.setPixelSize(18)
        self.text_view.setFont(font)
        self.text_view.document().setDocumentMargin(8)
        self.prompt = Banner()
        keep_prompt = QPushButton("Keep and next")
        keep_prompt.clicked.connect(self.keep_prompted_sentence)
        self.prompt_bar = QWidget()
        bar_layout = QHBoxLayout(self.prompt_bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.addWidget(QLabel(" Write this sentence on the page:"))  # the banner alone read like a question
        bar_layout.addWidget(self.prompt, 1)
        bar_layout.addWidget(keep_prompt)
        self.prompt_bar.hide()
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(0)
        page_layout.addWidget(self.prompt_bar)
        page_layout.addWidget(self.view, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(page)
        splitter.addWidget(self.text_view)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)

        self.readings: dict[int, PageReading] = {}  # page serial -> the newest reading of that page
        self.corrections: dict[LineKey, str] = {}  # a line's text as the user set it, while its strokes stay
        self._path: str | None = None  # the file the document was opened from or saved to
        self._saved_strokes: tuple = ()  # the document's strokes as last opened or saved (see may_discard)
        self._saved_corrections: dict[LineKey, str] = {}  # the corrections the file opened or saved holds
        self._text_page = 0  # the page whose text the text pane shows (its serial)
        self._text_follows = True  # the text pane scrolls to the line just written (see _render_text)
        # saved page texts by page serial, until the opened pages are read (by serial: a page
        # deleted or added meanwhile must not give its text to another)
        self._restoring: dict[int, str | None] = {}
        self._restoring_saved = False  # whether those texts are a file's the user opened (not an autosave)
        self.latencies_ms: list[float] = []
        self.last_shown_request = 0
        self._pen_up_at: float | None = None
        self.model: handwrite.Recognizer | None = None
        self.image_model: handwrite.Recognizer | None = None  # for File > Open image, loaded when first used
        self.image_model_path: str | None = self.settings.value("image_model_path", "", str) or None  # None: bundled
        self._set_aside: SetAside | None = None  # the document put aside while copying sentences

        self.live = LiveRecognizer(self)
        self.live.recognized.connect(self._show_results)
        self.live.error.connect(lambda message: self.statusBar().showMessage(f"Recognition failed: {message}"))
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self._request_recognition)
        self._autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS, timeout=self.autosave)
        self.canvas.stroke_finished.connect(self._on_pen_up)
        self.canvas.changed.connect(self._on_page_changed)
        self.canvas.page_shown.connect(self._on_page_shown)
        self.page_label = QLabel()
        self.zoom_label = QLabel()
        self.model_label = QLabel()  # always shown: passing messages (timings, "Saved …") never hide it
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.page_label)
        self.view.zoomed.connect(self._show_zoom)

        self._build_menus()
        self.load_model(self.settings.value("model_path", "", str) or None, quiet=True)
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1000, 640)
        self.use_autosave = use_autosave
        if use_autosave:
            self._restore_autosave()
        self._on_page_shown()
        QTimer.singleShot(0, self.view.fit_width)  # once the window has its size

    # ---- menus --------------------------------------------------------------

    @property
    def path(self) -> str | None:
        return self._path

    @path.setter
    def path(self, path: str | None) -> None:
        """The document's file; the window's title names it."""
        self._path = path
        self.setWindowTitle(f"{Path(path).name} \u2013 handwrite" if path else "handwrite")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&New document", self.new_document, QKeySequence.StandardKey.New)
        self._action(file_menu, "&Open ink or notebook…", self.open_ink, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &image…", self.open_image, "Ctrl+Shift+O")
        self._action(file_menu, "&Save…", self.save_ink, QKeySequence.StandardKey.Save)
        self._action(file_menu, "&Export page as PNG…", self.export_png, "Ctrl+E")
        self._action(file_menu, "Export searchable &PDF…", self.export_pdf, "Ctrl+Shift+E")
        file_menu.addSeparator()
        self.models_menu = file_menu.addMenu("&Models")
        # filled each time it opens, so the ticks follow the models in use
        self.models_menu.aboutToShow.connect(self._fill_models_menu)
        self._action(file_menu, "Choose &model file…", self.choose_model, "Ctrl+M")
        self._action(file_menu, "Model &info", self.show_model_info, "Ctrl+I")
        self.lm_action = self._action(file_menu, "English &language model", self._toggle_language_model, "Ctrl+L")
        self.lm_action.setCheckable(True)
        # on unless turned off: on IAM-OnDB testset_t it takes the online model from 6.69% to 5.50% CER
        self.lm_action.setChecked(self.settings.value("language_model", True, bool))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = self.menuBar().addMenu("&Edit")
        # kept on self: PyQt would otherwise delete these actions with their wrappers
        self.undo_action = undo = self.canvas.undo_group.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = redo = self.canvas.undo_group.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
        edit.addActions([undo, redo])
        self.addActions([undo, redo])
        self.erase_action = self._action(edit, "&Erase strokes", self._toggle_erase, "E")
        self.erase_action.setCheckable(True)
        self._action(edit, "C&lear page", self.canvas.clear, "Ctrl+Shift+Delete")
        edit.addSeparator()
        self._action(edit, "&Copy text", self.copy_text, QKeySequence.StandardKey.Copy)
        self._build_view_menus()
        samples = self.menuBar().addMenu("&Samples")
        self._action(samples, "&Keep as sample…", self.keep_sample, "Ctrl+K")
        self.copy_mode_action = self._action(samples, "&Copy a sentence mode", self._toggle_copy_mode, "Ctrl+Shift+K")
        self.copy_mode_action.setCheckable(True)
        self._action(samples, "&Browse samples…", self.browse_samples, "Ctrl+B")
        samples.addSeparator()
        self._action(samples, "&Train on my samples…", self.train_on_samples, "Ctrl+T")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About handwrite", lambda: about_dialog(self, (self.model, self.image_model)).exec())
        toolbar = self.addToolBar("Edit")
        toolbar.setObjectName("edit-toolbar")
        toolbar.addActions([undo, redo, self.erase_action])
        toolbar.addAction("Clear", self.canvas.clear)
        toolbar.addAction("Copy text", self.copy_text)

    def _build_view_menus(self) -> None:
        """View: guide lines (a background only: write anywhere) and zoom; Page: the document's pages."""
        view = self.menuBar().addMenu("&View")
        self.style_actions = QActionGroup(self)
        for style in STYLES:
            action = self._action(view, f"{style.capitalize()} page", lambda s=style: self.set_page_style(s))
            action.setCheckable(True)
            action.setChecked(style == self.canvas.style)
            action.setData(style)
            self.style_actions.addAction(action)
        view.addSeparator()
        zoom_in = self._action(view, "Zoom &in", lambda: self.view.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        # + is Shift+= on most keyboards: Ctrl and that key without Shift zooms in too
        keys = QKeySequence.keyBindings(QKeySequence.StandardKey.ZoomIn)
        zoom_in.setShortcuts(keys + [QKeySequence("Ctrl+=")] * (QKeySequence("Ctrl+=") not in keys))
        self._action(view, "Zoom &out", lambda: self.view.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        self._action(view, "&Fit page width", self.view.fit_width, "Ctrl+0")
        view.addSeparator()
        self.word_dock = add_word_view(self, view)
        pages = self.menuBar().addMenu("&Page")
        self._action(pages, "&New page", self.canvas.new_page, "Ctrl+Shift+N")
        self.delete_page_action = self._action(pages, "&Delete page", self.delete_page)
        self._action(pages, "Ne&xt page", lambda: self.canvas.show_page(self.document.current + 1), "Ctrl+PgDown")
        self._action(pages, "&Previous page", lambda: self.canvas.show_page(self.document.current - 1), "Ctrl+PgUp")

    def delete_page(self) -> None:
        """Page > Delete page: a page with writing on it only once the user says (no undo
        brings a page back); the only page of a document is kept."""
        if len(self.document.pages) < 2:
            self.statusBar().showMessage("A document keeps at least one page: Edit > Clear page empties it", 5000)
            return
        question = f"Page {self.document.current + 1} has writing on it. Delete the page and its writing?"
        if self.canvas.strokes and not confirm(self, "Delete the page?", question, QMessageBox.StandardButton.Discard):
            return
        self.canvas.delete_page()

    def set_page_style(self, style: str) -> None:
        """Plain, ruled or squared paper; remembered."""
        self.canvas.set_style(style)
        self.settings.setValue("page_style", self.canvas.style)
        for action in self.style_actions.actions():
            action.setChecked(action.data() == self.canvas.style)

    def _action(self, menu: QMenu, text: str, slot: object, shortcut: object = None) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda checked=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        self.addAction(action)
        return action

    def _toggle_erase(self) -> None:
        self.canvas.erasing = self.erase_action.isChecked()
        self.canvas.setCursor(Qt.CursorShape.PointingHandCursor if self.canvas.erasing else Qt.CursorShape.CrossCursor)

    # ---- model --------------------------------------------------------------
    def load_model(self, path: str | None, quiet: bool = False) -> bool:
        """Use a model file (see use_model); one that cannot be used is refused in a
        message box with the reason (at start, `quiet`, only when a file was named).
        Whether the file is now in use."""
        error = self.use_model(path, quiet=quiet)
        if error and (not quiet or path):
            QMessageBox.warning(
                self, "Cannot use this model", f"{error}\n\nThe page is still read by the {self.model_name}."
            )
        return error is None

    def use_model(self, path: str | None, kind: str | None = None, quiet: bool = True) -> str | None:
        """Use a model file (a path, or a name as `-m` takes it): an ink model reads the
        page; an image model reads pictures (File > Open image) while the page keeps its
        ink model. `kind`: the only kind accepted; `quiet`: no word on an image model
        chosen. Why it cannot be used, or None; the models in use then stay (at start,
        the bundled ones)."""
        try:
            model = self._load(path)
            if kind and model.kind != kind:
                raise handwrite.HandwriteError(f"{path}: an {model.kind} model, and an {kind} model is needed here")
        except handwrite.HandwriteError as exc:
            if self.model is None:
                self._use_ink_model(self._load(None), None)
            return str(exc)
        # kept as the absolute file it names: a name ("personal") or a relative path would
        # mean another file, or none, when the app next starts from another folder (not
        # resolved: a link the user chose stays the link, to be pointed elsewhere later)
        chosen_again = Path(model.path).resolve() in self._models_in_use()
        path = os.path.abspath(model.path) if path else None
        if model.kind == "image":
            self._use_image_model(model, path, quiet or chosen_again)
            if self.model is None:  # settings from an older version named an image model here
                self._use_ink_model(self._load(None), None)
            return None
        self._use_ink_model(model, path)
        return None

    def _load(self, path: str | None) -> handwrite.Recognizer:
        """Beam 8 (with the LM when it is on), keeping 8 readings of each line: a word's
        alternatives in the text view come from them."""
        model = handwrite.load_model(path, beam_size=8, language_model=self.uses_language_model)
        return model.with_decoding(alternatives=8)

    def _use_ink_model(self, model: handwrite.Recognizer, path: str | None) -> None:
        self.model = model
        self.settings.setValue("model_path", path or "")
        self.live.set_model(model)
        self.model_name = model_name(path)
        self.model_label.setText(self.model_status())
        self._request_recognition()

    def _use_image_model(self, model: handwrite.Recognizer, path: str | None, quiet: bool) -> None:
        """Pictures are read by an image model, the ink written on the page by an ink model:
        choosing an image model changes the first only."""
        self.image_model, self.image_model_path = model, path
        self.settings.setValue("image_model_path", path or "")
        if not quiet:
            QMessageBox.information(
                self,
                "Image model chosen",
                f"{Path(path or '').name} reads pictures of handwriting: File > Open image now uses it.\n\n"
                f"What you write on the page is read by an ink model, still the {self.model_name}.",
            )

    def model_status(self) -> str:
        return f"Model: {self.model_name}" + (" + English language model" if self.uses_language_model else "")

    @property
    def uses_language_model(self) -> bool:
        return self.lm_action.isChecked()

    def _toggle_language_model(self) -> None:
        """Decode with or without the English character LM: off suits text that is not
        English prose (codes, names, other languages)."""
        self.settings.setValue("language_model", self.uses_language_model)
        self.image_model = None  # loaded again, decoding the new way, when next used
        self.load_model(self.settings.value("model_path", "", str) or None, quiet=True)

    def choose_model(self) -> None:
        path = open_file(self, self.settings, "Choose a model file", "Model files (*.safetensors)")
        if path:
            self.load_model(path)

    def _fill_models_menu(self) -> None:
        """The models shipped with handwrite under what they read, each with its network,
        then the user's personal models (Samples > Train on my samples), each ticked where
        it is in use: the page's ink model, and the image model that File > Open image
        reads with. Choosing one in use changes nothing."""
        self.models_menu.clear()
        in_use = self._models_in_use()
        shipped = handwrite.bundled_models()
        described = {name: self._model_metadata(path) for name, path in shipped.items()}
        for kind, heading in (("ink", "Read what you write"), ("image", "Read pictures (File > Open image)")):
            self.models_menu.addAction(heading).setEnabled(False)
            for name, meta in described.items():
                if (meta.get("kind") if meta else "ink") != kind:  # one that cannot be read: listed once
                    continue
                brief = network_in_brief(meta) if meta else "cannot be read"
                self._add_model_entry(name, brief, meta is not None, shipped[name], in_use)
            if kind == "ink":
                self._add_personal_entries(in_use)
                self.models_menu.addSeparator()

    def _add_personal_entries(self, in_use: set[Path]) -> None:
        """The personal model and the one it replaced, where they exist: trained on the
        user's samples, they are found here again rather than through a file dialog."""
        for path, label in personal_models():
            if os.path.isfile(path):  # never raises (a folder the system will not search: False)
                meta = self._model_metadata(path)
                self._add_model_entry(label, personal_in_brief(meta), meta is not None, path, in_use)

    def _add_model_entry(self, label: str, brief: str, readable: bool, path: Path, in_use: set[Path]) -> None:
        action = self.models_menu.addAction(f"{label}  ({brief})")
        action.setEnabled(readable)
        action.setCheckable(True)
        action.setChecked(path.resolve() in in_use)
        action.setData(path.stem)
        action.triggered.connect(lambda checked=False, p=path: self._choose_model_file(p))

    def _choose_model_file(self, path: Path) -> None:
        """Load the file itself: a bare name would let a file of that name in the folder
        the app started from stand in for it."""
        if path.resolve() not in self._models_in_use():  # the one in use: nothing to do, nothing to say
            self.load_model(str(path))

    def _model_metadata(self, path: Path) -> dict | None:
        """A model file's metadata (read once), None when the file cannot be read."""
        try:
            return model_metadata(path, (self.model, self.image_model))
        except (handwrite.HandwriteError, OSError):  # OSError: gone, or its folder closed, since it was listed
            return None

    def _models_in_use(self) -> set[Path]:
        """The model files in use, resolved: the page's, and the one for pictures."""
        return {
            model_file(self.settings.value("model_path", "", str) or None, "ink").resolve(),
            model_file(self.image_model_path, "image").resolve(),
        }

    def show_model_info(self) -> None:
        model_info_dialog(self.model_name, self.model, self).exec()

    # ---- recognition --------------------------------------------------------
    @property
    def document(self) -> Document:
        return self.canvas.document

    def _on_pen_up(self) -> None:
        """Ask for the page at once: the worker starts while this thread repaints."""
        self._pen_up_at = time.perf_counter()
        self._debounce.stop()
        self._request_recognition()

    def _on_page_changed(self) -> None:
        self._debounce.start()
        self._autosave_timer.start()

    def _show_zoom(self, zoom: float) -> None:
        """As a share of the page's paper size (1 point a pixel is 100%)."""
        self.zoom_label.setText(f"{zoom * self.canvas.page.unit:.0%}")

    def _on_page_shown(self) -> None:
        count = len(self.document.pages)
        self.page_label.setText(f"Page {self.document.current + 1} of {count}")
        self._render_text()
        self.results_changed.emit()

    def _request_recognition(self) -> None:
        """Every page as it is now; the worker reads only lines it has not read before."""
        pages = [
            PageStrokes(page.serial, tuple(s.digest() for s in page.strokes), tuple(s.array() for s in page.strokes))
            for page in self.document.pages
        ]
        self.live.request(pages)

    def _show_results(self, request: int, readings: dict, milliseconds: float) -> None:
        self.readings = readings
        self._restore_corrections(readings)
        self.last_shown_request = request
        self._render_text(follow_pen=self._pen_up_at is not None)
        if self._pen_up_at is not None:
            self.latencies_ms.append((time.perf_counter() - self._pen_up_at) * 1000)
            self._pen_up_at = None
        read = sum(reading.read for reading in readings.values())
        if read:  # a reading of nothing new leaves the status bar alone ("Kept 1 sample", "Saved …")
            self.statusBar().showMessage(f"{counted(read, 'line')} recognized in {milliseconds:.0f} ms", 5000)
        self.results_changed.emit()

    def reading(self, page: int | None = None) -> PageReading:
        """The newest reading of a page (by index; default the shown one)."""
        index = self.document.current if page is None else page
        return self.readings.get(self.document.pages[index].serial) or PageReading.empty()

    def page_result(self, page: int | None = None) -> handwrite.Result:
        """The recognition of a page (default the shown one): lines in reading order with
        boxes, words and stroke indices in the page's coordinates. Text as recognized:
        the user's corrections are in line_texts()."""
        return self.reading(page).result

    def line_texts(self, page: int | None = None) -> list[str]:
        """Each line's text in reading order, as corrected by the user where they did."""
        reading = self.reading(page)
        return [
            self.corrections.get(key, line.text) for key, line in zip(reading.keys, reading.result.lines, strict=True)
        ]

    def set_line_text(self, index: int, text: str, page: int | None = None) -> None:
        """Correct a line of a page (default the shown one); the correction holds while
        the line's strokes stay as they are."""
        reading = self.reading(page)
        keys = reading.keys
        # one line of plain text: a tab, a line break or ESC pasted in could not be saved in InkML,
        # and Save and autosave would fail while the correction stood
        text = handwrite.plain_line(text)
        if 0 <= index < len(keys):
            if text == reading.result.lines[index].text:  # back as read: no correction to keep or save
                self.corrections.pop(keys[index], None)
            else:
                self.corrections[keys[index]] = text
            self._autosave_timer.start()  # a correction is work that a crash must not lose
            self._render_text()
            self.results_changed.emit()

    def choose_alternative(self, index: int, text: str) -> None:
        self.set_line_text(index, text)

    def page_text(self, page: int | None = None) -> str:
        return "\n".join(t for t in self.line_texts(page) if t)

    def transcription(self) -> str:
        """The document's text: its pages one after another, lines joined by newlines."""
        texts = (self.page_text(number) for number in range(len(self.document.pages)))
        return "\n".join(text for text in texts if text)

    def document_result(self) -> handwrite.Result:
        """All pages' lines (their `page` numbered from 1) with the user's corrections, for export."""
        lines = []
        for number in range(len(self.document.pages)):
            result = self.page_result(number)
            for line, text in zip(result.lines, self.line_texts(number), strict=True):
                lines.append(corrected_line(line, text, number + 1))
        text = self.transcription()
        confidence = min((line.confidence for line in lines), default=1.0)
        words = tuple(word for line in lines for word in line.words)
        return handwrite.Result(text, confidence, (), words, lines=tuple(lines), page_count=len(self.document.pages))

    def _render_text(self, follow_pen: bool = False) -> None:
        """The shown page's text in the pane. `follow_pen`: after a pen-up, the pane
        scrolls to the line just written, unless the user has scrolled it elsewhere."""
        result = self.page_result()
        ink = self.text_view.palette().color(QPalette.ColorRole.Text).name()
        faint = page_colors(self.text_view.palette()).unsure.name()  # readable on a light or dark pane
        parts = []
        for index, (line, text) in enumerate(zip(result.lines, self.line_texts(), strict=True)):
            if text != line.text:  # the user's correction
                words = html.escape(text)
            else:
                words = " ".join(
                    html.escape(w.text)
                    if w.confidence >= UNSURE
                    else f'<span style="color:{faint}">{html.escape(w.text)}</span>'
                    for w in line.words
                )
            parts.append(f'<a href="line:{index}" style="text-decoration:none; color:{ink}">{words}</a>')
        # written anew, the pane would scroll back to its first line at every pen-up: it stays
        # where it was, unless another page is shown
        bar, page = self.text_view.verticalScrollBar(), self.document.page.serial
        at = bar.value() if page == self._text_page else 0
        self._text_follows |= page != self._text_page  # another page: it follows from its top
        self.text_view.setHtml("<br>".join(parts))
        bar.setValue(at)
        newest = _line_of_stroke(result, len(self.canvas.strokes) - 1)
        if follow_pen and self._text_follows and newest is not None:
            self._scroll_to_line(newest)
        self._text_page = page

    def _text_scrolled_by_user(self) -> None:
        """The user moved the text pane (wheel, bar, keys): it stops following the pen
        until they bring it back to its end."""
        bar = self.text_view.verticalScrollBar()
        self._text_follows = bar.value() >= bar.maximum()

    def _scroll_to_line(self, index: int) -> None:
        """Scroll the text pane as little as shows the whole of line `index`."""
        plain = self.text_view.document().toPlainText().split("\n")
        cursor = QTextCursor(self.text_view.document())
        start = sum(len(line) + 1 for line in plain[:index])
        cursor.setPosition(start)
        top = self.text_view.cursorRect(cursor)
        cursor.setPosition(start + len(plain[index]))  # a long line wraps over several rows
        bottom = self.text_view.cursorRect(cursor).bottom()
        bar, height = self.text_view.verticalScrollBar(), self.text_view.viewport().height()
        if bottom > height:
            bar.setValue(bar.value() + bottom - height + 2)
        if top.top() < 0:
            bar.setValue(bar.value() + top.top())

    def _pick_alternative(self, url: QUrl) -> None:
        index = int(url.toString().split(":", 1)[1])
        reading = self.reading()
        lines = reading.result.lines
        if index >= len(lines):
            return
        menu = QMenu(self)
        shown = self.line_texts()[index]
        for text, confidence in _distinct_alternatives(lines[index].alternatives):
            action = menu.addAction(f"{text}    ({_share(confidence)})")
            action.setData(text)
            action.setCheckable(True)
            action.setChecked(text == shown)  # the line's text now
        chosen = menu.exec(self.cursor().pos())
        # the menu runs its own event loop: after a newer reading, `index` may be another line
        if chosen is not None and self.reading() is reading:
            self.choose_alternative(index, chosen.data())

    def copy_text(self) -> None:
        """The text selected in the text pane when it has the focus, else the text of the
        page shown, as the pane shows it (Ctrl+C, Edit > Copy text)."""
        selected = self.text_view.textCursor().selectedText() if self.text_view.hasFocus() else ""
        selected = selected.replace("\u2029", "\n")  # Qt's paragraph separator
        QApplication.clipboard().setText(selected or self.page_text())
        self.statusBar().showMessage("Selection copied" if selected else "Text copied", 2000)

    def line_inks(self) -> list[handwrite.Ink]:
        """The shown page's lines as inks, in reading order (as last read, when that
        reading is of the page as it is now)."""
        strokes, reading = self.canvas.strokes, self.reading()
        if reading.is_of([s.digest() for s in strokes]):
            lines = [line.strokes for line in reading.result.lines]
        else:
            lines = [line.strokes for line in handwrite.find_lines(self.canvas.page_ink())]
        return [handwrite.Ink([strokes[i].array() for i in line]) for line in lines]

    # ---- samples ------------------------------------------------------------
    @property
    def store(self) -> handwrite.SampleStore:
        return handwrite.SampleStore(data_dir() / "samples")

    def keep_sample(self, texts: list[str] | None = None) -> int:
        """Keep what was written with its corrected text: one sample per written line.
        Returns how many samples were kept."""
        lines = self.line_inks()
        if not lines:
            self.statusBar().showMessage("Write something first", 3000)
            return 0
        if texts is None:
            dialog = KeepSampleDialog(self.line_texts(), self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return 0
            texts = dialog.lines()
        if len(texts) == len(lines):
            pairs = list(zip(lines, texts, strict=True))
        elif len(texts) == 1:
            pairs = [(self.canvas.page_ink(), texts[0])]
        else:
            QMessageBox.warning(self, "Cannot keep", f"{len(lines)} lines written but {len(texts)} lines of text.")
            return 0
        try:
            for ink, text in pairs:
                self.store.add(ink, text)
        except (OSError, handwrite.HandwriteError) as exc:
            QMessageBox.warning(self, "Cannot keep this sample", str(exc))
            return 0
        self.statusBar().showMessage(f"Kept {counted(len(pairs), 'sample')}; {len(self.store)} in all", 3000)
        return len(pairs)

    def _toggle_copy_mode(self) -> None:
        """Copying sentences happens on a page of its own: the document is put aside (and
        autosaved) and comes back when the mode is left, so ink written before a prompt
        is never kept under the prompt's text."""
        on = self.copy_mode_action.isChecked()
        self.prompt_bar.setVisible(on)
        if on and self._set_aside is None:
            self.autosave()
            self._set_aside = SetAside(self.document, self.path, self.corrections)
            self.show_document(Document())
            self.prompt.setText(self.store.next_sentence())
        elif not on:
            self.leave_copy_mode()

    def leave_copy_mode(self) -> None:
        """Bring back the document put aside for copying sentences."""
        if self._set_aside is not None:
            aside, self._set_aside = self._set_aside, None
            self.show_document(aside.document, corrections=aside.corrections)
            self.path = aside.path
        self.copy_mode_action.setChecked(False)
        self.prompt_bar.hide()

    def keep_prompted_sentence(self) -> None:
        """Keep the page as the prompt's sample; the next prompt gets a fresh page (no
        undo brings the kept ink back under it)."""
        if self.keep_sample([self.prompt.text()]):
            self.show_document(Document())
            self.prompt.setText(self.store.next_sentence())

    def browse_samples(self) -> None:
        SampleBrowser(self.store, self).exec()

    def train_on_samples(self) -> None:
        if len(self.store) < 2:
            kept = f"{len(self.store)} is kept" if len(self.store) == 1 else "none are kept"
            QMessageBox.information(
                self, "Train on my samples", f"Training needs at least 2 samples; {kept}. Use Samples > Keep as sample…"
            )
            return
        in_use = self.settings.value("model_path", "", str) or None
        # every run trains on all the samples: from a personal model itself, each run
        # drifted further on the same lines (a new user's run: 6.17% -> 7.22% on other writers)
        base = None if is_personal(in_use) else in_use
        dialog = TrainDialog(self.store, base, handwrite.personal_model_path(), self, in_use=in_use)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.load_model(str(dialog.output))

    # ---- files --------------------------------------------------------------
    def new_document(self) -> None:
        if not self.may_discard():
            return
        self.leave_copy_mode()  # else leaving it later would put the new document aside for the old
        self.show_document(Document())
        self.path = None
        self._saved_corrections = {}

    def may_discard(self) -> bool:
        """Whether the document (while copying sentences: the one put aside) may be replaced:
        yes when it holds no writing, or the writing and corrected text last saved or
        opened; else the user says. No undo brings a replaced document back."""
        aside = self._set_aside
        document = aside.document if aside is not None else self.document
        corrections = aside.corrections if aside is not None else self.corrections
        if document.is_empty():
            return True
        if self._is_saved(document, corrections):
            return True
        return confirm(
            self,
            "Discard the document?",
            "What is written in this document has not been saved to a file. Discard it?",
            QMessageBox.StandardButton.Discard,
        )

    def _is_saved(self, document: Document, corrections: dict[LineKey, str]) -> bool:
        """Whether the writing and corrected text are those last saved or opened."""
        return _strokes_of(document) == self._saved_strokes and corrections == self._saved_corrections

    def show_document(
        self,
        document: Document,
        recognized: tuple[str | None, ...] = (),
        corrections: dict[LineKey, str] | None = None,
    ) -> None:
        """Show a document from its first page, its width filling the view. `recognized`:
        each page's text as saved; lines the user had corrected get their text back.
        `corrections`: the document's own, when it comes back from being put aside (a
        correction belongs to its document: the same strokes in another file are not
        corrected)."""
        self.canvas.set_document(document, keep=self._set_aside.document if self._set_aside else None)
        self.corrections = dict(corrections or {})
        self._restoring = {page.serial: text for page, text in zip(document.pages, recognized, strict=False)}
        self._restoring_saved = False
        self.view.fit_width()
        self.view.verticalScrollBar().setValue(0)

    def open_ink(self, path: str | None = None) -> bool:
        """Open InkML, a Xournal++ notebook, IAM-OnDB .xml or ink .json: every page as it is
        in the file, at the file's own coordinates."""
        if path is None:
            path = open_file(self, self.settings, "Open ink or a notebook", OPEN_FILTER)
            if not path:
                return False
        if Path(path).suffix.lower() in IMAGE_SUFFIXES:  # File > Open image's, chosen here: read it as one
            return self.open_image(path) is not None
        try:
            ink = handwrite.read_ink(path)
            recognized = handwrite.read_recognized(path)
        except handwrite.HandwriteError as exc:
            QMessageBox.warning(self, "Cannot open this file", f"{exc}\n\nThe current page is unchanged.")
            return False
        if not self.may_discard():
            return False
        self.leave_copy_mode()  # the opened document is the one kept, not the one put aside
        self.show_document(Document.from_ink(ink), recognized)
        self.path = path
        self._saved_strokes = _strokes_of(self.document)
        self._saved_corrections = {}  # and those the file holds, once its pages are read
        self._restoring_saved = True
        return True

    def open_image(self, path: str | None = None, show: bool = True) -> ImageTranscriptionDialog | None:
        """Transcribe a line or page image with the image model and show both."""
        if path is None:
            path = open_file(self, self.settings, "Open an image of handwriting", IMAGE_FILTER)
            if not path:
                return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = self._image_reader().recognize(path)
        except handwrite.HandwriteError as exc:
            QMessageBox.warning(self, "Cannot read this image", str(exc))
            return None
        except Exception as exc:  # a reader's bug: said, not raised out of the menu's slot (which aborts the app)
            QMessageBox.warning(
                self, "Cannot read this image", f"{path}: unexpected error ({type(exc).__name__}: {exc})"
            )
            return None
        finally:
            QApplication.restoreOverrideCursor()
        dialog = ImageTranscriptionDialog(path, result, self)
        if show:
            dialog.show()
        return dialog

    def _image_reader(self) -> handwrite.Recognizer:
        """The image model: the one chosen in File > Models or File > Choose model
        file, else the bundled one. A chosen file that can no longer be read is said once
        and forgotten."""
        if self.image_model is None:
            options = {"kind": "image", "beam_size": 8, "language_model": self.uses_language_model}
            try:
                self.image_model = handwrite.load_model(self.image_model_path, **options)
            except handwrite.HandwriteError as exc:
                if self.image_model_path is None:
                    raise
                QMessageBox.warning(
                    self, "Cannot use the chosen image model", f"{exc}\n\nThe bundled image model reads images."
                )
                self.image_model_path = None
                self.settings.setValue("image_model_path", "")
                self.image_model = handwrite.load_model(None, **options)
        return self.image_model

    def save_ink(self, path: str | None = None) -> bool:
        """Save every page at its own coordinates and size: InkML keeps the recognized text
        (as recognized, never as truth), a .xopp notebook opens in Xournal++."""
        if path is None:
            path = save_file(self, self.settings, "Save", "page.inkml", SAVE_FILTER, self.path)
            if not path:
                return False
        try:
            self._write(Path(path))
        except (OSError, handwrite.HandwriteError) as exc:
            QMessageBox.warning(self, "Cannot save", str(exc))
            return False
        self.path = path
        self._saved_strokes = _strokes_of(self.document)
        keeps_text = Path(path).suffix.lower() != ".xopp"
        self._saved_corrections = dict(self.corrections) if keeps_text else {}
        if not keeps_text and self._has_corrections():
            # the notebook format has no place for text: say so rather than lose it quietly
            self.statusBar().showMessage(
                f"Saved {path}: the ink only. A Xournal++ notebook keeps no corrected text; "
                "save as InkML (.inkml) to keep it",
                15000,
            )
        else:
            self.statusBar().showMessage(f"Saved {path}", 3000)
        return True

    def _has_corrections(self) -> bool:
        """Whether any line of the document reads as the user corrected it, not as read."""
        for page in range(len(self.document.pages)):
            if self.line_texts(page) != [line.text for line in self.page_result(page).lines]:
                return True
        return False

    def _write(self, path: Path) -> None:
        recognized = ["\n".join(self.line_texts(page)) for page in range(len(self.document.pages))]
        handwrite.write_ink(self.document.to_ink(), path, recognized)

    def export_png(self, path: str | None = None) -> bool:
        """The shown page as an image, all of it, whatever the zoom."""
        if path is None:
            path = save_file(self, self.settings, "Export PNG", "page.png", "PNG image (*.png)")
            if not path:
                return False
        if not save_png_atomically(QPixmap.fromImage(self.canvas.page_image(PNG_POINTS)), path):
            QMessageBox.warning(self, "Cannot export", f"Could not write {path}")
            return False
        self.statusBar().showMessage(f"Exported {path}", 3000)
        return True

    def export_pdf(self, path: str | None = None) -> bool:
        """Every page drawn, with its (corrected) text invisible over each word: searchable."""
        if path is None:
            path = save_file(self, self.settings, "Export PDF", "page.pdf", "PDF (*.pdf)")
            if not path:
                return False
        unread = self._wait_for_readings(EXPORT_WAIT_S)
        if unread:  # their text would be missing from a PDF that says it is searchable
            pages = ", ".join(map(str, unread))
            QMessageBox.warning(
                self, "Cannot export yet", f"Page {pages} is still being read; export again in a moment."
            )
            return False
        try:
            handwrite.write_searchable_pdf(Path(path), self.document_result(), self.document.to_ink())
        except (OSError, handwrite.HandwriteError) as exc:
            QMessageBox.warning(self, "Cannot export", str(exc))
            return False
        self.statusBar().showMessage(f"Exported {path}", 3000)
        return True

    def _unread_pages(self) -> list[int]:
        """The pages (numbered from 1) whose newest reading is not of their strokes as they are now."""
        return [
            number + 1
            for number, page in enumerate(self.document.pages)
            if not self.reading(number).is_of([stroke.digest() for stroke in page.strokes])
        ]

    def _wait_for_readings(self, seconds: float) -> list[int]:
        """Let recognition finish (the app stays responsive, with a busy cursor) for at
        most `seconds`; the pages still unread then."""
        deadline = time.monotonic() + seconds
        unread = self._unread_pages()
        if not unread:
            return unread
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            while unread and time.monotonic() < deadline:
                loop = QEventLoop()
                self.results_changed.connect(loop.quit)
                QTimer.singleShot(100, loop.quit)  # and look again, whatever happens
                loop.exec()
                self.results_changed.disconnect(loop.quit)
                unread = self._unread_pages()
        finally:
            QApplication.restoreOverrideCursor()
        return unread

    def _restore_corrections(self, readings: dict) -> None:
        """Once every page of an opened document has been read: a line whose saved text
        differs from what the model reads now was corrected by the user; keep that."""
        if not self._restoring or any(page.serial not in readings for page in self.document.pages):
            return
        for number, page in enumerate(self.document.pages):
            if page.serial not in self._restoring:
                continue
            saved, reading = self._restoring[page.serial], self.reading(number)
            texts = saved.split("\n") if saved is not None else []
            if len(texts) == len(reading.keys):
                for key, line, text in zip(reading.keys, reading.result.lines, texts, strict=True):
                    if text != line.text:
                        self.corrections[key] = text
                        if self._restoring_saved:  # from the file opened, not an autosave
                            self._saved_corrections[key] = text
        self._restoring = {}

    # ---- autosave and settings ----------------------------------------------
    def autosave_path(self) -> Path:
        return data_dir() / "autosave.inkml"

    def autosave(self) -> None:
        if not self.use_autosave:
            return
        if self._set_aside is not None:
            return  # copying sentences: the document was autosaved when it was put aside
        try:
            self._write(self.autosave_path())
            written = _digest(self.autosave_path())
        except (OSError, handwrite.HandwriteError) as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}")
            return
        # with the digest of the page it names: a crash between the two writes leaves a name
        # that matches no autosave, and the page comes back without one, never under another's
        # and, when the document is its file's as last saved or opened, that file's size and
        # time: at the next start one stat tells it is still so (no read, whatever its format)
        saved = self.path is not None and self._is_saved(self.document, self.corrections)
        self.settings.setValue(AUTOSAVED_FILE, [self.path or "", written, _stamp(self.path) if saved else ""])

    def _restore_autosave(self) -> None:
        path = self.autosave_path()
        if not path.exists():
            return
        try:
            ink = handwrite.read_ink(path)
            recognized = handwrite.read_recognized(path)
        except handwrite.HandwriteError as exc:
            self.statusBar().showMessage(f"Could not restore the last page: {exc}")
            return
        if not ink.is_empty():
            self.show_document(Document.from_ink(ink), recognized)
            # its file, so that Save offers it again (the page is unsaved work: asked before it goes)
            named = self.settings.value(AUTOSAVED_FILE, [], list)
            if len(named) >= 2 and named[1] == _digest(path):
                self.path = named[0] or None
                if self.path and len(named) == 3 and named[2] and named[2] == _stamp(self.path):
                    # its file, untouched since, holds it: saved work, its corrections too
                    self._saved_strokes = _strokes_of(self.document)
                    self._restoring_saved = True

    def changeEvent(self, event: QEvent) -> None:
        """The text pane's HTML holds colours taken from the palette: when the desktop
        switches between light and dark, it is written again in the new ones."""
        if event.type() == QEvent.Type.PaletteChange:
            QTimer.singleShot(0, self._render_text)  # once the pane itself has the new palette
        super().changeEvent(event)

    def closeEvent(self, event: object) -> None:
        self.leave_copy_mode()  # first: bringing the document back starts the timers stopped below
        # what a pending timer would do is done now; a timer left running would fire after close
        self._autosave_timer.stop()
        self._debounce.stop()
        self.autosave()
        self.settings.setValue("geometry", self.saveGeometry())
        self.live.stop()
        super().closeEvent(event)


class SetAside(NamedTuple):
    """The document put aside while copying sentences, to come back as it was."""

    document: Document
    path: str | None
    corrections: dict[LineKey, str]


def _stamp(path: str) -> str:
    """A file's size and modification time ("" if it cannot be seen): whether it changed."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return ""
    return f"{status.st_size}:{status.st_mtime_ns}"


def _strokes_of(document: Document) -> tuple[tuple[bytes, ...], ...]:
    """What a document's writing is, page by page, to tell whether it changed since saved."""
    return tuple(tuple(stroke.digest() for stroke in page.strokes) for page in document.pages)


MENU_ALTERNATIVES = 3  # alternatives always offered; more only where the model gives them 1% or more


def _share(confidence: float) -> str:
    """A reading's share of the beam's probability, never a rounded 100% or 0% (the
    model is sure, not certain; a reading offered is not impossible)."""
    percent = round(confidence * 100) if math.isfinite(confidence) else 0
    return "<1%" if percent < 1 else ">99%" if percent > 99 else f"{percent}%"


def _distinct_alternatives(alternatives: tuple[handwrite.Alternative, ...]) -> list[tuple[str, float]]:
    """A line's alternatives as a menu offers them: the beam's readings that differ
    only in spaces are one, and the long tail the model gives under 1% is left out."""
    offered: dict[str, float] = {}
    for alternative in alternatives:
        text = " ".join(alternative.text.split())
        if text and text not in offered and (len(offered) < MENU_ALTERNATIVES or alternative.confidence >= 0.005):
            offered[text] = alternative.confidence
    return list(offered.items())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _line_of_stroke(result: handwrite.Result, stroke: int) -> int | None:
    """The index of the line that holds a stroke of the page, if any does."""
    return next((index for index, line in enumerate(result.lines) if stroke in line.strokes), None)


def corrected_line(line: handwrite.Line, text: str, page: int) -> handwrite.Line:
    """A line with the user's text, on page `page`: its words take the corrected words
    when there are as many, else one word spans the line."""
    if text == line.text:
        return replace(line, page=page)
    words = text.split()
    if len(words) == len(line.words):
        placed = tuple(replace(word, text=new) for word, new in zip(line.words, words, strict=True))
    else:
        placed = (handwrite.Word(text, 1.0, line.box, line.strokes),)
    return replace(line, text=text, confidence=1.0, words=placed, alternatives=(), page=page)


def save_png_atomically(pixmap: QPixmap, path: str | os.PathLike[str]) -> bool:
    """QSaveFile writes a temporary file and renames it only on commit(); a missing folder
    is made, as handwrite's writers make theirs."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    out = QSaveFile(str(path))
    if not out.open(QIODevice.OpenModeFlag.WriteOnly):
        return False
    if not pixmap.save(out, "PNG"):
        out.cancelWriting()
        return False
    return out.commit()


def save_text_atomically(text: str, path: str | os.PathLike[str]) -> bool:
    """UTF-8 text through QSaveFile: the file appears whole or not at all."""
    out = QSaveFile(str(path))
    if not out.open(QIODevice.OpenModeFlag.WriteOnly):
        return False
    if out.write(text.encode("utf-8")) < 0:
        out.cancelWriting()
        return False
    return out.commit()


__all__ = ["MainWindow", "save_png_atomically", "save_text_atomically"]

"""The main window: canvas above, live transcription below, menus, status bar,
settings and autosave."""

from __future__ import annotations

import html
import os
import time
from pathlib import Path

from PyQt6.QtCore import QByteArray, QIODevice, QSaveFile, QSettings, Qt, QTimer, QUrl
from PyQt6.QtGui import QAction, QKeySequence, QPixmap
from PyQt6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
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
from gui.canvas import InkCanvas
from gui.image_view import IMAGE_FILTER, ImageTranscriptionDialog
from gui.personal import KeepSampleDialog, SampleBrowser, TrainDialog
from gui.recognition import LiveRecognizer, _line_key
from handwrite.samples import data_home

UNSURE = 0.75  # words below this confidence are shown faint
DEBOUNCE_MS = 15  # coalesce the events of one pen-up before recognizing
AUTOSAVE_MS = 800


def data_dir() -> Path:
    """Samples, the personal model and the autosave: the library's data folder, so
    `handwrite.SampleStore()` and `handwrite finetune` see what the app collected."""
    return data_home()


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, restore_autosave: bool = True) -> None:
        super().__init__()
        self.setWindowTitle("handwrite")
        self.settings = settings or QSettings("handwrite", "handwrite")
        self.canvas = InkCanvas()
        self.text_view = QTextBrowser()
        self.text_view.setOpenLinks(False)
        self.text_view.anchorClicked.connect(self._pick_alternative)
        self.text_view.setPlaceholderText("Write on the lines above; the text appears here.")
        self.text_view.setStyleSheet("QTextBrowser { font-size: 18px; padding: 6px; }")
        self.prompt = QLabel()
        self.prompt.setStyleSheet("QLabel { font-size: 18px; padding: 6px; background: #eef3fb; }")
        keep_prompt = QPushButton("Keep and next")
        keep_prompt.clicked.connect(self.keep_prompted_sentence)
        self.prompt_bar = QWidget()
        bar_layout = QHBoxLayout(self.prompt_bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.addWidget(self.prompt, 1)
        bar_layout.addWidget(keep_prompt)
        self.prompt_bar.hide()
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(0)
        page_layout.addWidget(self.prompt_bar)
        page_layout.addWidget(self.canvas, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(page)
        splitter.addWidget(self.text_view)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)

        self.results: dict[int, handwrite.Result] = {}
        self.chosen: dict[int, tuple[tuple, str]] = {}  # line -> (line key, picked alternative)
        self.latencies_ms: list[float] = []
        self.last_shown_request = 0
        self._pen_up_at: float | None = None
        self.model: handwrite.Recognizer | None = None
        self.image_model: handwrite.Recognizer | None = None  # for File > Open image, loaded when first used
        self.image_model_path: str | None = None  # a chosen image model; None: the bundled one

        self.live = LiveRecognizer(self)
        self.live.recognized.connect(self._show_results)
        self.live.error.connect(lambda message: self.statusBar().showMessage(f"Recognition failed: {message}"))
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS, timeout=self._request_recognition)
        self._autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS, timeout=self.autosave)
        self.canvas.stroke_finished.connect(self._on_pen_up)
        self.canvas.changed.connect(self._on_page_changed)

        self._build_menus()
        self.load_model(self.settings.value("model_path", "", str) or None, quiet=True)
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1000, 640)
        if restore_autosave:
            self._restore_autosave()

    # ---- menus --------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open ink…", self.open_ink, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &image…", self.open_image, "Ctrl+Shift+O")
        self._action(file_menu, "&Save ink as InkML…", self.save_ink, QKeySequence.StandardKey.Save)
        self._action(file_menu, "&Export PNG…", self.export_png, "Ctrl+E")
        file_menu.addSeparator()
        self._action(file_menu, "Choose &model…", self.choose_model, "Ctrl+M")
        self._action(file_menu, "Model &info", self.show_model_info, "Ctrl+I")
        self.lm_action = self._action(file_menu, "English &language model", self._toggle_language_model, "Ctrl+L")
        self.lm_action.setCheckable(True)
        # on unless turned off: on IAM-OnDB testset_t it takes the online model from 6.69% to 5.50% CER
        self.lm_action.setChecked(self.settings.value("language_model", True, bool))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = self.menuBar().addMenu("&Edit")
        # kept on self: PyQt would otherwise delete these actions with their wrappers
        self.undo_action = undo = self.canvas.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = redo = self.canvas.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
        edit.addActions([undo, redo])
        self.addActions([undo, redo])
        self.erase_action = self._action(edit, "&Erase strokes", self._toggle_erase, "E")
        self.erase_action.setCheckable(True)
        self._action(edit, "C&lear page", self.canvas.clear, "Ctrl+Shift+Delete")
        edit.addSeparator()
        self._action(edit, "&Copy text", self.copy_text, QKeySequence.StandardKey.Copy)
        samples = self.menuBar().addMenu("&Samples")
        self._action(samples, "&Keep as sample…", self.keep_sample, "Ctrl+K")
        self.copy_mode_action = self._action(samples, "&Copy a sentence mode", self._toggle_copy_mode, "Ctrl+Shift+K")
        self.copy_mode_action.setCheckable(True)
        self._action(samples, "&Browse samples…", self.browse_samples, "Ctrl+B")
        samples.addSeparator()
        self._action(samples, "&Train on my samples…", self.train_on_samples, "Ctrl+T")
        toolbar = self.addToolBar("Edit")
        toolbar.setObjectName("edit-toolbar")
        toolbar.addActions([undo, redo, self.erase_action])
        toolbar.addAction("Clear", self.canvas.clear)
        toolbar.addAction("Copy text", self.copy_text)

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
        """Load a model file; on failure say why and fall back to the bundled model."""
        try:
            model = handwrite.load_model(path, beam_size=8, language_model=self.uses_language_model)
            if model.kind != "ink":  # the canvas needs ink; an image model serves File > Open image
                self.image_model, self.image_model_path = model, path
                raise handwrite.HandwriteError(
                    f"{path}: an image model; it will read images opened with File > Open image"
                )
            self.model, ok = model, True
        except handwrite.HandwriteError as exc:
            if not quiet or path:
                QMessageBox.warning(self, "Cannot use this model", f"{exc}\n\nUsing the bundled model instead.")
            self.model = handwrite.load_model(beam_size=8, language_model=self.uses_language_model)
            path, ok = None, False
        self.settings.setValue("model_path", path or "")
        self.live.set_model(self.model)
        self.model_name = Path(path).name if path else "bundled online model"
        self.statusBar().showMessage(self.model_status())
        self.results.clear()
        self._request_recognition()
        return ok

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
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model file", "", "Model files (*.safetensors)")
        if path:
            self.load_model(path)

    def model_summary(self) -> str:
        meta = self.model.metadata if self.model else {}
        metrics = meta.get("metrics", {})
        lines = [
            f"<b>{html.escape(self.model_name)}</b>",
            f"kind: {meta.get('kind')}",
            f"alphabet: {len(meta.get('alphabet', ''))} characters",
            f"architecture: {html.escape(str(meta.get('architecture')))}",
            f"trained on: {html.escape(', '.join(meta.get('training', {}).get('data', [])))}",
            f"metrics: {html.escape(str(metrics))}",
            f"written by handwrite {meta.get('handwrite_version')} on {meta.get('created')}",
        ]
        return "<br>".join(lines)

    def show_model_info(self) -> None:
        QMessageBox.information(self, "Model", self.model_summary())

    # ---- recognition --------------------------------------------------------
    def _on_pen_up(self) -> None:
        self._pen_up_at = time.perf_counter()

    def _on_page_changed(self) -> None:
        self._debounce.start()
        self._autosave_timer.start()

    def _request_recognition(self) -> None:
        self.live.request(self.canvas.line_inks())

    def _show_results(self, request: int, results: dict, milliseconds: float) -> None:
        self.results = results
        self.last_shown_request = request
        self._render_text()
        if self._pen_up_at is not None:
            self.latencies_ms.append((time.perf_counter() - self._pen_up_at) * 1000)
            self._pen_up_at = None
        self.statusBar().showMessage(f"{self.model_status()}  ·  recognized in {milliseconds:.0f} ms")

    def line_texts(self) -> list[str]:
        lines = self.canvas.line_inks()
        texts = []
        for index, result in sorted(self.results.items()):
            key, picked = self.chosen.get(index, ((), None))
            texts.append(
                picked if picked is not None and index in lines and key == _line_key(lines[index]) else result.text
            )
        return texts

    def transcription(self) -> str:
        return "\n".join(t for t in self.line_texts() if t)

    def _render_text(self) -> None:
        parts = []
        for (index, result), text in zip(sorted(self.results.items()), self.line_texts(), strict=True):
            if text != result.text:  # an alternative the user picked
                words = html.escape(text)
            else:
                words = " ".join(
                    html.escape(w.text)
                    if w.confidence >= UNSURE
                    else f'<span style="color:#9aa3b5">{html.escape(w.text)}</span>'
                    for w in result.words
                )
            parts.append(f'<a href="line:{index}" style="text-decoration:none; color:#1d2a44">{words}</a>')
        self.text_view.setHtml("<br>".join(parts))

    def _pick_alternative(self, url: QUrl) -> None:
        index = int(url.toString().split(":", 1)[1])
        result = self.results.get(index)
        if result is None:
            return
        menu = QMenu(self)
        for alternative in result.alternatives:
            action = menu.addAction(f"{alternative.text}    ({alternative.confidence:.0%})")
            action.setData(alternative.text)
        chosen = menu.exec(self.cursor().pos())
        if chosen is not None:
            self.choose_alternative(index, chosen.data())

    def choose_alternative(self, index: int, text: str) -> None:
        line = self.canvas.line_inks().get(index)
        if line is not None:
            self.chosen[index] = (_line_key(line), text)
            self._render_text()

    def copy_text(self) -> None:
        QApplication.clipboard().setText(self.transcription())
        self.statusBar().showMessage("Text copied", 2000)

    # ---- samples ------------------------------------------------------------
    @property
    def store(self) -> handwrite.SampleStore:
        return handwrite.SampleStore(data_dir() / "samples")

    def keep_sample(self, texts: list[str] | None = None) -> int:
        """Keep what was written with its corrected text: one sample per written line.
        Returns how many samples were kept."""
        lines = self.canvas.line_inks()
        if not lines:
            self.statusBar().showMessage("Write something first", 3000)
            return 0
        if texts is None:
            dialog = KeepSampleDialog(self.line_texts(), self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return 0
            texts = dialog.lines()
        if len(texts) == len(lines):
            pairs = list(zip(lines.values(), texts, strict=True))
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
        self.statusBar().showMessage(f"Kept {len(pairs)} sample(s); {len(self.store)} in all", 3000)
        return len(pairs)

    def _toggle_copy_mode(self) -> None:
        on = self.copy_mode_action.isChecked()
        self.prompt_bar.setVisible(on)
        if on:
            self.prompt.setText(self.store.next_sentence())

    def keep_prompted_sentence(self) -> None:
        if self.keep_sample([self.prompt.text()]):
            self.canvas.clear()
            self.prompt.setText(self.store.next_sentence())

    def browse_samples(self) -> None:
        SampleBrowser(self.store, self).exec()

    def train_on_samples(self) -> None:
        if len(self.store) < 2:
            QMessageBox.information(self, "Train on my samples", "Keep a few samples first (Samples > Keep).")
            return
        base = self.settings.value("model_path", "", str) or None
        dialog = TrainDialog(self.store, base, data_dir() / "personal.safetensors", self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.load_model(str(dialog.output))

    # ---- files --------------------------------------------------------------
    def open_ink(self, path: str | None = None) -> bool:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open ink", "", "Ink (*.inkml *.xml *.json)")
            if not path:
                return False
        try:
            ink = handwrite.read_ink(path)
        except handwrite.HandwriteError as exc:
            QMessageBox.warning(self, "Cannot open this file", f"{exc}\n\nThe current page is unchanged.")
            return False
        self.canvas.set_page(fit_to_canvas(ink))
        return True

    def open_image(self, path: str | None = None, show: bool = True) -> ImageTranscriptionDialog | None:
        """Transcribe a line or page image with the image model and show both."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open an image of handwriting", "", IMAGE_FILTER)
            if not path:
                return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if self.image_model is None:
                self.image_model = handwrite.load_model(
                    self.image_model_path, kind="image", beam_size=8, language_model=self.uses_language_model
                )
            result = self.image_model.recognize(path)
        except handwrite.HandwriteError as exc:
            QMessageBox.warning(self, "Cannot read this image", str(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        dialog = ImageTranscriptionDialog(path, result, self)
        if show:
            dialog.show()
        return dialog

    def save_ink(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save ink", "page.inkml", "InkML (*.inkml)")
            if not path:
                return
        ink = self.canvas.page_ink()
        ink.text = self.transcription()
        try:
            handwrite.write_ink(ink, path)
        except (OSError, handwrite.HandwriteError) as exc:
            QMessageBox.warning(self, "Cannot save", str(exc))

    def export_png(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export PNG", "page.png", "PNG image (*.png)")
            if not path:
                return
        if not save_png_atomically(self.canvas.grab(), path):
            QMessageBox.warning(self, "Cannot export", f"Could not write {path}")

    # ---- autosave and settings ----------------------------------------------
    def autosave_path(self) -> Path:
        return data_dir() / "autosave.inkml"

    def autosave(self) -> None:
        try:
            handwrite.write_ink(self.canvas.page_ink(), self.autosave_path())
        except OSError as exc:
            self.statusBar().showMessage(f"Autosave failed: {exc}")

    def _restore_autosave(self) -> None:
        path = self.autosave_path()
        if not path.exists():
            return
        try:
            ink = handwrite.read_ink(path)
        except handwrite.HandwriteError as exc:
            self.statusBar().showMessage(f"Could not restore the last page: {exc}")
            return
        if not ink.is_empty():
            self.canvas.set_page(ink)
            self.canvas.undo_stack.clear()

    def closeEvent(self, event: object) -> None:
        # what a pending timer would do is done now; a timer left running would fire after close
        self._autosave_timer.stop()
        self._debounce.stop()
        self.autosave()
        self.settings.setValue("geometry", self.saveGeometry())
        self.live.stop()
        super().closeEvent(event)


def fit_to_canvas(ink: handwrite.Ink, width: float = 940.0, line: int = 0) -> handwrite.Ink:
    """Scale and move a page of ink onto the ruled lines, from `line` down: each line
    the library's layout analysis finds (a notebook's pages one after another) goes
    on a ruled line of its own, all at one scale, keeping their indents and slant."""
    from gui.canvas import LINE_SPACING, TOP_MARGIN

    if ink.is_empty():
        return ink
    pages = ink.pages()
    found = [(pages[text_line.page - 1], text_line) for text_line in handwrite.find_lines(ink)]
    left = min(text_line.box[0] for _, text_line in found)
    right = max(text_line.box[2] for _, text_line in found)
    tallest = max(text_line.box[3] - text_line.box[1] for _, text_line in found)
    scale = min(0.8 * LINE_SPACING / max(tallest, 1e-6), (width - 40) / max(right - left, 1e-6))
    strokes = []
    for number, (page, text_line) in enumerate(found):
        top = TOP_MARGIN + (line + number + 0.1) * LINE_SPACING
        for index in sorted(text_line.strokes):
            stroke = page.strokes[index].copy()
            stroke[:, 0] = (stroke[:, 0] - left) * scale + 20.0
            stroke[:, 1] = (stroke[:, 1] - text_line.box[1]) * scale + top
            strokes.append(stroke)
    return handwrite.Ink(strokes, text=ink.text)


def save_png_atomically(pixmap: QPixmap, path: str | os.PathLike[str]) -> bool:
    """QSaveFile writes a temporary file and renames it only on commit()."""
    out = QSaveFile(str(path))
    if not out.open(QIODevice.OpenModeFlag.WriteOnly):
        return False
    if not pixmap.save(out, "PNG"):
        out.cancelWriting()
        return False
    return out.commit()


__all__ = ["MainWindow", "fit_to_canvas", "save_png_atomically"]

"""Learning the user's hand: keep corrected samples, browse them, and
fine-tune a personal model in a background process."""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PyQt6.QtCore import QEvent, QPointF, QProcess, QSettings, Qt
from PyQt6.QtGui import QIcon, QKeyEvent, QKeySequence, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import handwrite
from gui.dialogs import choose_folder, confirm, counted, training_data
from gui.theme import PageColors, page_colors

T = TypeVar("T")


def ink_thumbnail(ink: handwrite.Ink, colors: PageColors, width: int = 220, height: int = 44) -> QPixmap:
    """The ink on a strip of page, in the page's colours (light or dark as the palette)."""
    pixmap = QPixmap(width, height)
    pixmap.fill(colors.paper)
    if ink.is_empty():
        return pixmap
    x0, y0, x1, y1 = ink.bounds()
    scale = min((width - 8) / max(x1 - x0, 1e-6), (height - 8) / max(y1 - y0, 1e-6))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(colors.ink, 1.4))
    for stroke in ink.strokes:
        points = [QPointF(4 + (x - x0) * scale, 4 + (y - y0) * scale) for x, y, _ in stroke]
        for a, b in itertools.pairwise(points):
            painter.drawLine(a, b)
    painter.end()
    return pixmap


class KeepSampleDialog(QDialog):
    """Correct the recognized text, one line of text per line of writing."""

    def __init__(self, lines: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keep as sample")
        self.editor = QPlainTextEdit("\n".join(lines))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Correct the text: one line of text for each line you wrote."))
        layout.addWidget(self.editor)
        layout.addWidget(buttons)

    def lines(self) -> list[str]:
        return [line.strip() for line in self.editor.toPlainText().splitlines() if line.strip()]


class SampleBrowser(QDialog):
    """View, relabel, delete, export and import samples."""

    def __init__(self, store: handwrite.SampleStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        # the window's settings (where its file dialogs last were), else the app's
        self.settings = getattr(parent, "settings", None) or QSettings("handwrite", "handwrite")
        self.setWindowTitle("My samples")
        self.resize(560, 480)
        self.list = QListWidget()
        self.list.setIconSize(QPixmap(220, 44).size())
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text, slot in (
            ("Relabel…", self.relabel),
            ("Delete", self.delete),
            ("Export…", self.export),
            ("Import…", self.import_folder),
        ):
            button = self.buttons[text] = QPushButton(text)
            button.clicked.connect(lambda *_, slot=slot: slot())  # not clicked's `checked` as an argument
            buttons.addWidget(button)
        buttons.addStretch()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons.addWidget(close)
        self.list.installEventFilter(self)  # the Delete key deletes (once confirmed)
        self.list.currentRowChanged.connect(lambda _: self._enable_buttons())
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        layout.addWidget(self.summary)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        row = self.list.currentRow()  # kept, so a relabelled sample stays selected and a deletion moves on
        self.list.clear()
        samples = self.store.samples()
        colors = page_colors(self.palette())
        for sample in samples:
            item = QListWidgetItem(QIcon(ink_thumbnail(sample.ink(), colors)), sample.text)
            item.setData(Qt.ItemDataRole.UserRole, sample)
            self.list.addItem(item)
        self.list.setCurrentRow(min(row, self.list.count() - 1))
        self.summary.setText(f"{counted(len(samples), 'sample')} in {self.store.folder}")
        self._enable_buttons()

    def _enable_buttons(self) -> None:
        """Relabel and Delete act on the sample chosen, Export on all: none, no button."""
        chosen = self.selected() is not None
        self.buttons["Relabel…"].setEnabled(chosen)
        self.buttons["Delete"].setEnabled(chosen)
        self.buttons["Export…"].setEnabled(self.list.count() > 0)

    def eventFilter(self, watched: object, event: object) -> bool:
        pressed = isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress
        if watched is self.list and pressed and event.matches(QKeySequence.StandardKey.Delete):
            self.delete()
            return True
        return super().eventFilter(watched, event)

    def selected(self) -> object | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def relabel(self, text: str | None = None) -> None:
        sample = self.selected()
        if sample is None:
            return
        if text is None:
            text, ok = QInputDialog.getText(self, "Relabel", "Transcription:", text=sample.text)
            if not ok:
                return
        self._attempt("Cannot relabel", lambda: self.store.relabel(sample, text))
        self.refresh()

    def delete(self) -> None:
        """Delete the selected sample once the user confirms: it cannot be brought back."""
        sample = self.selected()
        if sample is None:
            return
        question = f"Delete the sample “{sample.text}”? It cannot be brought back."
        if confirm(self, "Delete sample", question, QMessageBox.StandardButton.Yes):
            self._attempt("Cannot delete", lambda: self.store.delete(sample))
            self.refresh()

    def export(self, folder: str | None = None) -> None:
        folder = folder or choose_folder(self, self.settings, "Export samples to")
        if folder:
            copied = self._attempt("Cannot export", lambda: self.store.export(folder))
            if copied is not None:
                QMessageBox.information(self, "Exported", f"{counted(copied, 'sample')} copied to {folder}")

    def import_folder(self, folder: str | None = None) -> None:
        folder = folder or choose_folder(self, self.settings, "Import samples from")
        if folder:
            report = self._attempt("Cannot import", lambda: self.store.import_folder(folder))
            if report is not None:
                QMessageBox.information(self, "Imported", import_in_words(report, folder))
            self.refresh()

    def _attempt(self, title: str, action: Callable[[], T]) -> T | None:
        """Run a store action; a full disk or a bad file is shown, not raised into Qt
        (an exception escaping a slot ends a PyQt6 app). The store writes atomically,
        so a failed action leaves every sample as it was."""
        try:
            return action()
        except (OSError, handwrite.HandwriteError) as exc:
            QMessageBox.warning(self, title, str(exc))
            return None


class TrainDialog(QDialog):
    """Runs `handwrite finetune --json` in a background process: progress,
    cancel, and the held-out CER before and after.

    The new model is written beside `output` and moved there only when the user
    chooses to use it, so a run that changed nothing, or one the user declines,
    never replaces a personal model they already had (which may be the base)."""

    def __init__(
        self,
        store: handwrite.SampleStore,
        base: str | None,
        output: Path,
        parent: QWidget | None = None,
        extra_args: list[str] | None = None,
        in_use: str | None = None,
    ) -> None:
        """`in_use`: the model file the app reads with now (None: the bundled one)."""
        super().__init__(parent)
        self.setWindowTitle("Train on my samples")
        self.output = output
        self.in_use = in_use
        self.candidate = output.with_name(f"{output.stem}.new{output.suffix}")
        self.report: dict | None = None
        self.error = ""
        start = Path(base).name if base else "the bundled model"
        self.status = QLabel(f"Fine-tuning {start} on {counted(len(store), 'sample')}…")
        self.status.setWordWrap(True)  # what the run did is said in a few sentences
        self.setMinimumWidth(460)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the first step says how many there are (loading takes seconds)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.use_button = self.buttons.addButton("Use personal model", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setEnabled(False)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)
        self.process = QProcess(self)
        self.process.readyReadStandardOutput.connect(self._read_output)
        self.process.readyReadStandardError.connect(self._read_error)
        self.process.finished.connect(self._finished)
        # the candidate is the app's own: one a crash left behind is replaced
        args = ["-m", "handwrite", "finetune", str(store.folder), "-o", str(self.candidate), "--json", "--overwrite"]
        self.process.start(sys.executable, args + (["-b", base] if base else []) + (extra_args or []))

    def _read_output(self) -> None:
        for raw in bytes(self.process.readAllStandardOutput()).decode(errors="replace").splitlines():
            try:
                message = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if "step" in message:
                self.bar.setMaximum(message["total"])
                self.bar.setValue(message["step"])
            if message.get("done"):
                self.report = message

    def _read_error(self) -> None:
        self.error += bytes(self.process.readAllStandardError()).decode(errors="replace")

    def _finished(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        if self.report is None:
            lines = [line for line in self.error.splitlines() if "error" in line.lower()]
            self.status.setText(lines[-1] if lines else "Fine-tuning stopped; no model was written.")
            return
        self.status.setText(report_in_words(self.report))
        if self.report.get("changed", True):
            self.bar.setValue(min(self.report.get("steps", 0), self.bar.maximum()))  # a run cut short shows it
            self.use_button.setEnabled(True)
        else:  # the same weights as the model it started from: nothing to offer
            self.bar.hide()
            self.candidate.unlink(missing_ok=True)
        self.adjustSize()  # room for what was said

    def accept(self) -> None:
        """Put the new model in place of the personal one, keeping the personal model it
        replaces beside it (previous_personal()) so a worse run can be undone, unless the
        previous one is in use (then that one stays and the personal model goes), then close."""
        try:
            previous = previous_personal(self.output)
            # the one kept is the one the user read with: after going back to the previous
            # model, the personal model they turned away from is the one replaced
            going_back = self.in_use is not None and Path(self.in_use).resolve() == previous.resolve()
            if self.output.exists() and not going_back:
                os.replace(self.output, previous)
            os.replace(self.candidate, self.output)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot keep the personal model", str(exc))
            return
        super().accept()

    def done(self, code: int) -> None:
        if code != QDialog.DialogCode.Accepted:
            self.candidate.unlink(missing_ok=True)  # declined: the old personal model stays
        super().done(code)

    def reject(self) -> None:
        """Cancel, Close, Escape or the window's close button: a fine-tune still running is
        stopped first (left to run, it held the machine for up to its budget and wrote a
        model nobody would use)."""
        if self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()  # the model is only written at the very end, so nothing is left half-done
            self.process.waitForFinished(5000)
        super().reject()


def import_in_words(report: handwrite.ImportReport, folder: str) -> str:
    """What an import added, and why the rest was skipped (a folder of unlabelled ink
    once said only "0 samples added")."""
    if not report.added and not report.skipped:
        return f"No ink files (.inkml, .json) in {folder}: nothing was added."
    why = [
        (report.duplicates, "the same as a sample kept already or another file there"),
        (report.unlabelled, "without a transcription or without strokes"),
        (report.unreadable, "not readable as ink, or with a transcription no sample may have"),
    ]
    skipped = "; ".join(f"{count} {what}" for count, what in why if count)
    return f"{counted(report.added, 'sample')} added." + (f" Skipped: {skipped}." if skipped else "")


def report_in_words(report: dict) -> str:
    """What a fine-tune did, plainly: whether it changed the model at all, whether it
    was cut short by its time budget, and the held-out CER before and after."""
    steps, seconds, stopped = report.get("steps", 0), report.get("seconds", 0.0), report.get("stopped", "steps")
    if not report.get("changed", True):
        if steps == 0:
            why = "no training step was done" + (" before its time budget ran out" if stopped == "time" else "")
        elif stopped == "no improvement":
            why = f"none of its {steps} steps read your held-out samples better"
        else:
            why = f"its {steps} steps left the model as it was"
        return (
            f"Nothing changed: {why}. The result reads exactly as the model you started from, so there is "
            "no personal model to use. Keep more samples and try again."
        )
    said = [f"Done: {steps} steps in {seconds:.0f} s."]
    if stopped == "time":
        said.append("Stopped early: the time budget ran out before all the planned steps.")
    before, after = report.get("cer_before"), report.get("cer_after")
    if before is None or after is None:
        said.append(
            "Too few samples to hold some out and check that it reads your hand better: try it, and if it "
            "reads worse, go back to the model you had in File > Models."
        )
    elif after < before:
        said.append(f"Errors on your held-out samples: {before:.1%} before, {after:.1%} after.")
    else:
        said.append(f"It did not read your held-out samples better ({before:.1%} before, {after:.1%} after).")
    return " ".join(said)


def previous_personal(personal: Path) -> Path:
    """Where the personal model a new one replaced is kept: personal.previous.safetensors."""
    return personal.with_name(f"{personal.stem}.previous{personal.suffix}")


def personal_models() -> list[tuple[Path, str]]:
    """The user's personal model files and how the app names them: the one Train on my
    samples wrote last, and the one it replaced."""
    personal = handwrite.personal_model_path()
    return [(personal, "your personal model"), (previous_personal(personal), "your previous personal model")]


def is_personal(path: str | os.PathLike[str] | None) -> bool:
    """Whether a model file is one of the user's personal models."""
    return bool(path) and Path(path).resolve() in {mine.resolve() for mine, _ in personal_models()}


def personal_in_brief(meta: dict | None) -> str:
    """e.g. 'made from 12 of your samples, written 2026-12-04', for a menu entry."""
    if meta is None:
        return "cannot be read"
    finetune = (meta.get("training") or {}).get("finetune")
    samples = finetune.get("samples") if isinstance(finetune, dict) else None
    if samples is None:  # a personal model written before the count was recorded: "12 user samples"
        recorded = (entry.split()[0] for entry in training_data(meta) if entry.endswith(" user samples"))
        samples = next(recorded, None)
    created = str(meta.get("created") or "")[:10]  # the day its file was written (ISO 8601)
    # "made from": from 10 samples up a fifth of them were held out to check it, not trained on
    said = [f"made from {samples} of your samples" if samples else "", created and f"written {created}"]
    return ", ".join(part for part in said if part) or "when and how it was made is not recorded"

"""File > Open image: a picture of handwriting and its transcription, side by side.

Recognition goes through the public API (`handwrite.load_model(kind="image")`),
so the app reads images exactly as `handwrite transcribe` does, page images
cut into lines included.
"""

from __future__ import annotations

import html
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QGuiApplication, QImageReader, QPixmap
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextEdit, QVBoxLayout, QWidget

import handwrite
from gui.theme import UNSURE, page_colors

PREVIEW_SIZE = (900, 360)  # largest preview, in pixels; bigger images are scaled down
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")  # those the image model reads
IMAGE_FILTER = f"Images ({' '.join('*' + suffix for suffix in IMAGE_SUFFIXES)})"


class ImageTranscriptionDialog(QDialog):
    """Shows an image and its transcription; the text can be corrected and copied."""

    def __init__(self, path: str | Path, result: handwrite.Result, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{Path(path).name} \u2013 handwrite")  # as the main window's title
        layout = QVBoxLayout(self)
        self.preview = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        pixmap = _preview(path)
        if pixmap is None:
            self.preview.setText("(no preview: Qt cannot show this image, but it was read)")
        else:
            self.preview.setPixmap(pixmap)
        layout.addWidget(self.preview)
        self.summary = QLabel(
            f"Confidence {result.confidence:.0%}; words in faint type are unsure. Correct the text below if needed."
        )
        layout.addWidget(self.summary)
        self.text = QTextEdit()
        self.text.setAcceptRichText(False)  # what the user types or pastes is plain text
        self.text.setHtml(_marked_text(result, page_colors(self.text.palette()).unsure.name()))
        self.text.setMinimumHeight(90)
        font = self.text.font()
        font.setPointSize(font.pointSize() + 3)
        self.text.setFont(font)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy text", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_text)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())


def _marked_text(result: handwrite.Result, faint: str) -> str:
    """The lines as HTML, each word below UNSURE confidence in the faint colour (as the
    main window's text pane shows them); the plain text is result.text."""
    if not result.lines:
        return html.escape(result.text)
    lines = []
    for line in result.lines:
        if " ".join(w.text for w in line.words) != line.text:  # words that do not spell the line: plain
            lines.append(html.escape(line.text))
        else:
            lines.append(" ".join(_word_html(w, faint) for w in line.words))
    return "<br>".join(lines)


def _word_html(word: handwrite.Word, faint: str) -> str:
    text = html.escape(word.text)
    return text if word.confidence >= UNSURE else f'<span style="color:{faint}">{text}</span>'


def _preview(path: str | Path) -> QPixmap | None:
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        scale = min(1.0, PREVIEW_SIZE[0] / max(1, size.width()), PREVIEW_SIZE[1] / max(1, size.height()))
        reader.setScaledSize(size * scale)  # decode small: a huge scan never becomes a huge pixmap
    image = reader.read()
    return None if image.isNull() else QPixmap.fromImage(image)

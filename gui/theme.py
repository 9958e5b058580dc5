"""Colours that follow the system palette: the page, its ink and the text on it stay
readable in light and dark mode. Widgets ask for them when they paint, so a
palette change (the desktop switching to dark) shows at the next repaint."""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PyQt6.QtWidgets import QLabel, QWidget

UNSURE = 0.75  # words read below this confidence are shown in the `unsure` colour (faint)


@dataclass(frozen=True)
class PageColors:
    paper: QColor  # the page's background
    ink: QColor  # strokes
    guides: QColor  # guide lines
    ghost: QColor  # ink shown behind its text
    text: QColor  # recognized text
    unsure: QColor  # words read with low confidence
    corrected: QColor  # words the user corrected
    banner: QColor  # background of the copy-a-sentence prompt


def is_dark(palette: QPalette) -> bool:
    """Whether the palette is a dark one: light text on a dark window."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


DARK = PageColors(
    paper=QColor("#1f2328"),
    ink=QColor("#e6e9ef"),
    guides=QColor("#3a4454"),
    ghost=QColor(230, 233, 239, 70),
    text=QColor("#f2f4f8"),
    unsure=QColor("#8f9bb3"),
    corrected=QColor("#7cc4ff"),
    banner=QColor("#26354d"),
)
LIGHT = PageColors(  # also paper's own colours: an exported page is dark ink on light paper in any mode
    paper=QColor("#fffef8"),
    ink=QColor("#1d2a44"),
    guides=QColor("#c9d8ef"),
    ghost=QColor(29, 42, 68, 60),
    text=QColor("#111a2e"),
    unsure=QColor("#8a93a6"),
    corrected=QColor("#0b5cad"),
    banner=QColor("#eef3fb"),
)


def page_colors(palette: QPalette) -> PageColors:
    return DARK if is_dark(palette) else LIGHT


class Banner(QLabel):
    """Large text on a tinted band (the copy-a-sentence prompt), in the palette's
    colours at every paint: readable light or dark, and after the palette changes."""

    PADDING = 6

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        font = self.font()
        font.setPixelSize(18)
        self.setFont(font)
        self.setMargin(self.PADDING)
        self.setWordWrap(True)

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = page_colors(self.palette())
        painter = QPainter(self)
        painter.fillRect(self.rect(), colors.banner)
        painter.setPen(colors.text)
        painter.setFont(self.font())
        inside = self.contentsRect().adjusted(self.PADDING, 0, -self.PADDING, 0)
        painter.drawText(inside, int(Qt.AlignmentFlag.AlignVCenter) | int(Qt.TextFlag.TextWordWrap), self.text())
        painter.end()


__all__ = ["UNSURE", "Banner", "PageColors", "is_dark", "page_colors"]

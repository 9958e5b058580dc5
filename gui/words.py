"""Text where you wrote it: each line's words drawn over their ink (the ink faint
behind), and word correction. Click a word for the other readings the beam
found for it (`Line.word_alternatives`), pick one or type the word; double-click
to type it at once. A correction changes the line's text through the window's
`set_line_text`, so it is what Copy, save and export give, and it holds while
the line's strokes stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PyQt6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (
    QCloseEvent,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PyQt6.QtWidgets import QDockWidget, QLineEdit, QMainWindow, QMenu, QScrollArea, QWidget

import handwrite
from gui.theme import UNSURE, PageColors, page_colors

MARGIN = 12.0  # pixels around the page's writing
FONT_SHARE = 0.55  # of the line's height on screen, for its text
FONT_PX = (11.0, 30.0)  # smallest and largest text size
WORD_GAP = 4.0  # pixels kept free before the next word
WHOLE_LINE = -1  # a line corrected into a different number of words is one piece
SHOWN = "text_on_the_page"  # settings key: whether the dock is shown
DOCK_SHARE = 0.4  # of the window's width, at most, for the dock: the page to write on keeps the rest


@dataclass(frozen=True)
class _Placed:
    """A word as shown: where (widget pixels) and in what size."""

    line: int
    word: int
    rect: QRectF  # the word's box across its line's height: where a click picks it
    room: float  # width the text may take before the next word
    font_px: float


class PageTextView(QWidget):
    """A page's ink, faint, with each line's text over it, word by word at the words'
    places. Fed by `set_page(ink, result, texts)`; a correction is emitted as
    `line_corrected(line, text)` for the owner to keep."""

    line_corrected = pyqtSignal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result = handwrite.Result("", 1.0)
        self.texts: list[str] = []  # each line's text as the user corrected it
        self._strokes: list[QPainterPath] = []
        self._area = QRectF(0, 0, 1, 1)  # the page region shown, in page units
        self._placed: list[_Placed] = []
        self._editing: tuple[int, int] | None = None
        self.editor = QLineEdit(self)
        self.editor.hide()
        self.editor.returnPressed.connect(self._finish_editing)
        self.editor.installEventFilter(self)
        self.setMinimumWidth(240)

    # ---- what is shown --------------------------------------------------------
    def set_page(
        self,
        ink: handwrite.Ink,
        result: handwrite.Result,
        texts: list[str] | None = None,
        area: QRectF | None = None,
    ) -> None:
        """Show a page's ink (in page units) and its reading; `texts`: each line's text
        with the user's corrections (default: as read). `area`: the page region to
        show; by default the writing with a margin."""
        self.cancel_editing()
        self.result = result
        self.texts = list(texts) if texts is not None else [line.text for line in result.lines]
        self._strokes = [_path(stroke) for stroke in ink.strokes]
        self._area = area if area is not None else _writing_area(ink, result)
        self._lay_out()

    def shown_words(self, line: int) -> list[str] | None:
        """The line's words as shown, one per word read; None when the user's text has
        another number of words (the line is then shown and corrected whole)."""
        words = self.texts[line].split()
        return words if len(words) == len(self.result.lines[line].words) else None

    def shown_text(self, line: int, word: int) -> str:
        """A word as shown (the user's where corrected); WHOLE_LINE: the line's text."""
        words = self.shown_words(line)
        return self.texts[line] if word == WHOLE_LINE or words is None else words[word]

    def word_at(self, point: QPointF) -> tuple[int, int] | None:
        """(line, word) under a point of the widget, if any."""
        for placed in self._placed:
            if placed.rect.contains(point):
                return placed.line, placed.word
        return None

    def word_rect(self, line: int, word: int) -> QRectF:
        return next(p.rect for p in self._placed if (p.line, p.word) == (line, word))

    # ---- correcting -------------------------------------------------------------
    def alternatives(self, line: int, word: int) -> list[str]:
        """Other readings of a word from the beam (the reading itself first when the user
        changed the word); of a whole line, the line's alternatives."""
        read = self.result.lines[line]
        if word == WHOLE_LINE:
            readings = [read.text] + [a.text for a in read.alternatives]
        else:
            others = read.word_alternatives()  # one per word of the text, as the words are cut
            readings = [read.words[word].text] + [a.text for a in (others[word] if word < len(others) else ())]
        shown = self.shown_text(line, word)
        return list(dict.fromkeys(r for r in readings if r != shown))

    def correct(self, line: int, word: int, text: str) -> None:
        """Set a word (or WHOLE_LINE, the line) to `text`; the line's new text is emitted."""
        text = " ".join(text.split())
        words = self.shown_words(line)
        if word == WHOLE_LINE or words is None:
            new = text
        else:
            new = " ".join(w for w in (*words[:word], text, *words[word + 1 :]) if w)
        if new and new != self.texts[line]:
            self.texts[line] = new
            self._lay_out()
            self.line_corrected.emit(line, new)

    def word_menu(self, line: int, word: int) -> QMenu:
        """The readings to pick from, and typing the word."""
        menu = QMenu(self)
        result = self.result  # a newer reading may come while the menu is open (its own event loop)

        def when_current(act: Callable[[], object]) -> Callable[[bool], None]:
            """Act on (line, word) only while the page is the reading the menu was made for:
            after a newer one, the numbers may name another line, or none."""
            return lambda checked=False: None if self.result is not result else act()

        for reading in self.alternatives(line, word):
            action = menu.addAction(reading)
            action.triggered.connect(when_current(lambda r=reading: self.correct(line, word, r)))
        if menu.actions():
            menu.addSeparator()
        typing = "Type the line…" if word == WHOLE_LINE else "Type the word…"
        menu.addAction(typing).triggered.connect(when_current(lambda: self.start_editing(line, word)))
        return menu

    def start_editing(self, line: int, word: int) -> None:
        """Type the word in place; Enter keeps it, Escape leaves the word as it was."""
        self._editing = (line, word)
        placed = next(p for p in self._placed if (p.line, p.word) == (line, word))
        rect = placed.rect
        self.editor.setFont(_font(placed.font_px))  # typed as large as the word is shown
        self.editor.setText(self.shown_text(line, word))
        self.editor.selectAll()
        height = self.editor.sizeHint().height()
        width = min(max(rect.width() + 40.0, 140.0), max(self.width() - rect.left(), 140.0))
        self.editor.setGeometry(int(rect.left()), int(rect.center().y() - height / 2), int(width), height)
        self.editor.show()
        self.editor.setFocus()

    def _finish_editing(self) -> None:
        if self._editing is not None:
            line, word = self._editing
            self.cancel_editing()
            self.correct(line, word, self.editor.text())

    def cancel_editing(self) -> None:
        self._editing = None
        self.editor.hide()

    def eventFilter(self, watched: object, event: object) -> bool:
        if watched is self.editor and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            self.cancel_editing()
            return True
        return super().eventFilter(watched, event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.word_at(event.position())
        if hit is None or event.button() != Qt.MouseButton.LeftButton:
            self.cancel_editing()
            return
        self.word_menu(*hit).exec(event.globalPosition().toPoint())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self.word_at(event.position())
        if hit is not None:
            self.start_editing(*hit)

    # ---- layout and painting ----------------------------------------------------
    @property
    def scale(self) -> float:
        return max(self.width() - 2 * MARGIN, 1.0) / max(self._area.width(), 1e-6)

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(MARGIN + (x - self._area.left()) * self.scale, MARGIN + (y - self._area.top()) * self.scale)

    def sizeHint(self) -> QSize:
        return QSize(480, self.heightForWidth(480))

    def heightForWidth(self, width: int) -> int:
        scale = max(width - 2 * MARGIN, 1.0) / max(self._area.width(), 1e-6)
        return int(self._area.height() * scale + 2 * MARGIN)

    def resizeEvent(self, event: object) -> None:
        self._lay_out()
        super().resizeEvent(event)

    def _lay_out(self) -> None:
        self.setMinimumHeight(self.heightForWidth(self.width()))
        self._placed = [placed for number, line in enumerate(self.result.lines) for placed in self._place(number, line)]
        self.update()

    def _place(self, number: int, line: handwrite.Line) -> list[_Placed]:
        """Each word of a line at its box, the text sized to the line's height; a line
        whose corrected text has another number of words, as one piece."""
        if line.box is None or not line.words:
            return []
        top, bottom = self.to_widget(line.box[0], line.box[1]), self.to_widget(line.box[2], line.box[3])
        font_px = min(max(FONT_SHARE * (bottom.y() - top.y()), FONT_PX[0]), FONT_PX[1])
        height = max(bottom.y() - top.y(), font_px)
        if self.shown_words(number) is None:
            room = max(self.width() - MARGIN - top.x(), 1.0)
            return [_Placed(number, WHOLE_LINE, QRectF(top.x(), top.y(), bottom.x() - top.x(), height), room, font_px)]
        metrics = QFontMetricsF(_font(font_px))
        lefts, rights, cursor = [], [], top.x()
        for word in line.words:  # a word without a box follows the one before it
            if word.box is not None:
                left, right = self.to_widget(word.box[0], 0).x(), self.to_widget(word.box[2], 0).x()
            else:
                left, right = cursor, cursor + metrics.horizontalAdvance(word.text)
            lefts.append(left)
            rights.append(right)
            cursor = right + metrics.horizontalAdvance(" ")
        placed = []
        for k in range(len(line.words)):
            following = lefts[k + 1] if k + 1 < len(lefts) else max(bottom.x(), rights[k]) + 3 * font_px
            room = max(following - lefts[k] - WORD_GAP, rights[k] - lefts[k], 1.0)
            rect = QRectF(lefts[k], top.y(), max(rights[k] - lefts[k], 8.0), height)
            placed.append(_Placed(number, k, rect, room, font_px))
        return placed

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = page_colors(self.palette())
        painter = QPainter(self)
        painter.fillRect(self.rect(), colors.paper)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.save()  # the ink, faint, in page units
        painter.translate(MARGIN, MARGIN)
        painter.scale(self.scale, self.scale)
        painter.translate(-self._area.left(), -self._area.top())
        pen = QPen(colors.ghost, 1.6 / self.scale)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        for path in self._strokes:
            painter.drawPath(path)
        painter.restore()
        for placed in self._placed:
            self._paint_word(painter, placed, colors)
        painter.end()

    def _paint_word(self, painter: QPainter, placed: _Placed, colors: PageColors) -> None:
        """A word in the text colour; faint when read unsure; underlined in the link
        colour when the user corrected it. Narrowed, never overlapping the next word."""
        line = self.result.lines[placed.line]
        read = line.text if placed.word == WHOLE_LINE else line.words[placed.word].text
        sure = line.confidence if placed.word == WHOLE_LINE else line.words[placed.word].confidence
        text = self.shown_text(placed.line, placed.word)
        color = colors.corrected if text != read else colors.text if sure >= UNSURE else colors.unsure
        font = _font(placed.font_px)
        font.setUnderline(text != read)
        metrics = QFontMetricsF(font)
        squeeze = min(1.0, placed.room / max(metrics.horizontalAdvance(text), 1e-6))
        painter.save()
        painter.translate(placed.rect.left(), placed.rect.center().y())
        painter.scale(squeeze, 1.0)
        painter.setFont(font)
        painter.setPen(color)
        painter.drawText(QPointF(0, metrics.capHeight() / 2), text)
        painter.restore()


def add_word_view(window: QMainWindow, menu: QMenu) -> WordDock:
    """The dock, at the window's right, shown and hidden with View > Text on the page."""
    dock = WordDock(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    settings = window.settings  # shown or not as it was last time
    dock.setVisible(settings.value(SHOWN, False, bool))
    action = dock.toggleViewAction()
    action.triggered.connect(lambda shown: settings.setValue(SHOWN, shown))  # the user's choice, not a close
    action.setText("&Text on the page")
    action.setShortcut(QKeySequence("Ctrl+Shift+T"))
    menu.addAction(action)
    window.addAction(action)
    return dock


class WordDock(QDockWidget):
    """View > Text on the page: the shown page's text over its ink, beside the page,
    kept up to date from the window's readings; corrections go to the window."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__("Text on the page", window)
        self.setObjectName("text-on-the-page")
        self.main_window = window
        self.view = PageTextView()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.view)
        self.setWidget(scroll)
        window.results_changed.connect(self.refresh)
        self.visibilityChanged.connect(lambda visible: visible and (self.refresh(), self.keep_to_its_share()))
        self.view.line_corrected.connect(lambda line, text: window.set_line_text(line, text))
        window.installEventFilter(self)  # the window's resizes, to keep the page the larger part

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.main_window and event.type() == QEvent.Type.Resize:
            self.keep_to_its_share()
        return False

    def keep_to_its_share(self) -> None:
        """Narrow the dock to DOCK_SHARE of the window: shown first at its content's
        width, or kept as the window shrank, it took most of a small window's width."""
        most = int(self.main_window.width() * DOCK_SHARE)
        if self.isVisible() and not self.isFloating() and self.width() > most:
            self.main_window.resizeDocks([self], [most], Qt.Orientation.Horizontal)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed with its own button: not shown next time either."""
        self.main_window.settings.setValue(SHOWN, False)
        super().closeEvent(event)

    def refresh(self) -> None:
        """Show the window's page as last read (skipped while hidden: nothing to see)."""
        if self.isVisible():
            window = self.main_window
            self.view.set_page(window.canvas.page_ink(), window.page_result(), window.line_texts())


def _font(pixels: float) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, round(pixels)))
    return font


def _path(stroke: object) -> QPainterPath:
    path = QPainterPath(QPointF(float(stroke[0, 0]), float(stroke[0, 1])))
    for x, y in stroke[1:, :2].tolist():
        path.lineTo(x, y)
    if len(stroke) == 1:
        path.addEllipse(QPointF(float(stroke[0, 0]), float(stroke[0, 1])), 0.8, 0.8)
    return path


def _writing_area(ink: handwrite.Ink, result: handwrite.Result) -> QRectF:
    """The region holding the ink and the lines read, with a little room around."""
    boxes = [line.box for line in result.lines if line.box is not None]
    if not ink.is_empty():
        boxes.append(ink.bounds())
    if not boxes:
        return QRectF(0, 0, 100, 40)
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    return QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)


__all__ = ["WHOLE_LINE", "PageTextView", "WordDock", "add_word_view"]

"""The writing canvas: ruled lines, strokes from mouse or tablet pen (pressure
shown as width), recorded with timestamps; undo/redo, erase, clear."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPen, QTabletEvent, QUndoCommand, QUndoStack
from PyQt6.QtWidgets import QWidget

import handwrite

LINE_SPACING = 90.0  # pixels between ruled lines
TOP_MARGIN = 20.0
ERASE_RADIUS = 8.0


@dataclass
class Stroke:
    points: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, t (seconds)
    pressures: list[float] = field(default_factory=list)

    def line_index(self) -> int:
        """The ruled line this stroke belongs to: where most of it lies."""
        ys = sorted(p[1] for p in self.points)
        return max(0, int((ys[len(ys) // 2] - TOP_MARGIN) // LINE_SPACING))

    def near(self, x: float, y: float, radius: float) -> bool:
        """Whether (x, y) lies within radius of the stroke's path (its segments, not just its points)."""
        xy = np.asarray(self.points)[:, :2]
        if len(xy) == 1:
            return math.hypot(xy[0, 0] - x, xy[0, 1] - y) <= radius
        start, seg = xy[:-1], np.diff(xy, axis=0)
        length2 = np.maximum((seg**2).sum(axis=1), 1e-12)
        along = np.clip(((np.array([x, y]) - start) * seg).sum(axis=1) / length2, 0.0, 1.0)
        closest = start + seg * along[:, None]
        return bool((np.hypot(closest[:, 0] - x, closest[:, 1] - y) <= radius).any())


class _AddStroke(QUndoCommand):
    def __init__(self, canvas: InkCanvas, stroke: Stroke) -> None:
        super().__init__("write")
        self.canvas, self.stroke = canvas, stroke

    def redo(self) -> None:
        self.canvas.strokes.append(self.stroke)
        self.canvas.page_changed()

    def undo(self) -> None:
        self.canvas.strokes.remove(self.stroke)
        self.canvas.page_changed()


class _RemoveStrokes(QUndoCommand):
    def __init__(self, canvas: InkCanvas, strokes: list[Stroke], name: str) -> None:
        super().__init__(name)
        self.canvas, self.removed = canvas, list(strokes)
        self.positions = [canvas.strokes.index(s) for s in strokes]

    def redo(self) -> None:
        for stroke in self.removed:
            self.canvas.strokes.remove(stroke)
        self.canvas.page_changed()

    def undo(self) -> None:
        for position, stroke in sorted(zip(self.positions, self.removed, strict=True), key=lambda item: item[0]):
            self.canvas.strokes.insert(position, stroke)
        self.canvas.page_changed()


class InkCanvas(QWidget):
    """Emits `stroke_finished` at every pen-up and `changed` after any edit."""

    stroke_finished = pyqtSignal()
    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strokes: list[Stroke] = []
        self.undo_stack = QUndoStack(self)
        self.erasing = False
        self.pen_width = 2.6
        self._current: Stroke | None = None
        self._clock = time.monotonic()
        self.setMinimumSize(640, 360)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setCursor(Qt.CursorShape.CrossCursor)

    # ---- the page as ink ----------------------------------------------------
    def line_inks(self) -> dict[int, handwrite.Ink]:
        """One Ink per ruled line that holds writing, in line order."""
        lines: dict[int, list[Stroke]] = {}
        for stroke in self.strokes:
            lines.setdefault(stroke.line_index(), []).append(stroke)
        return {index: handwrite.Ink([np.asarray(s.points) for s in lines[index]]) for index in sorted(lines)}

    def page_ink(self) -> handwrite.Ink:
        return handwrite.Ink([np.asarray(s.points) for s in self.strokes])

    def set_page(self, ink: handwrite.Ink) -> None:
        """Replace the page (undoable as one step)."""
        self.undo_stack.beginMacro("open")
        if self.strokes:
            self.undo_stack.push(_RemoveStrokes(self, self.strokes, "clear"))
        for stroke in ink.strokes:
            self.undo_stack.push(_AddStroke(self, Stroke([tuple(p) for p in stroke.tolist()], [0.5] * len(stroke))))
        self.undo_stack.endMacro()

    def clear(self) -> None:
        if self.strokes:
            self.undo_stack.push(_RemoveStrokes(self, self.strokes, "clear"))

    def page_changed(self) -> None:
        self.update()
        self.changed.emit()

    # ---- pen input ----------------------------------------------------------
    def begin_stroke(self, x: float, y: float, pressure: float = 0.5) -> None:
        if self.erasing:
            self._erase_at(x, y)
            return
        self._current = Stroke()
        self.add_point(x, y, pressure)

    def add_point(self, x: float, y: float, pressure: float = 0.5) -> None:
        if self.erasing:
            self._erase_at(x, y)
        elif self._current is not None:
            self._current.points.append((x, y, time.monotonic() - self._clock))
            self._current.pressures.append(pressure)
            self.update()

    def end_stroke(self) -> None:
        stroke, self._current = self._current, None
        if stroke is not None and stroke.points:
            self.undo_stack.push(_AddStroke(self, stroke))
            self.stroke_finished.emit()

    def _erase_at(self, x: float, y: float) -> None:
        hit = [s for s in self.strokes if s.near(x, y, ERASE_RADIUS)]
        if hit:
            self.undo_stack.push(_RemoveStrokes(self, hit, "erase"))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.begin_stroke(event.position().x(), event.position().y())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.add_point(event.position().x(), event.position().y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.end_stroke()

    def tabletEvent(self, event: QTabletEvent) -> None:
        x, y, pressure = event.position().x(), event.position().y(), event.pressure()
        kind = event.type()
        if kind == QTabletEvent.Type.TabletPress:
            self.begin_stroke(x, y, pressure)
        elif kind == QTabletEvent.Type.TabletMove and (self._current is not None or self.erasing):
            self.add_point(x, y, pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            self.end_stroke()
        event.accept()  # no synthesized mouse events: the pen is recorded once

    # ---- drawing ------------------------------------------------------------
    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#fffef8"))
        painter.setPen(QPen(QColor("#c9d8ef"), 1.0))
        y = TOP_MARGIN + LINE_SPACING * 0.75
        while y < self.height():
            painter.drawLine(QPointF(0, y), QPointF(self.width(), y))
            y += LINE_SPACING
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for stroke in self.strokes + ([self._current] if self._current else []):
            self._draw_stroke(painter, stroke)
        painter.end()

    def _draw_stroke(self, painter: QPainter, stroke: Stroke) -> None:
        color = QColor("#1d2a44")
        if len(stroke.points) == 1:
            x, y, _ = stroke.points[0]
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(QRectF(x - 1.5, y - 1.5, 3, 3))
            return
        uniform = len(set(stroke.pressures)) <= 1
        if uniform:
            path = QPainterPath(QPointF(*stroke.points[0][:2]))
            for x, y, _ in stroke.points[1:]:
                path.lineTo(x, y)
            painter.setPen(
                QPen(color, self.pen_width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            )
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            return
        for (x0, y0, _), (x1, y1, _), pressure in zip(
            stroke.points, stroke.points[1:], stroke.pressures[1:], strict=False
        ):
            width = self.pen_width * (0.4 + 1.2 * pressure)
            painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(QPointF(x0, y0), QPointF(x1, y1))

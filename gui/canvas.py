"""The writing page: strokes from mouse or tablet pen (pressure shown as width),
recorded with timestamps in the page's own coordinates, whatever the zoom;
undo/redo per page, erase, clear; several pages; guide lines as a background
style only. `PageView` scrolls it, zooms it (Ctrl+wheel, pinch) and pans it
(scroll bars, middle-drag, space-drag)."""

from __future__ import annotations

import math
import time
import weakref

from PyQt6.QtCore import QEvent, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
    QTabletEvent,
    QUndoCommand,
    QUndoGroup,
    QUndoStack,
    QWheelEvent,
)
from PyQt6.QtWidgets import QGestureEvent, QPinchGesture, QScrollArea, QWidget

import handwrite
from gui.document import PAGE_RATIO, Document, Page, Stroke, kept
from gui.theme import LIGHT, PageColors, page_colors

ERASE_RADIUS = 6.0  # points (scaled with the page like the pen)
PEN_WIDTH = 1.6  # points
RULED_SPACING = 36.0  # points between ruled lines: room for mouse and pen writing
SQUARE_SIZE = 18.0  # points
STYLES = ("plain", "ruled", "squared")
MIN_ZOOM, MAX_ZOOM = 0.05, 12.0
GUTTER = 14  # pixels of the view either side of a page fitted to its width
MAX_WIDGET_PX = (1 << 24) - 1  # Qt's largest widget size (QWIDGETSIZE_MAX)
MIN_GUIDE_PX = 3.0  # guide lines closer than this on the device are not drawn (they would fill the page)
FOLLOW_MARGIN = 8  # pixels: a stroke ending this near the view's edge, or past it, scrolls the page along
WHEEL_STEP = 1.0015  # zoom factor per eighth of a wheel degree (one notch: about 1.2x)
_ERASE_COMMAND = 1  # QUndoCommand id: the removals of one erase gesture merge into one step


class _AddStroke(QUndoCommand):
    def __init__(self, canvas: InkCanvas, page: Page, stroke: Stroke) -> None:
        super().__init__("write")
        self.canvas, self.page, self.stroke = canvas, page, stroke

    def redo(self) -> None:
        self.page.strokes.append(self.stroke)
        self.canvas.page_changed()

    def undo(self) -> None:
        self.page.strokes.remove(self.stroke)
        self.canvas.page_changed()


class _RemoveStrokes(QUndoCommand):
    """Removes strokes; the removals of one erase gesture merge into one undo step."""

    def __init__(self, canvas: InkCanvas, page: Page, strokes: list[Stroke], name: str, gesture: int = 0) -> None:
        super().__init__(name)
        self.canvas, self.page, self.gesture = canvas, page, gesture
        self.batches = [(list(strokes), [page.strokes.index(s) for s in strokes])]

    def id(self) -> int:
        return _ERASE_COMMAND if self.gesture else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _RemoveStrokes) or other.gesture != self.gesture or other.page is not self.page:
            return False
        self.batches += other.batches  # already done by other.redo(); undone in reverse order
        return True

    def redo(self) -> None:
        for strokes, _ in self.batches:
            for stroke in strokes:
                self.page.strokes.remove(stroke)
        self.canvas.page_changed()

    def undo(self) -> None:
        for strokes, positions in reversed(self.batches):
            for position, stroke in sorted(zip(positions, strokes, strict=True), key=lambda item: item[0]):
                self.page.strokes.insert(position, stroke)
        self.canvas.page_changed()


class InkCanvas(QWidget):
    """The current page of a `Document`, drawn at `zoom` widget pixels per page unit.

    Emits `stroke_finished` at every pen-up, `changed` after any edit of any page
    and `page_shown` when another page (or document) is shown.
    """

    stroke_finished = pyqtSignal()
    changed = pyqtSignal()
    page_shown = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = Document()
        self.zoom = 1.5
        self.style = "ruled"
        self.undo_group = QUndoGroup(self)
        self._stacks: dict[int, QUndoStack] = {}
        self.erasing = False
        self._current: Stroke | None = None
        self._erase_gesture = 0
        self._eraser_at = (0.0, 0.0, 0)  # the eraser's last page position, and its gesture
        self._pan_from: QPointF | None = None  # global position of a middle- or space-drag
        self._space_held = False
        self._clock = time.monotonic()
        # finished strokes' points and paths as Qt draws them, dropped with the strokes
        self._cache: weakref.WeakKeyDictionary[Stroke, tuple[list[QPointF], QPainterPath]] = weakref.WeakKeyDictionary()
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._show_current()

    # ---- the document -------------------------------------------------------
    @property
    def page(self) -> Page:
        return self.document.page

    @property
    def strokes(self) -> list[Stroke]:
        return self.page.strokes

    @property
    def undo_stack(self) -> QUndoStack:
        """The shown page's undo history (each page has its own)."""
        stack = self._stacks.get(self.page.serial)
        if stack is None:
            stack = self._stacks[self.page.serial] = QUndoStack(self.undo_group)
        return stack

    def page_ink(self) -> handwrite.Ink:
        return self.page.ink()

    def set_document(self, document: Document, keep: Document | None = None) -> None:
        """Show another document. Its pages keep the undo history they had when last
        shown, and so do those of `keep` (a document put aside to come back); every
        other page's history is dropped."""
        kept_pages = {page.serial for page in document.pages}
        if keep is not None:
            kept_pages.update(page.serial for page in keep.pages)
        for serial in [serial for serial in self._stacks if serial not in kept_pages]:
            stack = self._stacks.pop(serial)
            self.undo_group.removeStack(stack)
            stack.deleteLater()
        self.document = document
        self._show_current()
        self.changed.emit()

    def show_page(self, index: int) -> None:
        self.document.current = max(0, min(index, len(self.document.pages) - 1))
        self._show_current()

    def new_page(self) -> None:
        """A blank page after the shown one, as large as it, shown."""
        page = Page(right=self.page.right, bottom=kept(self.page.right * PAGE_RATIO))
        self.document.pages.insert(self.document.current + 1, page)
        self.show_page(self.document.current + 1)
        self.changed.emit()

    def delete_page(self) -> None:
        """Remove the shown page (never the last one left) with its undo history; the page
        before it is shown, or the one after it when it was the first."""
        if len(self.document.pages) < 2:
            return
        page = self.document.pages.pop(self.document.current)
        stack = self._stacks.pop(page.serial, None)
        if stack is not None:
            self.undo_group.removeStack(stack)
            stack.deleteLater()
        self.show_page(self.document.current - 1 if self.document.current > 0 else 0)
        self.changed.emit()

    def set_page_size(self, width: float, height: float) -> None:
        """The shown page's size from its origin (a notebook's page size)."""
        self.page.right, self.page.bottom = width, height
        self._resize_to_page()
        self.update()

    def _show_current(self) -> None:
        self.undo_group.setActiveStack(self.undo_stack)
        self._resize_to_page()
        self.update()
        self.page_shown.emit()

    def clear(self) -> None:
        if self.strokes:
            self.undo_stack.push(_RemoveStrokes(self, self.page, self.strokes, "clear"))

    def page_changed(self) -> None:
        self.update()
        self.changed.emit()

    # ---- coordinates --------------------------------------------------------
    def to_page(self, point: QPointF) -> tuple[float, float]:
        return point.x() / self.zoom + self.page.left, point.y() / self.zoom + self.page.top

    def to_widget(self, x: float, y: float) -> QPointF:
        return QPointF((x - self.page.left) * self.zoom, (y - self.page.top) * self.zoom)

    def set_zoom(self, zoom: float) -> None:
        self.zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        self._resize_to_page()
        self.update()

    def _resize_to_page(self) -> None:
        """As large as the page at this zoom, within Qt's largest widget (a file's page may
        be a billion units tall: no view reaches past that size, and no error either)."""
        size = (min(MAX_WIDGET_PX, max(1, round(extent * self.zoom))) for extent in (self.page.width, self.page.height))
        self.resize(*size)

    def set_style(self, style: str) -> None:
        self.style = style if style in STYLES else "ruled"
        self.update()

    # ---- pen input ----------------------------------------------------------
    def begin_stroke(self, x: float, y: float, pressure: float = 0.5) -> None:
        """Pen down at page coordinates (x, y)."""
        if self.erasing:
            self._erase_gesture += 1
            self._erase_at(x, y)
            return
        self._current = Stroke()
        self.add_point(x, y, pressure)

    def add_point(self, x: float, y: float, pressure: float = 0.5) -> None:
        if self.erasing:
            self._erase_at(x, y)
        elif self._current is not None:
            # to 1e-4 unit (as .xopp files keep them) and 1 ms, far finer than a pen: saved and
            # opened again, the page has the same numbers
            self._current.points.append((round(x, 4), round(y, 4), round(time.monotonic() - self._clock, 3)))
            self._current.pressures.append(pressure)
            self._update_around(self._current.points[-2:])

    def end_stroke(self) -> None:
        stroke, self._current = self._current, None
        if stroke is not None and stroke.points:
            self.undo_stack.push(_AddStroke(self, self.page, stroke))
            if self.page.grow_for(stroke):  # room to go on writing below
                self._resize_to_page()
            self._follow(stroke)
            self.stroke_finished.emit()

    def _erase_at(self, x: float, y: float) -> None:
        """Erase what the eraser touched since its last position (a quick swipe skips none)."""
        radius = ERASE_RADIUS * self.page.unit
        last, self._eraser_at = self._eraser_at, (x, y, self._erase_gesture)
        if self._erase_gesture != last[2]:
            last = (x, y, self._erase_gesture)
        # one test a radius along the way, or a pixel where the radius is finer than that (a
        # page a file made far narrower than A4): never billions of them
        distance = math.hypot(x - last[0], y - last[1])
        steps = max(1, math.ceil(min(distance / radius, distance * self.zoom)))
        path = [(last[0] + (x - last[0]) * i / steps, last[1] + (y - last[1]) * i / steps) for i in range(steps + 1)]
        hit = [s for s in self.strokes if any(s.near(px, py, radius) for px, py in path)]
        if hit:
            self.undo_stack.push(_RemoveStrokes(self, self.page, hit, "erase", self._erase_gesture))

    def _update_around(self, points: list[tuple[float, float, float]]) -> None:
        """Repaint only around the newest segment: drawing stays quick on a full page."""
        corners = [self.to_widget(x, y) for x, y, _ in points]
        pad = PEN_WIDTH * self.page.unit * self.zoom * 2 + 2
        box = QRectF(corners[0], corners[-1]).normalized().adjusted(-pad, -pad, pad, pad)
        self.update(box.toAlignedRect())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            self._space_held and event.button() == Qt.MouseButton.LeftButton
        ):
            self._pan_from = event.globalPosition()
        elif event.button() == Qt.MouseButton.LeftButton:
            self.begin_stroke(*self.to_page(event.position()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta, self._pan_from = event.globalPosition() - self._pan_from, event.globalPosition()
            if isinstance(view := self._view(), PageView):
                view.pan(-delta.x(), -delta.y())
        elif event.buttons() & Qt.MouseButton.LeftButton:
            self.add_point(*self.to_page(event.position()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
        elif event.button() == Qt.MouseButton.LeftButton:
            self.end_stroke()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.setCursor(Qt.CursorShape.PointingHandCursor if self.erasing else Qt.CursorShape.CrossCursor)
        else:
            super().keyReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:
        (x, y), pressure, kind = self.to_page(event.position()), event.pressure(), event.type()
        if kind == QTabletEvent.Type.TabletPress:
            self.begin_stroke(x, y, pressure)
        elif kind == QTabletEvent.Type.TabletMove and (self._current is not None or self.erasing):
            self.add_point(x, y, pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            self.end_stroke()
        event.accept()  # no synthesized mouse events: the pen is recorded once

    def _follow(self, stroke: Stroke) -> None:
        """A stroke ended past the view's edge: the page scrolls so where the pen lifted is
        in view. Only at pen-up: scrolling under a pen held still past the edge would draw
        on and on down the page."""
        if isinstance(view := self._view(), PageView):
            end = self.to_widget(*stroke.points[-1][:2])
            view.ensureVisible(round(end.x()), round(end.y()), FOLLOW_MARGIN, FOLLOW_MARGIN)

    def _view(self) -> QWidget | None:
        viewport = self.parentWidget()
        return viewport.parentWidget() if viewport is not None else None

    # ---- drawing ------------------------------------------------------------
    def colors(self) -> tuple[QColor, QColor, QColor]:
        """Paper, ink and guide lines, light or dark as the palette's window is (gui.theme:
        the text views use the same); not the background role, which the scroll area sets
        to Dark, a role that stays mid-grey in many dark palettes."""
        colors = page_colors(self.palette())
        return colors.paper, colors.ink, colors.guides

    def paintEvent(self, event: QPaintEvent) -> None:
        exposed = event.rect()
        left, top = self.to_page(QPointF(exposed.topLeft()))
        painter = QPainter(self)
        painter.scale(self.zoom, self.zoom)
        self.paint_page(painter, QRectF(left, top, exposed.width() / self.zoom, exposed.height() / self.zoom))
        painter.end()

    def paint_page(self, painter: QPainter, seen: QRectF, colors: PageColors | None = None) -> None:
        """Paper, guides and strokes within `seen` (page units), in `colors` (default: the
        palette's, as on screen); the painter maps page units to its device, less the
        page's top-left corner."""
        paper, ink, guides = self.colors() if colors is None else (colors.paper, colors.ink, colors.guides)
        painter.translate(-self.page.left, -self.page.top)
        painter.fillRect(seen, paper)
        self._draw_guides(painter, seen, guides)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for stroke in self.strokes + ([self._current] if self._current else []):
            self._draw_stroke(painter, stroke, ink, seen)

    def page_image(self, pixels_per_point: float, longest: int = 12000) -> QImage:
        """The whole shown page as an image, at this many pixels per point of an A4-wide page:
        dark ink on light paper, as the searchable PDF has it, whether the screen is light or dark."""
        page = self.page
        scale = min(pixels_per_point / page.unit, longest / max(page.width, page.height))
        image = QImage(
            max(1, round(page.width * scale)), max(1, round(page.height * scale)), QImage.Format.Format_RGB32
        )
        painter = QPainter(image)
        painter.scale(scale, scale)
        self.paint_page(painter, QRectF(page.left, page.top, page.width, page.height), LIGHT)
        painter.end()
        return image

    def _draw_guides(self, painter: QPainter, seen: QRectF, color: QColor) -> None:
        """Ruled or squared lines across `seen`, none where they would be closer than
        MIN_GUIDE_PX on the device (a page far narrower than tall has guides finer than a
        pixel: there would be billions of them, and adding a step to a coordinate may not
        move it)."""
        if self.style == "plain":
            return
        step = (RULED_SPACING if self.style == "ruled" else SQUARE_SIZE) * self.page.unit
        device = painter.transform()
        if not step * min(abs(device.m11()), abs(device.m22())) >= MIN_GUIDE_PX:
            return
        painter.setPen(QPen(color, 0))  # cosmetic: one pixel at any zoom
        for k in range(math.floor(seen.top() / step) + 1, math.ceil(seen.bottom() / step)):
            painter.drawLine(QPointF(seen.left(), k * step), QPointF(seen.right(), k * step))
        if self.style == "squared":
            for k in range(math.floor(seen.left() / step) + 1, math.ceil(seen.right() / step)):
                painter.drawLine(QPointF(k * step, seen.top()), QPointF(k * step, seen.bottom()))

    def _draw_stroke(self, painter: QPainter, stroke: Stroke, color: QColor, seen: QRectF) -> None:
        width = PEN_WIDTH * self.page.unit
        x0, y0, x1, y1 = stroke.box()
        if not seen.intersects(QRectF(x0, y0, x1 - x0, y1 - y0).adjusted(-width, -width, width, width)):
            return
        points, path = self._shape(stroke)
        if len(points) == 1:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(points[0], width, width)
            return
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if len(set(stroke.pressures)) <= 1:
            pen = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawPath(path)
            return
        for start, end, pressure in zip(points, points[1:], stroke.pressures[1:], strict=False):
            painter.setPen(QPen(color, width * (0.4 + 1.2 * pressure), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            painter.drawLine(start, end)

    def _shape(self, stroke: Stroke) -> tuple[list[QPointF], QPainterPath]:
        """The stroke's points and path as Qt draws them, made once when it is finished:
        a full page repaints quickly."""
        cached = self._cache.get(stroke)
        if cached is not None:
            return cached
        points = [QPointF(x, y) for x, y, _ in stroke.points]
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        if stroke is not self._current:  # the stroke being written still grows
            self._cache[stroke] = (points, path)
        return points, path


class PageView(QScrollArea):
    """Scrolls the canvas; Ctrl+wheel and pinch zoom about the pointer; middle- or
    space-drag pans (see InkCanvas)."""

    zoomed = pyqtSignal(float)

    def __init__(self, canvas: InkCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.setWidget(canvas)
        self.setWidgetResizable(False)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setBackgroundRole(QPalette.ColorRole.Dark)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self.fitted = True  # the page's width follows the view's until the user zooms
        canvas.page_shown.connect(self._page_shown)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the page point under `anchor` (viewport pixels; default: the centre) in place."""
        anchor = anchor if anchor is not None else QPointF(self.viewport().rect().center())
        at = self.canvas.to_page(anchor - QPointF(self.canvas.pos()))
        self.canvas.set_zoom(self.canvas.zoom * factor)
        self.fitted = False
        moved = self.canvas.to_widget(*at) - anchor
        self.horizontalScrollBar().setValue(round(moved.x()))
        self.verticalScrollBar().setValue(round(moved.y()))
        self.zoomed.emit(self.canvas.zoom)

    def fit_width(self) -> None:
        """Zoom so the page's width fills the view, keeping the page's line at the view's
        top there (the view narrowed by a dock or a resized window does not jump)."""
        room = self.viewport().width() - 2 * GUTTER  # grey either side: the page looks like a sheet
        top = self.verticalScrollBar().value() / self.canvas.zoom  # page units above the view
        self.canvas.set_zoom(max(room, 50) / self.canvas.page.width)
        self.verticalScrollBar().setValue(round(top * self.canvas.zoom))
        self.fitted = True
        self.zoomed.emit(self.canvas.zoom)

    def _page_shown(self) -> None:
        """Another page (or document) is shown: from its top, where one writes first."""
        if self.fitted:  # another page may be another size
            self.fit_width()
        self.verticalScrollBar().setValue(0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fitted:
            self.fit_width()

    def pan(self, dx: float, dy: float) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(dy))

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_by(WHEEL_STEP ** event.angleDelta().y(), event.position())
            event.accept()
        else:
            super().wheelEvent(event)

    def viewportEvent(self, event: QEvent) -> bool:
        if isinstance(event, QNativeGestureEvent) and event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            self.zoom_by(1.0 + event.value(), event.position())  # touchpad pinch (macOS, Wayland)
            return True
        if isinstance(event, QGestureEvent) and event.gesture(Qt.GestureType.PinchGesture) is not None:
            self._pinch(event.gesture(Qt.GestureType.PinchGesture))  # touch-screen pinch
            return True
        return super().viewportEvent(event)

    def _pinch(self, pinch: QPinchGesture) -> None:
        if pinch.changeFlags() & QPinchGesture.ChangeFlag.ScaleFactorChanged:
            centre = self.viewport().mapFromGlobal(pinch.centerPoint().toPoint())
            self.zoom_by(pinch.scaleFactor(), QPointF(centre))

"""Live recognition off the GUI thread. Each request carries an id; a newer
request supersedes older ones (stale ones are skipped, stale results ignored).

A request is the document's pages as strokes. For each page the worker finds
the lines with the library's layout analysis (cheap; remembered per page
content) and reads only the lines whose strokes it has not read before: a line
is known by the content of its strokes, not by where it sits on the page or
which objects hold it, so after a pen-up only the line written on is read
again, each line as its own Ink through the model."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

import numpy as np
from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

import handwrite

LineKey = tuple[bytes, ...]  # the digests of a line's strokes, in the line's reading order
CACHED_LINES = 2048  # line results kept beyond those of the newest request


@dataclass(frozen=True)
class PageStrokes:
    """What the worker is given of a page: its strokes and their content digests."""

    serial: int
    digests: tuple[bytes, ...]
    strokes: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class PageReading:
    """A page read: lines in reading order with boxes and words in page coordinates and
    stroke indices into the page; each line's content key; how many lines were read
    this time (the others came from earlier readings)."""

    result: handwrite.Result
    keys: tuple[LineKey, ...]
    read: int

    @classmethod
    def empty(cls) -> PageReading:
        return cls(handwrite.Result("", 1.0), (), 0)

    def is_of(self, digests: list[bytes]) -> bool:
        """Whether this reading is of a page whose strokes are (now) these."""
        placed = [[digests[i] if i < len(digests) else None for i in line.strokes] for line in self.result.lines]
        return sum(map(len, placed)) == len(digests) and placed == [list(key) for key in self.keys]


class PageReader:
    """Reads pages line by line, remembering each line's result by its content."""

    def __init__(self, model: handwrite.Recognizer) -> None:
        self.model = model
        self._layouts: dict[tuple[bytes, ...], list[handwrite.TextLine]] = {}
        self._lines: dict[LineKey, handwrite.Result] = {}

    def read(self, pages: list[PageStrokes]) -> dict[int, PageReading]:
        layouts = {page.digests: self._layout(page) for page in pages}
        self._layouts = layouts  # only the pages as they are now are worth remembering
        keyed = [(page, [(_key(page, line), line) for line in layouts[page.digests]]) for page in pages]
        todo = {key: line_ink(page, line) for page, lines in keyed for key, line in lines if key not in self._lines}
        for key, result in zip(todo, self.model.recognize_batch(list(todo.values())), strict=True):
            self._lines[key] = result
        readings = {
            page.serial: _reading([(key, line, self._lines[key]) for key, line in lines], todo) for page, lines in keyed
        }
        if len(self._lines) > CACHED_LINES:
            self._lines = {key: self._lines[key] for _, lines in keyed for key, _ in lines}
        return readings

    def _layout(self, page: PageStrokes) -> list[handwrite.TextLine]:
        known = self._layouts.get(page.digests)
        return known if known is not None else handwrite.find_lines(handwrite.Ink(list(page.strokes)))


def _key(page: PageStrokes, line: handwrite.TextLine) -> LineKey:
    return tuple(page.digests[i] for i in line.strokes)


def line_ink(page: PageStrokes, line: handwrite.TextLine) -> handwrite.Ink:
    """The line's strokes in reading order, at their page coordinates."""
    return handwrite.Ink([page.strokes[i] for i in line.strokes])


def _reading(lines: list[tuple[LineKey, handwrite.TextLine, handwrite.Result]], fresh: dict) -> PageReading:
    placed = tuple(page_line(layout, result) for _, layout, result in lines)
    text = "\n".join(line.text for line in placed)
    confidence = float(np.mean([line.confidence for line in placed])) if placed else 1.0
    words = tuple(word for line in placed for word in line.words)
    result = handwrite.Result(text, confidence, (), words, lines=placed)
    return PageReading(result, tuple(key for key, _, _ in lines), sum(key in fresh for key, _, _ in lines))


def page_line(layout: handwrite.TextLine, result: handwrite.Result) -> handwrite.Line:
    """A line's own result as a line of its page: stroke indices into the page's strokes.
    (Read alone, a line is nearly always one line; if the layout analysis splits it,
    its pieces are joined back, since the page's analysis found one line.)"""
    index = layout.strokes
    words = tuple(replace(word, strokes=tuple(index[i] for i in word.strokes)) for word in result.words)
    if len(result.lines) == 1:
        line = result.lines[0]
        return handwrite.Line(line.text, line.confidence, layout.box, index, words, line.alternatives)
    text = " ".join(line.text for line in result.lines)
    return handwrite.Line(text, result.confidence, layout.box, index, words)


class _Worker(QObject):
    finished = pyqtSignal(int, dict, float)  # request id, {page serial: PageReading}, milliseconds
    failed = pyqtSignal(int, str)

    def __init__(self, latest: list[int], lock: threading.Lock) -> None:
        super().__init__()
        self.reader: PageReader | None = None
        self._latest, self._lock = latest, lock

    @pyqtSlot(object)
    def set_model(self, model: handwrite.Recognizer) -> None:
        self.reader = PageReader(model)  # nothing read by another model is reused
        # One torch thread: a line is small, and torch's thread pool spin-waits on a busy
        # machine. One line through beam 8 + LM on 2 cores at load 7: 1 thread p50 39 ms,
        # p95 89 ms; 2 threads p50 174 ms, p95 2650 ms. It also leaves a core to the window.
        import torch  # loaded already with the model

        torch.set_num_threads(1)

    @pyqtSlot(int, list)
    def recognize(self, request: int, pages: list) -> None:
        with self._lock:
            if request != self._latest[0]:
                return  # superseded while queued
        if self.reader is None:
            return
        started = time.perf_counter()
        try:
            readings = self.reader.read(pages)
        except Exception as exc:  # an exception escaping a slot would abort the app, and the page with it
            self.failed.emit(request, str(exc) or type(exc).__name__)
            return
        self.finished.emit(request, readings, (time.perf_counter() - started) * 1000)


class LiveRecognizer(QObject):
    """Owns the worker thread. `request(pages)` returns the request's id;
    `recognized(id, readings, ms)` arrives for the newest request only."""

    recognized = pyqtSignal(int, dict, float)
    error = pyqtSignal(str)
    _submit = pyqtSignal(int, list)
    _model = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest = [0]
        self._lock = threading.Lock()
        self._thread = QThread(self)
        self._worker = _Worker(self._latest, self._lock)
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.recognize)
        self._model.connect(self._worker.set_model)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(lambda request, message: self.error.emit(message))
        self._thread.start()

    def set_model(self, model: handwrite.Recognizer) -> None:
        self._model.emit(model)

    def request(self, pages: list[PageStrokes]) -> int:
        with self._lock:
            self._latest[0] += 1
            request = self._latest[0]
        self._submit.emit(request, pages)
        return request

    @property
    def latest(self) -> int:
        return self._latest[0]

    def _on_finished(self, request: int, readings: dict, milliseconds: float) -> None:
        if request == self._latest[0]:
            self.recognized.emit(request, readings, milliseconds)

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait()  # never destroy a running thread: wait for the recognition in hand

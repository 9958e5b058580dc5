"""Live recognition off the GUI thread. Each request carries an id; a newer
request supersedes older ones (stale ones are skipped, stale results ignored).
Lines whose strokes did not change are not recognized again."""

from __future__ import annotations

import threading
import time

from PyQt6.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

import handwrite


def _line_key(ink: handwrite.Ink) -> tuple:
    return tuple((len(s), float(s[0, 0]), float(s[0, 1]), float(s[-1, 0]), float(s[-1, 1])) for s in ink.strokes)


class _Worker(QObject):
    finished = pyqtSignal(int, dict, float)  # request id, {line: Result}, milliseconds
    failed = pyqtSignal(int, str)

    def __init__(self, latest: list[int], lock: threading.Lock) -> None:
        super().__init__()
        self.model: handwrite.Recognizer | None = None
        self._latest, self._lock = latest, lock
        self._cache: dict[tuple, handwrite.Result] = {}

    @pyqtSlot(object)
    def set_model(self, model: handwrite.Recognizer) -> None:
        self.model = model
        self._cache.clear()

    @pyqtSlot(int, dict)
    def recognize(self, request: int, lines: dict) -> None:
        with self._lock:
            if request != self._latest[0]:
                return  # superseded while queued
        if self.model is None:
            return
        started = time.perf_counter()
        try:
            keys = {index: _line_key(ink) for index, ink in lines.items()}
            todo = [index for index in lines if keys[index] not in self._cache]
            for index, result in zip(todo, self.model.recognize_batch([lines[i] for i in todo]), strict=True):
                self._cache[keys[index]] = result
            results = {index: self._cache[keys[index]] for index in lines}
            if len(self._cache) > 512:
                self._cache = {keys[i]: results[i] for i in lines}
        except handwrite.HandwriteError as exc:
            self.failed.emit(request, str(exc))
            return
        self.finished.emit(request, results, (time.perf_counter() - started) * 1000)


class LiveRecognizer(QObject):
    """Owns the worker thread. `request(lines)` returns the request's id;
    `recognized(id, results, ms)` arrives for the newest request only."""

    recognized = pyqtSignal(int, dict, float)
    error = pyqtSignal(str)
    _submit = pyqtSignal(int, dict)
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

    def request(self, lines: dict[int, handwrite.Ink]) -> int:
        with self._lock:
            self._latest[0] += 1
            request = self._latest[0]
        self._submit.emit(request, lines)
        return request

    @property
    def latest(self) -> int:
        return self._latest[0]

    def _on_finished(self, request: int, results: dict, milliseconds: float) -> None:
        if request == self._latest[0]:
            self.recognized.emit(request, results, milliseconds)

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait()  # never destroy a running thread: wait for the recognition in hand

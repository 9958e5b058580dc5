"""W3C InkML: read traces (any channel order, difference encodings, nested
trace groups) with their truth annotation; write the same."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import numpy as np

from handwrite.errors import FormatError, InkError
from handwrite.formats.xmlsafe import iter_xml, local_name
from handwrite.ink import MAX_POINTS, Ink

NAMESPACE = "http://www.w3.org/2003/InkML"
TRUTH_TYPES = ("truth", "transcription")
_BLANK_POINT = re.compile(r"(?:^|,)\s*(?=,|$)")  # an empty piece between commas
_TOKEN = re.compile(r"([!'\"]?)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?i:nan|inf(?:inity)?)|[TF*?])")


def parse_inkml(data: bytes, name: str = "<inkml>") -> Ink:
    """Streamed (see xmlsafe.iter_xml), with the points counted per trace before
    any is parsed: a file of millions of points is refused with no more memory
    than the cap allows, whatever its size."""
    reader = _InkmlReader(name)
    for event, element, parent in iter_xml(data, name):
        if parent is None and event == "start" and local_name(element.tag) != "ink":
            raise FormatError(f"{name}: not InkML (root element is <{local_name(element.tag)}>, expected <ink>)")
        if event == "end":
            reader.end(element, parent)
    try:
        return Ink(reader.strokes(), text=reader.truth(), source=name)
    except InkError as exc:
        raise FormatError(f"{name}: {exc}") from exc


class _InkmlReader:
    """What parse_inkml keeps while the elements stream past: the channels of the
    first <traceFormat>, the traces (parsed as soon as the channels are known) and
    the truth annotation."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.channels: list[str] | None = None
        self.pending_channels: list[str] = []
        self.traces: list[np.ndarray | tuple[str, str]] = []  # (text, id) until the channels are known
        self.points = 0
        self.top_truth: str | None = None  # of the whole ink: a direct child of <ink>
        self.nested_truth: str | None = None

    def end(self, element: Element, parent: str | None) -> None:
        tag = local_name(element.tag)
        if tag == "channel" and parent == "traceFormat":
            self.pending_channels.append(element.get("name", "").upper())
        elif tag == "traceFormat":
            if self.channels is None and self.pending_channels:
                self.channels = self.pending_channels
            self.pending_channels = []
        elif tag == "trace":
            self._trace(element.text or "", _trace_id(element, len(self.traces)))
        elif tag == "annotation" and element.get("type", "").lower() in TRUTH_TYPES:
            text = (element.text or "").strip()
            if parent == "ink" and self.top_truth is None:
                self.top_truth = text
            elif self.nested_truth is None:
                self.nested_truth = text

    def _trace(self, text: str, trace_id: str) -> None:
        self.points += _count_points(text)
        if self.points > MAX_POINTS:
            raise FormatError(
                f"{self.name}: more than the {MAX_POINTS} points this reader accepts (at trace {trace_id})"
            )
        self.traces.append(self._parse(text, trace_id) if self.channels is not None else (text, trace_id))

    def _parse(self, text: str, trace_id: str) -> np.ndarray:
        try:
            return _parse_trace(text, self.channels or ["X", "Y"])
        except (ValueError, OverflowError) as exc:
            raise FormatError(f"{self.name}: trace {trace_id}: {exc}") from exc

    def strokes(self) -> list[np.ndarray]:
        """Every trace, those before the first <traceFormat> read with its channels too."""
        return [self._parse(*trace) if isinstance(trace, tuple) else trace for trace in self.traces]

    def truth(self) -> str | None:
        return self.top_truth if self.top_truth is not None else self.nested_truth


def _trace_id(element: Element, index: int) -> str:
    """The trace's xml:id, or its place among the traces (from 0) when it has none."""
    return element.get("{http://www.w3.org/XML/1998/namespace}id") or element.get("id") or f"#{index}"


def _count_points(text: str) -> int:
    """Points in a trace's text (non-blank pieces between commas), counted without
    splitting it: a trace of millions of points costs no memory to count."""
    if not text.strip():
        return 0
    return text.count(",") + 1 - len(_BLANK_POINT.findall(text))


def _parse_trace(text: str, channels: list[str]) -> np.ndarray:
    """Points of one trace as (n, 3) x, y, t, decoding ' (first) and " (second) differences."""
    n = len(channels)
    rows: list[list[float]] = []
    velocity = [0.0] * n
    mode = ["!"] * n
    for raw_point in text.split(","):
        if not raw_point.strip():
            continue
        tokens = _TOKEN.findall(raw_point)
        if _TOKEN.sub("", raw_point).strip():
            raise ValueError(f"point {raw_point.strip()[:40]!r} holds something that is not a number")
        if len(tokens) < min(n, 2):
            raise ValueError(f"point {raw_point.strip()[:40]!r} has {len(tokens)} values for {n} channels")
        values = []
        for i, (prefix, token) in enumerate(tokens[:n]):
            if prefix:
                mode[i] = prefix
            values.append(_decode(token, i, mode[i], rows, velocity))
        while len(values) < n:  # trailing channels may be omitted
            values.append(rows[-1][len(values)] if rows else 0.0)
        rows.append(values)
    if not rows:
        return np.zeros((0, 3))
    table = np.asarray(rows, dtype=np.float64)
    out = np.zeros((len(rows), 3))
    for column, channel in enumerate(("X", "Y", "T")):
        if channel in channels:
            out[:, column] = table[:, channels.index(channel)]
    if "T" in channels:
        out[:, 2] = out[:, 2] / 1000.0  # InkML time is conventionally milliseconds
    return out


def _decode(token: str, i: int, mode: str, rows: list[list[float]], velocity: list[float]) -> float:
    value = (1.0 if token == "T" else 0.0) if token in "TF*?" else float(token)
    if not rows or mode == "!":
        velocity[i] = 0.0 if not rows else value - rows[-1][i]
        return value
    if mode == "'":
        velocity[i] = value
        return rows[-1][i] + value
    velocity[i] += value  # second difference: change of the first difference
    return rows[-1][i] + velocity[i]


def format_inkml(ink: Ink) -> str:
    """InkML text with X Y T channels (T in milliseconds) and a truth annotation."""
    has_time = any(np.any(s[:, 2] != 0) for s in ink.strokes)
    channels = ["X", "Y", "T"] if has_time else ["X", "Y"]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<ink xmlns="{NAMESPACE}">']
    if ink.text is not None:
        lines.append(f'  <annotation type="truth">{escape(ink.text)}</annotation>')
    lines.append("  <traceFormat>")
    lines += [f'    <channel name="{c}" type="decimal"/>' for c in channels]
    lines.append("  </traceFormat>")
    for stroke in ink.strokes:
        points = ", ".join(_format_point(p, has_time) for p in stroke)
        lines.append(f"  <trace>{points}</trace>")
    lines.append("</ink>")
    return "\n".join(lines) + "\n"


def _format_point(point: np.ndarray, has_time: bool) -> str:
    text = f"{point[0]:.6g} {point[1]:.6g}"
    return f"{text} {point[2] * 1000.0:.10g}" if has_time else text

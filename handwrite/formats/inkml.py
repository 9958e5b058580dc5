"""W3C InkML: read traces (any channel order, difference encodings, nested
trace groups) with their truth annotation; write the same.

Pages: a <traceGroup> that is a child of <ink> and holds
<annotation type="page">N</annotation> is a page (and may give its size in ink
units: <annotation type="pageSize">WIDTH HEIGHT</annotation>). Each page starts
at its first trace; traces outside the pages stay with the page before them.
A file with no such group is one page. An ink of several pages (or with a page
size) is written so.

Orientation: InkML's axes run x rightwards and y downwards; a channel declared
`orientation="-ve"` grows the other way (a device with y pointing up says
`<channel name="Y" orientation="-ve"/>`). Such an axis is read negated, so the
Ink (and every box a reading gives) is y-down as DESIGN's page schema fixes: a
box's y values are the file's y values negated, x as in the file.

Text a recognizer read is kept apart from ground truth, as
<annotation type="recognized">TEXT</annotation>: of the whole ink (a direct
child of <ink>) or of one page (in its page <traceGroup>). It is never read as
truth; `recognized_texts` reads it back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import numpy as np

from handwrite.errors import FormatError, InkError
from handwrite.formats.xmlsafe import iter_xml, local_name
from handwrite.ink import MAX_COORDINATE, MAX_POINTS, Ink

NAMESPACE = "http://www.w3.org/2003/InkML"
TRUTH_TYPES = ("truth", "transcription")
PAGE, PAGE_SIZE = "page", "pageSize"  # annotation types of a page's <traceGroup>
RECOGNIZED = "recognized"  # annotation type of recognized (not confirmed) text
# characters XML 1.0 cannot hold, escaped or not: written, they make a file no reader opens
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BLANK_POINT = re.compile(r"(?:^|,)\s*(?=,|$)")  # an empty piece between commas
_TOKEN = re.compile(r"([!'\"]?)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?i:nan|inf(?:inity)?)|[TF*?])")


def parse_inkml(data: bytes, name: str = "<inkml>") -> Ink:
    """Streamed (see xmlsafe.iter_xml), with the points counted per trace before
    any is parsed: a file of millions of points is refused with no more memory
    than the cap allows, whatever its size."""
    reader = _read(data, name)
    try:
        starts, sizes = reader.pages()
        return Ink(reader.strokes(), text=reader.truth(), source=name, page_starts=starts, page_sizes=sizes)
    except InkError as exc:
        raise FormatError(f"{name}: {exc}") from exc


def recognized_texts(data: bytes, name: str = "<inkml>") -> tuple[str | None, ...]:
    """The recognized text of each page (None where a page has none), or of the whole
    ink as one page when the file has no page groups. The traces are not parsed (reading
    the ink does that)."""
    return _read(data, name, strokes=False).recognized()


def _read(data: bytes, name: str, strokes: bool = True) -> _InkmlReader:
    reader = _InkmlReader(name, strokes)
    for event, element, parent in iter_xml(data, name):
        if parent is None and event == "start" and local_name(element.tag) != "ink":
            raise FormatError(f"{name}: not InkML (root element is <{local_name(element.tag)}>, expected <ink>)")
        if event == "end":
            reader.end(element, parent)
        elif local_name(element.tag) == "traceGroup":
            reader.group_start(top_level=parent == "ink")
    return reader


class _InkmlReader:
    """What parse_inkml keeps while the elements stream past: the channels of the
    first <traceFormat>, the traces (parsed as soon as the channels are known) and
    the truth annotation."""

    def __init__(self, name: str, strokes: bool = True) -> None:
        self.name = name
        self.read_strokes = strokes  # False: annotations and pages only, traces skipped
        self.channels: list[str] | None = None
        self.pending_channels: list[str] = []
        self.pending_reversed: set[str] = set()  # channels of the open <traceFormat> declared "-ve"
        self.reversed: set[str] = set()  # of the channels in use: read negated
        self.traces: list[np.ndarray | tuple[str, str]] = []  # (text, id) until the channels are known
        self.points = 0
        self.top_truth: str | None = None  # of the whole ink: a direct child of <ink>
        self.nested_truth: str | None = None
        self.group_depth = 0  # of the open <traceGroup>s
        # the open top-level group: its first trace, whether it is a page, the size it gives
        self.group: tuple[int, bool, tuple[float, float] | None] = (0, False, None)
        self.page_starts: list[int] = []  # of the top-level groups annotated as pages
        self.page_sizes: list[tuple[float, float] | None] = []
        self.top_recognized: str | None = None
        self.group_recognized: str | None = None  # of the open top-level group
        self.page_recognized: list[str | None] = []

    def group_start(self, top_level: bool) -> None:
        self.group_depth += 1
        if top_level:
            self.group = (len(self.traces), False, None)
            self.group_recognized = None

    def end(self, element: Element, parent: str | None) -> None:
        tag = local_name(element.tag)
        if tag == "traceGroup":
            self.group_depth -= 1
            if parent == "ink" and self.group[1]:
                self.page_starts.append(self.group[0])
                self.page_sizes.append(self.group[2])
                self.page_recognized.append(self.group_recognized)
        elif tag == "annotation" and parent == "traceGroup" and self.group_depth == 1:
            self._page_annotation(element)
        elif tag == "annotation" and parent == "ink" and element.get("type") == RECOGNIZED:
            self.top_recognized = element.text or ""
        if tag == "channel" and parent == "traceFormat":
            self.pending_channels.append(element.get("name", "").upper())
            if (element.get("orientation") or "").strip().lower() == "-ve":
                self.pending_reversed.add(self.pending_channels[-1])
        elif tag == "traceFormat":
            if self.channels is None and self.pending_channels:
                self.channels = self.pending_channels
                self.reversed = self.pending_reversed
            self.pending_channels, self.pending_reversed = [], set()
        elif tag == "trace" and self.read_strokes:
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
            points = _parse_trace(text, self.channels or ["X", "Y"])
        except (ValueError, OverflowError) as exc:
            raise FormatError(f"{self.name}: trace {trace_id}: {exc}") from exc
        for column, channel in enumerate(("X", "Y")):
            if channel in self.reversed:
                points[:, column] = -points[:, column]  # a y-up device: read y-down
        return points

    def strokes(self) -> list[np.ndarray]:
        """Every trace, those before the first <traceFormat> read with its channels too."""
        return [self._parse(*trace) if isinstance(trace, tuple) else trace for trace in self.traces]

    def truth(self) -> str | None:
        return self.top_truth if self.top_truth is not None else self.nested_truth

    def _page_annotation(self, element: Element) -> None:
        """An annotation of a top-level group: "page" makes it a page, "pageSize" gives its size."""
        first, is_page, size = self.group
        if element.get("type") == PAGE:
            self.group = (first, True, size)
        elif element.get("type") == PAGE_SIZE:
            self.group = (first, is_page, _page_size(element.text or "", len(self.page_starts) + 1, self.name))
        elif element.get("type") == RECOGNIZED:
            self.group_recognized = element.text or ""

    def recognized(self) -> tuple[str | None, ...]:
        return tuple(self.page_recognized) if self.page_starts else (self.top_recognized,)

    def pages(self) -> tuple[tuple[int, ...], tuple[tuple[float, float], ...]]:
        """Page starts (the first page from trace 0, whatever comes before it) and page sizes
        (only when every page has one)."""
        starts = (0, *self.page_starts[1:])
        sizes = tuple(size for size in self.page_sizes if size is not None)
        return starts, sizes if len(sizes) == len(self.page_starts) else ()


def _page_size(text: str, number: int, name: str) -> tuple[float, float]:
    problem = f"{name}: page {number}: pageSize {text.strip()[:40]!r} is not"
    try:
        width, height = (float(value) for value in text.split())
    except ValueError:
        raise FormatError(f"{problem} a width and a height") from None
    if not (0 < width <= MAX_COORDINATE and 0 < height <= MAX_COORDINATE):  # NaN too
        raise FormatError(f"{problem} two positive sizes")
    return (width, height)


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


def format_inkml(ink: Ink, recognized: Sequence[str] | None = None) -> str:
    """InkML text with X Y T channels (T in milliseconds) and a truth annotation; the
    strokes of each page in a page <traceGroup> when there are pages to keep.
    `recognized`: each page's recognized text, kept as such (never as truth)."""
    has_time = any(np.any(s[:, 2] != 0) for s in ink.strokes)
    channels = ["X", "Y", "T"] if has_time else ["X", "Y"]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<ink xmlns="{NAMESPACE}">']
    if ink.text is not None:
        lines.append(f'  <annotation type="truth">{_xml_text(ink.text)}</annotation>')
    paged = ink.num_pages > 1 or bool(ink.page_sizes)
    if recognized is not None and not paged:
        lines.append(f'  <annotation type="{RECOGNIZED}">{_xml_text(recognized[0])}</annotation>')
    lines.append("  <traceFormat>")
    lines += [f'    <channel name="{c}" type="decimal"/>' for c in channels]
    lines.append("  </traceFormat>")
    if paged:
        lines += _format_pages(ink, has_time, recognized)
    else:
        lines += [_format_trace(stroke, has_time) for stroke in ink.strokes]
    lines.append("</ink>")
    return "\n".join(lines) + "\n"


def _xml_text(text: str) -> str:
    """Text escaped for an annotation; a character XML cannot hold is refused rather than
    written into a file that could never be read back."""
    bad = _NOT_XML.search(text)
    if bad:
        raise InkError(f"text holds a control character InkML cannot store ({bad.group()!r})")
    return escape(text)


def _format_pages(ink: Ink, has_time: bool, recognized: Sequence[str] | None = None) -> list[str]:
    lines = []
    for number, strokes in enumerate(ink.page_ranges()):
        lines += ["  <traceGroup>", f'    <annotation type="{PAGE}">{number + 1}</annotation>']
        if number < len(ink.page_sizes):
            width, height = ink.page_sizes[number]
            lines.append(f'    <annotation type="{PAGE_SIZE}">{float(width)!r} {float(height)!r}</annotation>')
        if recognized is not None and number < len(recognized):
            lines.append(f'    <annotation type="{RECOGNIZED}">{_xml_text(recognized[number])}</annotation>')
        lines += ["  " + _format_trace(ink.strokes[index], has_time) for index in strokes]
        lines.append("  </traceGroup>")
    return lines


def _format_trace(stroke: np.ndarray, has_time: bool) -> str:
    return "  <trace>" + ", ".join(_format_point(p, has_time) for p in stroke.tolist()) + "</trace>"


def _format_point(point: list[float], has_time: bool) -> str:
    text = f"{_coordinate(point[0])} {_coordinate(point[1])}"
    return f"{text} {point[2] * 1000.0:.10g}" if has_time else text


def _coordinate(value: float) -> str:
    """The shortest text that reads back as the same number (Python's repr), less a
    trailing ".0": a page read back has its strokes exactly where they were, and a
    number six digits held is written as before (2.6x faster than formatting it)."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text

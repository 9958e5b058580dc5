"""Xournal++ notebooks (.xopp): gzip-compressed XML of pages, layers and strokes.

    <xournal> / <page width=".." height=".."> / <layer> /
        <stroke tool="pen" color=".." width="w p1 p2 ...">x1 y1 x2 y2 ...</stroke>

Coordinates are points (1/72 inch), y downwards. Pen strokes are ink (a stroke
without a tool is a pen stroke); highlighter and eraser strokes, text, images,
LaTeX and backgrounds are not. A notebook reads as one Ink with a page start
and a page size per page, an empty page keeping its place. Uncompressed XML is
read too (Xournal++ opens both). Pressure widths and timestamps are not read.

A small .xopp can expand a thousandfold, so the XML is never held whole or
built into a tree: it is decompressed in bounded pieces and streamed through a
defused parser (no DTDs, no entities) that keeps only pen strokes, with a cap
on the text, the nesting, one stroke's size and the points.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import numpy as np
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from handwrite.errors import FormatError, InkError
from handwrite.fileio import GZIP_MAGIC, gunzip_pieces
from handwrite.formats.xmlsafe import MAX_XML_BYTES, local_name
from handwrite.ink import MAX_COORDINATE, MAX_POINTS, Ink

# Xournal++ nests four deep (xournal/page/layer/stroke); far deeper is not a notebook.
MAX_DEPTH = 32
# Each element costs the streaming parser about 2 us: a million (about 2 s) is far more
# than a notebook at the point cap holds (strokes average tens of points) and bounds the
# time a file of millions of tiny elements can take.
MAX_ELEMENTS = 1_000_000
# One stroke's coordinate text: a stroke of 100 000 points is about 2 MB. The cap bounds
# the memory splitting one stroke's text takes, whatever the file holds.
MAX_STROKE_TEXT = 8 * 1024 * 1024
INK_TOOLS = ("pen",)
# A4 in points: what Xournal++ writes for a new notebook, and the paper of searchable PDFs.
A4 = (595.27559055, 841.88976378)
PEN_WIDTH = 1.41


def parse_xopp(data: bytes, name: str = "<xopp>") -> Ink:
    """The pen strokes of a Xournal++ file's bytes, page by page; FormatError naming ``name``."""
    reader = _NotebookReader(name)
    parser = DefusedXMLParser(target=reader, forbid_dtd=True)
    try:
        for piece in _xml_pieces(data, name):
            parser.feed(piece)
        parser.close()
    except DefusedXmlException as exc:
        raise FormatError(f"{name}: refused unsafe XML ({type(exc).__name__})") from exc
    except (ParseError, LookupError, ValueError) as exc:  # LookupError: "unknown encoding: ..."
        raise FormatError(f"{name}: malformed XML ({exc})") from exc
    return reader.ink()


def _xml_pieces(data: bytes, name: str) -> Iterator[bytes]:
    """The XML of a gzip-compressed or plain file, in pieces, at most MAX_XML_BYTES in all."""
    if data[:2] == GZIP_MAGIC:
        pieces = _gunzip(data, name)
    elif data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        pieces = iter([data])
    elif not data.strip():
        raise FormatError(f"{name}: file is empty")
    else:
        raise FormatError(f"{name}: not a Xournal++ file (neither gzip-compressed nor XML)")
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > MAX_XML_BYTES:
            raise FormatError(f"{name}: expands to more than the {MAX_XML_BYTES} bytes of XML accepted")
        yield piece


def _gunzip(data: bytes, name: str) -> Iterator[bytes]:
    try:
        yield from gunzip_pieces(data)
    except ValueError as exc:
        raise FormatError(f"{name}: {exc}") from None


class _NotebookReader:
    """Parser target: collects the pen strokes of each page as the XML streams past."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path: list[str] = []  # local names of the open elements
        self.strokes: list[np.ndarray] = []
        self.page_starts: list[int] = []
        self.page_sizes: list[tuple[float, float]] = []
        self.points = 0
        self.elements = 0
        self.text: list[str] | None = None  # the open pen stroke's coordinate text
        self.text_size = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = local_name(tag)
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise FormatError(f"{self.name}: more than {MAX_ELEMENTS} XML elements; not a notebook this reader accepts")
        if len(self.path) >= MAX_DEPTH:
            raise FormatError(f"{self.name}: elements nested more than {MAX_DEPTH} deep; not a Xournal++ notebook")
        if not self.path and tag != "xournal":
            raise FormatError(f"{self.name}: not a Xournal++ file (root element is <{tag}>, expected <xournal>)")
        self.path.append(tag)
        if self.path == ["xournal", "page"]:
            self.page_starts.append(len(self.strokes))
            self.page_sizes.append(self._page_size(attrib))
        elif self.path == ["xournal", "page", "layer", "stroke"] and attrib.get("tool", "pen") in INK_TOOLS:
            self.text, self.text_size = [], 0

    def data(self, text: str) -> None:
        if self.text is None or len(self.path) != 4:  # only a pen stroke's own text
            return
        self.text_size += len(text)
        if self.text_size > MAX_STROKE_TEXT:
            raise FormatError(
                f"{self.name}: stroke {len(self.strokes)} has more than {MAX_STROKE_TEXT} characters of coordinates"
            )
        self.text.append(text)

    def end(self, tag: str) -> None:
        if self.text is not None and len(self.path) == 4:
            self.strokes.append(self._stroke("".join(self.text)))
            self.text = None
        self.path.pop()

    def close(self) -> None:
        return None

    def _page_size(self, attrib: dict[str, str]) -> tuple[float, float]:
        number = len(self.page_sizes) + 1
        size = []
        for key in ("width", "height"):
            value = _number(attrib.get(key))
            if value is None or not 0 < value <= MAX_COORDINATE:
                raise FormatError(f"{self.name}: page {number} has no valid {key} ({attrib.get(key)!r:.40})")
            size.append(value)
        return (size[0], size[1])

    def _stroke(self, text: str) -> np.ndarray:
        index = len(self.strokes)
        try:
            values = np.array(text.split(), dtype=np.float64)
        except ValueError:
            raise FormatError(f"{self.name}: stroke {index} holds something that is not a number") from None
        if len(values) % 2:
            raise FormatError(f"{self.name}: stroke {index} has an odd count of coordinates ({len(values)})")
        self.points += len(values) // 2
        if self.points > MAX_POINTS:
            raise FormatError(f"{self.name}: more than the {MAX_POINTS} points this reader accepts")
        stroke = np.zeros((len(values) // 2, 3))
        stroke[:, :2] = values.reshape(-1, 2)
        return stroke

    def ink(self) -> Ink:
        try:
            return Ink(
                self.strokes,
                source=self.name,
                page_starts=tuple(self.page_starts) or (0,),
                page_sizes=tuple(self.page_sizes),
            )
        except InkError as exc:
            raise FormatError(f"{self.name}: {exc}") from exc


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and np.isfinite(value) else None


def format_xopp(ink: Ink) -> bytes:
    """A gzip-compressed Xournal++ notebook of the ink's pages, each stroke a black pen
    stroke at its own coordinates. Page sizes are the ink's when known, else A4 grown to
    hold the page's strokes. Times and text are not kept (the format has no place for them)."""
    parts = [
        '<?xml version="1.0" standalone="no"?>\n<xournal creator="handwrite" fileversion="4">\n',
        "<title>Xournal++ document - see https://github.com/xournalpp/xournalpp</title>\n",
    ]
    for number, page in enumerate(ink.pages()):
        width, height = ink.page_sizes[number] if number < len(ink.page_sizes) else _fitting_size(page)
        parts.append(f'<page width="{_coordinate(width)}" height="{_coordinate(height)}">\n')
        parts.append('<background type="solid" color="#ffffffff" style="plain"/>\n<layer>\n')
        for stroke in page.strokes:
            # one %-format per stroke: four times faster than a str per number
            coordinates = ("%.4f " * (2 * len(stroke)) % tuple(stroke[:, :2].ravel().tolist())).rstrip()
            parts.append(f'<stroke tool="pen" color="#000000ff" width="{PEN_WIDTH}">{coordinates}</stroke>\n')
        parts.append("</layer>\n</page>\n")
    parts.append("</xournal>\n")
    # mtime=0: the same ink gives the same bytes
    return gzip.compress("".join(parts).encode("utf-8"), compresslevel=6, mtime=0)


def _fitting_size(page: Ink) -> tuple[float, float]:
    _, _, max_x, max_y = page.bounds()
    margin = 36.0  # half an inch
    return (max(A4[0], max_x + margin), max(A4[1], max_y + margin))


def _coordinate(value: float) -> str:
    """To a ten-thousandth of a point, finer than any pen (as strokes are written), with
    no exponent, which other readers may not expect."""
    return repr(round(float(value), 4))

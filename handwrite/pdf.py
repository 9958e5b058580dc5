"""Searchable PDF: the ink drawn (or the image shown) with the transcription as an
invisible text layer over each word, so a PDF viewer can search, select and copy
the handwriting, as OCRmyPDF does for scans.

Each word is set in text render mode 3 (neither filled nor stroked) on its
line's baseline, at the line's height, horizontally scaled to its own box's
width; a space stretched over the gap to the next word keeps the words apart
when text is copied or extracted. Lines go in reading order, words left to
right.

The PDF is made with reportlab (BSD). The invisible text uses Bitstream Vera,
which reportlab bundles, embedded as a subset: it covers Latin-1, typographic
quotes and dashes and the Euro sign; characters it lacks (CJK, for one) are
not searchable.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from handwrite.fileio import atomic_write_bytes
from handwrite.formats.xopp import A4
from handwrite.ink import Ink
from handwrite.results import Box, Line, Result, union_box

MAX_PAGE_SIDE = 14_400.0  # points (200 inches): the largest page Acrobat shows
FONT = "HandwriteInvisible"
FONT_FILE = "Vera.ttf"  # found on reportlab's own font path
INVISIBLE = 3  # PDF text render mode: neither fill nor stroke
DESCENT = 0.2  # share of a word box below the baseline (descenders)
WORD_GAP = 0.3  # least gap between words, as a share of the height: pdftotext needs 0.1 or so
PEN_WIDTH = 1.0  # points, as drawn
MARGIN = 0.05  # around ink that has no page size, as a share of its larger side


@dataclass(frozen=True)
class _Frame:
    """How a page's own coordinates (y down) map onto a PDF page (points, y up)."""

    left: float
    top: float
    scale: float
    width: float  # the PDF page, in points
    height: float

    def point(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.left) * self.scale, self.height - (y - self.top) * self.scale

    def box(self, box: Box) -> tuple[float, float, float, float]:
        """PDF (x0, y0 bottom, x1, y1 top) of a box given as (x0, y0 top, x1, y1 bottom)."""
        x0, bottom = self.point(box[0], box[3])
        x1, top = self.point(box[2], box[1])
        return x0, bottom, x1, top


def write_searchable_pdf(target: Path, result: Result, source: Ink | Image.Image) -> None:
    """Write `target` (atomically): one PDF page per page of `source`, its strokes drawn or
    the image shown, with `result`'s words as invisible text on their boxes."""
    atomic_write_bytes(target, searchable_pdf(result, source, Path(target).stem))


def searchable_pdf(result: Result, source: Ink | Image.Image, title: str) -> bytes:
    """The bytes of write_searchable_pdf's file, titled `title`, for a caller that writes
    them itself (transcribe's output folder, which writes every file atomically once)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)  # invariant: the same input gives the same bytes
    canvas.setCreator("handwrite")
    canvas.setTitle(title)
    _register_font()
    pages = result.pages()
    if isinstance(source, Ink):
        ink_pages = source.pages()
        for number in range(max(len(ink_pages), len(pages))):
            page = ink_pages[number] if number < len(ink_pages) else Ink()
            lines = pages[number] if number < len(pages) else []
            _ink_page(canvas, page, lines, result, number)
    else:
        _image_page(canvas, source, [line for lines in pages for line in lines], result)
    canvas.save()
    return buffer.getvalue()


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, FONT_FILE))


def _ink_page(canvas: Canvas, page: Ink, lines: list[Line], result: Result, number: int) -> None:
    region = _ink_region(page, lines)
    frame = _fit(region)
    canvas.setPageSize((frame.width, frame.height))
    _draw_strokes(canvas, page.strokes, frame)
    _draw_text(canvas, _page_lines(lines, result, number), frame, region)
    canvas.showPage()


def _image_page(canvas: Canvas, image: Image.Image, lines: list[Line], result: Result) -> None:
    region = (0.0, 0.0, float(image.width), float(image.height))
    frame = _fit(region)
    canvas.setPageSize((frame.width, frame.height))
    canvas.drawImage(ImageReader(_drawable(image)), 0, 0, frame.width, frame.height)
    _draw_text(canvas, _page_lines(lines, result, 0), frame, region)
    canvas.showPage()


def _drawable(image: Image.Image) -> Image.Image:
    """An image reportlab draws as it looks: 16-bit, float and transparent images are
    converted (transparency onto white)."""
    if image.mode in ("1", "L", "RGB"):
        return image
    if "A" in image.getbands() or image.mode == "P":
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return flat
    if image.mode in ("I", "I;16", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = values.max() if values.size and values.max() > 255 else 255.0
        return Image.fromarray(np.clip(values * (255.0 / top), 0, 255).astype(np.uint8), "L")
    return image.convert("RGB")


def _page_lines(lines: list[Line], result: Result, number: int) -> list[Line]:
    """The page's lines; a result without lines (a bare transcription) is one line on the
    first page, over the whole page."""
    if lines or result.lines or number > 0 or not result.text:
        return lines
    return [Line(result.text, result.confidence)]


def _ink_region(page: Ink, lines: list[Line]) -> Box:
    """The part of ink space the PDF page shows: the page when its size is known, else the
    strokes and word boxes with a margin."""
    if page.page_sizes:
        width, height = page.page_sizes[0]
        return (0.0, 0.0, float(width), float(height))
    boxes = [line.box for line in lines if line.box] + [w.box for line in lines for w in line.words if w.box]
    if page.is_empty() and not boxes:
        return (0.0, 0.0, *A4)
    corners = [page.bounds()] if not page.is_empty() else []
    x0, y0, x1, y1 = union_box([*corners, *boxes])
    margin = max(x1 - x0, y1 - y0, 1.0) * MARGIN
    return (x0 - margin, y0 - margin, x1 + margin, y1 + margin)


def _fit(region: Box) -> _Frame:
    """Scale the region to an A4 page's width (landscape for a wide region), keeping its
    shape: a page of notes that grew longer than A4 stays as wide as A4 and as long as it
    is, rather than shrunk to fit (within the largest page PDF viewers show)."""
    width, height = max(region[2] - region[0], 1e-6), max(region[3] - region[1], 1e-6)
    paper_w = A4[0] if height >= width else A4[1]
    scale = min(paper_w / width, MAX_PAGE_SIDE / height)
    return _Frame(region[0], region[1], scale, width * scale, height * scale)


def _draw_strokes(canvas: Canvas, strokes: list[np.ndarray], frame: _Frame) -> None:
    canvas.setLineWidth(PEN_WIDTH)
    canvas.setLineCap(1)  # round: a one-point stroke (an i-dot) still shows as a dot
    canvas.setLineJoin(1)
    path = canvas.beginPath()
    for stroke in strokes:
        points = [frame.point(x, y) for x, y in stroke[:, :2].tolist()]
        path.moveTo(*points[0])
        for point in points[1:] or points:
            path.lineTo(*point)
    canvas.drawPath(path, stroke=1, fill=0)


def _draw_text(canvas: Canvas, lines: list[Line], frame: _Frame, region: Box) -> None:
    """Each line's words, invisible, on their boxes. A line without word boxes is one run
    on the line's box; a line without any box gets a band of the page, in order."""
    for index, line in enumerate(lines):
        boxes = [word.box for word in line.words if word.box]
        if line.words and len(boxes) == len(line.words):
            runs = [(word.text, word.box) for word in line.words]
            band = line.box or union_box(boxes)
        else:
            band = line.box or _band(region, index, len(lines))
            runs = [(line.text, band)]
        _, bottom, _, top = frame.box(band)
        spans = [(text, *frame.box(box)[::2]) for text, box in runs if text.strip()]  # text, x0, x1
        _draw_line(canvas, spans, bottom, top)


def _band(region: Box, index: int, count: int) -> Box:
    step = (region[3] - region[1]) / max(count, 1)
    return (region[0], region[1] + index * step, region[2], region[1] + (index + 1) * step)


def _draw_line(canvas: Canvas, words: list[tuple[str, float, float]], bottom: float, top: float) -> None:
    """One text object per line, every word on the line's baseline at the line's height
    (extractors group text into lines by baseline and size: words set on their own boxes,
    "the" above "quick", came out on lines of their own), each spanning its own box; a
    space stretched to the next word makes copy and extraction put one space between."""
    if not words:
        return
    size = max(top - bottom, 1.0)
    text = canvas.beginText()
    text.setTextRenderMode(INVISIBLE)
    text.setFont(FONT, size)
    words = _apart(words, WORD_GAP * size)
    for number, (word, x0, x1) in enumerate(words):
        text.setTextOrigin(x0, bottom + DESCENT * size)
        text.setHorizScale(_stretch(word, size, x1 - x0))
        text.textOut(word)
        if number + 1 < len(words):
            text.setHorizScale(_stretch(" ", size, words[number + 1][1] - x1))
            text.textOut(" ")
    canvas.drawText(text)


def _apart(words: list[tuple[str, float, float]], gap: float) -> list[tuple[str, float, float]]:
    """Word boxes of handwriting touch or overlap (slant, long strokes); an extractor such as
    pdftotext reads a space only where there is a gap, so each word ends `gap` before the
    next begins (its text squeezed, never to less than a tenth of its box)."""
    apart = []
    for number, (word, x0, x1) in enumerate(words):
        if number + 1 < len(words):
            x1 = max(min(x1, words[number + 1][1] - gap), x0 + 0.1 * (x1 - x0))
        apart.append((word, x0, x1))
    return apart


def _stretch(text: str, size: float, width: float) -> float:
    """Horizontal scaling (percent) that makes `text` at `size` span `width` points;
    kept above zero (a zero scale is a degenerate text matrix)."""
    natural = pdfmetrics.stringWidth(text, FONT, size)
    return max(100.0 * max(width, 0.0) / natural, 1.0) if natural > 0 else 100.0

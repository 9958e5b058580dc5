"""Searchable PDF: the words come back out of the PDF, in reading order, through a real
text extractor (pypdf always; poppler's pdftotext where it is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from handwrite import Ink
from handwrite.pdf import write_searchable_pdf
from handwrite.results import Line, Result, Word


def line(words: list[tuple[str, tuple[float, float, float, float]]], page: int = 1) -> Line:
    boxes = [box for _, box in words]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    return Line(" ".join(t for t, _ in words), 0.9, box, words=tuple(Word(t, 0.9, b) for t, b in words), page=page)


def stroke_under(box: tuple[float, float, float, float]) -> list[list[float]]:
    x0, y0, x1, y1 = box
    return [[x0, y1], [(x0 + x1) / 2, y0], [x1, y1]]


# Two pages of a notebook; the second line was written (and is listed in the ink) before
# the first, which must not change the order the text reads in.
FIRST = line([("Meet", (100, 100, 250, 160)), ("at", (290, 110, 340, 160)), ("café", (380, 100, 520, 160))])
SECOND = line([("“quoted”", (100, 220, 350, 280)), ("naïve—ok", (400, 220, 700, 290))])
THIRD = line([("page", (50, 50, 150, 90)), ("two", (180, 50, 300, 90))], page=2)
RESULT = Result("\n".join(x.text for x in (FIRST, SECOND, THIRD)), 0.9, lines=(FIRST, SECOND, THIRD), page_count=2)


def notebook(page_sizes: tuple[tuple[float, float], ...] = ()) -> Ink:
    strokes = [stroke_under(w.box) for x in (SECOND, FIRST) for w in x.words]
    strokes += [stroke_under(w.box) for w in THIRD.words]
    return Ink(strokes, page_starts=(0, 5), page_sizes=page_sizes)


def pypdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def lines_of(text: str) -> list[str]:
    """Non-empty lines with runs of spaces collapsed (extractors differ in spacing)."""
    return [re.sub(r"\s+", " ", row).strip() for row in text.splitlines() if row.strip()]


def test_pypdf_reads_the_words_in_reading_order(tmp_path):
    path = tmp_path / "notes.pdf"
    write_searchable_pdf(path, RESULT, notebook())
    pages = pypdf_pages(path)
    assert len(pages) == 2
    assert lines_of(pages[0]) == ["Meet at café", "“quoted” naïve—ok"]
    assert lines_of(pages[1]) == ["page two"]


def test_pdftotext_reads_the_words_in_reading_order(tmp_path):
    path = tmp_path / "notes.pdf"
    write_searchable_pdf(path, RESULT, notebook())
    pages = pdftotext_pages(path)
    assert len(pages) == 2
    assert lines_of(pages[0]) == ["Meet at café", "“quoted” naïve—ok"]
    assert lines_of(pages[1]) == ["page two"]


def pdftotext_pages(path: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler's pdftotext is not installed")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    return text.decode("utf-8").split("\f")[:-1]


@pytest.mark.parametrize("extract", [pypdf_pages, pdftotext_pages])
def test_touching_and_overlapping_words_keep_their_spaces(tmp_path, extract):
    # handwriting's word boxes often touch or overlap (slant, a long t-cross)
    words = [("touching", (0, 0, 200, 50)), ("words", (200, 0, 330, 50)), ("overlap", (320, 0, 500, 50))]
    path = tmp_path / "close.pdf"
    write_searchable_pdf(path, Result("touching words overlap", 0.9, lines=(line(words),)), Ink([[[0, 0], [5, 5]]]))
    assert lines_of(extract(path)[0]) == ["touching words overlap"]


@pytest.mark.parametrize("extract", [pypdf_pages, pdftotext_pages])
def test_words_of_one_line_stay_on_one_line_whatever_their_heights(tmp_path, extract):
    # "the" is short, "quick" reaches up and down: both on the line's baseline all the same
    words = [("the", (0, 100, 60, 140)), ("quick", (90, 70, 200, 175)), ("fox", (230, 95, 300, 142))]
    below = [("jumps", (0, 260, 140, 330))]
    result = Result("the quick fox\njumps", 0.9, lines=(line(words), line(below)))
    path = tmp_path / "heights.pdf"
    write_searchable_pdf(path, result, Ink([[[0, 0], [5, 5]]]))
    assert lines_of(extract(path)[0]) == ["the quick fox", "jumps"]


def test_the_text_is_invisible_and_the_strokes_are_drawn(tmp_path):
    path = tmp_path / "notes.pdf"
    write_searchable_pdf(path, RESULT, notebook())
    first = pypdf.PdfReader(path).pages[0].get_contents().get_data()
    assert b"3 Tr" in first  # render mode 3: neither filled nor stroked
    assert b" 0 Tr" not in first and b"\n0 Tr" not in first
    assert len(re.findall(rb" m\b", first)) == 5  # a path starts at each of the page's 5 strokes


def test_a_known_page_size_is_kept(tmp_path):
    path = tmp_path / "notes.pdf"
    write_searchable_pdf(path, RESULT, notebook(page_sizes=((595.0, 842.0), (300.0, 200.0))))
    boxes = [page.mediabox for page in pypdf.PdfReader(path).pages]
    assert [round(float(boxes[0].width)), round(float(boxes[0].height))] == [595, 842]  # A4 already: as it is
    assert float(boxes[1].width) / float(boxes[1].height) == pytest.approx(1.5, rel=1e-3)  # scaled, same shape
    assert lines_of(pypdf_pages(path)[1]) == ["page two"]


def test_a_page_longer_than_a4_keeps_its_length(tmp_path):
    path = tmp_path / "long.pdf"
    write_searchable_pdf(path, RESULT, notebook(page_sizes=((595.0, 1128.0), (595.0, 1e9))))
    first, endless = (page.mediabox for page in pypdf.PdfReader(path).pages)
    assert float(first.width) == pytest.approx(595, abs=1) and float(first.height) == pytest.approx(1128, abs=1)
    assert float(endless.height) <= 14_400  # no taller than viewers show


def test_an_empty_page_keeps_its_place(tmp_path):
    ink = Ink([stroke_under(FIRST.box), stroke_under(THIRD.box)], page_starts=(0, 1, 1))
    later = Line(THIRD.text, 0.9, THIRD.box, words=THIRD.words, page=3)
    result = Result(f"{FIRST.text}\n{later.text}", 0.9, lines=(FIRST, later), page_count=3)
    path = tmp_path / "notes.pdf"
    write_searchable_pdf(path, result, ink)
    pages = pypdf_pages(path)
    assert [lines_of(text) for text in pages] == [["Meet at café"], [], ["page two"]]


def test_an_image_page_carries_its_words(tmp_path):
    image = Image.new("L", (800, 400), 255)
    path = tmp_path / "scan.pdf"
    write_searchable_pdf(path, Result(f"{FIRST.text}\n{SECOND.text}", 0.9, lines=(FIRST, SECOND)), image)
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) / float(reader.pages[0].mediabox.height) == pytest.approx(2.0)
    assert [picture.image.size for picture in reader.pages[0].images] == [(800, 400)]  # at full resolution
    assert lines_of(reader.pages[0].extract_text()) == ["Meet at café", "“quoted” naïve—ok"]


@pytest.mark.parametrize("mode", ["RGBA", "I;16", "P", "1"])
def test_images_of_any_mode_are_drawn(tmp_path, mode):
    image = Image.new(mode, (300, 100))
    write_searchable_pdf(tmp_path / "scan.pdf", Result("hi", 0.9), image)
    assert lines_of(pypdf_pages(tmp_path / "scan.pdf")[0]) == ["hi"]


def test_a_result_without_lines_is_one_line_over_the_page(tmp_path):
    path = tmp_path / "line.pdf"
    write_searchable_pdf(path, Result("hello world", 0.8), Ink([[[0, 0], [500, 60]]]))
    assert lines_of(pypdf_pages(path)[0]) == ["hello world"]


def test_a_line_without_word_boxes_is_placed_on_its_own_box(tmp_path):
    first = Line("first line", 0.9, (0, 0, 400, 50))
    second = Line("second line", 0.9, (0, 100, 400, 150))
    path = tmp_path / "lines.pdf"
    write_searchable_pdf(path, Result("first line\nsecond line", 0.9, lines=(first, second)), Ink([[[0, 0], [1, 1]]]))
    assert lines_of(pypdf_pages(path)[0]) == ["first line", "second line"]


def test_the_write_is_atomic_and_repeatable(tmp_path):
    path = tmp_path / "out" / "notes.pdf"
    write_searchable_pdf(path, RESULT, notebook())
    first = path.read_bytes()
    write_searchable_pdf(path, RESULT, notebook())
    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == ["notes.pdf"]  # no temporary file left

"""The app's document model: pages in their own coordinates, kept exactly through files."""

import numpy as np
import pytest

pytest.importorskip("PyQt6.QtWidgets")

import handwrite
from gui.document import A4, Document, Page, Stroke


def strokes(*boxes):
    return [np.array([[x0, y0, 0.0], [x1, y1, 0.5]]) for x0, y0, x1, y1 in boxes]


def test_a_page_with_a_size_is_exactly_that_size():
    page = Page.holding(strokes((10, 20, 300, 400)), (612.0, 792.0))
    assert (page.left, page.top, page.right, page.bottom) == (0.0, 0.0, 612.0, 792.0)


def test_a_page_reaches_only_as_far_as_strokes_beyond_it_need():
    page = Page.holding(strokes((-20, 5, 700, -10)), (612.0, 792.0))
    assert page.left < -20 and page.top < -10 and page.right > 700 and page.bottom == 792.0
    again = Page.holding([s.array() for s in page.strokes], page.size())  # saved and opened
    assert (again.left, again.top, again.right, again.bottom) == (page.left, page.top, page.right, page.bottom)


def test_a_page_without_a_size_fits_its_writing_in_its_own_units():
    page = Page.holding(strokes((500, 1000, 6000, 1400)), None)  # whiteboard units, as IAM-OnDB
    assert page.left == 0.0 and 6000 < page.right < 6500 and page.bottom >= page.right * A4[1] / A4[0] - 1
    assert page.strokes[0].array()[:, :2].tolist() == [[500, 1000], [6000, 1400]]  # never moved or scaled


def test_a_document_and_its_ink_hold_the_same_pages():
    ink = handwrite.Ink(strokes((1, 1, 5, 5), (2, 2, 6, 6), (3, 3, 7, 7)), text="typed", page_starts=(0, 2, 2))
    document = Document.from_ink(ink)
    assert [len(p.strokes) for p in document.pages] == [2, 0, 1] and document.truth == "typed"
    back = document.to_ink()
    assert back.page_starts == (0, 2, 2) and back.text == "typed" and len(back.page_sizes) == 3
    assert [s.tolist() for s in back.strokes] == [s.tolist() for s in ink.strokes]


def test_a_page_grows_when_writing_nears_its_bottom():
    page = Page()
    assert not page.grow_for(Stroke.from_array(np.array([[10.0, 100.0, 0.0]])))
    assert page.grow_for(Stroke.from_array(np.array([[10.0, A4[1] - 20, 0.0]])))
    assert page.bottom > A4[1] + 200


def test_strokes_are_known_by_content():
    one, same, other = (Stroke.from_array(a) for a in (*strokes((1, 2, 3, 4), (1, 2, 3, 4)), *strokes((1, 2, 3, 5))))
    assert one.digest() == same.digest() != other.digest()
    assert one.near(2, 3, 0.1) and not one.near(10, 10, 1)

"""The page reader behind live recognition: lines found on the page, only new lines read."""

import numpy as np
import pytest

pytest.importorskip("PyQt6.QtWidgets")

import handwrite
from gui.document import Stroke
from gui.recognition import PageReader, PageStrokes
from tests.conftest import SAMPLE_INK


class Counting:
    def __init__(self):
        self.model, self.inks = handwrite.load_model(), []

    def recognize_batch(self, inks):
        self.inks += inks
        return self.model.recognize_batch(inks)


def page(serial, *lines):
    """Demo lines (name, how far down), as a request's page."""
    arrays = []
    for name, top in lines:
        for s in handwrite.read_ink(SAMPLE_INK / name).strokes:
            arrays.append(s + np.array([0.0, top, 0.0]))
    done = [Stroke.from_array(a) for a in arrays]
    return PageStrokes(serial, tuple(s.digest() for s in done), tuple(s.array() for s in done))


def test_lines_are_read_once_and_their_strokes_mapped_to_the_page():
    model = Counting()
    reader = PageReader(model)
    lines = [("hello-world.inkml", 120.0), ("quick-fox.inkml", 200.0)]
    first = reader.read([page(1, *lines)])[1]
    assert len(model.inks) == 2 and first.read == 2
    assert [len(line.strokes) for line in first.result.lines] == [7, 17]
    assert sorted(i for line in first.result.lines for i in line.strokes) == list(range(24))
    assert all(i in line.strokes for line in first.result.lines for w in line.words for i in w.strokes)
    assert first.result.lines[1].box[1] > first.result.lines[0].box[3]  # page coordinates
    assert first.is_of(list(page(1, *lines).digests)) and not first.is_of(list(page(1, *lines[:1]).digests))

    # a line written above the others later: it alone is read, and it comes first
    model.inks.clear()
    second = reader.read([page(1, *lines, ("meeting.inkml", 40.0))])[1]
    assert len(model.inks) == 1 and second.read == 1 and len(model.inks[0].strokes) == 41
    assert [len(line.strokes) for line in second.result.lines] == [41, 7, 17]
    assert second.result.text.split("\n")[1:] == first.result.text.split("\n")
    # a page as it was (and an empty one): nothing read
    model.inks.clear()
    again = reader.read([page(1, *lines), page(2)])
    assert model.inks == [] and again[1].read == 0 and again[1].result.text == first.result.text
    assert again[2].result.lines == ()

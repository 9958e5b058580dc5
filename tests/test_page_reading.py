"""recognize() on pages of ink: lines in reading order, placed words, the page schema."""

from __future__ import annotations

import json

import numpy as np
import pytest

import handwrite
from handwrite import page_reading
from tests.pages import demo_lines, reordered, rotated, small_strokes_last, stacked


@pytest.fixture(scope="module")
def model() -> handwrite.Recognizer:
    return handwrite.load_model()


@pytest.fixture(scope="module")
def lines_alone(model) -> list[str]:
    """What the model reads in each demo line on its own (the demo lines are read right)."""
    texts = [model.recognize(line).text for line in demo_lines()]
    assert texts == [line.text for line in demo_lines()]
    return texts


def test_a_page_reads_as_its_lines_joined_by_newlines(model, lines_alone):
    strokes, _ = stacked(demo_lines())
    result = model.recognize(handwrite.Ink(strokes))
    assert result.text == "\n".join(lines_alone)
    assert [line.text for line in result.lines] == lines_alone


def test_lines_written_in_any_order_read_the_same(model, lines_alone):
    strokes, owner = stacked(demo_lines())
    line_order = [3, 1, 0, 2]  # the last line written first, and so on
    order = [i for line in line_order for i in range(len(strokes)) if owner[i] == line]
    shuffled, _ = reordered(strokes, owner, order)
    assert model.recognize(handwrite.Ink(shuffled)).text == "\n".join(lines_alone)


def test_dots_written_at_the_end_of_the_page_read_as_at_the_end_of_their_line(model):
    """Where delayed strokes were written (end of the line or of the page) does not matter."""
    strokes, owner = stacked(demo_lines())
    per_line = [small_strokes_last(*_only(strokes, owner, n)) for n in range(4)]
    at_line_ends = [s for line, _ in per_line for s in line]
    at_page_end, _ = small_strokes_last(strokes, owner)
    assert [id(s) for s in at_line_ends] != [id(s) for s in at_page_end]
    for degrees in (0, 5):
        one = model.recognize(handwrite.Ink(rotated(at_line_ends, degrees))).text
        assert model.recognize(handwrite.Ink(rotated(at_page_end, degrees))).text == one


def _only(strokes, owner, line):
    kept = [i for i in range(len(strokes)) if owner[i] == line]
    return [strokes[i] for i in kept], [owner[i] for i in kept]


def test_dots_written_last_on_real_lines_cost_little(iam_ondb, model):
    """On IAM-OnDB testset_v lines, moving every dot and cross to the end of its line
    (CER about 28% when fed in writing order) reads within a few points of the line as written."""
    from handwrite.evaluate import error_rates
    from handwrite.formats.iamondb import iter_lines, read_split

    forms = set(sorted(read_split(iam_ondb / "splits" / "testset_v.txt"))[:4])
    lines = [line.ink for line in iter_lines(iam_ondb, forms)]
    as_written = error_rates((ink.text, model.recognize(ink).text) for ink in lines)
    late = [handwrite.Ink(small_strokes_last(ink.strokes, [0] * len(ink.strokes), relative=0.12)[0]) for ink in lines]
    dots_last = error_rates((ink.text, model.recognize(moved).text) for ink, moved in zip(lines, late, strict=True))
    assert dots_last.cer < as_written.cer + 0.05


def test_every_stroke_is_in_exactly_one_line_and_each_word_inside_its_line(model):
    strokes, owner = stacked(demo_lines())
    result = model.recognize(handwrite.Ink(strokes))
    assert sorted(i for line in result.lines for i in line.strokes) == list(range(len(strokes)))
    for line, source in zip(result.lines, range(4), strict=True):
        assert {owner[i] for i in line.strokes} == {source}
        assert [w.text for w in line.words] == line.text.split()
        for word in line.words:
            assert word.strokes and set(word.strokes) <= set(line.strokes)
            assert line.box[0] <= word.box[0] <= word.box[2] <= line.box[2]
            assert line.box[1] <= word.box[1] <= word.box[3] <= line.box[3]


def test_words_are_placed_where_they_were_written(model):
    hello_world = demo_lines()[0]
    result = model.recognize(hello_world)
    hello, world = result.words
    assert (hello.text, world.text) == ("hello", "world")
    assert hello.box[2] < world.box[0], "hello ends before world starts"
    assert set(hello.strokes) | set(world.strokes) == set(range(len(hello_world.strokes)))


def test_a_single_line_keeps_its_alternatives_and_character_confidences():
    model = handwrite.load_model(beam_size=4)
    result = model.recognize(demo_lines()[0])
    assert len(result.lines) == 1 and result.alternatives
    assert len(result.char_confidences) == len(result.text)


def test_the_page_schema(model, lines_alone):
    strokes, _ = stacked(demo_lines())
    first, second = strokes[:24], strokes[24:]  # hello world + quick fox | meeting + handwriting
    notebook = handwrite.Ink(first + second, page_starts=(0, len(first)))
    record = json.loads(json.dumps(model.recognize(notebook).to_dict(), allow_nan=False))
    assert record["text"] == "\n".join(lines_alone)
    assert [page["number"] for page in record["pages"]] == [1, 2]
    assert [len(page["lines"]) for page in record["pages"]] == [2, 2]
    line = record["pages"][1]["lines"][0]
    assert line["text"] == lines_alone[2] and max(line["strokes"]) < len(second)
    assert set(line) == {"text", "confidence", "box", "strokes", "words"}
    assert set(line["words"][0]) == {"text", "confidence", "box", "strokes"}


def test_an_empty_page_inside_a_notebook_keeps_its_place(model, lines_alone):
    strokes, _ = stacked(demo_lines()[:1])
    notebook = handwrite.Ink(strokes, page_starts=(0, 0))  # page 1 empty, page 2 hello world
    result = model.recognize(notebook)
    assert [len(lines) for lines in result.pages()] == [0, 1]
    assert result.text == lines_alone[0]


def test_an_empty_ink_reads_as_nothing(model):
    result = model.recognize(handwrite.Ink())
    assert result.text == "" and result.lines == ()


def test_a_page_of_drawings_reads_without_losing_a_stroke(model):
    """No writing at all: a circle, a box and a long arrow still give lines that hold every stroke."""
    angles = np.linspace(0, 2 * np.pi, 60)
    circle = np.stack([300 + 80 * np.cos(angles), 200 + 80 * np.sin(angles), np.zeros(60)], axis=1)
    box = np.array([[50.0, 50, 0], [250, 50, 0], [250, 350, 0], [50, 350, 0], [50, 50, 0]])
    arrow = np.array([[0.0, 500, 0], [900, 480, 0]])
    result = model.recognize(handwrite.Ink([circle, box, arrow]))
    assert sorted(i for line in result.lines for i in line.strokes) == [0, 1, 2]
    assert isinstance(result.text, str)


def test_strokes_written_after_a_later_word_go_back_where_they_stand():
    """Word 0 is strokes 0, 1 and 5 (a dot added after word 1, strokes 2-4, was begun):
    the dot (centre 1.5) goes after stroke 0 (centre 1) and before stroke 1 (centre 3).
    Stroke 4 ends word 1 in writing order (no word to its right): it stays last."""
    centre = {0: 1.0, 1: 3.0, 5: 1.5, 2: 10.0, 3: 12.0, 4: 10.5}
    placed = page_reading.late_strokes_in_place(((0, 1, 5), (2, 3, 4)), centre)
    assert placed == [(0, 5, 1), (2, 3, 4)]


def test_a_late_dot_over_the_start_of_a_one_stroke_word_follows_that_stroke():
    """Word 0 is one cursive stroke (0: from 0 to 10, centre 5) and an i-dot over its
    start (3, centre 2) added after word 1 (stroke 1) was begun: the dot follows the
    stroke it stands on, as it was written, not before it (as by centres)."""
    centre, left = {0: 5.0, 3: 2.0, 1: 20.0}, {0: 0.0, 3: 1.9, 1: 15.0}
    assert page_reading.late_strokes_in_place(((0, 3), (1,)), centre, left) == [(0, 3), (1,)]
    assert page_reading.late_strokes_in_place(((0, 3), (1,)), centre) == [(3, 0), (1,)]


def test_a_line_dotted_at_its_end_has_its_last_words_marks_placed_too():
    """The writer finished the line, went back to dot word 0 (stroke 4), then crossed
    the T of the last word (stroke 5): the last word has no word to its right to show
    that its cross is late, the dot before it does."""
    centre = {0: 1.0, 1: 3.0, 4: 1.2, 2: 10.0, 3: 12.0, 5: 10.2}
    left = {0: 0.5, 1: 2.5, 4: 1.1, 2: 9.5, 3: 11.5, 5: 9.6}
    assert page_reading.late_strokes_in_place(((0, 1, 4), (2, 3, 5)), centre, left) == [(0, 4, 1), (2, 5, 3)]
    # the same last word with no earlier word gone back to: a cross at its end, as written
    assert page_reading.late_strokes_in_place(((0, 1), (2, 3, 5)), centre, left) == [(0, 1), (2, 3, 5)]


def test_a_word_squeezed_in_later_keeps_its_writing_order():
    """Word 0 (strokes 3, 4) was written after word 1 (0-2) was done: as written."""
    centre = {3: 2.0, 4: 1.0, 0: 10.0, 1: 11.0, 2: 12.0}
    assert page_reading.late_strokes_in_place(((3, 4), (0, 1, 2)), centre) == [(3, 4), (0, 1, 2)]


def test_many_late_strokes_are_all_placed():
    """A scribbled word of 40,000 strokes, half of them written after the next word was
    begun: every stroke placed once (one binary search a stroke; a scan per stroke would
    make this test take minutes, which the suite's time shows; no wall-clock threshold
    here, a busy machine must not fail it)."""
    first, late = list(range(20_000)), list(range(20_001, 40_001))
    centre = {i: float(i % 997) for i in first + late} | {20_000: 5000.0}
    placed = page_reading.late_strokes_in_place((tuple(first + late), (20_000,)), centre)
    assert sorted(placed[0]) == first + late and placed[1] == (20_000,)

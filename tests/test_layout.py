"""Layout analysis: pages of ink -> lines -> words, from geometry alone."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

import handwrite
from handwrite.layout import find_page_lines
from tests.pages import LINE_SPACING, demo_lines, reordered, rotated, small_strokes_last, stacked


def _lines_by_owner(strokes: list[np.ndarray], owner: list[int]) -> list[list[int]]:
    """Which source line each found line holds (every found line must be pure)."""
    found = find_page_lines(strokes)
    assert sorted(i for line in found for i in line.strokes) == list(range(len(strokes))), "a stroke was lost"
    return [sorted({owner[i] for i in line.strokes}) for line in found]


def test_a_stacked_page_gives_its_lines_top_to_bottom():
    strokes, owner = stacked(demo_lines())
    assert _lines_by_owner(strokes, owner) == [[0], [1], [2], [3]]


@pytest.mark.parametrize("degrees", [5, -5, 10])
def test_slanted_lines_are_followed(degrees):
    strokes, owner = stacked(demo_lines())
    assert _lines_by_owner(rotated(strokes, degrees), owner) == [[0], [1], [2], [3]]


def test_a_line_written_before_the_one_above_it_is_still_read_in_page_order():
    strokes, owner = stacked(demo_lines())
    order = [i for i in range(len(strokes)) if owner[i] == 3] + [i for i in range(len(strokes)) if owner[i] != 3]
    assert _lines_by_owner(*reordered(strokes, owner, order)) == [[0], [1], [2], [3]]


def test_strokes_in_random_order_give_the_same_lines():
    strokes, owner = stacked(demo_lines())
    order = list(range(len(strokes)))
    random.Random(1).shuffle(order)
    assert _lines_by_owner(*reordered(strokes, owner, order)) == [[0], [1], [2], [3]]


def test_dots_and_crosses_written_last_join_their_own_line():
    strokes, owner = small_strokes_last(*stacked(demo_lines()))
    assert _lines_by_owner(strokes, owner) == [[0], [1], [2], [3]]


def test_inside_a_line_words_go_left_to_right_each_in_writing_order():
    strokes, _ = stacked(demo_lines()[:1])  # "hello world": strokes 0-1 "hello", 2-6 "world"
    order = [2, 3, 4, 5, 6, 0, 1]  # "world" written before "hello"
    line = find_page_lines([strokes[i] for i in order])[0]
    fed = [order[i] for i in line.strokes]
    assert fed == sorted(fed), "page order, not writing order"
    starts = [min(strokes[order[i]][:, 0].min() for i in word) for word in line.words]
    assert starts == sorted(starts)


def test_indented_short_lines_and_lines_of_different_sizes():
    lines = demo_lines()
    strokes, owner = stacked(lines, indents=[0, 120, 0, 40], scales=[1.0, 1.6, 0.8, 1.0])
    assert _lines_by_owner(strokes, owner) == [[0], [1], [2], [3]]


def test_two_lines_squeezed_closer_than_the_rest_stay_two_lines():
    """Found on testset_v page images: the first two lines of a page written closer
    together than its other lines grew into one line."""
    lines = demo_lines() * 2
    squeezed, owner = stacked(lines[:2], spacing=0.5 * LINE_SPACING)
    rest, rest_owner = stacked(lines[2:])
    below = 0.5 * LINE_SPACING + LINE_SPACING
    strokes = squeezed + [s + np.array([0.0, below, 0.0]) for s in rest]
    owner = owner + [2 + o for o in rest_owner]
    assert _lines_by_owner(strokes, owner) == [[k] for k in range(len(lines))]


def test_a_stray_stroke_far_away_is_kept():
    strokes, owner = stacked(demo_lines())
    stray = np.array([[900.0, 900.0, 0.0], [905.0, 903.0, 0.0]])
    found = find_page_lines([*strokes, stray])
    assert sorted(i for line in found for i in line.strokes) == list(range(len(strokes) + 1))
    assert len(strokes) in found[-1].strokes, "the stray goes with the line nearest to it, the last"
    assert [sorted({owner[i] for i in line.strokes if i < len(strokes)}) for line in found] == [[0], [1], [2], [3]]


def test_one_stroke_across_the_whole_page_is_kept_and_the_lines_survive():
    strokes, owner = stacked(demo_lines())
    across = np.array([[0.0, -20.0, 0.0], [330.0, 3 * LINE_SPACING + 10, 0.0]])
    found = find_page_lines([*strokes, across])
    assert sum(len(line.strokes) for line in found) == len(strokes) + 1
    pure = [line for line in found if len(strokes) not in line.strokes]
    assert all(len({owner[i] for i in line.strokes}) == 1 for line in pure)


def test_an_empty_page_has_no_lines():
    assert handwrite.find_lines(handwrite.Ink()) == []


def test_a_single_dot_is_one_line():
    found = find_page_lines([np.array([[5.0, 5.0, 0.0]])])
    assert [line.strokes for line in found] == [(0,)]


def test_notebook_pages_are_read_in_order_with_indices_into_their_page():
    strokes, owner = stacked(demo_lines())
    first = [s for s, o in zip(strokes, owner, strict=True) if o < 2]
    second = [s for s, o in zip(strokes, owner, strict=True) if o >= 2]
    notebook = handwrite.Ink(first + second, page_starts=(0, len(first)))
    found = handwrite.find_lines(notebook)
    assert [line.page for line in found] == [1, 1, 2, 2]
    assert sorted(i for line in found if line.page == 2 for i in line.strokes) == list(range(len(second)))


def test_line_boxes_hold_their_strokes():
    strokes, _ = stacked(demo_lines())
    for line in find_page_lines(strokes):
        x0, y0, x1, y1 = line.box
        for i in line.strokes:
            assert x0 <= strokes[i][:, 0].min() and strokes[i][:, 0].max() <= x1
            assert y0 <= strokes[i][:, 1].min() and strokes[i][:, 1].max() <= y1


def test_a_page_of_a_hundred_thousand_strokes_finishes():
    """Time bounded by the harness (a hang fails), not asserted."""
    code = (
        "import numpy as np\n"
        "from handwrite.layout import find_page_lines\n"
        "rng = np.random.default_rng(0)\n"
        "strokes = [np.array([[x, y, 0.0]]) for x, y in rng.uniform(0, 1000, (100_000, 2))]\n"
        "lines = find_page_lines(strokes)\n"
        "assert sorted(i for line in lines for i in line.strokes) == list(range(100_000))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=600)


def _profiles_one_angle_at_a_time(geometry, anchors, height):
    """The angle profiles as they were taken before blocks of angles: the reference."""
    from handwrite.layout import PROFILE_ANGLES

    x, y = geometry.cx[anchors], geometry.cy[anchors]
    weight = np.maximum(geometry.width[anchors], 0.1 * height)
    profiles = []
    for angle in PROFILE_ANGLES:
        across = y * np.cos(angle) - x * np.sin(angle)
        bins = ((across - across.min()) / (height / 8)).astype(int)
        profiles.append((angle, np.bincount(bins, weights=weight)))
    return profiles


@pytest.mark.parametrize("block", [1 << 20, 100, 1])
def test_angle_profiles_taken_in_blocks_equal_one_angle_at_a_time(monkeypatch, block):
    from handwrite import layout

    monkeypatch.setattr(layout, "PROFILE_BLOCK", block)
    strokes, _ = stacked(demo_lines())
    geometry = layout._geometry(rotated(strokes, 7))
    height = layout._writing_height(geometry)
    anchors = np.flatnonzero(layout._anchors(geometry, height))
    found = layout._angle_profiles(geometry, anchors, height)
    expected = _profiles_one_angle_at_a_time(geometry, anchors, height)
    assert len(found) == len(expected) == 29
    for (angle, profile), (want_angle, want) in zip(found, expected, strict=True):
        assert angle == want_angle and np.array_equal(profile, want)


def test_levelling_all_strokes_at_once_gives_each_strokes_own_rotation():
    from handwrite.layout import level

    strokes, _ = stacked(demo_lines())
    slope = 0.07
    angle = np.arctan(slope)
    cos, sin = np.cos(angle), np.sin(angle)
    found = level(strokes, slope)
    assert len(found) == len(strokes)
    for stroke, got in zip(strokes, found, strict=True):
        want = stroke.copy()
        want[:, 0] = stroke[:, 0] * cos + stroke[:, 1] * sin
        want[:, 1] = -stroke[:, 0] * sin + stroke[:, 1] * cos
        assert got.shape == want.shape and np.array_equal(got, want)
    assert level(strokes, 0.0) is strokes and level([], slope) == []


def test_quotation_marks_between_two_lines_join_a_line():
    """Found on a testset_v page: two pairs of quotation marks, written above the
    words they open and close, sat in a wider gap between two lines and were read
    as a line of their own."""
    lines = demo_lines() * 2
    strokes, owner = stacked(lines)
    wider = np.array([0.0, 0.4 * LINE_SPACING, 0.0])  # the gap under the fourth line
    strokes = [s + wider if o >= 4 else s for s, o in zip(strokes, owner, strict=True)]
    upper, lower = ([s for s, o in zip(strokes, owner, strict=True) if o == k] for k in (3, 4))
    middle = (max(float(s[:, 1].max()) for s in upper) + min(float(s[:, 1].min()) for s in lower)) / 2
    left = min(float(s[:, 0].min()) for s in lower)
    ticks = [
        np.array([[x, middle - 7.0, 0.0], [x - 1.5, middle + 7.0, 0.0]])
        for start in (left + 30.0, left + 120.0)
        for x in (start, start + 6.0)
    ]
    found = _lines_by_owner(strokes + ticks, owner + [-1] * len(ticks))  # -1: a quotation mark
    assert [[o for o in line if o >= 0] for line in found] == [[k] for k in range(len(lines))]


def test_a_one_word_last_line_written_close_under_the_line_above_stays_a_line():
    """Found on testset_v pages ('grass.', 'Paget.' ending a page): a last line of one
    word, written closer under the line above than the page's spacing, was attached
    to that line like a capital standing out of it."""
    lines = demo_lines()
    strokes, owner = stacked(lines)
    hello = lines[0].strokes[:2]  # "hello", about 2.6 writing heights wide
    below = np.array([40.0, 3.6 * LINE_SPACING, 0.0])  # 0.6 of a spacing under the fourth line
    word = [s + below for s in hello]
    assert _lines_by_owner(strokes + word, owner + [4] * len(word)) == [[0], [1], [2], [3], [4]]


def test_a_short_last_word_two_writing_heights_under_the_last_line_stays_a_line():
    """Found on a testset_v page of wide spacing: a last line of one short word ('it.')
    lay within half a line spacing of the line above, so it was attached to it like
    a capital standing out of that line, though two writing heights away."""
    lines = demo_lines()
    strokes, owner = stacked(lines, spacing=65.0)  # about 4.7 writing heights apart
    word = [s + np.array([30.0, 3 * 65.0 + 36.0, 0.0]) for s in lines[1].strokes[:3]]  # narrow: 3 strokes
    assert _lines_by_owner(strokes + word, owner + [4] * len(word)) == [[0], [1], [2], [3], [4]]

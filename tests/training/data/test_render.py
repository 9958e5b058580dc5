"""Ink rendered to line and page images for the image model: clean renders for
evaluation stay fixed, realistic ones (training) vary and stay readable."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import handwrite
from handwrite.imaging import ink_map
from handwrite.training.data.render import REALISTIC, render_ink, render_page

INK = Path(__file__).resolve().parents[3] / "data" / "ink" / "quick-fox.inkml"


@pytest.fixture(scope="module")
def ink() -> handwrite.Ink:
    return handwrite.read_ink(INK)


def test_a_clean_render_is_fixed_by_its_seed(ink):
    first, again = render_ink(ink, random.Random(3)), render_ink(ink, random.Random(3))
    assert np.array_equal(np.asarray(first), np.asarray(again))


def test_realistic_renders_vary_but_keep_the_writing_as_the_darkest_thing(ink):
    clean = ink_map(render_ink(ink, random.Random(0))) > 0.5
    looks = [render_ink(ink, random.Random(seed), REALISTIC) for seed in range(12)]
    assert len({image.size for image in looks}) > 1
    for image in looks:
        assert image.mode == "L"
        writing = ink_map(image) > 0.5
        # the pen's track covers about as much of its image as in a clean render:
        # rules, texture, bleed-through and lighting do not turn into ink
        share, clean_share = writing.mean(), clean.mean()
        assert 0.3 * clean_share < share < 3.0 * clean_share


def test_a_page_keeps_each_line_where_it_was_written(ink):
    below = handwrite.Ink([s + np.array([0.0, 3 * np.ptp(ink.strokes[0][:, 1]) + 200.0, 0.0]) for s in ink.strokes])
    one = render_page([ink], random.Random(1))
    two = render_page([ink, below], random.Random(1))
    assert two.height > 1.5 * one.height  # the second line below the first, not drawn over it

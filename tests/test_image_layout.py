"""Page images cut into text lines: each line's own ink, levelled, in reading order."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from handwrite.errors import HandwriteError
from handwrite.image_layout import page_lines
from handwrite.imaging import ink_map, page_line_frames


def page(lines: list[tuple[int, int]], width: int = 700, height: int = 400, slope: float = 0.0) -> Image.Image:
    """Dark word-like zigzags on light paper: one row per (top, words), each word 60 px
    wide and 30 px tall, the row rising or falling by `slope`."""
    image = Image.new("L", (width, height), 235)
    draw = ImageDraw.Draw(image)
    for top, words in lines:
        for w in range(words):
            x = 20 + w * 80
            y = top + slope * x
            zigzag = [(x + 10 * k, y + (30 if k % 2 == 0 else 5)) for k in range(7)]
            draw.line(zigzag, fill=30, width=3)
    return image


def test_lines_come_top_to_bottom_with_their_own_words():
    image = page([(30, 1), (110, 2), (190, 3)])
    lines = page_lines(ink_map(image))
    assert len(lines) == 3
    assert [line.box[1] for line in lines] == sorted(line.box[1] for line in lines)
    widths = [line.box[2] - line.box[0] for line in lines]
    assert widths[0] < widths[1] < widths[2]  # 1, 2, 3 words


def test_a_descender_touching_the_line_below_is_cut_between_the_lines():
    image = page([(30, 6), (90, 6)])
    draw = ImageDraw.Draw(image)
    draw.line([(130, 40), (130, 110)], fill=30, width=3)  # a long tail joining a letter to the next line's
    lines = page_lines(ink_map(image))
    assert len(lines) == 2
    upper, lower = lines
    # each line holds its own letters and not the other's: the tail is shared out where the lines meet
    assert upper.box[3] < 95 and lower.box[1] > 55
    assert upper.ink.shape[0] < 60 and lower.ink.shape[0] < 60


def test_a_slanted_page_is_read_as_lines_and_each_line_is_levelled():
    image = page([(30, 7), (130, 7), (230, 7)], height=500, slope=0.08)  # about 4.6 degrees
    lines = page_lines(ink_map(image))
    assert len(lines) == 3
    for line in lines:
        assert line.box[3] - line.box[1] > 60  # slanted on the page: 560 px x 0.08 = 45 px of rise
        assert line.ink.shape[0] < 45  # levelled: about the writing's own 30 px (plus the pen)


def test_dots_and_specks_do_not_make_lines():
    image = page([(40, 5)])
    draw = ImageDraw.Draw(image)
    for x in range(30, 400, 80):
        draw.ellipse((x, 20, x + 4, 24), fill=30)  # i-dots above the line
    draw.point([(600, 300), (650, 350)], fill=120)  # dust far from the writing
    lines = page_lines(ink_map(image))
    assert len(lines) == 1
    assert lines[0].box[1] <= 20  # the dots belong to the line
    assert lines[0].box[3] < 300  # the dust does not


def test_blotches_of_a_textured_sheet_are_not_writing():
    image = page([(40, 5), (120, 5)], width=560)
    blotches = Image.new("L", image.size, 0)
    for x, y in ((470, 50), (500, 140), (480, 300)):  # soft grey blotches beside and under the lines
        ImageDraw.Draw(blotches).ellipse((x, y, x + 40, y + 30), fill=90)
    image = ImageChops.subtract(image, blotches.filter(ImageFilter.GaussianBlur(3)))
    lines = page_lines(ink_map(image))
    assert len(lines) == 2
    # the writing ends at x = 20 + 4 * 80 + 60 = 400: no blotch joins a line, nor makes one
    assert all(line.box[2] <= 410 for line in lines), [line.box for line in lines]


def lighter_third_row(scale: int = 1, dots: bool = False) -> Image.Image:
    """Two rows of dark writing and a third in pencil grey (sharp-edged like any pen
    line), each word with an i-dot above and a full stop after it when `dots`."""
    image = page([(40, 5), (120, 5)], height=300)
    draw = ImageDraw.Draw(image)
    for w in range(5):
        x = 20 + w * 80
        draw.line([(x + 10 * k, 200 + (30 if k % 2 == 0 else 5)) for k in range(7)], fill=130, width=3)
        if dots:
            draw.ellipse((x + 30, 190, x + 33, 193), fill=130)
            draw.ellipse((x + 64, 227, x + 67, 230), fill=130)
    return image.resize((image.width * scale, image.height * scale), Image.Resampling.BILINEAR)


@pytest.mark.parametrize("scale", [1, 3])  # 3: strokes 9 px wide, as a 300 dpi scan gives them
def test_a_line_in_lighter_ink_than_the_rest_of_the_page_is_still_writing(scale):
    lines = page_lines(ink_map(lighter_third_row(scale)))
    assert len(lines) == 3
    assert lines[2].box[0] <= 22 * scale and lines[2].box[2] >= 398 * scale  # the whole row


def test_the_dots_of_a_line_in_lighter_ink_stay_with_it():
    lines = page_lines(ink_map(lighter_third_row(dots=True)))
    assert len(lines) == 3
    assert lines[2].box[1] <= 191 and lines[2].box[2] >= 406  # i-dots above, full stop at the end


def test_blank_and_inkless_pages_have_no_lines():
    assert page_lines(ink_map(Image.new("L", (300, 200), 240))) == []
    assert page_line_frames(Image.new("L", (300, 200), 240)) == []


def test_no_ink_is_lost_between_lines():
    image = page([(30, 6), (90, 6), (150, 6)])
    ink = ink_map(image)
    lines = page_lines(ink)
    held = sum(float(line.ink.sum()) for line in lines)
    assert held == np.float32(ink.sum()) or abs(held - float(ink.sum())) < 1e-3 * float(ink.sum())


def test_a_page_of_noise_is_refused_with_a_clear_message():
    rng = np.random.default_rng(0)
    noise = np.where(rng.random((600, 800)) < 0.05, 20, 235).astype(np.uint8)  # 24,000 dark specks
    with pytest.raises(HandwriteError, match="not writing"):
        page_line_frames(Image.fromarray(noise))


def test_ruled_lines_and_a_margin_are_not_writing():
    image = page([(30, 5), (110, 5)], height=200)
    draw = ImageDraw.Draw(image)
    for y in (62, 142):
        draw.line([(0, y), (699, y + 3)], fill=90, width=2)  # rules under each line, a little askew
    draw.line([(12, 0), (12, 199)], fill=90, width=2)  # a margin
    lines = page_lines(ink_map(image))
    assert len(lines) == 2
    for line in lines:
        assert line.box[0] > 15 and line.box[2] < 420  # the writing's extent, not the rules'


def test_a_page_of_dust_or_dashes_has_no_lines_or_a_clear_message():
    dust = np.full((600, 800), 240, dtype=np.uint8)
    dust[::2, ::2] = 0  # every blob a one-pixel speck
    dashes = np.full((300, 400), 240, dtype=np.uint8)
    dashes[100, ::3] = 0  # one-pixel dashes and a single two-pixel speck: no blob has height
    dashes[200, 50:52] = 0
    for picture in (dust, dashes):
        try:
            lines = page_line_frames(Image.fromarray(picture))
        except HandwriteError as error:
            assert "not writing" in str(error)
        else:
            assert all(frames.ndim == 2 for frames, _ in lines)

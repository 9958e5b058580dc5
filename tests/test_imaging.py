"""Line image preprocessing and page splitting."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from handwrite.imaging import ImageSettings, deslant, ink_map, line_frames, split_lines


def writing(width: int = 300, height: int = 60, lines: int = 1, gap: int = 30, growing: bool = False) -> Image.Image:
    """Dark scribbles on light paper: `lines` rows of word-like blobs (with
    `growing`, row i holds i + 1 blobs, so rows can be told apart)."""
    image = Image.new("L", (width, lines * height + (lines - 1) * gap + 20), 235)
    draw = ImageDraw.Draw(image)
    for row in range(lines):
        top = 10 + row * (height + gap)
        for x in range(10, 10 + 45 * (row + 1) if growing else width - 40, 45):
            draw.line([(x, top + height * 0.7), (x + 12, top + 10), (x + 25, top + height * 0.8)], fill=30, width=3)
    return image


def test_frames_are_columns_of_the_normalised_line():
    frames = line_frames(writing())
    settings = ImageSettings()
    assert frames.dtype == np.float32 and frames.shape[1] == settings.height
    assert frames.max() > 0.9 and frames.min() >= 0.0
    # the margins stay blank: the ink is cropped and scaled to fill the rest
    assert frames[:, : settings.margin].max() == 0 and frames[:, -settings.margin :].max() == 0


def test_width_follows_the_aspect_ratio_not_the_input_resolution():
    small, large = writing(), writing().resize((600, 160))
    assert abs(len(line_frames(small)) - len(line_frames(large))) <= 0.1 * len(line_frames(small))


def test_light_on_dark_reads_like_dark_on_light():
    dark_on_light = line_frames(writing())
    inverted = line_frames(Image.eval(writing(), lambda v: 255 - v))
    assert dark_on_light.shape == inverted.shape
    assert np.abs(dark_on_light - inverted).mean() < 0.05


def test_uneven_lighting_does_not_become_ink():
    image = np.asarray(writing(), dtype=np.float32)
    shade = np.linspace(0.55, 1.0, image.shape[1])[None, :]  # a photo darker on the left
    shaded = Image.fromarray((image * shade).astype(np.uint8))
    ink = ink_map(shaded)
    paper = np.asarray(writing()) > 200
    assert ink[paper].mean() < 0.02


def test_blank_and_tiny_images_give_no_frames():
    assert line_frames(Image.new("L", (200, 50), 240)).shape == (0, ImageSettings().height)
    assert line_frames(Image.new("L", (1, 1), 0)).shape[1] == ImageSettings().height


def test_noise_alone_is_not_ink():
    noise = np.random.default_rng(0).normal(235, 4, (60, 300)).clip(0, 255).astype(np.uint8)
    assert line_frames(Image.fromarray(noise)).shape[0] == 0


def test_deslant_makes_a_slanted_stroke_upright():
    ink = np.zeros((20, 40), dtype=np.float32)
    for row in range(20):
        ink[row, 10 + (19 - row) // 2] = 1.0  # leaning right by 0.5
    upright = deslant(ink)
    assert (upright.sum(axis=0) > 0).sum() <= 3


def test_a_page_is_split_into_its_lines_in_order():
    page = writing(lines=3, growing=True)
    lines = split_lines(page)
    assert len(lines) == 3
    assert all(line.height < page.height / 2 for line in lines)
    widths = [len(line_frames(line)) / line.height for line in lines]
    assert widths == sorted(widths)  # 1, 2, 3 blobs: top to bottom


def test_a_single_line_with_dots_stays_one_line():
    image = writing()
    draw = ImageDraw.Draw(image)
    for x in range(20, 250, 45):
        draw.ellipse((x, 2, x + 3, 5), fill=30)  # i-dots above the line
    assert len(split_lines(image)) == 1


def test_blank_page_gives_the_image_back():
    blank = Image.new("L", (100, 100), 255)
    assert split_lines(blank) == [blank]


def test_a_long_thin_descender_does_not_make_a_line_of_its_own():
    image = writing()
    ImageDraw.Draw(image).line([(200, 60), (198, 85)], fill=30, width=2)  # a 'y' tail below the line
    assert len(split_lines(image)) == 1


def test_distorted_training_variants_keep_the_writing():
    import random

    from handwrite.data.render import distort_image

    image = writing()
    variant = distort_image(image, random.Random(0))
    assert variant.size == image.size and variant.mode == "L"
    assert abs(len(line_frames(variant)) - len(line_frames(image))) < 0.3 * len(line_frames(image))
    assert np.asarray(variant)[0:3, 0:3].mean() > 150  # the corners are filled with paper, not black

"""Line image preprocessing (page images are cut into lines in test_image_layout)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

import handwrite
from handwrite.formats.images import to_grayscale
from handwrite.imaging import MIN_WIDTH, ImageSettings, deslant, ink_map, line_frames, page_line_frames


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


def test_blank_and_tiny_images_give_blank_frames_the_network_can_read():
    for image in (Image.new("L", (200, 50), 240), Image.new("L", (1, 1), 0)):
        frames = line_frames(image)
        assert frames.shape == (MIN_WIDTH, ImageSettings().height) and not frames.any()


def test_noise_alone_is_not_ink():
    noise = np.random.default_rng(0).normal(235, 4, (60, 300)).clip(0, 255).astype(np.uint8)
    assert not line_frames(Image.fromarray(noise)).any()


def test_deslant_makes_a_slanted_stroke_upright():
    ink = np.zeros((20, 40), dtype=np.float32)
    for row in range(20):
        ink[row, 10 + (19 - row) // 2] = 1.0  # leaning right by 0.5
    upright = deslant(ink)
    assert (upright.sum(axis=0) > 0).sum() <= 3


def test_distorted_training_variants_keep_the_writing():
    import random

    from handwrite.training.data.render import distort_image

    image = writing()
    variant = distort_image(image, random.Random(0))
    assert variant.size == image.size and variant.mode == "L"
    assert abs(len(line_frames(variant)) - len(line_frames(image))) < 0.3 * len(line_frames(image))
    assert np.asarray(variant)[0:3, 0:3].mean() > 150  # the corners are filled with paper, not black


def inkless_images() -> dict[str, Image.Image]:
    """Images with nothing written on them, in every shape that once crashed the network."""
    return {
        "blank page": Image.new("L", (800, 1000), 255),
        "fully transparent": Image.new("RGBA", (300, 60), (0, 0, 0, 0)),
        "flat 16-bit": Image.fromarray(np.full((60, 300), 1234, dtype=np.uint16)),
        "black": Image.new("L", (300, 60), 0),
        "1 x N": Image.new("L", (1, 300), 0),
        "N x 1": Image.new("L", (300, 1), 0),
        "1 x 1": Image.new("L", (1, 1), 255),
        "one dark pixel": _one_pixel(),
    }


def _one_pixel() -> Image.Image:
    image = Image.new("L", (300, 60), 255)
    image.putpixel((150, 30), 0)
    return image


@pytest.mark.parametrize("name", sorted(inkless_images()))
def test_inkless_images_give_no_lines_and_frames_of_the_minimum_width(name):
    image = to_grayscale(inkless_images()[name])
    assert page_line_frames(image) == []
    assert line_frames(image).shape == (MIN_WIDTH, ImageSettings().height)


@pytest.mark.parametrize("size", [(1, 300), (300, 1), (2, 2), (3, 900), (900, 3)])
def test_thin_images_with_ink_give_frames_of_the_minimum_width(size):
    image = Image.new("L", size, 255)
    image.paste(0, (0, 0, max(1, size[0] // 2), max(1, size[1] // 2)))
    assert len(line_frames(image)) >= MIN_WIDTH
    assert all(len(frames) >= MIN_WIDTH for frames, _ in page_line_frames(image))


@pytest.fixture(scope="module")
def image_model():
    return handwrite.load_model(kind="image")


def test_the_image_model_reads_inkless_images_as_no_text(image_model):
    images = inkless_images()
    for name, image in images.items():
        assert image_model.recognize(image).text == "", name
    results = image_model.recognize_batch(list(images.values()))  # alone or together: never a crash
    assert [r.text for r in results] == [""] * len(images)


def test_an_image_of_one_line_is_read_whole_without_being_cut_out_first(monkeypatch):
    """One line found: its ink is read whole (as the model was trained), so cutting it out
    and levelling it (BlobLayout.cut) is never done; a page of several lines is cut."""
    from handwrite import image_layout

    cuts = []
    real_cut = image_layout.BlobLayout.cut
    monkeypatch.setattr(image_layout.BlobLayout, "cut", lambda self: cuts.append(1) or real_cut(self))
    image = to_grayscale(writing())
    ((frames, box),) = page_line_frames(image)
    assert cuts == []
    settings = ImageSettings()
    ink = ink_map(image)
    whole = np.argwhere(ink > settings.ink_threshold)
    (top, left), (bottom, right) = whole.min(axis=0), whole.max(axis=0) + 1
    assert box == (left, top, right, bottom)
    from handwrite.imaging import frames_from_ink_map

    np.testing.assert_array_equal(frames, frames_from_ink_map(ink, settings))
    assert len(page_line_frames(to_grayscale(writing(lines=3, growing=True)))) == 3 and cuts == [1]

"""The image operations training renders with: blur, affine and perspective warps."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from handwrite.training.data.warp import affine, gaussian_blur, perspective


def bar() -> Image.Image:
    """A white vertical bar on black, 120 x 80."""
    image = Image.new("L", (120, 80), 0)
    ImageDraw.Draw(image).rectangle((55, 10, 64, 69), fill=255)
    return image


def test_blur_keeps_flat_images_and_the_amount_of_ink():
    flat = torch.full((1, 30, 40), 0.7)
    assert torch.allclose(gaussian_blur(flat, 2.0), flat)
    dot = torch.zeros((1, 31, 31))
    dot[0, 15, 15] = 1.0
    blurred = gaussian_blur(dot, 1.5)
    assert blurred.shape == dot.shape
    assert abs(float(blurred.sum()) - 1.0) < 1e-5
    assert float(blurred[0, 15, 15]) < 0.1 and float(blurred[0, 15, 17]) > 0.01  # spread, symmetric
    assert torch.allclose(blurred, blurred.flip(-1)) and torch.allclose(blurred, blurred.flip(-2))


def test_affine_with_nothing_to_do_is_the_image():
    assert np.array_equal(np.asarray(affine(bar(), 0.0, 0.0)), np.asarray(bar()))


def test_shear_leans_the_bar_and_rotation_keeps_its_ink():
    leaning = np.asarray(affine(bar(), angle=0.0, shear=20.0)) > 127
    top, bottom = leaning[12].nonzero()[0].mean(), leaning[67].nonzero()[0].mean()
    assert abs(top - bottom) > 15  # tan(20 degrees) x 55 rows is about 20 pixels
    turned = np.asarray(affine(bar(), angle=10.0, shear=0.0, fill=0), dtype=float)
    assert abs(turned.sum() / np.asarray(bar(), dtype=float).sum() - 1) < 0.05


def test_affine_fills_what_it_uncovers():
    shrunk = np.asarray(affine(Image.new("L", (50, 40), 0), angle=0.0, shear=0.0, scale=0.5, fill=200))
    assert shrunk[0, 0] == 200 and shrunk[20, 25] == 0


def test_perspective_moves_corners_where_asked_and_fills_the_rest():
    image = torch.zeros((1, 40, 60))
    corners = [[0, 0], [59, 0], [59, 39], [0, 39]]
    assert torch.allclose(perspective(image, corners, corners, fill=0.5), image, atol=1e-6)
    inward = [[10, 5], [49, 5], [49, 34], [10, 34]]  # the whole image drawn smaller, in the middle
    warped = perspective(image, corners, inward, fill=0.5)
    assert float(warped[0, 20, 30]) == 0.0
    assert float(warped[0, 1, 1]) == 0.5 and float(warped[0, 38, 58]) == 0.5

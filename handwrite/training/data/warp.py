"""The few image operations training's renders need: Gaussian blur, an affine
warp (rotation, shear, scale) and a perspective warp.

They were torchvision's. torchvision must match a CUDA build of torch on pip,
which makes a fresh install about 5 GB larger than the CPU build handwrite
runs on, for three functions; these are written on torch and Pillow instead.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """(C, H, W) float image blurred with a Gaussian of `sigma` pixels (kernel of
    2 * int(3 sigma) + 1 taps, edges extended), one axis at a time."""
    radius = int(3 * sigma)
    if radius < 1:
        return image
    taps = torch.arange(-radius, radius + 1, dtype=image.dtype)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    batch = image[:, None]  # channels as a batch of one-channel images
    batch = torch.nn.functional.pad(batch, (radius, radius, radius, radius), mode="replicate")
    batch = torch.nn.functional.conv2d(batch, kernel.view(1, 1, 1, -1))
    batch = torch.nn.functional.conv2d(batch, kernel.view(1, 1, -1, 1))
    return batch[:, 0]


def affine(image: Image.Image, angle: float, shear: float, scale: float = 1.0, fill: float = 0) -> Image.Image:
    """The image rotated by `angle` degrees, sheared along x by `shear` degrees and
    scaled, about its centre, bilinear, with uncovered pixels set to `fill`; same size."""
    theta, phi = np.radians(angle), np.radians(shear)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    forward = rotation @ np.array([[1.0, -np.tan(phi)], [0.0, 1.0]]) * scale  # torchvision's sense of shear
    inverse = np.linalg.inv(forward)  # Pillow asks, for each output pixel, where it comes from
    centre = np.array([image.width / 2, image.height / 2])
    offset = centre - inverse @ centre
    data = (*inverse[0], offset[0], *inverse[1], offset[1])
    return image.transform(image.size, Image.Transform.AFFINE, data, Image.Resampling.BILINEAR, fillcolor=fill)


def perspective(image: torch.Tensor, corners: list[list[float]], moved: list[list[float]], fill: float) -> torch.Tensor:
    """(C, H, W) float image warped so that the points `corners` go to `moved`
    (four (x, y) pairs each), bilinear, with uncovered pixels set to `fill`."""
    _, height, width = image.shape
    back = _homography(moved, corners)  # from an output pixel to where it is read
    rows, columns = torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64)
    ys, xs = torch.meshgrid(rows, columns, indexing="ij")
    points = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1) @ back.T
    source = points[..., :2] / points[..., 2:]
    # grid_sample's coordinates run from -1 to 1 over pixel centres (align_corners)
    grid = torch.stack(
        [2 * source[..., 0] / max(width - 1, 1) - 1, 2 * source[..., 1] / max(height - 1, 1) - 1], dim=-1
    )
    # sampling the image less the fill and adding it back leaves `fill` where nothing is read
    warped = torch.nn.functional.grid_sample(
        (image - fill)[None], grid[None].to(image.dtype), mode="bilinear", padding_mode="zeros", align_corners=True
    )
    return warped[0] + fill


def _homography(source: list[list[float]], target: list[list[float]]) -> torch.Tensor:
    """The 3 x 3 projective map taking the four `source` points to the four `target` points."""
    rows, values = [], []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    solved = torch.linalg.solve(torch.tensor(rows, dtype=torch.float64), torch.tensor(values, dtype=torch.float64))
    return torch.cat([solved, torch.ones(1, dtype=torch.float64)]).view(3, 3)

"""What pens, paper, scanners and cameras do to writing, for training the image model.

`render.paper` puts an ink mask on clean paper; a real page also has a paper
texture, ruled lines under the writing, light that falls off towards a corner,
the writing of the other side showing through, a camera held a little askew,
ink whose darkness varies, and JPEG compression. `scan_flaws` adds a random
selection of these to a composed line (values 0..1, paper light), so the model
sees what it will be given, not only clean renders.
"""

from __future__ import annotations

import io
import random

import torch
from PIL import Image

from handwrite.training.data import warp


def paper_texture(shape: tuple[int, int], rng: random.Random, generator: torch.Generator) -> torch.Tensor:
    """(1, H, W) brightness changes of paper: coarse blotches and fine grain, mean 0."""
    height, width = shape
    coarse = torch.randn((1, 1, max(2, height // 16), max(2, width // 16)), generator=generator)
    blotches = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)[0]
    grain = torch.randn((1, height, width), generator=generator)
    return blotches * rng.uniform(0.0, 0.04) + grain * rng.uniform(0.0, 0.02)


def lighting(shape: tuple[int, int], rng: random.Random) -> torch.Tensor:
    """(1, H, W) factor of uneven light: brightest at a random point, falling off from it."""
    height, width = shape
    ys = torch.linspace(0, 1, height).view(height, 1)
    xs = torch.linspace(0, 1, width).view(1, width) * (width / max(height, 1)) ** 0.5
    cy, cx = rng.uniform(-0.5, 1.5), rng.uniform(-0.5, 1.5) * (width / max(height, 1)) ** 0.5
    fall = ((ys - cy) ** 2 + (xs - cx) ** 2) / (1 + (width / max(height, 1)))
    return (1 - rng.uniform(0.0, 0.35) * fall.clamp(0, 1))[None]


def ruled_lines(coverage: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """(1, H, W) darkness of ruled lines: one under the writing (near the bottom of its
    ink band), others a line spacing apart, 1-2 pixels thick."""
    _, height, width = coverage.shape
    rows = coverage[0].sum(dim=1)
    inked = torch.nonzero(rows > 0.02 * float(rows.max() if rows.numel() else 0)).flatten()
    rules = torch.zeros((1, height, width))
    if not len(inked):
        return rules
    top, bottom = int(inked[0]), int(inked[-1])
    spacing = max(8, int((bottom - top) * rng.uniform(0.9, 1.4)))
    base = int(top + (bottom - top) * rng.uniform(0.65, 0.85))
    thickness = rng.choice((1, 1, 2))
    for row in range(base % spacing, height, spacing):
        rules[0, row : row + thickness] = 1.0
    return rules * rng.uniform(0.1, 0.3)


def bleed_through(coverage: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """(1, H, W) darkness of the other side's writing: this line mirrored, shifted, blurred, faint."""
    mirrored = torch.roll(
        coverage.flip(-1), shifts=(rng.randint(-5, 5), rng.randint(0, coverage.shape[2])), dims=(1, 2)
    )
    sigma = rng.uniform(1.0, 2.5)
    return warp.gaussian_blur(mirrored, sigma) * rng.uniform(0.05, 0.15)


def perspective(image: torch.Tensor, rng: random.Random, fill: float) -> torch.Tensor:
    """A camera held a little askew: each corner moved by up to 3% of the size."""
    _, height, width = image.shape
    corners = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
    moved = [[x + rng.uniform(-0.03, 0.03) * width, y + rng.uniform(-0.03, 0.03) * height] for x, y in corners]
    return warp.perspective(image, corners, moved, fill)


def jpeg(image: Image.Image, rng: random.Random) -> Image.Image:
    """The image after JPEG compression at a random, often poor, quality."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=rng.randint(20, 85))
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def scan_flaws(
    coverage: torch.Tensor, back: float, ink: float, rng: random.Random, generator: torch.Generator
) -> torch.Tensor:
    """(1, H, W) a line's ink (coverage 0..1) on paper of brightness `back` in ink of
    darkness `ink`, with a random selection of a real page's flaws (before blur and noise)."""
    shape = (coverage.shape[1], coverage.shape[2])
    paper = torch.full((1, *shape), back)
    if rng.random() < 0.6:
        paper = paper + paper_texture(shape, rng, generator)
    if rng.random() < 0.35:
        paper = paper - ruled_lines(coverage, rng)
    if rng.random() < 0.25:
        paper = paper - bleed_through(coverage, rng)
    # ink that is not even: a pen running dry, pencil on grainy paper
    ink_level = ink + torch.rand((1, *shape), generator=generator) * rng.uniform(0.0, 0.3)
    image = paper * (1 - coverage) + ink_level * coverage
    if rng.random() < 0.5:
        image = image * lighting(shape, rng)
    if rng.random() < 0.3:
        image = perspective(image, rng, fill=back)
    return image

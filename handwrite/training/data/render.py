"""Synthetic line images for training the image model.

Two sources, both ending in the same "paper" step:

- real ink (IAM-OnDB lines) drawn as a pen would leave it: random writing
  size, pen width, slant and rotation;
- text set in handwriting TTF fonts (OFL fonts from Debian, see
  `find_handwriting_fonts`), with random size, slant and rotation.

The paper step puts the ink mask onto a random background (brightness,
gradient), with random ink darkness, blur and noise, so the
model sees scans, photos and screenshots alike.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from handwrite.features import FeatureSettings, normalize
from handwrite.ink import Ink
from handwrite.training.data.realism import jpeg, scan_flaws
from handwrite.training.data.warp import affine, gaussian_blur

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
# OFL handwriting faces from Debian's fonts-dkg-handwriting, fonts-femkeklaver,
# fonts-breip, fonts-rufscript and fonts-sjfonts packages.
HANDWRITING_FONT_FILES = (
    "dkg.ttf",
    "dkgIt.ttf",
    "dkgBd.ttf",
    "femkeklaver.ttf",
    "Breip.ttf",
    "Rufscript010.ttf",
    "SteveHand.ttf",
    "Delphine.ttf",
)


@dataclass(frozen=True)
class PaperStyle:
    """Ranges the paper step draws from."""

    background: tuple[float, float] = (0.7, 1.0)
    ink: tuple[float, float] = (0.0, 0.45)
    gradient: float = 0.15  # largest brightness change across the image
    blur: tuple[float, float] = (0.1, 1.2)  # Gaussian sigma, pixels
    noise: tuple[float, float] = (0.0, 0.05)
    # chance that a line is drawn with a pen whose width follows its speed and gets
    # a real page's flaws (realism.scan_flaws, JPEG); 0 keeps renders as they were
    realism: float = 0.0


REALISTIC = PaperStyle(realism=0.6)  # how training renders lines
SCANNED = PaperStyle(realism=1.0)  # every line with a real page's flaws: how scans and photos are measured


def render_ink(ink: Ink, rng: random.Random, style: PaperStyle = PaperStyle()) -> Image.Image:
    """A grayscale line image of the ink, as if written with a random pen on random paper."""
    return _render_strokes(normalize(ink, FeatureSettings()), rng, style)  # writing height 1


def _render_strokes(strokes: list[np.ndarray], rng: random.Random, style: PaperStyle) -> Image.Image:
    """Strokes in units of the writing height, drawn with a random pen on random paper."""
    height = rng.uniform(14.0, 40.0)  # pixels per writing height
    shear, angle = rng.uniform(-0.35, 0.35), np.radians(rng.uniform(-2.0, 2.0))
    transform = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.array(
        [[1.0, -shear], [0.0, 1.0]]
    )
    strokes = [s @ transform.T * height for s in strokes]
    pen = max(1.0, height * rng.uniform(0.06, 0.2))
    real = style.realism > 0 and rng.random() < style.realism
    mask = _draw_strokes(strokes, pen, margin=rng.uniform(2, 12) + pen, by_speed=real)
    return paper(mask, rng, style, real)


def render_page(lines: Sequence[Ink], rng: random.Random, style: PaperStyle = PaperStyle()) -> Image.Image:
    """A grayscale page image of several lines of ink that share one coordinate
    system (an IAM-OnDB form's line files), each where it was written, with one
    random pen, size, slant and paper for the whole page."""
    heights = [_writing_height(line) for line in lines if line.strokes]
    scale = float(np.median(heights)) if heights else 1.0
    strokes = [s[:, :2] / scale for line in lines for s in line.strokes]
    return _render_strokes(strokes, rng, style)


def _writing_height(ink: Ink) -> float:
    """The ink's writing height in its own units (what `normalize` divides by)."""
    raw = np.concatenate([s[:, 1] for s in ink.strokes])
    unit = np.concatenate([s[:, 1] for s in normalize(ink, FeatureSettings())])
    spread = float(np.ptp(unit))
    return float(np.ptp(raw)) / spread if spread > 0 else 1.0


def render_font_line(
    text: str, font_path: str | Path, rng: random.Random, style: PaperStyle = PaperStyle()
) -> Image.Image:
    """A grayscale line image of text set in a TTF font, randomly sized, slanted and rotated."""
    font = _font(str(font_path), int(rng.uniform(26, 60)))
    left, top, right, bottom = font.getbbox(text)
    margin = int(rng.uniform(3, 14))
    mask = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin), 0)
    ImageDraw.Draw(mask).text((margin - left, margin - top), text, fill=255, font=font)
    mask = affine(mask, angle=rng.uniform(-2.0, 2.0), shear=rng.uniform(-15.0, 15.0))
    return paper(mask, rng, style)


def paper(
    mask: Image.Image, rng: random.Random, style: PaperStyle = PaperStyle(), real: bool | None = None
) -> Image.Image:
    """Compose an ink mask (L, 255 = full ink) onto random paper; `real` (drawn from
    style.realism if not given) adds a real page's flaws."""
    if real is None:
        real = style.realism > 0 and rng.random() < style.realism
    coverage = torch.from_numpy(np.asarray(mask.convert("L"), dtype=np.float32) / 255)[None]
    width = coverage.shape[2]
    back = rng.uniform(*style.background)
    ramp = torch.linspace(-0.5, 0.5, width).view(1, 1, width) * rng.uniform(-style.gradient, style.gradient)
    ink = rng.uniform(*style.ink)
    sigma = rng.uniform(*style.blur)
    generator = torch.Generator().manual_seed(rng.getrandbits(31))
    if real:
        image = scan_flaws(coverage, back, ink, rng, generator) + ramp
    else:
        image = (back + ramp) * (1 - coverage) + ink * coverage
    image = gaussian_blur(image, sigma)
    image = image + torch.randn(image.shape, generator=generator) * rng.uniform(*style.noise)
    composed = Image.fromarray(image[0].clamp(0, 1).mul(255).round().to(torch.uint8).numpy())
    return jpeg(composed, rng) if real and rng.random() < 0.4 else composed


def distort_image(image: Image.Image, rng: random.Random) -> Image.Image:
    """A label-preserving variant of a real line image (for fine-tuning on a few
    of them): small rotation, shear and scale, a little blur."""
    gray = image.convert("L")
    fill = round(float(np.percentile(np.asarray(gray), 90)))  # the paper, roughly
    angle, scale, shear = rng.uniform(-1.5, 1.5), rng.uniform(0.9, 1.1), rng.uniform(-10.0, 10.0)
    warped = affine(gray, angle=angle, shear=shear, scale=scale, fill=fill)
    tensor = torch.from_numpy(np.asarray(warped, dtype=np.float32))[None]
    blurred = gaussian_blur(tensor, rng.uniform(0.1, 0.8))
    return Image.fromarray(blurred[0].round().clamp(0, 255).to(torch.uint8).numpy())


def find_handwriting_fonts(dirs: Iterable[Path] = FONT_DIRS) -> list[Path]:
    """The known handwriting fonts installed on this machine, in a fixed order."""
    wanted = set(HANDWRITING_FONT_FILES)
    found = {}
    for folder in dirs:
        if folder.is_dir():
            for path in folder.rglob("*.ttf"):
                if path.name in wanted:
                    found.setdefault(path.name, path)
    return [found[name] for name in HANDWRITING_FONT_FILES if name in found]


@functools.cache
def font_coverage(font_path: str, alphabet: str) -> str:
    """The characters of alphabet the font really draws (not as its missing-glyph box)."""
    font = _font(font_path, 32)
    missing = _glyph_bitmap(font, "\ue000")  # a private-use code point: no font draws it
    return "".join(c for c in alphabet if c == " " or _glyph_bitmap(font, c) not in (missing, b""))


def _glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    mask = font.getmask(char)
    return bytes(mask) if mask.size[0] and mask.size[1] else b""


@functools.cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _draw_strokes(strokes: list[np.ndarray], pen: float, margin: float, by_speed: bool = False) -> Image.Image:
    """An ink mask (L, 255 = ink) of the strokes, drawn with round joints and caps;
    `by_speed`: the pen widens where it moved slowly (points close together, as a
    digitiser sampling at a fixed rate records them) and thins where it was fast."""
    points = np.concatenate(strokes) if strokes else np.zeros((1, 2))
    origin = points.min(axis=0) - margin
    size = np.ceil(points.max(axis=0) - origin + margin).astype(int)
    mask = Image.new("L", (max(1, int(size[0])), max(1, int(size[1]))), 0)
    draw = ImageDraw.Draw(mask)
    steps = [np.hypot(*np.diff(s, axis=0).T) for s in strokes if len(s) > 1]
    typical = float(np.median(np.concatenate(steps))) if by_speed and steps else 0.0
    for stroke in strokes:
        xy = (stroke - origin).tolist()
        if typical > 0 and len(xy) > 1:
            _draw_by_speed(draw, xy, pen, typical)
            continue
        width, radius = max(1, round(pen)), pen / 2
        if len(xy) > 1:
            draw.line([tuple(p) for p in xy], fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return mask


def _draw_by_speed(draw: ImageDraw.ImageDraw, xy: list[list[float]], pen: float, typical: float) -> None:
    """One stroke, each segment as wide as the pen's speed there allows (0.6x to 1.4x)."""
    for (x0, y0), (x1, y1) in itertools.pairwise(xy):
        speed = float(np.hypot(x1 - x0, y1 - y0)) / typical
        width = pen * min(1.4, max(0.6, 1.4 - 0.4 * speed))
        radius = width / 2
        draw.line([(x0, y0), (x1, y1)], fill=255, width=max(1, round(width)))
        draw.ellipse((x1 - radius, y1 - radius, x1 + radius, y1 + radius), fill=255)

"""Offline preprocessing: a line image in, one frame per pixel column out.

1. Background and contrast: the background is estimated with a coarse maximum
   filter (so uneven lighting in photos of notes cancels), ink is how much
   darker than its background a pixel is, scaled by a high percentile of the
   ink so faint pencil and heavy marker look alike. Light-on-dark images are
   inverted first.
2. Crop to the ink, then scale the line to a fixed height (bilinear, antialiased),
   keeping its aspect ratio; optionally remove the slant.
3. The network sees the image column by column: an (W, H) float array with
   ink = 1, exactly like the (T, F) features of ink, so batching, padding and
   the RNN are shared with the online model.

Page images are cut into lines by layout analysis (`image_layout.page_lines`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageFilter

from handwrite.errors import HandwriteError
from handwrite.stored_settings import StoredSettings

MAX_LINE_ASPECT = 400  # a line image is at most this many heights wide after scaling
# frames: the image front pools the width by 2 twice, so fewer than 4 columns leave
# it nothing to read (a crash, "output size is too small"); every line gets at least this
MIN_WIDTH = 8
MAX_LAYOUT_PIXELS = 16_000_000  # a larger page is shrunk first: finding lines needs no finer detail
MIN_CONTRAST = 0.08  # ink must be this much darker than its paper (0..1): fainter is paper grain
MAX_PAGE_FRAMES = 150_000  # about 150 long lines: more is noise, not writing, and would take minutes


@dataclass(frozen=True)
class ImageSettings(StoredSettings):
    """Preprocessing settings; stored in every image model file."""

    height: int = 48  # pixels of the normalised line, margins included
    margin: int = 2  # blank rows above and below the ink
    width_scale: float = 1.25  # extra horizontal stretch: about 4 frames per character after the front's 4x
    ink_threshold: float = 0.2  # fraction of full ink that counts as ink when cropping
    deslant: bool = False

    @property
    def num_features(self) -> int:
        return self.height


def ink_map(image: Image.Image) -> np.ndarray:
    """(H, W) float32 in [0, 1]: 1 where the ink is darkest, 0 on the background."""
    gray = image if image.mode == "L" else image.convert("L")
    pixels = torch.from_numpy(np.array(gray, dtype=np.uint8)).to(torch.float32).mul_(1.0 / 255).numpy()
    if not pixels.size:
        return pixels
    if _light_on_dark(pixels):  # light writing on a dark board or screen
        pixels = 1.0 - pixels
        gray = Image.fromarray((pixels * 255).astype(np.uint8), "L")
    ink = np.clip(_background(gray) - pixels, 0.0, None)
    strong = _strong_ink(ink)
    if strong < MIN_CONTRAST:  # no ink darker than paper grain
        return np.zeros_like(ink)
    floor = 0.15 * strong
    return np.clip((ink - floor) / (strong - floor), 0.0, 1.0).astype(np.float32)


def _light_on_dark(pixels: np.ndarray) -> bool:
    """Writing is what stands out from the paper (the median pixel): light writing on a
    dark board when more stands out brighter than darker, each pixel counted by how
    far beyond paper grain it stands out; however dark or light the picture was taken.
    (Against a local mean instead, the bright paper beside thick dark strokes outweighed
    them: a fifth of testset_v's rendered lines were read inverted.)"""
    paper = float(np.median(pixels))
    darker = np.clip(paper - MIN_CONTRAST - pixels, 0.0, None).sum()
    brighter = np.clip(pixels - paper - MIN_CONTRAST, 0.0, None).sum()
    return bool(brighter > darker)


def _strong_ink(ink: np.ndarray) -> float:
    """How dark full ink is: a high percentile of the image; on a page mostly blank
    (a few lines on a large scan: under 0.5% of it ink) a high percentile of what
    stands out from the paper instead."""
    strong = float(np.percentile(ink, 99.5))
    if strong < MIN_CONTRAST:
        standing_out = ink[ink > 0.5 * MIN_CONTRAST]
        if standing_out.size >= max(50, 1e-5 * ink.size):
            strong = float(np.percentile(standing_out, 95.0))
    return strong


def line_frames(image: Image.Image, settings: ImageSettings = ImageSettings()) -> np.ndarray:
    """(W, H) float32 frames of a line image, ink = 1, with W >= MIN_WIDTH;
    MIN_WIDTH blank frames when it holds no ink (which the network reads as no text)."""
    return frames_from_ink_map(ink_map(image), settings)


def page_line_frames(
    image: Image.Image, settings: ImageSettings = ImageSettings()
) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """The frames of every text line of a page or line image, top to bottom, each with
    the box (x0, y0, x1, y1) of its ink on the page; none for an image without ink.
    One ink map serves the whole page: finding the ink is most of the preprocessing."""
    factor = max(1, math.ceil(math.sqrt(image.width * image.height / MAX_LAYOUT_PIXELS)))
    ink = ink_map(image.reduce(factor) if factor > 1 else image)
    if not ink.size or not ink.any():
        return []
    from handwrite.image_layout import PageLine, blob_layout  # scipy: only when an image is read (0.3 s)

    layout = blob_layout(ink)
    found = len(layout.lines) if layout is not None else 0
    # a page of one line is read whole: cutting it out and levelling it would be thrown away
    lines = layout.cut() if layout is not None and found > 1 else []
    if found == 1 or len(lines) == 1:  # a line image: read whole, as the model was trained (noise, slope and all)
        box = _ink_box(ink, settings.ink_threshold)
        if box is not None:
            top, bottom, left, right = box
            lines = [PageLine(ink, (left, top, right, bottom))]
        elif layout is not None and found == 1:
            lines = layout.cut()
    frames = sum(_frame_count(line.ink.shape, settings) for line in lines)
    if frames > MAX_PAGE_FRAMES:
        raise HandwriteError(
            f"{len(lines)} lines of fine specks or hatching ({frames} columns to read), not writing "
            "(a photo of a texture? a very noisy scan?)"
        )
    return [(frames_from_ink_map(line.ink, settings), tuple(v * factor for v in line.box)) for line in lines]  # type: ignore[misc]


def _frame_count(shape: tuple[int, ...], settings: ImageSettings) -> int:
    """About how many frames a line's ink of this (height, width) makes."""
    inner = settings.height - 2 * settings.margin
    return min(round(shape[1] * settings.width_scale * inner / max(shape[0], 1)), MAX_LINE_ASPECT * settings.height)


def frames_from_ink_map(ink: np.ndarray, settings: ImageSettings = ImageSettings()) -> np.ndarray:
    box = _ink_box(ink, settings.ink_threshold)
    if box is None:
        return np.zeros((MIN_WIDTH, settings.height), dtype=np.float32)
    top, bottom, left, right = box
    crop = torch.from_numpy(np.ascontiguousarray(ink[top:bottom, left:right]))[None]
    inner = settings.height - 2 * settings.margin
    width = round(crop.shape[2] * settings.width_scale * inner / crop.shape[1])
    width = min(max(width, 1), MAX_LINE_ASPECT * settings.height)
    scaled = _resize(crop, inner, width)
    if settings.deslant:
        scaled = torch.from_numpy(deslant(scaled.numpy()))
    pad_right = max(0, MIN_WIDTH - scaled.shape[1])
    lines = torch.nn.functional.pad(scaled, (0, pad_right, settings.margin, settings.margin))
    return lines.clamp(0, 1).T.contiguous().numpy()


def _resize(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(1, H, W) -> (height, width), bilinear with antialiasing: what torchvision's
    resize does on a float tensor, without loading torchvision."""
    if tuple(image.shape[1:]) == (height, width):
        return image[0]
    return torch.nn.functional.interpolate(
        image[None], size=[height, width], mode="bilinear", align_corners=False, antialias=True
    )[0, 0]


DESLANT_SHEARS = np.linspace(-1.0, 1.0, 21)


def deslant(ink: np.ndarray, shears: np.ndarray = DESLANT_SHEARS) -> np.ndarray:
    """Shear the (H, W) ink so strokes stand upright: the shear whose columns are
    most concentrated (largest sum of squared column sums) wins."""
    best, best_score = ink, -1.0
    for shear in shears:
        sheared = _shear(ink, float(shear))
        score = float(np.square(sheared.sum(axis=0)).sum())
        if score > best_score:
            best, best_score = sheared, score
    return best


def _background(gray: Image.Image) -> np.ndarray:
    """Local paper brightness: a max filter over a coarse copy, smoothed and scaled back."""
    factor = max(1, min(gray.size) // 32)
    small = gray.reduce(factor) if factor > 1 else gray
    size = 5 if min(small.size) >= 5 else 3 if min(small.size) >= 3 else 1
    if size > 1:
        small = small.filter(ImageFilter.MaxFilter(size)).filter(ImageFilter.BoxBlur(size // 2))
    back = small.resize(gray.size, Image.Resampling.BILINEAR) if small.size != gray.size else small
    return np.asarray(back, dtype=np.float32) / 255.0


def _ink_box(ink: np.ndarray, threshold: float) -> tuple[int, int, int, int] | None:
    mask = ink > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _shear(ink: np.ndarray, shear: float) -> np.ndarray:
    """x' = x + shear * (y from the bottom), widening the image to keep all ink."""
    height, width = ink.shape
    offsets = np.round(shear * (height - 1 - np.arange(height))).astype(int)
    shift = -min(0, offsets.min())
    out = np.zeros((height, width + int(np.abs(offsets).max()) + 1), dtype=ink.dtype)
    for row in range(height):
        start = offsets[row] + shift
        out[row, start : start + width] = ink[row]
    return out

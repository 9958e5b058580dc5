"""Reading line and page images safely, and their `.gt.txt` ground truth.

Any Pillow-readable image is accepted. What reaches the caller is always an
8-bit grayscale image with dark ink on a light background's own values:
palette, alpha, 16-bit, CMYK and bilevel images are converted here, so nothing
downstream has to care. Files that are not images, truncated files and
decompression bombs are refused with a FormatError naming the file.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from handwrite.errors import FormatError
from handwrite.fileio import checked_size

MAX_IMAGE_PIXELS = 60_000_000  # about 7700 x 7700: a full page scan at 600 dpi fits
MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024


def read_image(path: str | os.PathLike[str]) -> Image.Image:
    """An 8-bit grayscale ("L") image from any Pillow-readable file."""
    path = Path(path)
    checked_size(path, FormatError, "image", MAX_IMAGE_FILE_BYTES)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _check_size(image.size, path)
                image.load()
                return to_grayscale(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise FormatError(f"{path}: image too large to be a line or page, a decompression bomb? ({exc})") from None
    except UnidentifiedImageError:
        raise FormatError(f"{path}: not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise FormatError(f"{path}: damaged image ({exc})") from exc


def to_grayscale(image: Image.Image) -> Image.Image:
    """8-bit grayscale, with transparency composited onto white and EXIF rotation applied."""
    _check_size(image.size, image.filename if hasattr(image, "filename") else "image")
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _wide_to_l(image)
    if (mode == "P" and "transparency" in image.info) or mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if mode == "CMYK":
        return image.convert("RGB").convert("L")
    return image.convert("L")


def read_ground_truth(image_path: str | os.PathLike[str]) -> str | None:
    """The text of `name.gt.txt` beside `name.png` (None when there is none)."""
    truth = ground_truth_path(image_path)
    try:
        text = truth.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{truth}: cannot read ground truth ({exc})") from exc
    return " ".join(text.split())


def ground_truth_path(image_path: str | os.PathLike[str]) -> Path:
    """`name.gt.txt` beside `name.png`."""
    path = Path(image_path)
    return path.with_name(path.stem + ".gt.txt")


def _wide_to_l(image: Image.Image) -> Image.Image:
    """16-bit and float images scaled by their own range (scanners often use a fraction of it)."""
    values = np.asarray(image, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return Image.new("L", image.size, 255)
    low, high = float(finite.min()), float(finite.max())
    scaled = np.zeros_like(values) if high <= low else (np.nan_to_num(values, nan=high) - low) / (high - low)
    return Image.fromarray(np.clip(scaled * 255 + 0.5, 0, 255).astype(np.uint8), "L")


def _check_size(size: tuple[int, int], name: object) -> None:
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise FormatError(f"{name}: image too large, {width} x {height} pixels (at most {MAX_IMAGE_PIXELS})")
    if width < 1 or height < 1:
        raise FormatError(f"{name}: image has no pixels ({width} x {height})")

"""Reading line and page images safely, and their `.gt.txt` ground truth.

PNG, JPEG, TIFF and BMP images are accepted, recognised by their content (the
name does not matter), and decoded by Pillow's own decoders only: a file in
any other format is refused before Pillow sees it, so a PostScript or PDF
file named `.png` never reaches Ghostscript or any other program. What
reaches the caller is always an 8-bit grayscale image with dark ink on a
light background's own values: palette, alpha, 16-bit, CMYK and bilevel
images are converted here, so nothing downstream has to care. Files that are
not such images, truncated files and decompression bombs are refused with a
FormatError naming the file.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from handwrite.errors import FormatError
from handwrite.fileio import read_limited

MAX_IMAGE_PIXELS = 60_000_000  # about 7700 x 7700: a full page scan at 600 dpi fits
MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024
MAX_GROUND_TRUTH_BYTES = 1024 * 1024

# The raster formats handwrite reads: Pillow format name by leading bytes.
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
# Formats refused by name in the error, so the user learns what the file really is.
OTHER_SIGNATURES = (
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
    (b"GIF8", "GIF"),
    (b"RIFF", "RIFF (WebP?)"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\x00\x00\x01\x00", "icon"),
)
_READ_FORMATS = "PNG, JPEG, TIFF or BMP"


def read_image(path: str | os.PathLike[str]) -> Image.Image:
    """An 8-bit grayscale ("L") image from a PNG, JPEG, TIFF or BMP file."""
    path = Path(path)
    data = read_limited(path, FormatError, "image", MAX_IMAGE_FILE_BYTES)
    image_format = sniff_format(data, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # formats=: Pillow tries only this decoder, never one that runs a program
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                _check_size(image.size, path)
                image.load()
                return to_grayscale(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own limit, met first
        raise FormatError(f"{path}: image too large, more than {MAX_IMAGE_PIXELS} pixels") from None
    except UnidentifiedImageError:
        raise FormatError(f"{path}: not a {image_format} image, though it starts like one") from None
    # truncated or corrupt data, as Pillow's decoders report it (struct.error and the
    # lookup errors come from damaged headers and tables)
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, ZeroDivisionError) as exc:
        raise FormatError(f"{path}: damaged image ({exc})") from exc


def sniff_format(data: bytes, path: Path) -> str:
    """The Pillow format of an image by its leading bytes; FormatError for any
    format handwrite does not read."""
    for signature, image_format in IMAGE_SIGNATURES:
        if data.startswith(signature):
            return image_format
    found = next((name for signature, name in OTHER_SIGNATURES if data.startswith(signature)), None)
    what = f"a {found} file" if found else "not an image handwrite reads"
    raise FormatError(f"{path}: {what}; only {_READ_FORMATS} images are read (judged by content, not name)")


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
    """The text of `name.gt.txt` beside `name.png` (None when there is none): a page's
    lines one per text line, runs of spaces and blank lines left out."""
    truth = ground_truth_path(image_path)
    if not os.path.lexists(truth):
        return None
    data = read_limited(truth, FormatError, "ground truth", MAX_GROUND_TRUTH_BYTES, minimum=0)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{truth}: cannot read ground truth ({exc})") from exc
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


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

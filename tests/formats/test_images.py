"""Reading images: every odd or hostile file gives a FormatError naming it, or a usable grayscale image."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from handwrite import FormatError
from handwrite.formats.images import read_ground_truth, read_image
from tests.hostile import time_limit


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def with_claimed_size(png: bytes, width: int, height: int) -> bytes:
    """The PNG with its header claiming another size (valid CRC): a decompression bomb's shape."""
    ihdr = bytearray(png[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)))
    return png[:16] + bytes(ihdr) + crc + png[33:]


def dark_line(mode: str) -> Image.Image:
    image = Image.new("L", (60, 20), 255)
    image.paste(0, (10, 8, 50, 12))
    return image.convert(mode)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "empty or truncated image"),
        ("text.png", b"hello, this is not an image\n", "not an image"),
        ("truncated.png", png_bytes(dark_line("L"))[:60], "damaged image"),
        ("bomb.png", with_claimed_size(png_bytes(dark_line("L")), 9000, 9000), "too large, 9000 x 9000"),
        # past Pillow's own limit, met first: its message quoted its limit, not this reader's
        ("huge.png", with_claimed_size(png_bytes(dark_line("L")), 100000, 100000), "more than 60000000 pixels$"),
    ],
)
def test_unreadable_files_get_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message) as error:
        read_image(path)
    assert str(path) in str(error.value)


def test_a_missing_file_and_a_folder_are_named(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        read_image(tmp_path / "absent.png")
    with pytest.raises(FormatError, match="folder"):
        read_image(tmp_path)


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "I;16", "I", "F"])
def test_every_common_mode_becomes_dark_ink_on_light_grayscale(tmp_path, mode):
    suffix = ".tiff" if mode in ("CMYK", "I;16", "I", "F") else ".png"
    path = tmp_path / f"line{suffix}"
    source = dark_line("RGB").convert(mode) if mode != "I;16" else _sixteen_bit()
    source.save(path)
    image = read_image(path)
    assert image.mode == "L" and image.size == (60, 20)
    pixels = np.asarray(image)
    assert pixels[10, 30] < 60 and pixels[2, 2] > 200


def _sixteen_bit() -> Image.Image:
    values = np.full((20, 60), 50000, dtype=np.uint16)  # a scanner using part of the 16-bit range
    values[8:12, 10:50] = 3000
    return Image.fromarray(values)


def test_transparent_background_is_composited_onto_white(tmp_path):
    image = Image.new("RGBA", (60, 20), (0, 0, 0, 0))  # transparent black: should read as paper
    image.paste((0, 0, 0, 255), (10, 8, 50, 12))
    image.save(tmp_path / "alpha.png")
    pixels = np.asarray(read_image(tmp_path / "alpha.png"))
    assert pixels[2, 2] == 255 and pixels[10, 30] == 0


def test_palette_with_transparency(tmp_path):
    image = dark_line("P")
    image.info["transparency"] = 0
    image.save(tmp_path / "palette.png", transparency=255)
    assert read_image(tmp_path / "palette.png").mode == "L"


def test_tiny_image_reads(tmp_path):
    Image.new("L", (1, 1), 0).save(tmp_path / "dot.png")
    assert read_image(tmp_path / "dot.png").size == (1, 1)


def test_ground_truth_beside_the_image(tmp_path: Path):
    (tmp_path / "line.gt.txt").write_text("  hello   world \n", encoding="utf-8")
    assert read_ground_truth(tmp_path / "line.png") == "hello world"
    assert read_ground_truth(tmp_path / "other.png") is None
    (tmp_path / "page.gt.txt").write_text("first  line\r\n\n   \nsecond line\n", encoding="utf-8")
    assert read_ground_truth(tmp_path / "page.png") == "first line\nsecond line"  # a page's lines
    (tmp_path / "bad.gt.txt").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(FormatError, match=r"bad\.gt\.txt"):
        read_ground_truth(tmp_path / "bad.png")


def test_a_large_but_sane_header_is_refused_before_decoding(tmp_path):
    big = with_claimed_size(png_bytes(dark_line("L")), 9000, 9000)  # under Pillow's own bomb limit
    (tmp_path / "big.png").write_bytes(big)
    with pytest.raises(FormatError, match="9000 x 9000"):
        read_image(tmp_path / "big.png")


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 30\nnewpath 10 10 moveto 90 20 lineto stroke\nshowpage\n"
OTHER_FORMATS = {
    "eps": (EPS, "PostScript"),
    "dos-eps": (b"\xc5\xd0\xd3\xc6" + bytes(26) + EPS, "EPS"),
    "pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "PDF"),
    "gif": (b"GIF89a" + bytes(20), "GIF"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "not an image handwrite reads"),
}


@pytest.fixture
def fake_ghostscript(tmp_path, monkeypatch) -> Path:
    """`gs` (and its Windows names) on PATH, writing a marker file if anything runs it."""
    from PIL import EpsImagePlugin

    marker = tmp_path / "ghostscript-was-run"
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("gs", "gswin32c", "gswin64c"):
        script = folder / name
        script.write_text(f"#!/bin/sh\necho \"$@\" >> '{marker}'\nexit 1\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None)  # Pillow looks for gs again, and finds ours
    return marker


@pytest.mark.parametrize("kind", sorted(OTHER_FORMATS))
def test_other_formats_named_png_are_refused_and_nothing_is_run(tmp_path, fake_ghostscript, kind):
    content, message = OTHER_FORMATS[kind]
    path = tmp_path / "line.png"
    path.write_bytes(content)
    with pytest.raises(FormatError, match=message) as error:
        read_image(path)
    assert str(path) in str(error.value)
    assert not fake_ghostscript.exists(), "an external program was run on the file"


@pytest.mark.parametrize(("save_as", "name"), [("JPEG", "line.jpg"), ("BMP", "line.bmp"), ("PNG", "line.jpg")])
def test_claimed_formats_read_by_content_whatever_the_name(tmp_path, save_as, name):
    dark_line("L").save(tmp_path / name, save_as)
    pixels = np.asarray(read_image(tmp_path / name))
    assert pixels.shape == (20, 60) and pixels[10, 30] < 60 and pixels[2, 2] > 200


def test_ground_truth_that_is_a_fifo_is_refused_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "line.gt.txt")
    with time_limit(20, "reading a FIFO as ground truth"), pytest.raises(FormatError, match="named pipe"):
        read_ground_truth(tmp_path / "line.png")


@pytest.mark.parametrize(
    "failure", [struct.error("unpack requires a buffer"), EOFError(), IndexError("tile"), KeyError(7)]
)
def test_decoder_failures_on_damaged_data_are_format_errors(tmp_path, monkeypatch, failure):
    """What Pillow's decoders raise on damaged headers and tables, beyond OSError."""
    path = tmp_path / "line.png"
    dark_line("L").save(path)

    def fail(self):
        raise failure

    monkeypatch.setattr(Image.Image, "load", fail)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", fail)
    with pytest.raises(FormatError, match="damaged image") as error:
        read_image(path)
    assert str(path) in str(error.value)

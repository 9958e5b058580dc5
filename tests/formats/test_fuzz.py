"""Fuzzing the readers: whatever the bytes, read_ink and read_image give a result
or a HandwriteError naming the file, never another exception; and what they give
is usable downstream (ink features, line frames), so a crash cannot just move.

Inputs: documents built from each format's grammar with hostile values in every
slot, the real sample files of data/ mutated byte by byte, and random bytes
behind each accepted image format's magic. About 20-30 s in all on 2 cores.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from handwrite.errors import HandwriteError
from handwrite.features import featurize
from handwrite.formats import read_ink
from handwrite.formats.images import read_image
from handwrite.imaging import MIN_WIDTH, line_frames

DATA = Path(__file__).resolve().parents[2] / "data"
# HANDWRITE_FUZZ_EXAMPLES=5000 for a deeper run by hand; CI keeps to about half a minute
EXAMPLES = int(os.environ.get("HANDWRITE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # damaged TIFFs say so
IAM_LINE = (
    b'<?xml version="1.0" encoding="ISO-8859-1"?><WhiteboardCaptureSession><StrokeSet>'
    b'<Stroke colour="black" start_time="1.0" end_time="1.5"><Point x="100" y="200" time="1.00"/>'
    b'<Point x="110" y="201" time="1.01"/><Point x="120" y="199" time="1.02"/></Stroke>'
    b'<Stroke><Point x="130" y="180" time="1.10"/><Point x="131" y="220" time="1.20"/></Stroke>'
    b"</StrokeSet></WhiteboardCaptureSession>"
)
INK_SEEDS = {
    ".inkml": [p.read_bytes() for p in sorted((DATA / "ink").glob("*.inkml"))],
    ".json": [p.read_bytes() for p in sorted((DATA / "ink").glob("*.json"))],
    ".xml": [IAM_LINE],
}
IMAGE_SEEDS = [p.read_bytes() for p in sorted((DATA / "images").glob("*.png"))]
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"II*\x00", b"MM\x00*", b"BM"]

_folder = Path(tempfile.mkdtemp(prefix="handwrite-fuzz-"))


# ---- hostile values and byte mutations --------------------------------------

NUMBER_TEXT = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1.7976931348623157e308", "-1.7976931348623157e308", "1e300", "-1e300", "2e9", "1e-320"]),
    st.sampled_from(["1e999", "1" + "0" * 400, "nan", "-inf", "0x1F", "", "1.5.5", "--1", "1e"]),
)


def json_number() -> st.SearchStrategy[str]:
    return st.one_of(
        NUMBER_TEXT.filter(lambda s: s not in ("nan", "-inf", "0x1F", "", "1.5.5", "--1", "1e")),
        st.sampled_from(["NaN", "Infinity", "-Infinity", '"1"', "null", "true", "[]", "{}"]),
    )


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with a few byte-level edits: flips, interesting bytes, inserts, deletes, repeats, truncation."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "byte", "insert", "delete", "repeat", "truncate"]))
        if edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "byte":
            data[at] = draw(st.sampled_from(b"\x00\xff<>/,'\"!-.e9 [\x7f\x80"))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "repeat":
            piece = data[at : at + draw(st.integers(1, 64))]
            data[at:at] = piece * draw(st.integers(1, 50))
        else:
            del data[at:]
    return bytes(data)


# ---- documents from each format's grammar ------------------------------------


@st.composite
def inkml_documents(draw: st.DrawFn) -> bytes:
    channels = draw(st.lists(st.sampled_from(["X", "Y", "T", "F", "P", ""]), max_size=5))
    parts = ['<ink xmlns="http://www.w3.org/2003/InkML">']
    if draw(st.booleans()):
        parts.append(f"<annotation type={quoteattr(draw(st.sampled_from(['truth', 'transcription', 'x'])))}>")
        parts.append(escape(draw(st.text(max_size=20))) + "</annotation>")
    if channels:
        parts.append("<traceFormat>" + "".join(f"<channel name={quoteattr(c)}/>" for c in channels) + "</traceFormat>")
    depth = draw(st.integers(0, 3))
    parts.append("<traceGroup>" * depth)
    for _ in range(draw(st.integers(0, 4))):
        points = draw(
            st.lists(
                st.lists(
                    st.tuples(st.sampled_from(["", "!", "'", '"']), NUMBER_TEXT | st.sampled_from("TF*?")), max_size=5
                ),
                max_size=12,
            )
        )
        text = ",".join(" ".join(prefix + value for prefix, value in point) for point in points)
        parts.append(f"<trace>{escape(text)}</trace>")
    parts.append("</traceGroup>" * depth + "</ink>")
    return "".join(parts).encode()


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    number = json_number()
    point = st.lists(number, max_size=4).map(lambda values: "[" + ",".join(values) + "]")
    stroke = st.lists(point, max_size=10).map(lambda points: "[" + ",".join(points) + "]")
    strokes = st.lists(stroke | number, max_size=5).map(lambda items: "[" + ",".join(items) + "]")
    text = draw(st.one_of(st.none(), st.text(max_size=10).map(json.dumps), number))
    fields = [f'"strokes": {draw(strokes | number)}'] + ([f'"text": {text}'] if text is not None else [])
    return ("{" + ",".join(draw(st.permutations(fields))) + "}").encode()


@st.composite
def iam_documents(draw: st.DrawFn) -> bytes:
    attribute = st.one_of(st.none(), NUMBER_TEXT)
    parts = ["<WhiteboardCaptureSession><StrokeSet>"]
    for _ in range(draw(st.integers(0, 4))):
        nested = draw(st.integers(1, 3))
        parts.append("<Stroke>" * nested)
        for _ in range(draw(st.integers(0, 10))):
            values = {name: draw(attribute) for name in ("x", "y", "time")}
            parts.append("<Point " + " ".join(f"{k}={quoteattr(v)}" for k, v in values.items() if v is not None) + "/>")
        parts.append("</Stroke>" * nested)
    parts.append("</StrokeSet></WhiteboardCaptureSession>")
    return "".join(parts).encode()


def check_ink(data: bytes, suffix: str) -> None:
    path = _folder / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        ink = read_ink(path)
    except HandwriteError as exc:
        assert str(path) in str(exc), f"the error does not name the file: {exc}"
        return
    features = featurize(ink)  # whatever was read must also go through preprocessing
    assert np.isfinite(features).all()


@FUZZ
@given(inkml_documents())
def test_inkml_documents(data):
    check_ink(data, ".inkml")


@FUZZ
@given(json_documents())
def test_json_documents(data):
    check_ink(data, ".json")


@FUZZ
@given(iam_documents())
def test_iam_ondb_documents(data):
    check_ink(data, ".xml")


@FUZZ
@given(
    st.sampled_from(sorted(INK_SEEDS)).flatmap(lambda suffix: st.tuples(st.just(suffix), mutated(INK_SEEDS[suffix])))
)
def test_mutated_ink_files(case):
    suffix, data = case
    check_ink(data, suffix)


# ---- images ------------------------------------------------------------------


@st.composite
def encoded_images(draw: st.DrawFn) -> bytes:
    """Small images in every format and mode read, with the less common encoder options."""
    image_format = draw(st.sampled_from(["PNG", "JPEG", "TIFF", "BMP"]))
    modes = {
        "PNG": ["1", "L", "P", "RGB", "RGBA", "LA", "I;16"],
        "JPEG": ["L", "RGB", "CMYK"],
        "BMP": ["1", "L", "P", "RGB"],
    }
    mode = draw(st.sampled_from(modes.get(image_format, ["1", "L", "RGB", "RGBA", "CMYK", "I;16", "F"])))
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    pixels = np.frombuffer(draw(st.binary(min_size=width * height, max_size=width * height)), dtype=np.uint8)
    image = Image.fromarray(pixels.reshape(height, width), "L").convert(mode if mode not in ("I;16", "F") else "L")
    if mode in ("I;16", "F"):
        image = image.convert("I").point(lambda v: v * 200) if mode == "I;16" else image.convert("F")
        image = image.convert("I;16") if mode == "I;16" else image
    options: dict = {}
    if image_format == "TIFF":
        options["compression"] = draw(st.sampled_from(["raw", "tiff_lzw", "tiff_deflate", "packbits"]))
    if image_format == "JPEG":
        options["progressive"] = draw(st.booleans())
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def check_image(data: bytes) -> None:
    path = _folder / "fuzz.png"
    path.write_bytes(data)
    try:
        image = read_image(path)
    except HandwriteError as exc:
        assert str(path) in str(exc), f"the error does not name the file: {exc}"
        return
    assert image.mode == "L"
    if image.width * image.height <= 2_000_000:  # the preprocessing of what was read must not crash either
        assert len(line_frames(image)) >= MIN_WIDTH


@FUZZ
@given(encoded_images().flatmap(lambda data: st.one_of(st.just(data), mutated([data]))))
def test_images_in_every_format_mutated(data):
    check_image(data)


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(IMAGE_SEEDS))
def test_mutated_sample_images(data):
    check_image(data)


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=400))
def test_random_bytes_behind_image_magic(magic, rest):
    check_image(magic + rest)


@pytest.mark.parametrize("seed", range(len(IMAGE_SEEDS)))
def test_the_unmutated_seeds_read(seed):
    """The seeds themselves are good files: the fuzzing starts from something readable."""
    path = _folder / "seed.png"
    path.write_bytes(IMAGE_SEEDS[seed])
    assert read_image(path).mode == "L"

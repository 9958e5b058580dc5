"""The public API with the bundled model."""

import random

import editdistance
import numpy as np
import pytest

import handwrite
from handwrite.data.synthetic import render_text
from tests.conftest import SAMPLE_INK

IMAGES = SAMPLE_INK.parent / "images"


@pytest.fixture(scope="module")
def model():
    return handwrite.load_model()


def test_bundled_model_describes_itself(model):
    meta = model.metadata
    assert meta["kind"] == "ink" and model.kind == "ink"
    assert "IAM-OnDB" in " ".join(meta["training"]["data"])
    assert meta["alphabet"] and meta["preprocessing"]["features"]


def test_reads_the_sample_inks(model):
    files = sorted(SAMPLE_INK.glob("*.inkml"))
    inks = [handwrite.read_ink(f) for f in files]
    results = model.recognize_batch(inks)
    errors = sum(editdistance.eval(ink.text, r.text) for ink, r in zip(inks, results, strict=True))
    assert errors / sum(len(ink.text) for ink in inks) < 0.5
    for result in results:
        assert 0 < result.confidence <= 1
        assert result.alternatives and result.alternatives[0].text == result.text


def test_recognize_accepts_a_path(model):
    path = SAMPLE_INK / "hello-world.inkml"
    assert model.recognize(path).text == model.recognize(handwrite.read_ink(path)).text


def test_batch_equals_one_by_one_in_input_order(model):
    rng = random.Random(5)
    inks = [render_text(text, rng) for text in ["a", "quick brown fox jumps", "ok", "hello there my friend"]]
    batch = model.recognize_batch(inks)
    single = [model.recognize(ink) for ink in inks]
    assert [r.text for r in batch] == [r.text for r in single]
    np.testing.assert_allclose([r.confidence for r in batch], [r.confidence for r in single], rtol=1e-3)


def test_empty_ink_reads_as_nothing(model):
    result = model.recognize(handwrite.Ink())
    assert result.text == "" and 0 <= result.confidence <= 1


def test_degenerate_inks_give_a_result(model):
    for ink in (
        handwrite.Ink.from_points([[[5, 5]]]),
        handwrite.Ink.from_points([[[0, 0], [0, 0], [0, 0]]]),
        handwrite.Ink.from_points([[[0, 0], [1000, 0]]]),
    ):
        assert isinstance(model.recognize(ink).text, str)


def test_a_million_points_is_handled(model):
    x = np.linspace(0, 20000, 1_000_000)
    ink = handwrite.Ink([np.column_stack([x, 40 * np.sin(x / 7), x / 1000])])
    result = model.recognize(ink)
    assert isinstance(result.text, str)


def test_decreasing_timestamps_give_the_same_text(model):
    ink = handwrite.read_ink(SAMPLE_INK / "hello-world.inkml")
    reversed_time = handwrite.Ink([np.column_stack([s[:, :2], s[::-1, 2]]) for s in ink.strokes])
    assert model.recognize(reversed_time).text == model.recognize(ink).text


def test_beam_search_with_language_model_gives_alternatives():
    model = handwrite.load_model(beam_size=8, language_model=True)
    result = model.recognize(SAMPLE_INK / "quick-fox.inkml")
    assert len(result.alternatives) >= 2
    assert len({a.text for a in result.alternatives}) == len(result.alternatives)
    assert sum(a.confidence for a in result.alternatives) == pytest.approx(1.0)
    assert [w.text for w in result.words] == result.text.split()


def test_corrupt_model_file_is_refused(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\0" * 100)
    with pytest.raises(handwrite.ModelFileError, match=r"bad\.safetensors"):
        handwrite.load_model(bad)


@pytest.fixture(scope="module")
def image_model():
    return handwrite.load_model(kind="image")


def test_bundled_image_model_describes_itself(image_model):
    meta = image_model.metadata
    assert meta["kind"] == "image" and meta["preprocessing"]["image"]["height"] > 0
    assert "IAM-OnDB trainset rendered to images" in meta["training"]["data"]


def test_bundled_image_model_reads_the_sample_images(image_model):
    from handwrite.data.datasets import read_labelled_image

    files = sorted(IMAGES.glob("*.png"))
    images = [read_labelled_image(f) for f in files]
    results = image_model.recognize_batch(images)
    pairs = [(i.info["text"], " ".join(r.text.split())) for i, r in zip(images, results, strict=True)]
    errors = sum(editdistance.eval(reference, text) for reference, text in pairs)
    assert errors / sum(len(i.info["text"]) for i in images) < 0.5
    page = results[[f.name for f in files].index("page-of-three-lines.png")]
    assert page.text.count("\n") == 2

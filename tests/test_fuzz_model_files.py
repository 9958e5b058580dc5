"""Fuzz the model-file and language-model loaders (issue 17): whatever the bytes,
loading either succeeds or raises ModelFileError (a HandwriteError); never another
exception, a hang or a blow-up. A model that loads must also build, and a language
model that loads must score finitely: nothing a file says may fail later."""

from __future__ import annotations

import gzip
import json
import math
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from handwrite.codec import Codec
from handwrite.errors import HandwriteError
from handwrite.features import FeatureSettings
from handwrite.lm import CharNgramModel
from handwrite.model import ModelConfig, RecognizerNet
from handwrite.modelfile import ModelFile, load_model_file, save_model_file

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FOLDER = Path(tempfile.mkdtemp(prefix="handwrite-fuzz-"))


def _tiny_model_bytes() -> bytes:
    torch.manual_seed(0)
    codec = Codec("ab ")
    config = ModelConfig(FeatureSettings().num_features, len(codec), hidden=4, layers=1, conv_channels=4)
    model = ModelFile(
        "ink", codec, config, {"features": FeatureSettings().to_dict()}, RecognizerNet(config).state_dict()
    )
    path = FOLDER / "tiny.safetensors"
    save_model_file(model, path)
    return path.read_bytes()


TINY = _tiny_model_bytes()
HEADER_END = 8 + int.from_bytes(TINY[:8], "little")
TINY_MODEL = load_model_file(FOLDER / "tiny.safetensors")
TINY_META = TINY_MODEL.metadata()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 300)
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
META_PATHS = [
    ("kind",),
    ("alphabet",),
    ("blank_index",),
    ("unicode_normalization",),
    ("preprocessing",),
    ("preprocessing", "features"),
    *[("preprocessing", "features", name) for name in FeatureSettings().to_dict()],
    ("architecture",),
    *[("architecture", name) for name in TINY_META["architecture"]],
    ("training",),
    ("metrics",),
]


def _load(path: Path) -> None:
    """Loading either refuses with a HandwriteError or gives a model that builds."""
    try:
        model = load_model_file(path)
    except HandwriteError:
        return
    model.build_network()


def _write(name: str, data: bytes) -> Path:
    path = FOLDER / name
    path.write_bytes(data)
    return path


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_model_file(data):
    _load(_write("random.safetensors", data))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, HEADER_END - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_a_model_file_with_bytes_of_its_header_changed(changes):
    data = bytearray(TINY)
    for index, value in changes:
        data[index] = value
    _load(_write("header.safetensors", bytes(data)))


@FUZZ
@given(st.integers(0, len(TINY)), st.integers(0, 2**64 - 1))
def test_a_model_file_cut_short_or_with_another_header_length(cut, length):
    _load(_write("cut.safetensors", TINY[:cut]))
    _load(_write("length.safetensors", length.to_bytes(8, "little") + TINY[8:]))


@FUZZ
@given(st.sampled_from(META_PATHS), json_values, st.booleans())
def test_a_model_file_with_its_metadata_changed(path, value, delete):
    meta = json.loads(json.dumps(TINY_META))
    target = meta
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(target, dict) else {}
    if isinstance(target, dict):
        if delete:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    header = {"format": "handwrite-model", "format_version": "1", "metadata": json.dumps(meta)}
    file = FOLDER / "meta.safetensors"
    save_file(TINY_MODEL.state, file, metadata=header)
    _load(file)


@FUZZ
@given(st.sampled_from(sorted(TINY_MODEL.state)), st.sampled_from(["zeros", "nan", "half", "int", "bigger", "drop"]))
def test_a_model_file_with_a_tensor_changed(name, change):
    state = dict(TINY_MODEL.state)
    tensor = state[name]
    if change == "drop":
        del state[name]
    else:
        state[name] = {
            "zeros": lambda t: torch.zeros(t.shape, dtype=t.dtype),
            "nan": lambda t: torch.full(t.shape, math.nan) if t.is_floating_point() else t,
            "half": lambda t: t.half() if t.is_floating_point() else t,
            "int": lambda t: t.to(torch.int32),
            "bigger": lambda t: torch.zeros(t.numel() + 1),
        }[change](tensor)
    file = FOLDER / "tensor.safetensors"
    header = {"format": "handwrite-model", "format_version": "1", "metadata": json.dumps(TINY_META)}
    save_file(state, file, metadata=header)
    _load(file)


# --- language models

LM_DOCUMENT = {
    "format": "handwrite-char-ngram",
    "order": 3,
    "vocabulary": "ab ",
    "counts": {"": {"a": 3, "b": 2, " ": 1}, "a": {"b": 2}, "ab": {" ": 1}},
}


def _load_lm(data: bytes) -> None:
    """Loading either refuses with a HandwriteError or gives a model that scores finitely."""
    try:
        lm = CharNgramModel.load(_write("lm.json.gz", data))
    except HandwriteError:
        return
    for context in ("", "a", "ab", "zz"):
        for char in ("a", "b", " ", "z", lm.END):
            assert math.isfinite(lm.log_prob(context, char))


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_language_model(data):
    _load_lm(data)
    _load_lm(gzip.compress(data))


LM_PATHS = [
    ("format",),
    ("order",),
    ("vocabulary",),
    ("counts",),
    ("counts", ""),
    ("counts", "abc"),
    ("counts", "", "a"),
    ("counts", "a", "b"),
    ("counts", "ab", "xy"),
]


@FUZZ
@given(st.sampled_from(LM_PATHS), st.integers(-2, 2) | json_values)  # small counts: zero and negatives
def test_a_language_model_with_a_value_changed(path, value):
    document = json.loads(json.dumps(LM_DOCUMENT))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    _load_lm(gzip.compress(json.dumps(document).encode()))


@FUZZ
@given(st.text(max_size=300))
def test_a_language_model_of_any_text(text):
    _load_lm(gzip.compress(text.encode("utf-8", "surrogatepass")))


@pytest.fixture(autouse=True, scope="module")
def _remove_folder():
    yield
    for path in FOLDER.iterdir():
        path.unlink()
    FOLDER.rmdir()

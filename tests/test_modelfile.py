import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from handwrite import ModelFileError
from handwrite.codec import Codec
from handwrite.features import FeatureSettings
from handwrite.model import ModelConfig, RecognizerNet
from handwrite.modelfile import ModelFile, average_models, load_model_file, save_model_file


@pytest.fixture
def model_path(tmp_path):
    codec = Codec("abc ")
    config = ModelConfig(FeatureSettings().num_features, len(codec), hidden=8, layers=1, conv_channels=8)
    net = RecognizerNet(config)
    info = {"metrics": {"validation": {"cer": 0.5}}, "training": {"data": ["unit test"]}}
    model = ModelFile("ink", codec, config, {"features": FeatureSettings().to_dict()}, net.state_dict(), info)
    path = tmp_path / "m.safetensors"
    save_model_file(model, path)
    return path


def test_round_trip_keeps_weights_and_metadata(model_path):
    loaded = load_model_file(model_path)
    assert loaded.kind == "ink" and loaded.codec.alphabet == "abc "
    meta = loaded.metadata()
    assert meta["metrics"]["validation"]["cer"] == 0.5
    assert meta["blank_index"] == 0 and meta["handwrite_version"]
    net = loaded.build_network()
    assert isinstance(net, RecognizerNet)


def test_truncated_file_is_refused(model_path, tmp_path):
    data = model_path.read_bytes()
    for cut in (4, 100, len(data) // 2, len(data) - 10):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match=r"cut\d+\.safetensors"):
            load_model_file(bad)


def test_corrupt_bytes_are_refused(model_path, tmp_path):
    bad = tmp_path / "garbage.safetensors"
    bad.write_bytes(b"\xff" * 5000)
    with pytest.raises(ModelFileError, match="corrupt or truncated"):
        load_model_file(bad)


def test_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('code ran')",))

    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError):
        load_model_file(bad)
    torch_file = tmp_path / "evil.pt"
    torch.save({"x": Boom()}, torch_file)
    with pytest.raises(ModelFileError):
        load_model_file(torch_file)


def test_other_safetensors_file_is_refused(tmp_path):
    save_file({"w": torch.zeros(2)}, tmp_path / "other.safetensors")
    with pytest.raises(ModelFileError, match="not a handwrite model"):
        load_model_file(tmp_path / "other.safetensors")


def test_incompatible_version_is_refused(model_path, tmp_path):
    loaded = load_model_file(model_path)
    header = {"format": "handwrite-model", "format_version": "99", "metadata": json.dumps(loaded.metadata())}
    save_file(loaded.state, tmp_path / "future.safetensors", metadata=header)
    with pytest.raises(ModelFileError, match="format version '99'"):
        load_model_file(tmp_path / "future.safetensors")


def test_weights_that_do_not_fit_are_refused(model_path, tmp_path):
    loaded = load_model_file(model_path)
    meta = loaded.metadata()
    meta["architecture"]["hidden"] = 16
    header = {"format": "handwrite-model", "format_version": "1", "metadata": json.dumps(meta)}
    save_file(loaded.state, tmp_path / "mismatch.safetensors", metadata=header)
    with pytest.raises(ModelFileError, match="do not fit"):
        load_model_file(tmp_path / "mismatch.safetensors").build_network()


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_model_file(tmp_path / "nope.safetensors")


def test_failed_save_leaves_previous_file(model_path, monkeypatch):
    before = model_path.read_bytes()
    loaded = load_model_file(model_path)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model_file(loaded, model_path)
    assert model_path.read_bytes() == before
    assert [p.name for p in model_path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_kind_that_contradicts_the_network_is_refused(model_path, tmp_path):
    loaded = load_model_file(model_path)
    meta = loaded.metadata()
    meta["kind"] = "image"  # an ink network labelled as an image model
    header = {"format": "handwrite-model", "format_version": "1", "metadata": json.dumps(meta)}
    save_file(loaded.state, tmp_path / "contradiction.safetensors", metadata=header)
    with pytest.raises(ModelFileError, match="'ink' front"):
        load_model_file(tmp_path / "contradiction.safetensors")


def test_an_image_model_round_trips(tiny_image_model):
    loaded = load_model_file(tiny_image_model)
    assert loaded.kind == "image" and loaded.config.front == "image"
    assert loaded.preprocessing["image"]["height"] == 32
    assert loaded.build_network().config.num_features == 32


def test_average_of_models_is_the_mean_of_their_weights_without_their_metrics(model_path):
    first = load_model_file(model_path)
    second = ModelFile(
        first.kind, first.codec, first.config, first.preprocessing, {k: v + 1 for k, v in first.state.items()}
    )
    soup = average_models([first, second])
    assert torch.allclose(soup.state["head.weight"], first.state["head.weight"] + 0.5)
    assert "metrics" not in soup.info and soup.info["training"] == first.info["training"]
    soup.build_network()  # still a loadable network


def test_models_that_differ_cannot_be_averaged(model_path):
    first = load_model_file(model_path)
    other_alphabet = ModelFile(first.kind, Codec("abd "), first.config, first.preprocessing, first.state)
    with pytest.raises(ModelFileError, match="can be averaged"):
        average_models([first, other_alphabet])

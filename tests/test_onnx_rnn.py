"""Recurrent layers read by onnxruntime (LSTMs with int8 weights, GRUs in float32):
the default way a loaded model reads, unless HANDWRITE_PRECISION says otherwise."""

import copy
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from handwrite import model, onnx_rnn
from handwrite.model import ModelConfig, RecognizerNet, inference_network
from handwrite.onnx_rnn import OnnxRNNStack
from tests.networks import assert_reads_alone_as_in_a_batch_and_near

# how far from torch's float32 layers each reads: int8 rounding, float32 summation order
TOLERANCE = {"lstm": 0.01, "gru": 1e-5}  # (gates in a wrong order are 0.04 off)


def make(rnn: str = "lstm", hidden: int = 32, layers: int = 2) -> RecognizerNet:
    torch.manual_seed(0)
    return RecognizerNet(ModelConfig(8, 10, rnn=rnn, hidden=hidden, layers=layers, conv_channels=24)).eval()


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_the_stack_computes_what_torch_s_float32_layers_compute(rnn):
    """Same gates in the same order, both directions, layer after layer."""
    net = make(rnn)
    x = torch.randn(1, 70, 24)
    with torch.inference_mode():
        expected = x
        for layer in net.layers:
            expected = layer(expected, None)
        read = OnnxRNNStack(net.layers, rnn)(x, None)
    assert read.shape == expected.shape == (1, 70, 64)
    np.testing.assert_allclose(read.numpy(), expected.numpy(), atol=TOLERANCE[rnn])
    assert not np.allclose(read.numpy()[:, ::-1], expected.numpy(), atol=0.03)  # not merely time-symmetric


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_a_loaded_network_reads_close_to_float32_and_the_same_alone_or_in_a_batch(monkeypatch, rnn):
    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    exact = make(rnn)
    fast = inference_network(copy.deepcopy(exact))
    assert isinstance(fast.layers[0], OnnxRNNStack) and len(fast.layers) == 1
    rng = np.random.default_rng(4)
    frames = [rng.normal(size=(n, 8)).astype(np.float32) for n in (90, 90, 60, 1)]
    assert_reads_alone_as_in_a_batch_and_near(fast, exact, frames)


def test_the_stack_reads_one_line_at_a_time():
    stack = OnnxRNNStack(make().layers, "lstm")
    with pytest.raises(ValueError, match="one line at a time"):
        stack(torch.randn(2, 30, 24), None)


@pytest.mark.parametrize(
    ("rnn", "precision", "available", "layer_type"),
    [
        ("lstm", "float32", True, "BiRNNLayer"),
        ("lstm", "torch", True, "BiRNNLayer"),
        ("lstm", "", False, "BiRNNLayer"),  # no onnxruntime wheel for this platform: torch reads
        ("lstm", "", True, "OnnxRNNStack"),
        ("gru", "", True, "OnnxRNNStack"),
        ("gru", "torch", True, "BiRNNLayer"),
        ("rnn", "", True, "BiRNNLayer"),  # plain RNNs: torch, float32
    ],
)
def test_which_layers_read(monkeypatch, rnn, precision, available, layer_type):
    monkeypatch.setenv(model.PRECISION_VARIABLE, precision)
    monkeypatch.setattr(onnx_rnn, "available", lambda: available)
    assert type(inference_network(make(rnn)).layers[0]).__name__ == layer_type


def test_all_zero_lstm_weights_read_zero_not_nan():
    net = make(layers=1)
    with torch.no_grad():
        for parameter in net.layers.parameters():
            parameter.zero_()
    out = OnnxRNNStack(net.layers, "lstm")(torch.randn(1, 12, 24), None)
    assert torch.equal(out, torch.zeros(1, 12, 64))  # tanh(0) * sigmoid(0) from zero states: 0


def test_reading_writes_nothing_into_the_user_s_home(tmp_path):
    """onnxruntime's telemetry wrote a device id and a database under ~/.cache and
    would send an event; handwrite turns it off before the first import."""
    code = (
        "import handwrite; ink = handwrite.Ink.from_points([[[0, 0, 0], [3, 2, 0.01]]]); "
        "print(handwrite.load_model().recognize(ink).text)"
    )
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_a_front_that_overflows_is_an_error_not_an_empty_reading(monkeypatch, rnn):
    """onnxruntime's kernels turn NaN frames into finite numbers: a hostile model file
    whose convolutions overflow read as an empty line instead of saying so."""
    from handwrite.errors import HandwriteError
    from handwrite.model import batched_log_probs

    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    net = inference_network(make(rnn))
    with torch.no_grad():
        net.front.blocks[0][0].bias.fill_(float("inf"))
    with pytest.raises(HandwriteError, match="NaN or infinite"):
        batched_log_probs(net, [np.ones((40, 8), np.float32)])


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_no_steps_read_as_no_steps(rnn):
    """(a GRU node given none ended the process)"""
    assert OnnxRNNStack(make(rnn).layers, rnn)(torch.zeros(1, 0, 24), None).shape == (1, 0, 64)


def test_a_network_read_by_onnxruntime_can_be_copied_and_pickled():
    import pickle

    fast = inference_network(make())
    frames = torch.randn(1, 30, 24)
    for copied in (copy.deepcopy(fast), pickle.loads(pickle.dumps(fast))):
        assert torch.equal(copied.layers[0](frames, None), fast.layers[0](frames, None))


def test_where_onnxruntime_cannot_build_the_layers_torch_reads_them(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("no DynamicQuantizeLSTM in this build")

    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    monkeypatch.setattr(onnx_rnn, "_session", refuse)
    with pytest.warns(UserWarning, match="torch reads them"):
        net = inference_network(make())
    assert type(net.layers[0]).__name__ == "BiRNNLayer"


def test_an_unknown_precision_is_said(monkeypatch):
    monkeypatch.setenv(model.PRECISION_VARIABLE, "bfloat16")
    with pytest.warns(UserWarning, match="none of float32, torch"):
        inference_network(make())

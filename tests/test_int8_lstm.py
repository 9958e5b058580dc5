"""LSTM layers read by onnxruntime with int8 weights: the default way a loaded
model reads, unless HANDWRITE_PRECISION says otherwise."""

import copy

import numpy as np
import pytest
import torch

from handwrite import int8_lstm, model
from handwrite.int8_lstm import Int8LSTMStack
from handwrite.model import ModelConfig, RecognizerNet, inference_network
from tests.networks import assert_reads_alone_as_in_a_batch_and_near


def make(hidden: int = 32, layers: int = 2) -> RecognizerNet:
    torch.manual_seed(0)
    return RecognizerNet(ModelConfig(8, 10, hidden=hidden, layers=layers, conv_channels=24)).eval()


def test_the_stack_computes_what_torch_s_float32_layers_compute():
    """Same gates in the same order, both directions, layer after layer: only the
    int8 rounding of the weights and activations between them."""
    net = make()
    x = torch.randn(1, 70, 24)
    with torch.inference_mode():
        expected = x
        for layer in net.layers:
            expected = layer(expected, None)
        read = Int8LSTMStack(net.layers)(x, None)
    assert read.shape == expected.shape == (1, 70, 64)
    np.testing.assert_allclose(read.numpy(), expected.numpy(), atol=0.03)
    assert not np.allclose(read.numpy()[:, ::-1], expected.numpy(), atol=0.03)  # not merely time-symmetric


def test_a_loaded_network_reads_with_int8_lstms_close_to_float32_and_the_same_alone_or_in_a_batch(monkeypatch):
    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    exact = make()
    fast = inference_network(copy.deepcopy(exact))
    assert isinstance(fast.layers[0], Int8LSTMStack) and len(fast.layers) == 1
    rng = np.random.default_rng(4)
    frames = [rng.normal(size=(n, 8)).astype(np.float32) for n in (90, 90, 60, 1)]
    assert_reads_alone_as_in_a_batch_and_near(fast, exact, frames)


def test_the_stack_reads_one_line_at_a_time():
    stack = Int8LSTMStack(make().layers)
    with pytest.raises(ValueError, match="one line at a time"):
        stack(torch.randn(2, 30, 24), None)


@pytest.mark.parametrize(
    ("precision", "available", "layer_type"),
    [
        ("float32", True, "BiRNNLayer"),
        ("bfloat16", True, "BiRNNLayer"),
        ("", False, "BiRNNLayer"),  # no onnxruntime wheel for this platform: torch reads
        ("", True, "Int8LSTMStack"),
    ],
)
def test_which_layers_read(monkeypatch, precision, available, layer_type):
    monkeypatch.setenv(model.PRECISION_VARIABLE, precision)
    monkeypatch.setattr(int8_lstm, "available", lambda: available)
    assert type(inference_network(make()).layers[0]).__name__ == layer_type


def test_all_zero_weights_read_zero_not_nan():
    net = make(layers=1)
    with torch.no_grad():
        for parameter in net.layers.parameters():
            parameter.zero_()
    out = Int8LSTMStack(net.layers)(torch.randn(1, 12, 24), None)
    assert torch.equal(out, torch.zeros(1, 12, 64))  # tanh(0) * sigmoid(0) from zero states: 0

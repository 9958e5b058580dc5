"""Networks read by onnxruntime as one graph (LSTMs with int8 weights; GRUs, plain
RNNs, convolutions and head in float32): the default way a loaded model reads,
unless HANDWRITE_PRECISION says otherwise."""

import copy
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from handwrite import model, onnx_network
from handwrite.errors import HandwriteError
from handwrite.model import (
    EnsembleConfig,
    EnsembleNet,
    ModelConfig,
    RecognizerNet,
    batched_log_probs,
    inference_network,
)
from handwrite.onnx_network import OnnxNetwork
from tests.networks import assert_reads_alone_as_in_a_batch_and_near

# how far from torch's float32 network each reads, in log-probability: int8 rounding
# (0.01 here), float32 summation order
TOLERANCE = {"lstm": 0.03, "gru": 1e-4, "rnn": 1e-4}
IMAGE_HEIGHT = 32


def make(rnn: str = "lstm", front: str = "ink", hidden: int = 32, layers: int = 2) -> RecognizerNet:
    torch.manual_seed(0)
    features = 8 if front == "ink" else IMAGE_HEIGHT
    config = ModelConfig(features, 10, rnn=rnn, hidden=hidden, layers=layers, conv_channels=24, front=front)
    net = RecognizerNet(config).eval()
    with torch.no_grad():
        for parameter in net.layers.parameters():  # gates far from 0.5 each: a wrong gate order shows (0.19 off)
            parameter.mul_(4)
        for module in net.front.modules():  # BatchNorms that do something, so folding them is tested
            if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    return net


def frames_for(front: str, steps: int, seed: int = 0) -> np.ndarray:
    width = 8 if front == "ink" else IMAGE_HEIGHT
    return np.random.default_rng(seed).normal(size=(steps, width)).astype(np.float32)


@pytest.mark.parametrize("front", ["ink", "image"])
@pytest.mark.parametrize("rnn", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("steps", [70, 9, 5, 4])
def test_the_graph_computes_what_torch_s_float32_network_computes(rnn, front, steps):
    """Same convolutions (BatchNorm folded), the gates in the same order, both
    directions, layer after layer, the same head; the same number of steps out."""
    net = make(rnn, front)
    frames = frames_for(front, steps)
    with torch.inference_mode():
        expected, expected_lengths = net(torch.from_numpy(frames[None]), torch.tensor([steps]))
        read, lengths = OnnxNetwork(net)(torch.from_numpy(frames[None]), torch.tensor([steps]))
    assert read.shape == expected.shape and torch.equal(lengths, expected_lengths)
    np.testing.assert_allclose(read.numpy(), expected.numpy(), atol=TOLERANCE[rnn])
    flipped = OnnxNetwork(net)(torch.from_numpy(frames[None, ::-1].copy()), torch.tensor([steps]))[0]
    if steps == 70:
        assert not np.allclose(flipped.numpy()[::-1], expected.numpy(), atol=0.03)  # not merely time-symmetric


@pytest.mark.parametrize(("rnn", "front"), [("lstm", "ink"), ("gru", "ink"), ("lstm", "image")])
def test_a_loaded_network_reads_close_to_float32_and_the_same_alone_or_in_a_batch(monkeypatch, rnn, front):
    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    exact = make(rnn, front)
    fast = inference_network(copy.deepcopy(exact))
    assert isinstance(fast, OnnxNetwork)
    shortest = 1 if front == "ink" else 4  # (an image line is at least 8 columns: imaging.MIN_WIDTH)
    frames = [frames_for(front, n, seed) for seed, n in enumerate((90, 90, 60, 5, shortest))]
    assert_reads_alone_as_in_a_batch_and_near(fast, exact, frames)


def test_the_graph_reads_one_line_at_a_time_all_of_its_frames():
    with pytest.raises(ValueError, match="one line at a time"):
        OnnxNetwork(make())(torch.randn(2, 30, 8), torch.tensor([30, 30]))
    with pytest.raises(ValueError, match="all of its frames"):
        OnnxNetwork(make())(torch.randn(1, 30, 8), torch.tensor([20]))


@pytest.mark.parametrize(
    ("rnn", "precision", "available", "network_type"),
    [
        ("lstm", "float32", True, "RecognizerNet"),
        ("lstm", "torch", True, "RecognizerNet"),
        ("lstm", "", False, "RecognizerNet"),  # no onnxruntime wheel for this platform: torch reads
        ("lstm", "", True, "OnnxNetwork"),
        ("gru", "", True, "OnnxNetwork"),
        ("gru", "torch", True, "RecognizerNet"),
        ("rnn", "", True, "OnnxNetwork"),
        ("rnn", "torch", True, "RecognizerNet"),
    ],
)
def test_which_network_reads(monkeypatch, rnn, precision, available, network_type):
    monkeypatch.setenv(model.PRECISION_VARIABLE, precision)
    monkeypatch.setattr(onnx_network, "available", lambda: available)
    assert type(inference_network(make(rnn))).__name__ == network_type


def test_all_zero_lstm_weights_read_as_torch_reads_them():
    net = make(layers=1)
    with torch.no_grad():
        for parameter in net.layers.parameters():
            parameter.zero_()
    frames = torch.from_numpy(frames_for("ink", 12)[None])
    read = OnnxNetwork(net)(frames, torch.tensor([12]))[0]
    expected = net(frames, torch.tensor([12]))[0]  # tanh(0) * sigmoid(0) from zero states: the head's bias alone
    np.testing.assert_allclose(read.numpy(), expected.detach().numpy(), atol=1e-6)


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


@pytest.mark.parametrize("front", ["ink", "image"])
@pytest.mark.parametrize("rnn", ["lstm", "gru"])
@pytest.mark.parametrize("overflow", [float("inf"), 3e38])
def test_a_front_that_overflows_is_an_error_not_an_empty_reading(monkeypatch, rnn, front, overflow):
    """onnxruntime's recurrent kernels turn NaN into finite numbers: a hostile model
    file whose convolutions overflow read as an empty line instead of saying so."""
    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    hostile = make(rnn, front)
    with torch.no_grad():
        hostile.front.blocks[0][0].weight.fill_(overflow)
    net = inference_network(hostile)
    assert isinstance(net, OnnxNetwork)
    with pytest.raises(HandwriteError, match="NaN or infinite"):
        batched_log_probs(net, [np.ones((40, net.config.num_features), np.float32)])


@pytest.mark.parametrize("rnn", ["lstm", "gru", "rnn"])
def test_a_line_too_short_for_any_step_reads_as_no_steps(rnn):
    """(a GRU node given none ended the process): an image narrower than 4 columns."""
    log_probs, lengths = OnnxNetwork(make(rnn, "image"))(torch.zeros(1, 3, IMAGE_HEIGHT), torch.tensor([3]))
    assert log_probs.shape == (0, 1, 10) and lengths.tolist() == [0]


def test_a_network_read_by_onnxruntime_can_be_copied_and_pickled():
    fast = inference_network(make())
    frames, lengths = torch.randn(1, 30, 8), torch.tensor([30])
    for copied in (copy.deepcopy(fast), pickle.loads(pickle.dumps(fast))):
        assert torch.equal(copied(frames, lengths)[0], fast(frames, lengths)[0])


def test_where_onnxruntime_cannot_build_the_graph_torch_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("no DynamicQuantizeLSTM in this build")

    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    monkeypatch.setattr(onnx_network, "_session", refuse)
    with pytest.warns(UserWarning, match="torch reads it"):
        net = inference_network(make())
    assert type(net).__name__ == "RecognizerNet"


def test_an_unknown_precision_is_said(monkeypatch):
    monkeypatch.setenv(model.PRECISION_VARIABLE, "bfloat16")
    with pytest.warns(UserWarning, match="none of float32, torch"):
        inference_network(make())


@pytest.mark.parametrize("front", ["ink", "image"])
def test_an_ensemble_reads_as_one_graph_as_torch_reads_it(front):
    """Each member's own subgraph over the same frames, their log-probabilities averaged
    and normalised again; an overflow in any member's front is still said."""
    members = [make("lstm", front), make("gru", front, hidden=16, layers=1)]
    ensemble = EnsembleNet(EnsembleConfig(tuple(m.config for m in members)))
    ensemble.members = torch.nn.ModuleList(members)
    frames = torch.from_numpy(frames_for(front, 70)[None])
    with torch.inference_mode():
        expected, expected_lengths = ensemble(frames, torch.tensor([70]))
        read, lengths = OnnxNetwork(ensemble)(frames, torch.tensor([70]))
    assert read.shape == expected.shape and torch.equal(lengths, expected_lengths)
    np.testing.assert_allclose(read.numpy(), expected.numpy(), atol=TOLERANCE["lstm"])
    with torch.no_grad():
        members[1].front.blocks[0][0].weight.fill_(float("inf"))
    assert not torch.isfinite(OnnxNetwork(ensemble)(frames, torch.tensor([70]))[0]).all()


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_gates_that_would_overflow_are_an_error_not_finite_garbage(monkeypatch, rnn):
    """Weights within the loader's bounds (at most 1e6) can still overflow the first
    recurrent layer's gates (inf - inf): onnxruntime's kernels read the NaN as
    confident wrong text, so the graph's front must tell it first."""
    monkeypatch.delenv(model.PRECISION_VARIABLE, raising=False)
    hostile = make(rnn, layers=1)
    with torch.no_grad():
        for block, gain in zip(hostile.front.blocks, (1e6, 1e6, 1.0), strict=True):  # a front output near 1e36
            block[0].weight.fill_(1e6)
            block[1].weight.fill_(gain)
        for direction in (hostile.layers[0].forward_rnn, hostile.layers[0].backward_rnn):
            direction.weight_ih_l0[:, ::2], direction.weight_ih_l0[:, 1::2] = 1e6, -1e6  # inf - inf in a gate
    frames = [np.ones((40, 8), np.float32)]
    with pytest.raises(HandwriteError, match="NaN or infinite"):
        batched_log_probs(OnnxNetwork(hostile), frames)

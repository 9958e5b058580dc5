import copy

import numpy as np
import pytest
import torch

from handwrite.errors import HandwriteError
from handwrite.model import ConvFront, ModelConfig, RecognizerNet, batched_log_probs
from tests.networks import assert_reads_alone_as_in_a_batch_and_near


def make(rnn: str = "lstm") -> RecognizerNet:
    torch.manual_seed(0)
    return RecognizerNet(ModelConfig(8, 10, rnn=rnn, hidden=16, layers=2, conv_channels=16)).eval()


def test_a_line_gives_the_same_output_alone_and_padded_in_a_batch():
    for rnn in ("lstm", "gru", "rnn"):
        net = make(rnn)
        short, long = torch.randn(1, 37, 8), torch.randn(1, 90, 8)
        alone, alone_len = net(short, torch.tensor([37]))
        batch = torch.zeros(2, 90, 8)
        batch[0, :37], batch[1] = short[0], long[0]
        together, lengths = net(batch, torch.tensor([37, 90]))
        assert lengths[0] == alone_len[0]
        torch.testing.assert_close(together[: lengths[0], 0], alone[:, 0], atol=1e-5, rtol=1e-4)


def test_output_is_log_probabilities_over_a_quarter_of_the_steps():
    net = make()
    out, lengths = net(torch.randn(3, 100, 8), torch.tensor([100, 57, 1]))
    assert out.shape == (25, 3, 10)
    assert lengths.tolist() == ConvFront.output_lengths(torch.tensor([100, 57, 1])).tolist() == [25, 15, 1]
    torch.testing.assert_close(out.exp().sum(2), torch.ones(25, 3))


def test_growing_classes_keeps_old_outputs():
    net = make()
    x, lengths = torch.randn(1, 40, 8), torch.tensor([40])
    before, _ = net(x, lengths)
    net.grow_classes(13)
    after, _ = net(x, lengths)
    assert after.shape[2] == 13 and net.config.num_classes == 13
    # old logits unchanged, so old classes keep their relative probabilities
    torch.testing.assert_close((before[:, :, 1] - before[:, :, 2]), (after[:, :, 1] - after[:, :, 2]))


def test_a_new_output_can_start_as_a_copy_of_a_similar_one():
    net = make()
    net.grow_classes(12, like=[3, None])
    head = net.head
    torch.testing.assert_close(head.weight[10], head.weight[3])
    assert head.bias[10] < head.bias[3]  # begins a little less likely than the letter it resembles
    assert head.bias[11] < head.bias[1:10].min()


def test_an_output_that_is_not_finite_is_an_error_not_a_nan_confidence():
    """Weights that overflow give NaN log-probabilities; decoded, they printed
    "confidence": NaN (not JSON). The loader refuses such files; this guards the rest
    (a network changed in memory, an overflow the loader's bounds did not foresee)."""
    net = make()
    with torch.no_grad():
        net.head.bias[3] = float("nan")
    with pytest.raises(HandwriteError, match="NaN or infinite"):
        batched_log_probs(net, [np.zeros((40, 8), dtype=np.float32)])


def test_a_batch_of_full_length_rows_reads_the_same_flipped_as_gathered():
    """The flip taken when every row is its full length (one line) is the gather's reversal."""
    from handwrite.model import _reverse_index

    net = make()
    x = torch.randn(2, 30, 16)
    index = _reverse_index(torch.tensor([30, 30]), 30)
    for layer in net.layers:
        torch.testing.assert_close(layer(x, None), layer(x, index), atol=0, rtol=0)
        x = layer(x, index)


def test_bfloat16_lstm_layers_read_nearly_as_float32_and_can_be_refused(monkeypatch):
    from handwrite import model

    monkeypatch.setenv(model.PRECISION_VARIABLE, "torch")
    monkeypatch.setattr(model, "bfloat16_is_fast", lambda: True)
    exact, fast = make(), model.inference_network(make())
    assert fast.layers[0].forward_rnn.weight_ih_l0.dtype == torch.bfloat16
    assert fast.front.blocks[0][0].weight.dtype == fast.head.weight.dtype == torch.float32
    frames = [np.random.default_rng(1).normal(size=(n, 8)).astype(np.float32) for n in (40, 90)]
    for a, b in zip(batched_log_probs(exact, frames), batched_log_probs(fast, frames), strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(np.exp(a), np.exp(b), atol=0.02)


def test_gru_layers_read_in_int8_close_to_float32_and_the_same_alone_or_in_a_batch(monkeypatch):
    """torch runs a float32 GRU step by step: int8 weights read a line about 2x faster."""
    from handwrite import model

    monkeypatch.setenv(model.PRECISION_VARIABLE, "torch")  # (by default onnxruntime reads it: test_onnx_network.py)
    torch.manual_seed(0)
    exact = RecognizerNet(ModelConfig(8, 10, rnn="gru", hidden=64, layers=2, conv_channels=32)).eval()
    fast = model.inference_network(copy.deepcopy(exact))
    assert "quantized" in type(fast.layers[0].forward_rnn).__module__
    rng = np.random.default_rng(3)
    frames = [rng.normal(size=(n, 8)).astype(np.float32) for n in (90, 90, 60, 80)]
    assert_reads_alone_as_in_a_batch_and_near(fast, exact, frames)
    monkeypatch.setenv(model.PRECISION_VARIABLE, "float32")
    assert model.inference_network(copy.deepcopy(exact)).layers[0].forward_rnn.weight_ih_l0.dtype == torch.float32


def test_a_line_reads_the_same_alone_and_in_a_batch_with_bfloat16_layers(monkeypatch):
    """bfloat16 LSTMs round differently with the number of rows (oneDNN): the same
    line came out of a batch up to 0.076 in log-probability off from alone, and
    1 of 120 testset_v lines read other text. They read each line on its own."""
    from handwrite import model

    monkeypatch.setenv(model.PRECISION_VARIABLE, "torch")
    monkeypatch.setattr(model, "bfloat16_is_fast", lambda: True)
    torch.manual_seed(0)  # 128 units as the bundled model: narrower layers happened to round alike
    fast = model.inference_network(RecognizerNet(ModelConfig(8, 10, hidden=128, layers=2, conv_channels=128)).eval())
    rng = np.random.default_rng(2)
    frames = [rng.normal(size=(n, 8)).astype(np.float32) for n in (90, 90, 60, 80)]
    together = batched_log_probs(fast, frames)
    for line, read in zip(frames, together, strict=True):
        np.testing.assert_array_equal(batched_log_probs(fast, [line])[0], read)


def test_handwrite_precision_float32_keeps_every_layer_float32(monkeypatch):
    from handwrite import model

    monkeypatch.setenv(model.PRECISION_VARIABLE, "float32")
    assert not model.bfloat16_is_fast()
    exact = model.inference_network(make())
    assert exact.layers[0].forward_rnn.weight_ih_l0.dtype == torch.float32
    assert isinstance(exact.front.blocks[0][1], torch.nn.BatchNorm1d)  # not folded: bit for bit as trained


def test_batch_norms_folded_into_their_convolutions_compute_the_same(monkeypatch):
    from handwrite import model

    monkeypatch.setenv(model.PRECISION_VARIABLE, "torch")  # torch's layers, here float32
    monkeypatch.setattr(model, "bfloat16_is_fast", lambda: False)
    for front in ("ink", "image"):
        torch.manual_seed(0)
        config = ModelConfig(32 if front == "image" else 8, 10, hidden=16, layers=1, conv_channels=16, front=front)
        trained = RecognizerNet(config)
        with torch.no_grad():  # BatchNorm statistics unlike the defaults, as after training
            for block in trained.front.blocks:
                block[1].running_mean.uniform_(-1, 1)
                block[1].running_var.uniform_(0.5, 2)
        trained.eval()
        folded = model.inference_network(copy.deepcopy(trained))
        assert all(isinstance(block[1], torch.nn.Identity) for block in folded.front.blocks)
        x, lengths = torch.randn(2, 64, config.num_features), torch.tensor([64, 40])
        with torch.inference_mode():
            torch.testing.assert_close(folded(x, lengths)[0], trained(x, lengths)[0], atol=1e-5, rtol=1e-4)


def test_a_dynamically_quantized_network_still_reads():
    """Quantized layers keep their weights packed (no weight tensor to take a type from):
    scripts/profile_recognize.py compares such a network with the float one."""
    import warnings

    net = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notices
        quantized = torch.ao.quantization.quantize_dynamic(net, {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8)
        (out,) = batched_log_probs(quantized, [np.zeros((40, 8), dtype=np.float32)])
    assert out.shape == (10, 10) and np.isfinite(out).all()

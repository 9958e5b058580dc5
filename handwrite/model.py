"""Networks: a convolutional front end (1-D over ink features, or 2-D over a
line image's columns), a stack of bidirectional LSTM, GRU or plain RNN layers, and a
linear CTC head over the codec's classes.

The backward direction of each layer reverses every sequence within its own
length (an index gather) instead of packing: packed RNNs are ~40x slower on
this class of CPU, and reversing within the length keeps padding out of the
backward states, so a line gives the same output alone or in a batch.
"""

from __future__ import annotations

import math
import os
import reprlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from handwrite.errors import HandwriteError

# "rnn" is the plain (tanh) recurrent layer, kept for the RNN/LSTM/GRU comparison
RNN_TYPES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
MAX_BATCH_FRAMES = 32 * 600  # frames per forward pass when recognizing many lines


@dataclass(frozen=True)
class ModelConfig:
    num_features: int
    num_classes: int
    rnn: str = "lstm"  # or "gru", "rnn"
    hidden: int = 128
    layers: int = 3
    conv_channels: int = 128
    dropout: float = 0.25
    front: str = "ink"  # "ink": 1-D convolutions over features; "image": 2-D over pixel columns

    def __post_init__(self) -> None:
        """Bounds on every hyper-parameter: a model file is untrusted, and its
        architecture decides how much memory building the network takes."""
        for name, (low, high) in CONFIG_LIMITS.items():
            _check_whole_number(name, getattr(self, name), low, high)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a number from 0 to below 1, not {reprlib.repr(self.dropout)}")
        for name, choices in (("rnn", RNN_TYPES), ("front", FRONTS)):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in choices:
                raise ValueError(f"{name} must be one of {', '.join(sorted(choices))}, not {reprlib.repr(value)}")
        if self.front == "image" and self.num_features < ImageFront.MIN_HEIGHT:
            raise ValueError(f"an image network needs an image height of at least {ImageFront.MIN_HEIGHT}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """Raises ValueError naming what is missing, of the wrong type or out of bounds."""
        if not isinstance(values, dict):
            raise ValueError(f"the architecture must be a JSON object, not {type(values).__name__}")
        missing = [k for k in ("num_features", "num_classes") if k not in values]
        if missing:
            raise ValueError(f"the architecture lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def state_shapes(self) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
        """Name -> (shape, dtype) of every tensor the network of this config holds,
        found by building it on the meta device: no memory is allocated."""
        with torch.device("meta"):
            state = RecognizerNet(self).state_dict()
        return {name: (tuple(tensor.shape), tensor.dtype) for name, tensor in state.items()}


# Generous bounds (the bundled models: 8 or 48 features, 96 classes, hidden 192,
# 3 layers, 128 channels); beyond them a file is hostile or broken, not a model.
CONFIG_LIMITS = {
    "num_features": (1, 512),
    "num_classes": (2, 65_536),
    "hidden": (1, 1024),
    "layers": (1, 12),
    "conv_channels": (2, 1024),
}


def _check_whole_number(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {reprlib.repr(value)}")
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is out of bounds ({low} to {high})")


MAX_MEMBERS = 4  # networks in an ensemble: each is bounded by CONFIG_LIMITS, and so is their number


@dataclass(frozen=True)
class EnsembleConfig:
    """Networks that read the same frames at the same rate and vote: their
    log-probabilities are averaged frame by frame and normalised again (a geometric
    mean of their distributions). The bundled LSTM and GRU read all of testset_v at
    7.35% and 7.64% CER greedy alone and 6.92% together (6.97% with their
    probabilities averaged instead)."""

    members: tuple[ModelConfig, ...]

    def __post_init__(self) -> None:
        if not 2 <= len(self.members) <= MAX_MEMBERS:
            raise ValueError(f"an ensemble holds 2 to {MAX_MEMBERS} networks, not {len(self.members)}")
        first = self.members[0]
        for member in self.members[1:]:
            if (member.front, member.num_features, member.num_classes) != (
                first.front,
                first.num_features,
                first.num_classes,
            ):
                raise ValueError("an ensemble's networks must read the same input and give the same classes")

    @property
    def front(self) -> str:
        return self.members[0].front

    @property
    def num_features(self) -> int:
        return self.members[0].num_features

    @property
    def num_classes(self) -> int:
        return self.members[0].num_classes

    def to_dict(self) -> dict:
        return {"members": [member.to_dict() for member in self.members]}

    @classmethod
    def from_dict(cls, values: dict) -> EnsembleConfig:
        members = values.get("members")
        if not isinstance(members, list) or len(members) > MAX_MEMBERS:
            raise ValueError(f"an ensemble's members must be a list of at most {MAX_MEMBERS} architectures")
        return cls(tuple(_member_config(number, member) for number, member in enumerate(members, start=1)))

    def state_shapes(self) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
        """As ModelConfig.state_shapes: each member's under `members.K.`."""
        return {
            f"members.{number}.{name}": shape
            for number, member in enumerate(self.members)
            for name, shape in member.state_shapes().items()
        }


def _member_config(number: int, values: object) -> ModelConfig:
    try:
        return ModelConfig.from_dict(values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"member {number}: {exc}") from None


NetworkConfig = ModelConfig | EnsembleConfig


def config_from_dict(values: object) -> NetworkConfig:
    """The architecture a model file describes: one network, or an ensemble
    ({"members": [...]}); ValueError naming what is wrong."""
    if isinstance(values, dict) and "members" in values:
        return EnsembleConfig.from_dict(values)
    return ModelConfig.from_dict(values)  # type: ignore[arg-type]


class ConvFront(nn.Module):
    """Three 1-D convolutions, two of stride 2: the RNN sees a quarter of the steps.

    Frames past each line's length are zeroed after every block, exactly as the
    convolution's own zero padding would be for that line alone.
    """

    STRIDES = (1, 2, 2)
    MIN_FRAMES = 1  # the fewest frames that give the recurrent layers a step

    def __init__(self, num_features: int, channels: int) -> None:
        super().__init__()
        widths = (num_features, channels // 2, channels, channels)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv1d(c_in, c_out, 5, stride=stride, padding=2), nn.BatchNorm1d(c_out), nn.ReLU())
            for stride, c_in, c_out in zip(self.STRIDES, widths, widths[1:], strict=False)
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, F) -> (B, T', C) and the lengths T'."""
        x = x.transpose(1, 2)
        for stride, block in zip(self.STRIDES, self.blocks, strict=True):
            x = block(x)
            lengths = (lengths - 1) // stride + 1
            if x.size(0) > 1:
                steps = torch.arange(x.size(2), device=x.device)
                x = x * (steps.unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(1)
        return x.transpose(1, 2), lengths

    @classmethod
    def output_lengths(cls, lengths: torch.Tensor) -> torch.Tensor:
        for stride in cls.STRIDES:
            lengths = (lengths - 1) // stride + 1
        return lengths


class ImageFront(nn.Module):
    """Four 3x3 convolution blocks over a line image given as (B, W, H) columns.

    Pooling halves the height in every block and the width in the first two,
    so the RNN sees W/4 steps; the remaining rows are flattened and projected
    to `channels`. Columns past each line's width are zeroed after every block,
    so a line reads the same alone or in a padded batch.
    """

    WIDTHS = (16, 32, 48, 64)
    POOLS = ((2, 2), (2, 2), (2, 1), (2, 1))
    MIN_HEIGHT = 16  # every pooling step halves the height
    MIN_FRAMES = math.prod(cols for _, cols in POOLS)  # fewer columns pool to none (output_lengths says 1)

    def __init__(self, height: int, channels: int) -> None:
        super().__init__()
        sizes = (1, *self.WIDTHS)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(pool))
            for c_in, c_out, pool in zip(sizes[:-1], sizes[1:], self.POOLS, strict=True)
        )
        rows = height
        for pool_rows, _ in self.POOLS:
            rows //= pool_rows
        if rows < 1:
            raise ValueError(f"image height {height} is too small for {len(self.POOLS)} pooling steps")
        self.project = nn.Linear(self.WIDTHS[-1] * rows, channels)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, W, H) -> (B, W', C) and the widths W'."""
        x = x.transpose(1, 2).unsqueeze(1)  # (B, 1, H, W)
        for (_, pool_cols), block in zip(self.POOLS, self.blocks, strict=True):
            x = block(x)
            lengths = lengths // pool_cols
            if x.size(0) > 1:
                columns = torch.arange(x.size(3), device=x.device)
                x = x * (columns.unsqueeze(0) < lengths.unsqueeze(1)).view(x.size(0), 1, 1, -1)
        x = x.flatten(1, 2).transpose(1, 2)  # (B, W', C * H')
        return torch.relu(self.project(x)), lengths.clamp(min=1)

    @classmethod
    def output_lengths(cls, lengths: torch.Tensor) -> torch.Tensor:
        for _, pool_cols in cls.POOLS:
            lengths = lengths // pool_cols
        return lengths.clamp(min=1)


FRONTS = {"ink": ConvFront, "image": ImageFront}


class BiRNNLayer(nn.Module):
    def __init__(self, rnn: str, input_size: int, hidden: int) -> None:
        super().__init__()
        cell = RNN_TYPES[rnn]
        self.forward_rnn = cell(input_size, hidden, batch_first=True)
        self.backward_rnn = cell(input_size, hidden, batch_first=True)

    def forward(self, x: torch.Tensor, reverse_index: torch.Tensor | None) -> torch.Tensor:
        """`reverse_index` None: every row is its full length, so a plain flip reverses it."""
        x = x.to(weight_dtype(self.forward_rnn, "weight_ih_l0"))  # bfloat16 layers (inference_network) take bfloat16
        fwd, _ = self.forward_rnn(x)
        if reverse_index is None:
            bwd, _ = self.backward_rnn(x.flip(1))
            return torch.cat([fwd, bwd.flip(1)], dim=2)
        rev = x.gather(1, reverse_index.expand(-1, -1, x.size(2)))
        bwd, _ = self.backward_rnn(rev)
        bwd = bwd.gather(1, reverse_index.expand(-1, -1, bwd.size(2)))
        return torch.cat([fwd, bwd], dim=2)


def weight_dtype(module: nn.Module, name: str = "weight") -> torch.dtype:
    """The type a layer takes: its weight's (float32 for a quantized layer, whose weights
    are packed away)."""
    weight = getattr(module, name, None)
    return weight.dtype if isinstance(weight, torch.Tensor) else torch.float32


class RecognizerNet(nn.Module):
    """(B, T, F) frames + lengths -> (T', B, C) log-probabilities and T' lengths.

    Frames are ink features (front "ink") or pixel columns of a line image
    (front "image", F = image height).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.rnn not in RNN_TYPES:
            raise ValueError(f"rnn must be one of {sorted(RNN_TYPES)}, not {config.rnn!r}")
        if config.front not in FRONTS:
            raise ValueError(f"front must be one of {sorted(FRONTS)}, not {config.front!r}")
        self.config = config
        self.front = FRONTS[config.front](config.num_features, config.conv_channels)
        sizes = [config.conv_channels] + [2 * config.hidden] * (config.layers - 1)
        self.layers = nn.ModuleList(BiRNNLayer(config.rnn, size, config.hidden) for size in sizes)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(2 * config.hidden, config.num_classes)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, out_lengths = self.front(features, lengths.clamp(min=1))
        out_lengths = out_lengths.clamp(max=x.size(1))
        # one line (or lines all of one length) needs no gather: the same reversal, cheaper
        full = bool((out_lengths == x.size(1)).all())
        reverse_index = None if full else _reverse_index(out_lengths, x.size(1))
        for layer in self.layers:
            x = layer(self.dropout(x), reverse_index)
        logits = self.head(self.dropout(x).to(weight_dtype(self.head)))
        return logits.log_softmax(dim=2).transpose(0, 1), out_lengths

    def grow_classes(self, num_classes: int, like: Sequence[int | None] = ()) -> None:
        """Add outputs for new characters; old outputs keep their weights.

        `like[i]` names an existing output the i-th new one resembles (e for é):
        the new row starts as a copy of it, slightly less likely, so training
        only has to tell the two apart. Other new rows start as the mean
        character row with a low bias: unlikely but trainable, not random.
        """
        old = self.head
        if num_classes <= old.out_features:
            return
        new = nn.Linear(old.in_features, num_classes)
        with torch.no_grad():
            new.weight[: old.out_features] = old.weight
            new.bias[: old.out_features] = old.bias
            for row in range(old.out_features, num_classes):
                source = like[row - old.out_features] if row - old.out_features < len(like) else None
                if source is None:
                    new.weight[row] = old.weight[1:].mean(dim=0)
                    new.bias[row] = old.bias[1:].min() - 1.0
                else:
                    new.weight[row] = old.weight[source]
                    new.bias[row] = old.bias[source] - 0.5
        self.head = new
        self.config = ModelConfig.from_dict({**self.config.to_dict(), "num_classes": num_classes})


class EnsembleNet(nn.Module):
    """Several networks reading the same frames; (B, T, F) frames + lengths -> (T', B, C)
    log-probabilities of their geometric mean, and T' lengths (EnsembleConfig)."""

    def __init__(self, config: EnsembleConfig) -> None:
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(RecognizerNet(member) for member in config.members)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = [member(features, lengths) for member in self.members]
        mean = torch.stack([log_probs.float() for log_probs, _ in outputs]).mean(dim=0)
        return mean.log_softmax(dim=2), outputs[0][1]


def network_for(config: NetworkConfig) -> nn.Module:
    """An untrained network of this architecture: a RecognizerNet, or an EnsembleNet."""
    return EnsembleNet(config) if isinstance(config, EnsembleConfig) else RecognizerNet(config)


PRECISION_VARIABLE = "HANDWRITE_PRECISION"  # "float32": as trained, bit for bit; "torch": torch's own fast layers


def inference_network(net: RecognizerNet | EnsembleNet) -> nn.Module:
    """The network made ready to read on this CPU (for reading only; it may be changed
    in place): a module that reads as `net` does.

    By default onnxruntime reads the whole network as one graph (onnx_network): LSTMs
    with int8 weights, GRUs, plain RNNs, the convolutions and the head in float32; on
    one thread a median line reads about 1.5x faster than torch made it, at the same
    CER on 300 testset_v lines (scripts/benchmark.py). Without onnxruntime, or with
    HANDWRITE_PRECISION=torch, torch reads: LSTMs in bfloat16 where oneDNN runs it
    natively (AVX512-BF16 or AMX; +0.03 points), else float32, GRUs in int8
    (_int8_grus), plain RNN layers in float32, each BatchNorm folded into the
    convolution before it (the same function, rounded differently). An ensemble's
    networks read the same way, onnxruntime's as one graph.
    HANDWRITE_PRECISION=float32 leaves the network exactly as trained."""
    if exact_precision():
        return net
    onnx = _onnxruntime_network(net) if _onnxruntime_reads() else None
    if onnx is not None:
        return onnx
    if isinstance(net, EnsembleNet):  # torch reads each member as it would alone
        net.members = nn.ModuleList(_torch_inference_network(member) for member in net.members)
        return net
    return _torch_inference_network(net)


def _torch_inference_network(net: RecognizerNet) -> RecognizerNet:
    """The network as torch reads it fastest: BatchNorms folded, LSTMs in bfloat16 where
    native, GRUs in int8."""
    _fold_batch_norms(net.front)
    if net.config.rnn == "lstm" and bfloat16_is_fast():
        net.layers.to(torch.bfloat16)
    elif net.config.rnn == "gru":
        net.layers = _int8_grus(net.layers)
    return net


def _onnxruntime_reads() -> bool:
    from handwrite import onnx_network

    return _precision() != "torch" and onnx_network.available()


def _onnxruntime_network(net: RecognizerNet | EnsembleNet) -> nn.Module | None:
    """The network as one onnxruntime graph; None (said once) where onnxruntime cannot
    build it, say a build without its contrib operators: torch reads."""
    import warnings

    from handwrite.onnx_network import OnnxNetwork

    try:
        return OnnxNetwork(net)
    except Exception as exc:  # onnxruntime's own exception types vary by build and release
        warnings.warn(f"onnxruntime cannot read this network ({exc}); torch reads it", stacklevel=3)
        return None


def _int8_grus(layers: nn.ModuleList) -> nn.ModuleList:
    """GRU layers with int8 weights (dynamic quantization: activations quantized as they
    come): torch runs a float32 GRU step by step, and a median line's GRUs read about
    2x faster this way (scripts/benchmark.py; its effect on CER is measured in the GRU
    model's card)."""
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # the eager API is deprecated for torchao, and still works
        warnings.simplefilter("ignore")
        return quantize_dynamic(layers, {nn.GRU}, dtype=torch.qint8)


def _fold_batch_norms(front: nn.Module) -> None:
    """conv, BatchNorm, ... blocks become conv (BatchNorm folded in), Identity, ...: one
    pass over the frames fewer per block (the Identity keeps the blocks' indices)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for block in front.blocks:
        conv, norm = block[0], block[1]
        if isinstance(conv, nn.Conv1d | nn.Conv2d) and isinstance(norm, nn.BatchNorm1d | nn.BatchNorm2d):
            block[0], block[1] = fuse_conv_bn_eval(conv.eval(), norm.eval()), nn.Identity()


def exact_precision() -> bool:
    """HANDWRITE_PRECISION=float32: read exactly as trained (bit for bit across runs and CPUs)."""
    return _precision() == "float32"


def _precision() -> str:
    asked = os.environ.get(PRECISION_VARIABLE, "").strip().lower()
    asked = {"fp32": "float32"}.get(asked, asked)
    if asked not in ("", "float32", "torch"):
        import warnings

        warnings.warn(f"{PRECISION_VARIABLE}={asked!r} is none of float32, torch: read as by default", stacklevel=3)
    return asked


def bfloat16_is_fast() -> bool:
    """bfloat16 LSTMs run in native instructions here, and HANDWRITE_PRECISION allows them."""
    if exact_precision():
        return False
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return bool(native and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled)


@torch.inference_mode()
def batched_log_probs(
    net: nn.Module,
    features: Sequence[np.ndarray],
    device: torch.device | str = "cpu",
    max_frames: int = MAX_BATCH_FRAMES,
) -> list[np.ndarray]:
    """(T', C) log-probabilities per input, in eval mode; inputs of similar length
    are padded into batches of at most `max_frames` frames, except through int8 or
    bfloat16 layers (_reads_alone), which read each input on its own: a line must read
    the same alone as in a batch, and int8 activations are scaled by the whole batch
    while oneDNN rounds a lone bfloat16 row differently from rows of a batch (batched,
    up to 0.076 apart in log-probability, and 1 of 120 testset_v lines read other
    text). A lone line stays as fast as it was."""
    if net.training:  # (eval() walks every module: a reader's network is in eval mode already)
        net.eval()
    if _reads_alone(net):
        max_frames = 0  # every input its own batch
    outputs: list[np.ndarray | None] = [None] * len(features)
    for chunk in length_batches([len(f) for f in features], max_frames):
        batch, lengths = pad_features([features[i] for i in chunk])
        log_probs, out_lengths = net(batch.to(device), lengths.to(device))
        log_probs = log_probs.float().cpu()
        if not bool(torch.isfinite(log_probs).all()):
            # weights that overflow (finite, but huge) give NaN: a "confidence": NaN is not even JSON
            raise HandwriteError("the network's output is NaN or infinite: the model's weights overflow")
        for row, index in enumerate(chunk):
            outputs[index] = log_probs[: out_lengths[row], row].numpy()
    return outputs  # type: ignore[return-value]


def _reads_alone(net: nn.Module) -> bool:
    """onnxruntime's network, bfloat16 layers (oneDNN rounds a lone row differently) and
    int8 ones (their activations are quantized over the whole batch) read each line on
    its own; so does an ensemble read by torch (simpler, and only ever slower)."""
    if not isinstance(net, RecognizerNet):
        return True
    return any(not isinstance(layer, BiRNNLayer) or _not_plain_float32(layer.forward_rnn) for layer in net.layers)


def _not_plain_float32(rnn: nn.Module) -> bool:
    return type(rnn) not in RNN_TYPES.values() or weight_dtype(rnn, "weight_ih_l0") != torch.float32


def _reverse_index(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, T, 1) gather index reversing each row within its length (padding stays put)."""
    steps = torch.arange(max_len, device=lengths.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return index.unsqueeze(2)


def length_batches(lengths: Sequence[int], max_frames: int) -> list[list[int]]:
    """Indices grouped by similar length for inference; each group, padded to its
    longest member, holds at most max_frames frames (a longer line goes alone)."""
    batches: list[list[int]] = []
    for index in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        longest = max(lengths[index], 1)  # ascending order: the newest member is the longest
        if batches and (len(batches[-1]) + 1) * longest <= max_frames:
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def pad_features(features: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, F) zero-padded float tensor and (B,) lengths; empty inputs get one zero step."""
    lengths = [max(1, len(f)) for f in features]
    width = features[0].shape[1]
    batch = np.zeros((len(features), max(lengths), width), dtype=np.float32)
    for row, f in enumerate(features):
        batch[row, : len(f)] = f
    return torch.from_numpy(batch), torch.tensor(lengths, dtype=torch.long)

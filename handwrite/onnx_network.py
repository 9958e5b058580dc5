"""A network read by onnxruntime: its front end, recurrent layers and head as one
graph, one line at a time on one thread.

- LSTM layers read with int8 weights (onnxruntime's DynamicQuantizeLSTM: each
  direction's matrices scaled by their largest magnitude, symmetric; activations
  quantized as they come). On one thread a median line's three layers read about
  2x faster than torch reads them in bfloat16 (oneDNN), with the same CER on 300
  testset_v lines. torch's own int8 LSTM was slower than bfloat16 here and cost
  0.25 points.
- GRU and plain RNN layers read in float32, as trained: onnxruntime's GRU kernel
  took a median line's layers 2-2.8x faster than torch's int8 GRU, which in turn
  was 2x faster than torch's float32 GRU (it runs step by step).
- The convolutions (BatchNorm folded in) and the head read in float32. With them
  in the graph a line costs one call instead of a dozen torch operators and the
  copies between them: a median line's network 6.0 -> 4.2 ms inside recognize().

The graph is built from the network's float32 weights when a model loads (a few
milliseconds); no ONNX file is ever read, so a model file stays the only input.
scripts/benchmark.py and scripts/profile_recognize.py measure these choices.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_weights

from handwrite.model import FRONTS, EnsembleConfig
from handwrite.onnx_proto import Node, model_bytes

if TYPE_CHECKING:
    from handwrite.model import BiRNNLayer, EnsembleNet, RecognizerNet

# the gates' rows, in torch's order, taken in ONNX's: LSTM i f g o -> i o f c; GRU r z n -> z r h
_ONNX_GATE_ORDER = {"lstm": (0, 3, 1, 2), "gru": (1, 0, 2), "rnn": (0,)}
_FLOAT32 = np.dtype(np.float32)

# onnxruntime's own telemetry (from 1.29 on POSIX too): at import it wrote a device id
# and a database under ~/.cache/Microsoft and would send a process-information event.
# handwrite reads offline and writes nothing the user did not ask for: both names
# of the opt-out (1.32 reads the first; later releases the second).
TELEMETRY_OPT_OUTS = ("ORT_DISABLE_TELEMETRY", "ORT_TELEMETRY_DISABLED")


def onnxruntime_module() -> ModuleType:
    """onnxruntime, imported with its telemetry off (ImportError where it is missing)."""
    for name in TELEMETRY_OPT_OUTS:
        os.environ.setdefault(name, "1")
    import onnxruntime

    return onnxruntime


def available() -> bool:
    """Whether onnxruntime can be imported here (a declared dependency; where it is
    missing or broken all the same, torch reads)."""
    try:
        onnxruntime_module()
    except ImportError:
        return False
    return True


class OnnxNetwork(nn.Module):
    """Reads as RecognizerNet does, (1, T, F) frames -> (T', 1, C) log-probabilities
    and the length T', one line at a time (int8 activations are scaled by the whole
    batch, so a line would read differently beside others; `transcribe -j` reads in
    parallel). It keeps the network it was built from, not the graph's bytes, and
    builds its graph and session again when copied or pickled. A Recognizer's network
    shares a float32 file's tensors (no copy); a float16 file's are held again in
    float32 (about 1.2x the memory of torch's reading)."""

    def __init__(self, net: RecognizerNet | EnsembleNet) -> None:
        super().__init__()
        self.net = net
        self.config = net.config
        self.front_limit = _front_limit(net)
        self.session = _session(_graph(net))

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if features.size(0) != 1 or int(lengths[0]) != features.size(1):
            raise ValueError("onnxruntime's network reads one line at a time, all of its frames")
        frames = features.detach().float().numpy()
        if (
            frames.shape[1] < FRONTS[self.config.front].MIN_FRAMES
        ):  # (a recurrent node given no steps ended the process)
            log_probs = np.zeros((0, 1, self.config.num_classes), np.float32)
        else:
            log_probs, front_size = self.session.run(None, {"frames": frames})
            if not (float(front_size) <= self.front_limit and np.isfinite(frames).all()):
                # the recurrent kernels turn NaN into finite numbers: let the caller see the overflow
                log_probs = np.full_like(log_probs, np.nan)
        return torch.from_numpy(log_probs), torch.tensor([len(log_probs)])

    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "session"}

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.session = _session(_graph(self.net))


# Past this a sum may be infinite: the first recurrent layer's gates could overflow
# (its input, the front's output, is unbounded; later layers read states within +-1).
_SAFE_SUM = 1e37


def _front_limit(net: RecognizerNet | EnsembleNet) -> float:
    """The largest summed magnitude of the front's output (the graph's `front_size`, at
    least its largest value) that cannot overflow any member's first recurrent layer:
    the recurrent kernels would read the NaN as finite garbage where torch says so.
    The bundled models allow about 5e34; their fronts give at most about 2e5."""
    members = list(net.members) if isinstance(net.config, EnsembleConfig) else [net]
    limits = []
    for member in members:
        first = member.layers[0]
        gate = 0.0
        for rnn in (first.forward_rnn, first.backward_rnn):
            size = _largest(rnn.weight_ih_l0) * rnn.input_size
            rest = _largest(rnn.weight_hh_l0) * rnn.hidden_size + _largest(rnn.bias_ih_l0) + _largest(rnn.bias_hh_l0)
            gate = max(gate, size, rest)
        limits.append(_SAFE_SUM / max(gate, 1e-30))
    return min(limits)


def _largest(tensor: torch.Tensor) -> float:
    return float(tensor.detach().abs().max())


def _session(graph: bytes) -> object:
    onnxruntime = onnxruntime_module()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # as torch: one line, one thread
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: nothing on the user's terminal
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def _graph(net: RecognizerNet | EnsembleNet) -> bytes:
    """frames -> front -> (T', 1, channels) -> recurrent layers -> head -> log_probs;
    also `front_size`, the summed magnitude of the front's output (and of its
    activations before pooling, which may drop a NaN), to tell an overflow there. An
    ensemble's members each read the frames; their log-probabilities are averaged and
    normalised again, their front sums added."""
    config = net.config
    members = list(net.members) if isinstance(config, EnsembleConfig) else [net]
    nodes, weights, outputs = [], {}, []
    for number, member in enumerate(members):
        prefix = f"member{number}." if len(members) > 1 else ""
        member_nodes, member_weights, names = _network(member, prefix)
        nodes += member_nodes
        weights |= member_weights
        outputs.append(names)
    if len(members) > 1:
        weights["members.count"] = np.array(len(members), np.float32)
        nodes += [
            Node("Sum", [log_probs for log_probs, _ in outputs], ["members.sum"]),
            Node("Div", ["members.sum", "members.count"], ["members.mean"]),
            Node("LogSoftmax", ["members.mean"], ["log_probs"], {"axis": -1}),
            Node("Sum", [front_size for _, front_size in outputs], ["front_size"]),
        ]
    return model_bytes(
        nodes,
        weights,
        inputs={"frames": (_FLOAT32, [1, "T", config.num_features])},
        outputs={"log_probs": (_FLOAT32, ["steps", 1, config.num_classes]), "front_size": (_FLOAT32, [])},
        opsets={"": 17, "com.microsoft": 1},
    )


def _network(net: RecognizerNet, prefix: str) -> tuple[list[Node], dict[str, np.ndarray], tuple[str, str]]:
    """One network's nodes and weights, every name but the input `frames` prefixed, and
    the names of its log-probabilities and front sum."""
    config = net.config
    front_nodes, weights, by_time, checked = (_ink_front if config.front == "ink" else _image_front)(net.front)
    nodes = [*front_nodes, *_summed(checked, "front_size")]
    previous = by_time
    for number, layer in enumerate(net.layers):
        layer_nodes, tensors, previous = _recurrent_layer(layer, config.rnn, f"{config.rnn}{number}", previous)
        nodes += layer_nodes
        weights |= tensors
    weights |= {"head.W": _array(net.head.weight).T.copy(), "head.B": _array(net.head.bias)}
    nodes += [
        Node("MatMul", [previous, "head.W"], ["head.product"]),
        Node("Add", ["head.product", "head.B"], ["head.logits"]),
        Node("LogSoftmax", ["head.logits"], ["log_probs"], {"axis": -1}),
    ]
    if not prefix:
        return nodes, weights, ("log_probs", "front_size")
    named = {
        name: name if name in ("frames", "") else prefix + name
        for node in nodes
        for name in (*node.inputs, *node.outputs)
    }
    nodes = [
        Node(n.op_type, [named[i] for i in n.inputs], [named[o] for o in n.outputs], n.attributes, n.domain)
        for n in nodes
    ]
    weights = {prefix + name: array for name, array in weights.items()}
    return nodes, weights, (prefix + "log_probs", prefix + "front_size")


def _summed(names: list[str], output: str) -> list[Node]:
    """`output`: the sum of all values of these tensors (ReLU outputs: their magnitudes).
    A sum keeps a NaN or an infinity where onnxruntime's max may drop it."""
    sums = [f"{name}.sum" for name in names]
    nodes = [Node("ReduceSum", [name], [total], {"keepdims": 0}) for name, total in zip(names, sums, strict=True)]
    return [*nodes, Node("Sum", sums, [output])]


def _ink_front(front: nn.Module) -> tuple[list[Node], dict[str, np.ndarray], str, list[str]]:
    """(1, T, F) -> three 1-D convolutions with ReLU -> (T', 1, channels)."""
    nodes = [Node("Transpose", ["frames"], ["front.in"], {"perm": [0, 2, 1]})]
    weights, previous = {}, "front.in"
    for number, (stride, block) in enumerate(zip(front.STRIDES, front.blocks, strict=True)):
        name = f"conv{number}"
        weights[f"{name}.W"], weights[f"{name}.B"] = _folded(block)
        attributes = {"kernel_shape": [5], "strides": [stride], "pads": [2, 2]}
        nodes += [
            Node("Conv", [previous, f"{name}.W", f"{name}.B"], [f"{name}.out"], attributes),
            Node("Relu", [f"{name}.out"], [f"{name}.relu"]),
        ]
        previous = f"{name}.relu"
    nodes.append(Node("Transpose", [previous], ["front.by_time"], {"perm": [2, 0, 1]}))
    return nodes, weights, "front.by_time", ["front.by_time"]


def _image_front(front: nn.Module) -> tuple[list[Node], dict[str, np.ndarray], str, list[str]]:
    """(1, W, H) columns -> four 3x3 convolutions with ReLU and max pooling -> rows
    flattened with the channels -> projection with ReLU -> (W', 1, channels)."""
    nodes = [
        Node("Transpose", ["frames"], ["front.rows"], {"perm": [0, 2, 1]}),
        Node("Unsqueeze", ["front.rows", "front.channel_axis"], ["front.in"]),
    ]
    weights = {"front.channel_axis": np.array([1], np.int64)}
    previous = "front.in"
    for number, (pool, block) in enumerate(zip(front.POOLS, front.blocks, strict=True)):
        name = f"conv{number}"
        weights[f"{name}.W"], weights[f"{name}.B"] = _folded(block)
        nodes += [
            Node("Conv", [previous, f"{name}.W", f"{name}.B"], [f"{name}.out"], {"pads": [1, 1, 1, 1]}),
            Node("Relu", [f"{name}.out"], [f"{name}.relu"]),
            Node("MaxPool", [f"{name}.relu"], [f"{name}.pool"], {"kernel_shape": list(pool), "strides": list(pool)}),
        ]
        previous = f"{name}.pool"
    rows = front.project.in_features  # channels x remaining rows, flattened as torch does
    weights |= {
        "front.flat_shape": np.array([1, rows, -1], np.int64),
        "project.W": _array(front.project.weight).T.copy(),
        "project.B": _array(front.project.bias),
    }
    nodes += [
        Node("Reshape", [previous, "front.flat_shape"], ["front.flat"]),
        Node("Transpose", ["front.flat"], ["front.columns"], {"perm": [2, 0, 1]}),
        Node("MatMul", ["front.columns", "project.W"], ["project.product"]),
        Node("Add", ["project.product", "project.B"], ["project.out"]),
        Node("Relu", ["project.out"], ["front.by_time"]),
    ]
    checked = [f"conv{number}.relu" for number in range(len(front.blocks))] + ["front.by_time"]
    return nodes, weights, "front.by_time", checked


def _folded(block: nn.Sequential) -> tuple[np.ndarray, np.ndarray]:
    """A block's convolution weight and bias with the BatchNorm after it (if not yet
    folded by inference_network) folded in."""
    conv, norm = block[0], block[1]
    weight, bias = conv.weight, conv.bias if conv.bias is not None else torch.zeros(conv.out_channels)
    if isinstance(norm, nn.BatchNorm1d | nn.BatchNorm2d):
        weight, bias = fuse_conv_bn_weights(
            weight, bias, norm.running_mean, norm.running_var, norm.eps, norm.weight, norm.bias
        )
    return _array(weight), _array(bias)


def _recurrent_layer(
    layer: BiRNNLayer, rnn: str, name: str, previous: str
) -> tuple[list[Node], dict[str, np.ndarray], str]:
    """One node over both directions, its (T, 2, 1, H) output made (T, 1, 2H) for the next."""
    node, tensors = {"lstm": _lstm_node, "gru": _gru_node, "rnn": _rnn_node}[rnn](layer, name, previous)
    tensors[f"{name}.shape"] = np.array([0, 0, 2 * layer.forward_rnn.hidden_size], np.int64)  # 0: as it is
    nodes = [
        node,
        Node("Transpose", [f"{name}.out"], [f"{name}.by_time"], {"perm": [0, 2, 1, 3]}),
        Node("Reshape", [f"{name}.by_time", f"{name}.shape"], [f"{name}.joined"]),
    ]
    return nodes, tensors, f"{name}.joined"


def _lstm_node(layer: BiRNNLayer, name: str, previous: str) -> tuple[Node, dict[str, np.ndarray]]:
    """DynamicQuantizeLSTM: int8 weights laid out (directions, inputs, 4 x hidden)."""
    tensors = {f"{name}.B": _biases(layer, "lstm")}
    for matrix, torch_name in (("W", "weight_ih_l0"), ("R", "weight_hh_l0")):
        quantized, scales = _int8(_directions(layer, torch_name, "lstm"))
        tensors |= {
            f"{name}.{matrix}": quantized.transpose(0, 2, 1),
            f"{name}.{matrix}_scale": scales,
            f"{name}.{matrix}_zero_point": np.zeros(2, np.int8),
        }
    inputs = [previous, f"{name}.W", f"{name}.R", f"{name}.B", "", "", "", ""]  # no lengths, states or peepholes
    inputs += [f"{name}.W_scale", f"{name}.W_zero_point", f"{name}.R_scale", f"{name}.R_zero_point"]
    attributes = {"direction": "bidirectional", "hidden_size": layer.forward_rnn.hidden_size}
    return Node("DynamicQuantizeLSTM", inputs, [f"{name}.out"], attributes, domain="com.microsoft"), tensors


def _gru_node(layer: BiRNNLayer, name: str, previous: str) -> tuple[Node, dict[str, np.ndarray]]:
    """GRU in float32; linear_before_reset: torch applies the reset gate after the
    recurrent matrix, as ONNX does only with it set."""
    node, tensors = _float32_node("GRU", layer, name, previous)
    return Node(node.op_type, node.inputs, node.outputs, {**node.attributes, "linear_before_reset": 1}), tensors


def _rnn_node(layer: BiRNNLayer, name: str, previous: str) -> tuple[Node, dict[str, np.ndarray]]:
    """A plain RNN in float32 (tanh, ONNX's default activation, as torch's)."""
    return _float32_node("RNN", layer, name, previous)


def _float32_node(op_type: str, layer: BiRNNLayer, name: str, previous: str) -> tuple[Node, dict[str, np.ndarray]]:
    rnn = op_type.lower()
    tensors = {
        f"{name}.W": _directions(layer, "weight_ih_l0", rnn),
        f"{name}.R": _directions(layer, "weight_hh_l0", rnn),
        f"{name}.B": _biases(layer, rnn),
    }
    attributes = {"direction": "bidirectional", "hidden_size": layer.forward_rnn.hidden_size}
    return Node(op_type, [previous, f"{name}.W", f"{name}.R", f"{name}.B"], [f"{name}.out"], attributes), tensors


def _directions(layer: BiRNNLayer, torch_name: str, rnn: str) -> np.ndarray:
    """A weight of both directions, (2, gates x hidden, inputs), gates in ONNX's order."""
    return np.stack([_gates(getattr(direction, torch_name), rnn) for direction in _both(layer)])


def _biases(layer: BiRNNLayer, rnn: str) -> np.ndarray:
    """(2, 2 x gates x hidden): each direction's input bias, then its recurrent bias."""
    return np.stack([np.concatenate([_gates(d.bias_ih_l0, rnn), _gates(d.bias_hh_l0, rnn)]) for d in _both(layer)])


def _both(layer: BiRNNLayer) -> tuple[nn.Module, nn.Module]:
    return layer.forward_rnn, layer.backward_rnn


def _gates(tensor: torch.Tensor, rnn: str) -> np.ndarray:
    """A weight matrix or bias with its gates' rows in ONNX's order."""
    values = _array(tensor)
    size = len(values) // len(_ONNX_GATE_ORDER[rnn])
    return np.concatenate([values[gate * size : (gate + 1) * size] for gate in _ONNX_GATE_ORDER[rnn]])


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy().astype(np.float32, copy=False)


def _int8(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each direction's matrix in int8, symmetric about 0, and its scale."""
    scales = (np.abs(stacked).max(axis=(1, 2)) / 127).astype(np.float32)
    scales = np.where(scales > 0, scales, np.float32(1.0))  # all zero (or below float32's range): any scale reads 0
    quantized = np.clip(np.rint(stacked / scales[:, None, None]), -127, 127).astype(np.int8)
    return quantized, scales

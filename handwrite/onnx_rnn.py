"""A network's stack of bidirectional LSTM or GRU layers, read by onnxruntime.

- LSTM layers read with int8 weights (onnxruntime's DynamicQuantizeLSTM: each
  direction's matrices scaled by their largest magnitude, symmetric; activations
  quantized as they come). On one thread a median line's three layers read about
  2x faster than torch reads them in bfloat16 (oneDNN), with the same CER on 300
  testset_v lines. torch's own int8 LSTM was slower than bfloat16 here and cost
  0.25 points.
- GRU layers read in float32, as trained: onnxruntime's GRU kernel took a median
  line's layers 2-2.8x faster than torch's int8 GRU, which in turn was 2x faster
  than torch's float32 GRU (it runs step by step).

The graph is built from the layers' float32 weights when a model loads (a few
milliseconds); no ONNX file is ever read, so a model file stays the only input.
scripts/benchmark.py and scripts/profile_recognize.py measure these choices.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from handwrite.onnx_proto import Node, model_bytes

if TYPE_CHECKING:
    from handwrite.model import BiRNNLayer

# the gates' rows, in torch's order, taken in ONNX's: LSTM i f g o -> i o f c; GRU r z n -> z r h
_ONNX_GATE_ORDER = {"lstm": (0, 3, 1, 2), "gru": (1, 0, 2)}


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


class OnnxRNNStack(nn.Module):
    """Takes the place of a network's whole `layers` list: (1, T, C) -> (1, T, 2H),
    one line at a time on one thread (int8 activations are scaled by the whole
    batch, so a line would read differently beside others; `transcribe -j` reads
    in parallel). Copied or pickled, it keeps its graph and builds a new session."""

    def __init__(self, layers: Sequence[BiRNNLayer], rnn: str) -> None:
        super().__init__()
        self.graph = _graph(layers, rnn)
        self.width = 2 * layers[0].forward_rnn.hidden_size
        self.session = _session(self.graph)

    def forward(self, x: torch.Tensor, reverse_index: torch.Tensor | None) -> torch.Tensor:
        if x.size(0) != 1 or reverse_index is not None:
            raise ValueError("onnxruntime's layers read one line at a time")
        if x.size(1) == 0:  # (a GRU node given no steps ended the process)
            return x.new_zeros(1, 0, self.width, dtype=torch.float32)
        frames = x[0].detach().float().unsqueeze(1).numpy()  # (T, 1, C): ONNX's time-major layout
        if not np.isfinite(frames).all():
            # onnxruntime's kernels turn NaN into finite numbers: let the caller see the overflow
            return torch.full((1, x.size(1), self.width), float("nan"))
        (out,) = self.session.run(None, {"frames": frames})
        return torch.from_numpy(out).transpose(0, 1)

    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "session"}

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.session = _session(self.graph)


def _session(graph: bytes) -> object:
    onnxruntime = onnxruntime_module()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # as torch: one line, one thread
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: nothing on the user's terminal
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def _graph(layers: Sequence[BiRNNLayer], rnn: str) -> bytes:
    """Each layer one node over both directions, its (T, 2, 1, H) output made
    (T, 1, 2H) for the next."""
    nodes, weights = [], {}
    previous = "frames"
    hidden = layers[0].forward_rnn.hidden_size
    for number, layer in enumerate(layers):
        name = f"{rnn}{number}"
        node, tensors = (_lstm_node if rnn == "lstm" else _gru_node)(layer, name, previous)
        weights |= tensors | {f"{name}.shape": np.array([0, 0, 2 * hidden], np.int64)}  # 0: that dimension as is
        nodes += [
            node,
            Node("Transpose", [f"{name}.out"], [f"{name}.by_time"], {"perm": [0, 2, 1, 3]}),
            Node("Reshape", [f"{name}.by_time", f"{name}.shape"], [f"{name}.joined"]),
        ]
        previous = f"{name}.joined"
    float32 = np.dtype(np.float32)
    return model_bytes(
        nodes,
        weights,
        inputs={"frames": (float32, ["T", 1, layers[0].forward_rnn.input_size])},
        outputs={previous: (float32, ["T", 1, 2 * hidden])},
        opsets={"": 17, "com.microsoft": 1},
    )


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
    tensors = {
        f"{name}.W": _directions(layer, "weight_ih_l0", "gru"),
        f"{name}.R": _directions(layer, "weight_hh_l0", "gru"),
        f"{name}.B": _biases(layer, "gru"),
    }
    attributes = {"direction": "bidirectional", "hidden_size": layer.forward_rnn.hidden_size, "linear_before_reset": 1}
    return Node("GRU", [previous, f"{name}.W", f"{name}.R", f"{name}.B"], [f"{name}.out"], attributes), tensors


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
    values = tensor.detach().float().cpu().numpy()
    size = len(values) // len(_ONNX_GATE_ORDER[rnn])
    return np.concatenate([values[gate * size : (gate + 1) * size] for gate in _ONNX_GATE_ORDER[rnn]]).astype(
        np.float32
    )


def _int8(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each direction's matrix in int8, symmetric about 0, and its scale."""
    scales = (np.abs(stacked).max(axis=(1, 2)) / 127).astype(np.float32)
    scales = np.where(scales > 0, scales, np.float32(1.0))  # all zero (or below float32's range): any scale reads 0
    quantized = np.clip(np.rint(stacked / scales[:, None, None]), -127, 127).astype(np.int8)
    return quantized, scales

"""A stack of bidirectional LSTM layers read by onnxruntime with int8 weights.

onnxruntime's DynamicQuantizeLSTM keeps the weights in int8 (each direction's
matrices scaled by their largest magnitude, symmetric) and quantizes the
activations as they come. On one thread it reads a median line's three LSTM
layers about 2x faster than torch does in bfloat16 (oneDNN), with the same CER
on 300 testset_v lines (scripts/benchmark.py). torch's own int8 LSTM was slower
than bfloat16 here and cost 0.25 points.

The graph is built from the layers' float32 weights when a model loads (a few
milliseconds); no ONNX file is ever read, so a model file stays the only input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from handwrite.onnx_proto import Node, model_bytes

if TYPE_CHECKING:
    from handwrite.model import BiRNNLayer

# torch orders an LSTM's gates input, forget, cell, output; ONNX input, output, forget, cell
_ONNX_GATE_ORDER = (0, 3, 1, 2)


def available() -> bool:
    """Whether onnxruntime can be imported here (a declared dependency; a platform
    without its wheels reads with torch instead)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class Int8LSTMStack(nn.Module):
    """Takes the place of a network's whole `layers` list: (1, T, C) -> (1, T, 2H),
    one line at a time (the activations' scale is the batch's, so a line would
    read differently beside others)."""

    def __init__(self, layers: Sequence[BiRNNLayer]) -> None:
        super().__init__()
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # as torch: one line, one thread
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only: nothing on the user's terminal
        self.session = onnxruntime.InferenceSession(_graph(layers), options, providers=["CPUExecutionProvider"])

    def forward(self, x: torch.Tensor, reverse_index: torch.Tensor | None) -> torch.Tensor:
        if x.size(0) != 1 or reverse_index is not None:
            raise ValueError("int8 LSTM layers read one line at a time")
        frames = x[0].float().unsqueeze(1).numpy()  # (T, 1, C): ONNX's time-major layout
        (out,) = self.session.run(None, {"frames": frames})
        return torch.from_numpy(out).transpose(0, 1)


def _graph(layers: Sequence[BiRNNLayer]) -> bytes:
    """Each layer a DynamicQuantizeLSTM over both directions, its (T, 2, 1, H) output
    made (T, 1, 2H) for the next."""
    nodes, weights = [], {}
    previous = "frames"
    for number, layer in enumerate(layers):
        directions = (layer.forward_rnn, layer.backward_rnn)
        hidden = layer.forward_rnn.hidden_size
        name = f"lstm{number}"
        for matrix in ("W", "R"):
            torch_name = "weight_ih_l0" if matrix == "W" else "weight_hh_l0"
            quantized, scales = _int8([_gates(getattr(rnn, torch_name), hidden) for rnn in directions])
            weights |= {
                f"{name}.{matrix}": quantized.transpose(0, 2, 1),  # (directions, inputs, 4 x hidden)
                f"{name}.{matrix}_scale": scales,
                f"{name}.{matrix}_zero_point": np.zeros(2, np.int8),
            }
        weights[f"{name}.B"] = np.stack(
            [np.concatenate([_gates(rnn.bias_ih_l0, hidden), _gates(rnn.bias_hh_l0, hidden)]) for rnn in directions]
        )
        weights[f"{name}.shape"] = np.array([0, 0, 2 * hidden], np.int64)  # 0: that dimension as it is
        inputs = [previous, f"{name}.W", f"{name}.R", f"{name}.B", "", "", "", ""]  # no lengths, states or peepholes
        inputs += [f"{name}.W_scale", f"{name}.W_zero_point", f"{name}.R_scale", f"{name}.R_zero_point"]
        attributes = {"direction": "bidirectional", "hidden_size": hidden}
        nodes += [
            Node("DynamicQuantizeLSTM", inputs, [f"{name}.out"], attributes, domain="com.microsoft"),
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


def _gates(tensor: torch.Tensor, hidden: int) -> np.ndarray:
    """A weight matrix or bias with its four gates' rows in ONNX's order."""
    values = tensor.detach().float().cpu().numpy()
    return np.concatenate([values[gate * hidden : (gate + 1) * hidden] for gate in _ONNX_GATE_ORDER])


def _int8(matrices: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each direction's matrix in int8, symmetric about 0, and its scale."""
    stacked = np.stack(matrices)
    largest = np.abs(stacked).max(axis=(1, 2))
    scales = np.where(largest > 0, largest / 127, 1.0).astype(np.float32)  # all zero: any scale reads 0
    quantized = np.clip(np.rint(stacked / scales[:, None, None]), -127, 127).astype(np.int8)
    return quantized, scales

"""The few ONNX protobuf messages handwrite builds for onnxruntime (a graph of
tensors and nodes), written directly.

The `onnx` package would build them too, but it takes about as long to import as
reading a whole file through the command line (about 1.3 s here against 0.1 s for
onnxruntime beyond numpy), and onnxruntime takes the serialized bytes itself. Field numbers are
those of onnx.proto (ONNX IR version 8); only what `onnx_network` uses is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

IR_VERSION = 8  # the IR of opset 17: onnxruntime reads it from 1.13 on
ELEMENT_TYPES = {np.dtype(np.float32): 1, np.dtype(np.int8): 3, np.dtype(np.int64): 7}  # TensorProto.DataType
_ATTRIBUTE_INT, _ATTRIBUTE_STRING, _ATTRIBUTE_INTS = 2, 3, 7  # AttributeProto.AttributeType


@dataclass(frozen=True)
class Node:
    """One operator: its inputs and outputs by name ("" for an optional input left out)."""

    op_type: str
    inputs: Sequence[str]
    outputs: Sequence[str]
    attributes: dict[str, int | str | Sequence[int]] = field(default_factory=dict)
    domain: str = ""  # "" is the standard operators; "com.microsoft" onnxruntime's own


def model_bytes(
    nodes: Sequence[Node],
    initializers: dict[str, np.ndarray],
    inputs: dict[str, tuple[np.dtype, Sequence[int | str]]],
    outputs: dict[str, tuple[np.dtype, Sequence[int | str]]],
    opsets: dict[str, int],
) -> bytes:
    """A serialized ModelProto. `inputs` and `outputs`: name -> (type, dims), a dim
    given by name where it varies; `opsets`: operator domain -> version."""
    graph: list[bytes | memoryview] = [_message(1, _node(node)) for node in nodes] + [_string(2, "handwrite")]
    for name, array in initializers.items():
        graph += _tensor(5, name, array)
    graph += [_message(11, _value_info(name, *spec)) for name, spec in inputs.items()]
    graph += [_message(12, _value_info(name, *spec)) for name, spec in outputs.items()]
    opset_imports = b"".join(_message(8, _string(1, domain) + _int(2, version)) for domain, version in opsets.items())
    size = sum(len(part) for part in graph)
    # one join, of the weights' own memory: a network's weights are copied once here, not once a message level
    return b"".join([_int(1, IR_VERSION), opset_imports, _varint(7 << 3 | 2), _varint(size), *graph])


def _node(node: Node) -> bytes:
    data = b"".join(_string(1, name) for name in node.inputs) + b"".join(_string(2, name) for name in node.outputs)
    data += _string(4, node.op_type)
    data += b"".join(_message(5, _attribute(name, value)) for name, value in node.attributes.items())
    return data + _string(7, node.domain)


def _attribute(name: str, value: int | str | Sequence[int]) -> bytes:
    if isinstance(value, str):
        return _string(1, name) + _message(4, value.encode()) + _int(20, _ATTRIBUTE_STRING)
    if _whole(value):
        return _string(1, name) + _int(3, value) + _int(20, _ATTRIBUTE_INT)  # type: ignore[arg-type]
    if isinstance(value, Sequence) and all(map(_whole, value)):
        return _string(1, name) + b"".join(_int(8, item) for item in value) + _int(20, _ATTRIBUTE_INTS)
    raise TypeError(f"attribute {name}: only ints, strings and lists of ints are written, not {value!r}")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tensor(number: int, name: str, array: np.ndarray) -> list[bytes | memoryview]:
    """Field `number` holding a TensorProto with its values as raw little-endian bytes:
    the field's head, then the array's own memory (not copied until the model is joined)."""
    array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    head = b"".join(_int(1, size) for size in array.shape) + _int(2, ELEMENT_TYPES[array.dtype.newbyteorder("=")])
    head += _string(8, name) + _varint(9 << 3 | 2) + _varint(array.nbytes)
    return [_varint(number << 3 | 2) + _varint(len(head) + array.nbytes) + head, memoryview(array).cast("B")]


def _value_info(name: str, dtype: np.dtype, dims: Sequence[int | str]) -> bytes:
    shape = b"".join(_message(1, _int(1, dim) if isinstance(dim, int) else _string(2, dim)) for dim in dims)
    tensor_type = _int(1, ELEMENT_TYPES[np.dtype(dtype)]) + _message(2, shape)
    return _string(1, name) + _message(2, _message(1, tensor_type))


def _int(number: int, value: int) -> bytes:
    """A varint field (a negative int64 as its two's complement, as protobuf does)."""
    return _varint(number << 3) + _varint(value & 0xFFFF_FFFF_FFFF_FFFF)


def _message(number: int, data: bytes) -> bytes:
    """A length-delimited field: an embedded message, a string's or a tensor's bytes."""
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _string(number: int, text: str) -> bytes:
    return _message(number, text.encode())


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)

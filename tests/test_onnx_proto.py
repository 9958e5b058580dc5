"""The ONNX messages handwrite writes itself are read by onnxruntime as meant."""

import math

import numpy as np
import pytest

from handwrite.onnx_network import onnxruntime_module
from handwrite.onnx_proto import Node, model_bytes


def session(data: bytes):
    return onnxruntime_module().InferenceSession(data, providers=["CPUExecutionProvider"])


def test_a_graph_of_standard_operators_computes_what_it_says():
    """Each attribute kind (an int, a negative one, ints), int64 and float32 tensors,
    named and fixed dimensions, and a name long enough for a two-byte length."""
    offset = np.arange(6, dtype=np.float32).reshape(2, 3)
    long_name = "a" * 300
    nodes = [
        Node("Add", ["x", "offset"], ["sum"]),
        Node("Transpose", ["sum"], ["turned"], {"perm": [1, 0]}),
        Node("Concat", ["turned", "turned"], [long_name], {"axis": -1}),
        Node("Reshape", [long_name, "shape"], ["y"]),
    ]
    data = model_bytes(
        nodes,
        {"offset": offset, "shape": np.array([-1, 2], np.int64)},
        inputs={"x": (np.dtype(np.float32), ["rows", 3])},
        outputs={"y": (np.dtype(np.float32), ["n", 2])},
        opsets={"": 17},
    )
    x = np.ones((2, 3), np.float32)
    (y,) = session(data).run(None, {"x": x})
    turned = (x + offset).T
    np.testing.assert_array_equal(y, np.concatenate([turned, turned], axis=-1).reshape(-1, 2))


def test_a_string_attribute_and_an_operator_of_onnxruntime_s_own_domain():
    nodes = [
        Node("Gelu", ["x"], ["g"], domain="com.microsoft"),
        Node("DepthToSpace", ["g"], ["y"], {"blocksize": 2, "mode": "CRD"}),
    ]
    data = model_bytes(
        nodes,
        {},
        inputs={"x": (np.dtype(np.float32), [1, 4, 1, 1])},
        outputs={"y": (np.dtype(np.float32), [1, 1, 2, 2])},
        opsets={"": 17, "com.microsoft": 1},
    )
    x = np.array([0.0, 1.0, -1.0, 2.0], np.float32).reshape(1, 4, 1, 1)
    (y,) = session(data).run(None, {"x": x})
    gelu = x * 0.5 * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))
    np.testing.assert_allclose(y.ravel(), gelu.ravel(), rtol=1e-5)  # CRD: channels in order


def test_an_attribute_of_a_kind_it_does_not_write_is_refused():
    for value in (0.5, True, [1, 2.0]):
        with pytest.raises(TypeError, match="only ints, strings"):
            model_bytes([Node("Concat", ["x"], ["y"], {"axis": value})], {}, {}, {}, {"": 17})


def test_a_large_weight_is_copied_once_into_the_model():
    """A hostile model file may hold hundreds of megabytes of weights: joining each
    message level apart held them twice at the peak before onnxruntime read them."""
    import tracemalloc

    weight = np.ones((2_000, 2_500), np.float32)  # 20 MB
    tracemalloc.start()
    try:
        data = model_bytes(
            [Node("MatMul", ["x", "w"], ["y"])],
            {"w": weight},
            inputs={"x": (np.dtype(np.float32), [1, 2_000])},
            outputs={"y": (np.dtype(np.float32), [1, 2_500])},
            opsets={"": 17},
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.2 * weight.nbytes
    (y,) = session(data).run(None, {"x": np.ones((1, 2_000), np.float32)})
    np.testing.assert_array_equal(y, np.full((1, 2_500), 2_000, np.float32))

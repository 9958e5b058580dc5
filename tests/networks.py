"""Checks shared by the tests of the ways a network reads (int8, bfloat16)."""

import numpy as np

from handwrite.model import RecognizerNet, batched_log_probs


def assert_reads_alone_as_in_a_batch_and_near(fast: RecognizerNet, exact: RecognizerNet, frames: list) -> None:
    """Each line reads the same alone as among the others, and close to the network as trained."""
    together = batched_log_probs(fast, frames)
    for line, read, as_trained in zip(frames, together, batched_log_probs(exact, frames), strict=True):
        np.testing.assert_array_equal(batched_log_probs(fast, [line])[0], read)
        np.testing.assert_allclose(np.exp(read), np.exp(as_trained), atol=0.05)

"""Length-bucketed batches for training (padding, and inference batches, are in model.py).

Lines of similar length go together so padding stays small: RNNs run on padded
tensors here, never on packed sequences (see model.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random, rank: int = 0, world_size: int = 1
) -> Iterator[list[int]]:
    """Index batches of similar length, in random order; each rank gets its share.

    Indices are shuffled, cut into chunks of 50 batches, and sorted by length
    within a chunk, so batches are tight but an epoch still mixes lengths.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    usable = len(batches) - len(batches) % world_size if world_size > 1 else len(batches)
    yield from batches[rank:usable:world_size]

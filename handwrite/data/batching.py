"""Length-bucketed batches of padded feature tensors.

Lines of similar length go together so padding stays small: RNNs run on padded
tensors here, never on packed sequences (see model.py).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import numpy as np
import torch


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

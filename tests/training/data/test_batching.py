"""Length batching: training batches (bucketed_batches), inference batches
(length_batches) and padding (pad_features)."""

import itertools
import random
from collections import Counter

import numpy as np
import pytest

from handwrite.model import length_batches, pad_features
from handwrite.training.data.batching import bucketed_batches


def random_lengths(n: int, seed: int = 0) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, 1000) for _ in range(n)]


def padded_frames(batches: list[list[int]], lengths: list[int]) -> int:
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


# ---- bucketed_batches (training) -------------------------------------------


@pytest.mark.parametrize(("n", "batch_size"), [(1, 8), (7, 8), (8, 8), (203, 8), (1000, 4)])
def test_every_item_appears_exactly_once_per_epoch(n, batch_size):
    batches = list(bucketed_batches(random_lengths(n), batch_size, random.Random(1)))
    assert sorted(i for batch in batches for i in batch) == list(range(n))


def test_batches_hold_at_most_batch_size_and_are_full_but_for_one_per_chunk():
    n, batch_size = 1000, 4  # chunks of 4 * 50 = 200 items: 5 chunks, each cut exactly
    batches = list(bucketed_batches(random_lengths(n), batch_size, random.Random(2)))
    assert all(len(b) == batch_size for b in batches) and len(batches) == n // batch_size
    batches = list(bucketed_batches(random_lengths(203), 8, random.Random(2)))  # one chunk, 203 = 25 * 8 + 3
    assert sorted(len(b) for b in batches) == [3] + [8] * 25


def test_one_chunk_cuts_the_length_order_into_non_overlapping_batches():
    """Fewer items than a chunk: the batches are consecutive runs of the items sorted by length."""
    lengths = random_lengths(300)
    batches = list(bucketed_batches(lengths, 6, random.Random(3)))  # chunk 300: everything
    spans = sorted((min(lengths[i] for i in b), max(lengths[i] for i in b)) for b in batches)
    assert all(high <= next_low for (_, high), (next_low, _) in itertools.pairwise(spans))


def test_batches_hold_similar_lengths_so_padding_stays_small():
    lengths = random_lengths(2000, seed=4)
    batches = list(bucketed_batches(lengths, 8, random.Random(4)))
    padding = padded_frames(batches, lengths) - sum(lengths)
    rng = random.Random(4)
    shuffled = list(range(len(lengths)))
    rng.shuffle(shuffled)
    random_padding = padded_frames([shuffled[i : i + 8] for i in range(0, 2000, 8)], lengths) - sum(lengths)
    # measured: 1.7% of the real frames, against 78% for batches of random lines
    assert padding < 0.05 * sum(lengths)
    assert random_padding > 10 * padding


def test_an_epoch_mixes_lengths_rather_than_going_short_to_long():
    lengths = random_lengths(2000, seed=5)
    batches = list(bucketed_batches(lengths, 8, random.Random(5)))
    longest = [max(lengths[i] for i in b) for b in batches]
    assert longest != sorted(longest) and longest != sorted(longest, reverse=True)
    # the first tenth of the epoch already spans most of the length range
    first = longest[: len(longest) // 10]
    assert max(first) - min(first) > 0.5 * (max(lengths) - min(lengths))


def test_lines_meet_different_neighbours_from_epoch_to_epoch():
    """Sorting within random chunks, not the whole set: a line is not batched with
    the same few lines of nearly its length every epoch."""
    lengths = random.Random(9).sample(range(1, 10_000), 2000)  # no ties
    rng = random.Random(9)
    first, second = ({frozenset(b) for b in bucketed_batches(lengths, 8, rng)} for _ in range(2))
    assert len(first & second) < 0.1 * len(first)


def test_the_same_seed_gives_the_same_epoch_and_the_next_epoch_differs():
    lengths = random_lengths(500)
    rng = random.Random(6)
    first = list(bucketed_batches(lengths, 8, rng))
    second = list(bucketed_batches(lengths, 8, rng))  # the same rng goes on: the next epoch
    assert first == list(bucketed_batches(lengths, 8, random.Random(6)))
    assert first != second


@pytest.mark.parametrize("world_size", [2, 3])
def test_ranks_get_disjoint_equal_shares(world_size):
    lengths = random_lengths(1000)
    shares = [list(bucketed_batches(lengths, 8, random.Random(7), rank, world_size)) for rank in range(world_size)]
    assert len({len(share) for share in shares}) == 1, "every rank takes the same number of steps"
    seen = Counter(i for share in shares for batch in share for i in batch)
    assert max(seen.values()) == 1
    batches = -(-1000 // 8)
    assert len(shares[0]) == batches // world_size  # at most world_size - 1 batches left over


# ---- length_batches (inference) -------------------------------------------


def test_inference_batches_cover_every_line_once_within_the_frame_limit():
    lengths = random_lengths(500, seed=8)
    batches = length_batches(lengths, max_frames=4000)
    assert sorted(i for b in batches for i in b) == list(range(500))
    assert all(len(b) * max(lengths[i] for i in b) <= 4000 for b in batches)


def test_inference_batches_are_runs_of_similar_length_and_filled_greedily():
    lengths = [5, 30, 5, 10, 30, 10]
    assert length_batches(lengths, max_frames=20) == [[0, 2], [3, 5], [1], [4]]
    assert length_batches(lengths, max_frames=60) == [[0, 2, 3, 5], [1, 4]]


def test_a_line_longer_than_the_limit_goes_alone():
    assert length_batches([50, 3, 4], max_frames=10) == [[1, 2], [0]]


def test_empty_lines_count_as_one_frame():
    assert length_batches([0] * 10, max_frames=10) == [list(range(10))]
    assert length_batches([0] * 11, max_frames=10) == [list(range(10)), [10]]


def test_no_lines_no_batches():
    assert length_batches([], max_frames=10) == []


# ---- pad_features ----------------------------------------------------------


def test_padding_keeps_each_row_and_zeros_the_rest():
    rng = np.random.default_rng(0)
    features = [rng.normal(size=(n, 3)).astype(np.float32) for n in (4, 1, 6)]
    batch, lengths = pad_features(features)
    assert batch.shape == (3, 6, 3) and lengths.tolist() == [4, 1, 6]
    for row, f in enumerate(features):
        np.testing.assert_array_equal(batch[row, : len(f)].numpy(), f)
        assert not batch[row, len(f) :].any()


def test_an_empty_input_becomes_one_zero_step():
    batch, lengths = pad_features([np.zeros((0, 2), dtype=np.float32), np.ones((3, 2), dtype=np.float32)])
    assert lengths.tolist() == [1, 3] and not batch[0].any()

"""Shared fixtures. Tests run offline, on 2 cores, without ../shared; those
that need IAM-OnDB skip when it is absent."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
IAM_ONDB = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
SAMPLE_INK = REPO / "data" / "ink"


@pytest.fixture(scope="session")
def iam_ondb() -> Path:
    if not (IAM_ONDB / "splits").is_dir():
        pytest.skip("IAM-OnDB not available (../shared/datasets/iam-ondb)")
    return IAM_ONDB


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of labelled InkML lines made from Hershey fonts (no real data)."""
    from handwrite import write_ink
    from handwrite.data.synthetic import render_text

    folder = tmp_path_factory.mktemp("synthetic")
    rng = random.Random(3)
    words = ["one", "two", "cat", "dog", "sun", "pen", "ink", "red"]
    for i in range(48):
        text = " ".join(rng.choice(words) for _ in range(2))
        write_ink(render_text(text, rng, "scripts"), folder / f"line-{i:03d}.inkml")
    return folder

"""Shared fixtures. Tests run offline, on 2 cores, without ../shared; those
that need IAM-OnDB skip when it is absent."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# handwrite's data folder (samples, autosave, personal model) lives in a throwaway
# folder during tests, for this process and every command it starts
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="handwrite-test-data-")

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
    from handwrite.training.data.synthetic import render_text

    folder = tmp_path_factory.mktemp("synthetic")
    rng = random.Random(3)
    words = ["one", "two", "cat", "dog", "sun", "pen", "ink", "red"]
    for i in range(48):
        text = " ".join(rng.choice(words) for _ in range(2))
        write_ink(render_text(text, rng, "scripts"), folder / f"line-{i:03d}.inkml")
    return folder


@pytest.fixture(scope="session")
def tiny_image_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained image model file: for plumbing (routing, errors, formats), not accuracy."""
    import torch

    from handwrite.codec import PRINTABLE_ASCII, Codec
    from handwrite.imaging import ImageSettings
    from handwrite.model import ModelConfig, RecognizerNet
    from handwrite.modelfile import ModelFile, save_model_file

    torch.manual_seed(0)
    settings = ImageSettings(height=32)
    codec = Codec(PRINTABLE_ASCII)
    config = ModelConfig(settings.height, len(codec), hidden=16, layers=1, conv_channels=16, front="image")
    state = RecognizerNet(config).state_dict()
    path = tmp_path_factory.mktemp("models") / "tiny-image.safetensors"
    save_model_file(ModelFile("image", codec, config, {"image": settings.to_dict()}, state), path)
    return path


@pytest.fixture(scope="session")
def labelled_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Line images of synthetic ink with .gt.txt ground truth (no real data)."""
    from handwrite.training.data.render import render_ink
    from handwrite.training.data.synthetic import render_text

    folder = tmp_path_factory.mktemp("images")
    rng = random.Random(5)
    words = ["one", "two", "cat", "dog", "sun", "pen"]
    for i in range(12):
        text = " ".join(rng.choice(words) for _ in range(2))
        render_ink(render_text(text, rng, "scripts"), rng).save(folder / f"line-{i:02d}.png")
        (folder / f"line-{i:02d}.gt.txt").write_text(text + "\n", encoding="utf-8")
    return folder

"""What a network reads, per model kind: ink or line images in, (T, F) frames out.

`InkInputs` turns ink into features (features.py); `ImageInputs` turns line
images into pixel columns (imaging.py). Recognition goes through one of these,
and training, fine-tuning and evaluation through their subclasses in
training/inputs.py (which add augmentation, rendering and synthetic lines), so a
model is always fed exactly as it was trained.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from handwrite.codec import normalize_spacing
from handwrite.features import FeatureSettings, featurize
from handwrite.imaging import ImageSettings, line_frames
from handwrite.ink import Ink

Item = Ink | Image.Image


class InkInputs:
    kind = "ink"

    def __init__(self, settings: FeatureSettings) -> None:
        self.settings = settings

    @property
    def num_features(self) -> int:
        return self.settings.num_features

    def preprocessing(self) -> dict:
        return {"features": self.settings.to_dict()}

    def frames(self, item: Item) -> np.ndarray:
        if not isinstance(item, Ink):
            raise TypeError(f"an ink model reads ink, not {type(item).__name__}")
        return featurize(item, self.settings)


class ImageInputs:
    kind = "image"

    def __init__(self, settings: ImageSettings) -> None:
        self.settings = settings

    @property
    def num_features(self) -> int:
        return self.settings.num_features

    def preprocessing(self) -> dict:
        return {"image": self.settings.to_dict()}

    def frames(self, item: Item) -> np.ndarray:
        if isinstance(item, Ink):  # training/inputs.py renders ink to images for training and scoring
            raise TypeError("an image model reads images, not ink")
        return line_frames(item, self.settings)


def item_truth(item: Item) -> str:
    """The transcription an ink or an image (read with its .gt.txt) carries, each line
    spaced as scoring does it: a page's lines one per text line, which is how scoring
    counts them."""
    text = item.text if isinstance(item, Ink) else item.info.get("text")
    return "\n".join(normalize_spacing(line) for line in str(text or "").splitlines() if line.strip())


def item_text(item: Item) -> str:
    """The transcription with its spacing normalised as scoring does it (a page's lines
    joined by spaces): what a model learns to write."""
    return normalize_spacing(item_truth(item))


def item_source(item: Item) -> str | None:
    """Where an ink or an image came from (a file path or a dataset line id), if known."""
    if isinstance(item, Ink):
        return item.source
    return item.info.get("source") or getattr(item, "filename", None) or None


def inputs_for(kind: str, preprocessing: dict) -> InkInputs | ImageInputs:
    """The inputs of a model file's kind, with its stored settings."""
    if kind == "image":
        return ImageInputs(ImageSettings.from_dict(preprocessing.get("image", {})))
    return InkInputs(FeatureSettings.from_dict(preprocessing.get("features", {})))

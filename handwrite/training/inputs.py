"""The inputs of training, fine-tuning and evaluation: the recognizer's inputs
(handwrite/inputs.py) plus labelled samples, augmentation, ink rendered to line
images, and synthetic lines (Hershey ink, handwriting fonts)."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from handwrite.codec import Codec
from handwrite.features import FeatureSettings, featurize
from handwrite.imaging import ImageSettings, line_frames
from handwrite.ink import Ink
from handwrite.inputs import ImageInputs, InkInputs, Item
from handwrite.training.data.augment import Augmentation
from handwrite.training.data.render import (
    REALISTIC,
    PaperStyle,
    distort_image,
    find_handwriting_fonts,
    font_coverage,
    render_font_line,
    render_ink,
)
from handwrite.training.data.synthetic import render_text


@dataclass
class Sample:
    """A labelled training or evaluation item with its frames' length (for batching)."""

    source: Item | None  # None for synthetic lines that exist only as frames
    text: str
    labels: list[int]
    length: int
    frames: np.ndarray | None = None  # cached frames (images; rendered once per refresh)

    @property
    def ink(self) -> Ink:
        assert isinstance(self.source, Ink)
        return self.source


class TrainingInkInputs(InkInputs):
    def __init__(self, settings: FeatureSettings, augmentation: Augmentation | None = None) -> None:
        super().__init__(settings)
        self.augmentation = augmentation or Augmentation()

    def sample(self, item: Item, text: str, codec: Codec) -> Sample:
        """Raises ValueError for text with characters outside the codec's alphabet."""
        return Sample(item, text, codec.encode(text), len(self.frames(item)))

    def sample_frames(self, sample: Sample) -> np.ndarray:
        return self.frames(sample.source)  # type: ignore[arg-type]

    def training_frames(self, sample: Sample, rng: random.Random) -> np.ndarray:
        return featurize(self.augmentation(sample.ink, rng), self.settings)

    def synthetic(self, text: str, rng: random.Random, codec: Codec) -> Sample:
        return self.sample(render_text(text, rng), text, codec)


class TrainingImageInputs(ImageInputs):
    """Line images. Real ink is rendered to an image (a new random look each
    time it is refreshed); fixed images (files) are used as they are."""

    def __init__(
        self,
        settings: ImageSettings,
        refresh: float = 0.25,
        distort: float = 0.5,
        fonts: list[Path] | None = None,
        style: PaperStyle = REALISTIC,
        hershey: float = 0.3,
    ) -> None:
        super().__init__(settings)
        self.refresh = refresh  # chance per use that rendered ink gets a fresh look
        self.distort = distort  # chance per use that a real image is slightly distorted
        self._fonts = fonts
        self.style = style  # how rendered lines look: pens, paper, scans and photos
        self.hershey = hershey  # share of synthetic lines written in Hershey ink rather than set in a font

    @property
    def fonts(self) -> list[Path]:
        """Installed handwriting fonts, searched for only when synthetic lines are first
        wanted: the search walks the font folders."""
        if self._fonts is None:
            self._fonts = find_handwriting_fonts()
        return self._fonts

    def frames(self, item: Item) -> np.ndarray:
        """Frames of an image; ink is rendered with a look fixed by its source name,
        so evaluation on rendered ink is repeatable."""
        return line_frames(rendered_line(item) if isinstance(item, Ink) else item, self.settings)

    def sample(self, item: Item, text: str, codec: Codec) -> Sample:
        labels = codec.encode(text)
        frames = self.frames(item)
        return Sample(item, text, labels, len(frames), frames)

    def sample_frames(self, sample: Sample) -> np.ndarray:
        return sample.frames if sample.frames is not None else self.frames(sample.source)  # type: ignore[arg-type]

    def training_frames(self, sample: Sample, rng: random.Random) -> np.ndarray:
        if isinstance(sample.source, Ink) and (sample.frames is None or rng.random() < self.refresh):
            sample.frames = line_frames(render_ink(sample.source, rng, self.style), self.settings)
        elif isinstance(sample.source, Image.Image) and rng.random() < self.distort:
            return line_frames(distort_image(sample.source, rng), self.settings)
        return self.sample_frames(sample)

    def synthetic(self, text: str, rng: random.Random, codec: Codec) -> Sample:
        """A line in a random handwriting font (characters the font lacks are left out),
        or (a `hershey` share of them, and all without fonts installed) a line of
        Hershey-font ink rendered like real ink."""
        if not self.fonts or rng.random() < self.hershey:
            ink = render_text(text, rng)
            frames = line_frames(render_ink(ink, rng, self.style), self.settings)
            return Sample(ink, text, codec.encode(text), len(frames), frames)
        font = rng.choice(self.fonts)
        drawn = font_coverage(str(font), "".join(sorted(set(text))))
        text = " ".join("".join(c for c in text if c in drawn).split())
        frames = line_frames(render_font_line(text or ".", font, rng, self.style), self.settings)
        return Sample(None, text or ".", codec.encode(text or "."), len(frames), frames)


TrainingInputs = TrainingInkInputs | TrainingImageInputs


def training_inputs_for(kind: str, preprocessing: dict) -> TrainingInputs:
    """The training inputs of a model file's kind, with its stored settings."""
    if kind == "image":
        return TrainingImageInputs(ImageSettings.from_dict(preprocessing.get("image", {})))
    return TrainingInkInputs(FeatureSettings.from_dict(preprocessing.get("features", {})))


def rendered_line(ink: Ink, style: PaperStyle | None = None) -> Image.Image:
    """The ink as a line image whose random look is fixed by the ink's source
    name: how image models are validated and scored on IAM-OnDB, repeatably
    (clean renders by default; a realistic `style` for scans and photos)."""
    rng = random.Random(zlib.crc32((ink.source or ink.text or "").encode("utf-8")))
    image = render_ink(ink, rng, style or PaperStyle())
    image.info.update(text=ink.text or "", source=ink.source or "")
    return image

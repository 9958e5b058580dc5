"""Random, label-preserving distortions of ink for training."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from handwrite.ink import Ink


@dataclass(frozen=True)
class Augmentation:
    slant: float = 0.3  # max shear of x by y (writers differ most in slant)
    rotation_degrees: float = 4.0
    stretch: float = 0.15  # max relative change of width against height
    jitter: float = 0.01  # point noise, in units of the ink's height
    drop_point: float = 0.05  # chance of dropping each point (sampling-rate variation)

    def scaled(self, factor: float) -> Augmentation:
        """The same distortions, their ranges times factor (0: none)."""
        return Augmentation(*(factor * getattr(self, name) for name in self.__dataclass_fields__))

    def __call__(self, ink: Ink, rng: random.Random) -> Ink:
        if ink.is_empty():
            return ink
        _, y0, _, y1 = ink.bounds()
        height = max(y1 - y0, 1e-6)
        shear = rng.uniform(-self.slant, self.slant)
        angle = np.radians(rng.uniform(-self.rotation_degrees, self.rotation_degrees))
        stretch = np.exp(rng.uniform(-self.stretch, self.stretch))
        rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        transform = rotate @ np.array([[stretch, shear], [0.0, 1.0]])
        noise = np.random.default_rng(rng.getrandbits(32))
        strokes = []
        for stroke in ink.strokes:
            keep = noise.random(len(stroke)) >= self.drop_point
            keep[[0, -1]] = True
            kept = stroke[keep]
            xy = kept[:, :2] @ transform.T + noise.normal(0.0, self.jitter * height, (len(kept), 2))
            strokes.append(np.column_stack([xy, kept[:, 2]]))
        return Ink(strokes, text=ink.text, source=ink.source)

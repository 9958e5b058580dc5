"""One input in, a Result out: preprocess, run the network, decode."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from handwrite.codec import Codec
from handwrite.data.batching import length_batches, pad_features
from handwrite.decoding import GREEDY, DecodingOptions, Hypothesis, decode
from handwrite.errors import HandwriteError
from handwrite.features import featurize
from handwrite.formats import read_ink
from handwrite.ink import Ink
from handwrite.model import InkRecognizerNet
from handwrite.modelfile import ModelFile, load_model_file

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_INK_MODEL = MODELS_DIR / "online-default.safetensors"
DEFAULT_LM = MODELS_DIR / "english-chars.lm.json.gz"
MAX_BATCH_FRAMES = 32 * 600  # frames per forward pass in batch recognition


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float


@dataclass(frozen=True)
class Alternative:
    text: str
    confidence: float


@dataclass(frozen=True)
class Result:
    """A transcription with its confidence (0..1) and n-best alternatives."""

    text: str
    confidence: float
    alternatives: tuple[Alternative, ...] = ()
    words: tuple[Word, ...] = field(default=())
    char_confidences: tuple[float, ...] = field(default=(), repr=False)


class Recognizer:
    """A loaded model: `recognize(ink)` and `recognize_batch(inks)`."""

    def __init__(self, model_file: ModelFile, path: str | None = None, decoding: DecodingOptions = GREEDY) -> None:
        if model_file.kind != "ink":
            raise HandwriteError(f"{path}: a {model_file.kind} model; this recognizer reads ink")
        self.model_file = model_file
        self.path = path
        self.codec: Codec = model_file.codec
        self.features = model_file.feature_settings()
        self.net: InkRecognizerNet = model_file.build_network()
        self.decoding = decoding

    @property
    def kind(self) -> str:
        return self.model_file.kind

    @property
    def metadata(self) -> dict:
        return self.model_file.metadata()

    def with_decoding(self, **changes: object) -> Recognizer:
        clone = object.__new__(Recognizer)
        clone.__dict__.update(self.__dict__)
        clone.decoding = replace(self.decoding, **changes)
        return clone

    def recognize(self, ink: Ink | str | os.PathLike[str]) -> Result:
        return self.recognize_batch([ink])[0]

    def recognize_batch(self, inks: Sequence[Ink | str | os.PathLike[str]]) -> list[Result]:
        features = [featurize(_as_ink(ink), self.features) for ink in inks]
        return [self._result(lp) for lp in self.log_probs(features)]

    @torch.inference_mode()
    def log_probs(self, features: Sequence[np.ndarray]) -> list[np.ndarray]:
        """(T, C) log-probabilities per input; inputs batched by similar length."""
        outputs: list[np.ndarray | None] = [None] * len(features)
        for chunk in length_batches([len(f) for f in features], MAX_BATCH_FRAMES):
            batch, lengths = pad_features([features[i] for i in chunk])
            log_probs, out_lengths = self.net(batch, lengths)
            for row, index in enumerate(chunk):
                outputs[index] = log_probs[: out_lengths[row], row].numpy()
        return outputs  # type: ignore[return-value]

    def _result(self, log_probs: np.ndarray) -> Result:
        hypotheses = decode(log_probs, self.codec, self.decoding)
        best = hypotheses[0]
        return Result(best.text, best.confidence, _alternatives(hypotheses), _words(best), best.char_confidences)


def load_model(
    path: str | os.PathLike[str] | None = None,
    *,
    beam_size: int = 1,
    language_model: bool | str | os.PathLike[str] = False,
) -> Recognizer:
    """A Recognizer for a model file, or the bundled online model when path is None.

    ``language_model``: True for the bundled English character n-gram, or a path.
    """
    model_path = Path(path) if path is not None else DEFAULT_INK_MODEL
    lm = None
    if language_model:
        from handwrite.lm import CharNgramModel

        lm = CharNgramModel.load(DEFAULT_LM if language_model is True else language_model)
    # a language model only acts through beam search: greedy becomes a beam of 8
    options = DecodingOptions(beam_size=8 if lm and beam_size <= 1 else beam_size, lm=lm)
    return Recognizer(load_model_file(model_path), str(model_path), options)


def _as_ink(item: Ink | str | os.PathLike[str]) -> Ink:
    return item if isinstance(item, Ink) else read_ink(item)


def _alternatives(hypotheses: list[Hypothesis]) -> tuple[Alternative, ...]:
    scores = np.array([h.score for h in hypotheses])
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return tuple(Alternative(h.text, float(w)) for h, w in zip(hypotheses, weights, strict=True))


def _words(best: Hypothesis) -> tuple[Word, ...]:
    words, current, confidences = [], "", []
    for char, confidence in zip(best.text + " ", (*best.char_confidences, 1.0), strict=True):
        if char == " ":
            if current:
                words.append(Word(current, float(np.mean(confidences))))
            current, confidences = "", []
        else:
            current += char
            confidences.append(confidence)
    return tuple(words)

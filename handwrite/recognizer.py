"""One input in, a Result out: preprocess, run the network, decode.

An ink model reads Ink (or ink files); an image model reads PIL images (or
image files). An image holding several lines of text is cut into lines,
each is recognized, and the texts are joined with newlines in reading order.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from handwrite.codec import Codec
from handwrite.decoding import GREEDY, DecodingOptions, Hypothesis, decode
from handwrite.errors import HandwriteError
from handwrite.formats import IMAGE_SUFFIXES, read_ink
from handwrite.formats.images import read_image, to_grayscale
from handwrite.imaging import split_lines
from handwrite.ink import Ink
from handwrite.inputs import inputs_for, item_source
from handwrite.lm import CharNgramModel
from handwrite.model import RecognizerNet, batched_log_probs
from handwrite.modelfile import ModelFile, load_model_file

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_INK_MODEL = MODELS_DIR / "online-default.safetensors"
DEFAULT_IMAGE_MODEL = MODELS_DIR / "image-default.safetensors"
DEFAULT_LM = MODELS_DIR / "english-chars.lm.json.gz"


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


Input = Ink | Image.Image | str | os.PathLike[str]


class Recognizer:
    """A loaded model: `recognize(item)` and `recognize_batch(items)`, where an
    item is an Ink, a PIL image or a file path, as the model's kind reads."""

    def __init__(self, model_file: ModelFile, path: str | None = None, decoding: DecodingOptions = GREEDY) -> None:
        self.model_file = model_file
        self.path = path
        self.codec: Codec = model_file.codec
        self.inputs = inputs_for(model_file.kind, model_file.preprocessing)
        self.net: RecognizerNet = model_file.build_network()
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

    def recognize(self, item: Input) -> Result:
        return self.recognize_batch([item])[0]

    def recognize_batch(self, items: Sequence[Input]) -> list[Result]:
        lines = [self._lines(item) for item in items]
        frames = [self.inputs.frames(line) for group in lines for line in group]
        results = iter([self._result(lp) for lp in self.log_probs(frames)])
        return [_joined([next(results) for _ in group]) for group in lines]

    def _lines(self, item: Input) -> list[Ink | Image.Image]:
        """The lines of one input: an ink is one line; an image may hold several."""
        if self.kind == "ink":
            if isinstance(item, Image.Image) or Path(str(item)).suffix.lower() in IMAGE_SUFFIXES:
                raise HandwriteError(f"{_name(item)}: an image; this is an ink model (use an image model)")
            return [item if isinstance(item, Ink) else read_ink(item)]
        if isinstance(item, Ink):
            raise HandwriteError(f"{_name(item)}: ink; this is an image model (use an ink model)")
        image = to_grayscale(item) if isinstance(item, Image.Image) else read_image(item)
        return list(split_lines(image))

    def log_probs(self, features: Sequence[np.ndarray]) -> list[np.ndarray]:
        """(T, C) log-probabilities per input; inputs batched by similar length."""
        return batched_log_probs(self.net, features)

    def _result(self, log_probs: np.ndarray) -> Result:
        hypotheses = decode(log_probs, self.codec, self.decoding)
        best = hypotheses[0]
        return Result(best.text, best.confidence, _alternatives(hypotheses), _words(best), best.char_confidences)


def load_model(
    path: str | os.PathLike[str] | None = None,
    *,
    beam_size: int = 1,
    language_model: bool | str | os.PathLike[str] = False,
    kind: str = "ink",
) -> Recognizer:
    """A Recognizer for a model file, or when path is None the bundled model of
    this kind: "ink" (the default, online) or "image".

    ``language_model``: True for the bundled English character n-gram, or a path.
    """
    if kind not in ("ink", "image"):
        raise HandwriteError(f"kind must be 'ink' or 'image', not {kind!r}")
    model_path = Path(path) if path is not None else default_model_path(kind)
    lm = None
    if language_model:
        lm_path = Path(DEFAULT_LM if language_model is True else language_model)
        lm = _language_model(str(lm_path.resolve()), _modified(lm_path))
    # a language model only acts through beam search: greedy becomes a beam of 8
    options = DecodingOptions(beam_size=8 if lm and beam_size <= 1 else beam_size, lm=lm)
    return Recognizer(load_model_file(model_path), str(model_path), options)


@functools.lru_cache(maxsize=4)
def _language_model(path: str, modified_ns: int) -> CharNgramModel:
    """Loaded once per file version (about 0.4 s): the app loads a model with the LM at
    start, on every model change and for images; the recognizers share it."""
    return CharNgramModel.load(path)


def _modified(path: Path) -> int:
    """The file's modification time, so a rewritten LM file is loaded again; 0 when it
    cannot be read (loading it then gives the clear error)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def default_model_path(kind: str) -> Path:
    """The bundled model for inputs of this kind ("ink" or "image")."""
    return DEFAULT_IMAGE_MODEL if kind == "image" else DEFAULT_INK_MODEL


def _name(item: Input) -> str:
    if isinstance(item, Ink | Image.Image):
        return item_source(item) or type(item).__name__
    return str(item)


def _joined(results: list[Result]) -> Result:
    """One Result for the lines of one image: texts joined by newlines."""
    if len(results) == 1:
        return results[0]
    chars = tuple(c for r in results for c in (*r.char_confidences, 1.0))[:-1]
    confidence = float(np.mean([r.confidence for r in results])) if results else 1.0
    words = tuple(w for r in results for w in r.words)
    return Result("\n".join(r.text for r in results), confidence, (), words, chars)


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

"""One input in, a Result out: preprocess, run the network, decode.

An ink model reads Ink (or ink files); an image model reads PIL images (or
image files). Every input is a page: an ink is cut into lines and words by
layout analysis (layout.py), each line levelled and fed word by word from left
to right; an image holding several lines is cut into lines. The Result holds
the lines in reading order, their text joined with newlines.
"""

from __future__ import annotations

import functools
import os
import shlex
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image
from torch import nn

from handwrite.codec import Codec
from handwrite.decoding import GREEDY, DecodingOptions, Hypothesis, decode
from handwrite.errors import HandwriteError, ModelFileError
from handwrite.formats import IMAGE_SUFFIXES, read_ink
from handwrite.formats.images import read_image, to_grayscale
from handwrite.imaging import page_line_frames
from handwrite.ink import Ink
from handwrite.inputs import inputs_for, item_source
from handwrite.layout import TextLine, find_lines
from handwrite.limits import LM_BEAM
from handwrite.lm import CharNgramModel, WordLexicon
from handwrite.model import batched_log_probs, inference_network
from handwrite.modelfile import ModelFile, load_model_file
from handwrite.page_reading import InkLine, image_line_result, ink_line, line_result
from handwrite.results import Alternative, Calibration, Line, Result
from handwrite.samples import PERSONAL_MODEL, default_store_dir, personal_model_path

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_INK_MODEL = MODELS_DIR / "online-default.safetensors"
DEFAULT_IMAGE_MODEL = MODELS_DIR / "image-default.safetensors"
DEFAULT_LM = MODELS_DIR / "english-chars.lm.json.gz"
DEFAULT_LEXICON = MODELS_DIR / "english-words.lexicon.json.gz"


Input = Ink | Image.Image | str | os.PathLike[str]


class Recognizer:
    """A loaded model: `recognize(item)` and `recognize_batch(items)`, where an
    item is an Ink, a PIL image or a file path, as the model's kind reads."""

    def __init__(self, model_file: ModelFile, path: str | None = None, decoding: DecodingOptions = GREEDY) -> None:
        self.model_file = model_file
        self.path = path
        self.codec: Codec = model_file.codec
        self.inputs = inputs_for(model_file.kind, model_file.preprocessing)
        self.net: nn.Module = inference_network(model_file.build_network(share_weights=True))
        self.decoding = decoding
        # line and word confidences mean the share of characters read right (checked at load)
        self.calibration = Calibration(**model_file.info.get("calibration", {}))

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
        """One Result per input, in order; all the inputs' lines go through the network together."""
        if self.kind == "ink":
            return self._recognize_inks([self._ink(item) for item in items])
        pages = [self._image_lines(item) for item in items]
        log_probs = iter(self.log_probs([frames for lines in pages for frames, _ in lines]))
        return [self._page([self._image_line(box, next(log_probs)) for _, box in lines], 1) for lines in pages]

    def _ink(self, item: Input) -> Ink:
        if isinstance(item, Image.Image) or (
            not isinstance(item, Ink) and Path(str(item)).suffix.lower() in IMAGE_SUFFIXES
        ):
            raise HandwriteError(f"{_name(item)}: an image; this is an ink model (use an image model)")
        return item if isinstance(item, Ink) else read_ink(item)

    def _image_lines(self, item: Input) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
        """The frames of each line of an image (it may hold several), with its box on the page."""
        if isinstance(item, Ink):
            raise HandwriteError(f"{_name(item)}: ink; this is an image model (use an ink model)")
        image = to_grayscale(item) if isinstance(item, Image.Image) else read_image(item)
        return page_line_frames(image, self.inputs.settings)  # type: ignore[arg-type]

    def _image_line(self, ink_box: tuple[int, int, int, int] | None, log_probs: np.ndarray) -> tuple[Line, Hypothesis]:
        """A line image read, its words placed across its ink."""
        hypotheses = decode(log_probs, self.codec, self.decoding)
        return image_line_result(hypotheses[0], _alternatives(hypotheses), len(log_probs), ink_box), hypotheses[0]

    def _recognize_inks(self, inks: list[Ink]) -> list[Result]:
        """Pages of ink: layout, then every line of every page through the network at once."""
        settings = self.inputs.settings  # type: ignore[union-attr]
        pages = [(ink, find_lines(ink)) for ink in inks]
        prepared = [[ink_line(ink, line, settings) for line in lines] for ink, lines in pages]
        log_probs = iter(self.log_probs([line.frames for group in prepared for line in group]))
        results = []
        for (ink, lines), group in zip(pages, prepared, strict=True):
            read = [self._line(layout, line, next(log_probs)) for layout, line in zip(lines, group, strict=True)]
            results.append(self._page(read, ink.num_pages))
        return results

    def _line(self, layout: TextLine, line: InkLine, log_probs: np.ndarray) -> tuple[Line, Hypothesis]:
        hypotheses = decode(log_probs, self.codec, self.decoding)
        return line_result(layout, line, hypotheses[0], _alternatives(hypotheses), len(log_probs)), hypotheses[0]

    def _page(self, read: list[tuple[Line, Hypothesis]], page_count: int) -> Result:
        return _page_result([(self.calibration.line(line), best) for line, best in read], page_count)

    def line_frames(self, item: Input) -> list[np.ndarray]:
        """Each line's network input, in reading order, as `recognize()` makes it (for
        tools that decode the network's output themselves, such as benchmarks)."""
        if self.kind == "ink":
            ink = self._ink(item)
            return [ink_line(ink, line, self.inputs.settings).frames for line in find_lines(ink)]  # type: ignore[arg-type]
        return [frames for frames, _ in self._image_lines(item)]

    def log_probs(self, features: Sequence[np.ndarray]) -> list[np.ndarray]:
        """(T, C) log-probabilities per input; inputs batched by similar length."""
        return batched_log_probs(self.net, features)


def load_model(
    path: str | os.PathLike[str] | None = None,
    *,
    beam_size: int = 1,
    language_model: bool | str | os.PathLike[str] = False,
    kind: str = "ink",
    words: bool | str | os.PathLike[str] | None = None,
) -> Recognizer:
    """A Recognizer for a model file (a path, the name of a bundled model such as
    "online-default", or "personal" for the model trained on the user's samples), or
    when path is None the bundled model of this kind: "ink"
    (the default, online) or "image".

    ``language_model``: True for the bundled English character n-gram, or a path.
    ``words``: a word lexicon (True: the bundled English one, or a path); by default
    the bundled one comes with the bundled language model only.
    """
    if kind not in ("ink", "image"):
        raise HandwriteError(f"kind must be 'ink' or 'image', not {kind!r}")
    model_path = model_file_path(path) if path is not None else default_model_path(kind)
    lm = lexicon = None
    if language_model:
        lm = load_language_model(DEFAULT_LM if language_model is True else language_model)
    words = language_model is True if words is None else words
    if words:
        lexicon_path = Path(DEFAULT_LEXICON if words is True else words)
        lexicon = _word_lexicon(str(lexicon_path.resolve()), _modified(lexicon_path))
    # a language model only acts through beam search: greedy becomes a beam of LM_BEAM
    beam = LM_BEAM if (lm or lexicon) and beam_size <= 1 else beam_size
    options = DecodingOptions(beam_size=beam, lm=lm, lexicon=lexicon)
    return Recognizer(load_model_file(model_path), str(model_path), options)


def load_language_model(path: str | os.PathLike[str]) -> CharNgramModel:
    """A character language model file, checked and loaded (once per file version)."""
    return _language_model(str(Path(path).resolve()), _modified(Path(path)))


@functools.lru_cache(maxsize=4)
def _language_model(path: str, modified_ns: int) -> CharNgramModel:
    """Loaded once per file version (about 0.4 s): the app loads a model with the LM at
    start, on every model change and for images; the recognizers share it."""
    return CharNgramModel.load(path)


@functools.lru_cache(maxsize=4)
def _word_lexicon(path: str, modified_ns: int) -> WordLexicon:
    """Loaded once per file version (about 0.3 s), as the language model is."""
    return WordLexicon.load(path)


def _modified(path: Path) -> int:
    """The file's modification time, so a rewritten LM file is loaded again; 0 when it
    cannot be read (loading it then gives the clear error)."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def bundled_models() -> dict[str, Path]:
    """The model files shipped in the package, by name ("online-default", ...)."""
    return {path.stem: path for path in sorted(MODELS_DIR.glob("*.safetensors"))}


def model_file_path(path: str | os.PathLike[str]) -> Path:
    """The model file a path or a model's name means. A path (with a folder or a suffix)
    is itself; so is a bare name that is a file here. Any other bare name names a
    bundled model, or "personal" the one trained on the user's samples
    (personal_model_path()); an unknown one is an error that lists them."""
    text = os.fspath(path)
    if not text:
        raise ModelFileError("a model must be named (a file, or one of the bundled models)")
    given = Path(text)
    if given.suffix or any(sep and sep in text for sep in ("/", os.sep, os.altsep)) or _is_file(given):
        return given
    bundled = bundled_models()
    if text == PERSONAL_MODEL and text not in bundled:
        return _personal_model()
    if text not in bundled:
        names = ", ".join(bundled)
        raise ModelFileError(
            f"{text}: no such file, and no model of that name (bundled: {names}; or {PERSONAL_MODEL}, "
            "the model trained on your samples)"
        )
    return bundled[text]


def _personal_model() -> Path:
    """The personal model's file (one that is there but cannot be read fails when it is
    loaded, saying why), or a clear error when none has been trained yet."""
    path = personal_model_path()
    if not os.path.lexists(path):
        train = f"handwrite finetune {shlex.quote(str(default_store_dir()))} -o {shlex.quote(str(path))}"
        raise ModelFileError(
            f"{PERSONAL_MODEL}: no personal model yet ({path} does not exist): train one in the app "
            f"(Samples > Train on my samples), or on the samples kept there with `{train}`"
        )
    return path


def _is_file(path: Path) -> bool:
    """Whether the path is a file (an unreadable one included): a folder, or a path the
    system refuses to look at, is not, and loading it later says why."""
    try:
        return path.is_file()
    except OSError:
        return False


def default_model_path(kind: str) -> Path:
    """The bundled model for inputs of this kind ("ink" or "image")."""
    return DEFAULT_IMAGE_MODEL if kind == "image" else DEFAULT_INK_MODEL


def _name(item: Input) -> str:
    if isinstance(item, Ink | Image.Image):
        return item_source(item) or type(item).__name__
    return str(item)


def _page_result(read: list[tuple[Line, Hypothesis]], page_count: int) -> Result:
    """The Result of a page (or notebook) of ink lines, in reading order. A single
    line keeps its alternatives and character confidences, as before pages."""
    lines = tuple(line for line, _ in read)
    words = tuple(word for line in lines for word in line.words)
    if len(read) == 1:
        line, best = read[0]
        return Result(line.text, line.confidence, line.alternatives, words, best.char_confidences, lines, page_count)
    chars = tuple(c for _, best in read for c in (*best.char_confidences, 1.0))[:-1]
    confidence = float(np.mean([line.confidence for line in lines])) if lines else 1.0
    text = "\n".join(line.text for line in lines)
    return Result(text, confidence, (), words, chars, lines, page_count)


def _alternatives(hypotheses: list[Hypothesis]) -> tuple[Alternative, ...]:
    scores = np.array([h.score for h in hypotheses])
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    return tuple(Alternative(h.text, float(w)) for h, w in zip(hypotheses, weights, strict=True))

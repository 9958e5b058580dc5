"""handwrite: read connected handwriting from pen strokes or line images.

import handwrite
model = handwrite.load_model()            # the bundled online model, or a path or bundled name
ink = handwrite.read_ink("line.inkml")    # .inkml, IAM-OnDB .xml, .json
result = model.recognize(ink)             # Result: .text, .confidence, .alternatives, .lines
lines = handwrite.find_lines(ink)         # layout of a page of ink: lines of words, reading order
handwrite.write_searchable_pdf("page.pdf", result, ink)  # the ink with its text, searchable

images = handwrite.load_model(kind="image")  # the bundled image model
result = images.recognize("page.png")        # a path or PIL image; lines joined by newlines
"""

__version__ = "0.2.0"

from typing import TYPE_CHECKING

from handwrite.errors import FormatError, HandwriteError, InkError, ModelFileError

# The rest of the public API is imported on first use (PEP 562), so `import handwrite`
# and `handwrite --help` stay light: torch loads only when a model does.
_LAZY = {
    "read_ink": "handwrite.formats",
    "read_recognized": "handwrite.formats",
    "write_ink": "handwrite.formats",
    "write_searchable_pdf": "handwrite.pdf",
    "data_home": "handwrite.samples",
    "personal_model_path": "handwrite.samples",
    "plain_line": "handwrite.printable",
    "bundled_models": "handwrite.recognizer",
    "default_model_path": "handwrite.recognizer",
    "Ink": "handwrite.ink",
    "TextLine": "handwrite.layout",
    "find_lines": "handwrite.layout",
    "Recognizer": "handwrite.recognizer",
    "load_model": "handwrite.recognizer",
    "Alternative": "handwrite.results",
    "Line": "handwrite.results",
    "Result": "handwrite.results",
    "Word": "handwrite.results",
    "SampleStore": "handwrite.samples",
    "ImportReport": "handwrite.samples",
}

if TYPE_CHECKING:
    from handwrite.formats import read_ink, read_recognized, write_ink
    from handwrite.ink import Ink
    from handwrite.layout import TextLine, find_lines
    from handwrite.pdf import write_searchable_pdf
    from handwrite.printable import plain_line
    from handwrite.recognizer import Recognizer, bundled_models, default_model_path, load_model
    from handwrite.results import Alternative, Line, Result, Word
    from handwrite.samples import ImportReport, SampleStore, data_home, personal_model_path


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'handwrite' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Alternative",
    "FormatError",
    "HandwriteError",
    "ImportReport",
    "Ink",
    "InkError",
    "Line",
    "ModelFileError",
    "Recognizer",
    "Result",
    "SampleStore",
    "TextLine",
    "Word",
    "__version__",
    "bundled_models",
    "data_home",
    "default_model_path",
    "find_lines",
    "load_model",
    "personal_model_path",
    "plain_line",
    "read_ink",
    "read_recognized",
    "write_ink",
    "write_searchable_pdf",
]

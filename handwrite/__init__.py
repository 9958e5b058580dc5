"""handwrite: read connected handwriting from pen strokes or line images.

import handwrite
model = handwrite.load_model()            # the bundled online model, or a path
ink = handwrite.read_ink("line.inkml")    # .inkml, IAM-OnDB .xml, .json
result = model.recognize(ink)             # Result: .text, .confidence, .alternatives, .lines
lines = handwrite.find_lines(ink)         # layout of a page of ink: lines of words, reading order

images = handwrite.load_model(kind="image")  # the bundled image model
result = images.recognize("page.png")        # a path or PIL image; lines joined by newlines
"""

__version__ = "0.1.0"

from handwrite.errors import FormatError, HandwriteError, InkError, ModelFileError
from handwrite.formats import read_ink, write_ink
from handwrite.ink import Ink
from handwrite.layout import TextLine, find_lines
from handwrite.recognizer import Recognizer, load_model
from handwrite.results import Alternative, Line, Result, Word
from handwrite.samples import SampleStore

__all__ = [
    "Alternative",
    "FormatError",
    "HandwriteError",
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
    "find_lines",
    "load_model",
    "read_ink",
    "write_ink",
]

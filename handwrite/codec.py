"""Alphabet <-> label ids. Id 0 is the CTC blank; characters follow in order."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

BLANK = 0

# Typographic variants users type or paste, mapped to what the models are trained on.
_EQUIVALENTS = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\t": " "}
)

PRINTABLE_ASCII = "".join(chr(c) for c in range(32, 127))


def normalize_text(text: str, form: str = "NFC") -> str:
    """Unicode-normalise, map typographic variants, collapse runs of spaces."""
    text = unicodedata.normalize(form, text).translate(_EQUIVALENTS)
    return " ".join(text.split())


_SPACE_BEFORE_PUNCT = re.compile(r" +([.,;:!?'])")


def normalize_spacing(text: str) -> str:
    """No space before . , ; : ! ? ' and runs of spaces collapsed: how text is scored
    (docs/formats.md) and how it is taught. Some IAM-OnDB forms transcribe "Mr . Gaitskell",
    with a space the ink does not have; as a label it would teach a gap that is not there."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))


class Codec:
    """Maps characters to label ids (1..n) and back; blank is 0."""

    def __init__(self, alphabet: Iterable[str], normalization: str = "NFC") -> None:
        chars = list(dict.fromkeys(alphabet))
        if any(len(c) != 1 for c in chars):
            raise ValueError("alphabet entries must be single characters")
        self.alphabet = "".join(chars)
        self.normalization = normalization
        self._index = {c: i + 1 for i, c in enumerate(chars)}

    def __len__(self) -> int:
        """Number of classes, blank included."""
        return len(self.alphabet) + 1

    def normalize(self, text: str) -> str:
        return normalize_text(text, self.normalization)

    def unknown_chars(self, text: str) -> set[str]:
        return {c for c in self.normalize(text) if c not in self._index}

    def encode(self, text: str) -> list[int]:
        """Label ids of a text; raises ValueError naming characters outside the alphabet."""
        text = self.normalize(text)
        missing = sorted({c for c in text if c not in self._index})
        if missing:
            raise ValueError(f"characters not in the model's alphabet: {''.join(missing)!r}")
        return [self._index[c] for c in text]

    def decode(self, labels: Iterable[int]) -> str:
        return "".join(self.alphabet[i - 1] for i in labels if 0 < i <= len(self.alphabet))

    def extended(self, new_chars: Iterable[str]) -> Codec:
        """A codec with the same ids for existing characters and new ones appended."""
        additions = [c for c in dict.fromkeys(new_chars) if c not in self._index]
        return Codec(self.alphabet + "".join(additions), self.normalization)

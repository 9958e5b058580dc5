"""A character n-gram language model (interpolated Witten-Bell smoothing),
stored as compact JSON. Used by beam search to prefer likely character runs."""

from __future__ import annotations

import gzip
import json
import math
import os
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from handwrite.errors import ModelFileError
from handwrite.fileio import atomic_write_bytes

LM_FORMAT = "handwrite-char-ngram"


class CharNgramModel:
    START = "\x02"
    END = "\x03"

    def __init__(self, order: int, counts: dict[str, dict[str, int]], vocabulary: str) -> None:
        self.order = order
        self.counts = counts  # context (0..order-1 chars) -> next char -> count
        self.vocabulary = vocabulary + self.END
        self._totals = {ctx: sum(nxt.values()) for ctx, nxt in counts.items()}
        self._cache: dict[tuple[str, str], float] = {}
        self._unknown_prob = 1.0 / len(self.vocabulary)

    @classmethod
    def train(cls, lines: Iterable[tuple[str, float]], order: int = 6, min_count: int = 2) -> CharNgramModel:
        """Lines of text, each with a weight (e.g. a word frequency)."""
        raw: dict[str, Counter] = defaultdict(Counter)
        vocabulary: set[str] = set()
        for line, weight in lines:
            vocabulary.update(line)
            padded = cls.START * (order - 1) + line + cls.END
            for i in range(order - 1, len(padded)):
                for n in range(order):
                    raw[padded[i - n : i]][padded[i]] += weight
        counts = {}
        for ctx, nxt in raw.items():
            kept = {c: max(1, round(v)) for c, v in nxt.items() if v >= min_count or len(ctx) == 0}
            if kept:
                counts[ctx] = kept
        return cls(order, counts, "".join(sorted(vocabulary)))

    def log_prob(self, context: str, char: str) -> float:
        """log P(char | the last order-1 characters of context); context starts a line when short.

        The model has no opinion on characters its training text lacked (quotes,
        brackets, a user's new letters): an accented letter scores as its base letter
        (é as e), anything else as one character among the vocabulary. Interpolating
        would give them almost nothing (about e^-35) and the decoder could never write
        them. In the context such a character reads as a word break."""
        context = (self.START * (self.order - 1) + context)[-(self.order - 1) :] if self.order > 1 else ""
        key = (context, char)
        cached = self._cache.get(key)  # one lookup on a hit: this runs for every beam extension
        if cached is not None:
            return cached
        if len(self._cache) > 500_000:
            self._cache.clear()
        known = "".join(c if c == self.START else self._known(c) or " " for c in context)
        stand_in = self._known(char)
        # returned from here, not read back: recognizers in two threads share one loaded LM
        value = self._cache[key] = math.log(self._prob(known, stand_in) if stand_in else self._unknown_prob)
        return value

    def _known(self, char: str) -> str | None:
        """The character itself, or its base letter, when the model was trained on it."""
        if char in self.vocabulary:
            return char
        base = unicodedata.normalize("NFD", char)[:1]
        return base if base and base in self.vocabulary else None

    def _prob(self, context: str, char: str) -> float:
        p = 1.0 / (len(self.vocabulary) + 1)  # uniform floor under the interpolation
        for n in range(0, len(context) + 1):
            ctx = context[len(context) - n :] if n else ""
            nxt = self.counts.get(ctx)
            if not nxt:
                break
            total, types = self._totals[ctx], len(nxt)
            lam = total / (total + types)
            p = lam * nxt.get(char, 0) / total + (1 - lam) * p
        return p

    def save(self, path: str | os.PathLike[str]) -> None:
        document = {"format": LM_FORMAT, "order": self.order, "vocabulary": self.vocabulary[:-1], "counts": self.counts}
        atomic_write_bytes(path, gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CharNgramModel:
        try:
            document = json.loads(gzip.decompress(Path(path).read_bytes()))
            if document.get("format") != LM_FORMAT:
                raise ValueError("not a handwrite character language model")
            return cls(int(document["order"]), document["counts"], document["vocabulary"])
        except FileNotFoundError:
            raise ModelFileError(f"{path}: no such language model file") from None
        except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelFileError(f"{path}: not a readable language model ({exc})") from exc

"""A character n-gram language model (interpolated Witten-Bell smoothing),
stored as compact JSON. Used by beam search to prefer likely character runs."""

from __future__ import annotations

import bisect
import gzip
import itertools
import json
import math
import os
import re
import reprlib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from handwrite.errors import ModelFileError
from handwrite.fileio import atomic_write_bytes, gunzip_pieces, read_limited

LM_FORMAT = "handwrite-char-ngram"
# Bounds on an untrusted file: the bundled model is 0.85 MB of gzip, 2.95 MB of
# JSON, order 6, 70 characters, counts up to 345,207. Decoding builds the context
# (order - 1 characters) and searches the vocabulary on every beam extension.
MAX_LM_FILE_BYTES = 64 * 1024 * 1024
MAX_LM_JSON_BYTES = 32 * 1024 * 1024  # about 0.9 GB of Python objects at most (27 per JSON byte)
MAX_ORDER = 12
MAX_VOCABULARY = 4096
MAX_COUNT = 2**53  # exact as a float


class CharNgramModel:
    START = "\x02"
    END = "\x03"

    def __init__(self, order: int, counts: dict[str, dict[str, int]], vocabulary: str) -> None:
        self.order = order
        self.counts = counts  # context (0..order-1 chars) -> next char -> count
        self.vocabulary = vocabulary + self.END
        self._totals = {ctx: sum(nxt.values()) for ctx, nxt in counts.items()}
        self._cache: dict[tuple[str, str], float] = {}
        self._any_case: dict[tuple[str, str], float] = {}
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

    def log_prob_any_case(self, context: str, letter: str) -> float:
        """log (P(letter) + P(the letter in the other case)): how likely the letter is
        here whatever its case. Beam search scores letters so and leaves the case to
        the network: an LM of word frequencies takes a capital mid-line for an error."""
        key = (context[-(self.order - 1) :] if self.order > 1 else "", letter.lower())
        cached = self._any_case.get(key)
        if cached is not None:
            return cached
        if len(self._any_case) > 500_000:
            self._any_case.clear()
        lower, upper = self.log_prob(context, letter.lower()), self.log_prob(context, letter.upper())
        value = self._any_case[key] = max(lower, upper) + math.log1p(math.exp(-abs(lower - upper)))
        return value  # returned from here, not read back (threads share the LM)

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
        """Refuses, with a ModelFileError naming the file, anything but a well-formed
        model within bounds: the file is untrusted, and the order, the vocabulary and
        the counts decide the time and memory every decoding step takes."""
        data = read_limited(Path(path), ModelFileError, "language model", MAX_LM_FILE_BYTES)
        try:
            order, counts, vocabulary = _checked_document(_decompressed_json(data))
        except ValueError as exc:
            raise ModelFileError(f"{path}: not a readable language model ({exc})") from exc
        return cls(order, counts, vocabulary)


def _decompressed_json(data: bytes) -> object:
    """The gzip stream decompressed in pieces, stopping past MAX_LM_JSON_BYTES (a
    gzip bomb of a few MB would otherwise expand to gigabytes), then parsed."""
    pieces, size = [], 0
    try:
        for piece in gunzip_pieces(data):
            size += len(piece)
            if size > MAX_LM_JSON_BYTES:
                raise OverflowError(f"decompresses to more than the {MAX_LM_JSON_BYTES} bytes accepted")
            pieces.append(piece)
    except OverflowError as exc:
        raise ValueError(str(exc)) from None
    except ValueError as exc:
        raise ValueError(f"not gzip or corrupt: {exc}") from exc
    try:
        return json.loads(b"".join(pieces))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _checked_document(document: object) -> tuple[int, dict[str, dict[str, int]], str]:
    """Order, counts and vocabulary, each typed and bounded; raises ValueError."""
    if not isinstance(document, dict) or document.get("format") != LM_FORMAT:
        raise ValueError("not a handwrite character language model")
    order, vocabulary, counts = document.get("order"), document.get("vocabulary"), document.get("counts")
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be a whole number from 1 to {MAX_ORDER}, not {reprlib.repr(order)}")
    if not isinstance(vocabulary, str) or not 0 < len(vocabulary) <= MAX_VOCABULARY:
        raise ValueError(f"the vocabulary must be a string of 1 to {MAX_VOCABULARY} characters")
    if len(set(vocabulary)) != len(vocabulary):
        raise ValueError("the vocabulary repeats characters")
    if not isinstance(counts, dict) or not counts:
        raise ValueError("counts must be a non-empty JSON object")
    if not _counts_look_valid(counts, order):
        for context, following in counts.items():  # slow, to say which count is wrong
            _check_counts(context, following, order)
    return order, counts, vocabulary


def _counts_look_valid(counts: dict, order: int) -> bool:
    """All of _check_counts at C speed (map, set, min, max): 0.1 s instead of 0.2 s
    over the bundled model's 107,824 contexts and 284,055 counts."""
    if set(map(type, counts.values())) != {dict} or not all(counts.values()) or max(map(len, counts)) >= order:
        return False
    numbers = list(itertools.chain.from_iterable(map(dict.values, counts.values())))
    chars = itertools.chain.from_iterable(counts.values())
    return (
        set(map(type, numbers)) == {int}  # a bool is of type bool here, not int
        and min(numbers) >= 1
        and max(numbers) <= MAX_COUNT
        and set(map(len, chars)) == {1}
    )


def _check_counts(context: str, following: object, order: int) -> None:
    """One context's counts: next character -> a whole number of times, at least 1
    (a zero total divides by zero; a negative count gives a negative probability)."""
    if len(context) > order - 1:
        raise ValueError(f"context {reprlib.repr(context)} is longer than order {order} allows")
    if not isinstance(following, dict) or not following:
        raise ValueError(f"the counts after {reprlib.repr(context)} are not a non-empty JSON object")
    for char, count in following.items():
        if len(char) != 1:
            raise ValueError(f"{reprlib.repr(char)} after {reprlib.repr(context)} is not one character")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            raise ValueError(
                f"count of {reprlib.repr(char)} after {reprlib.repr(context)} must be a whole number "
                f"from 1 to {MAX_COUNT}, not {reprlib.repr(count)}"
            )


# ---- word lexicon: a unigram prior over known words ----------------------------------

LEXICON_FORMAT = "handwrite-word-lexicon"
# Bounds on an untrusted file: the bundled lexicon is 50,000 words; a word longer than
# MAX_WORD_LENGTH is never looked up (decoding stops at the first space anyway).
MAX_LEXICON_WORDS = 1_000_000
MAX_WORD_LENGTH = 64
MAX_WORD_PAIRS = 2_000_000
PAIR_SCALE = 100  # pair scores are kept in hundredths: whole numbers load fast and exactly
MAX_PAIR_SCORE = 50 * PAIR_SCALE  # |log association| of a pair; real ones lie within about 10


class WordLexicon:
    """Known words with unigram log-probabilities, for scoring each word beam search
    completes. Only words of letters (with inner apostrophes and hyphens) are judged:
    a token holding a digit, or no letter at all, is neither known nor unknown, so
    numbers and punctuation keep whatever the network and the character LM say.

    `pairs` (optional) scores two known words written one after the other ("of the"):
    log P(a b) - log P(a _) - log P(_ b), how much more often the pair is written
    than its words' frequencies make chance, in hundredths, as {first: {second:
    score}}, for the pairs the lexicon knows; any other pair scores 0."""

    def __init__(self, counts: dict[str, int], pairs: dict[str, dict[str, int]] | None = None) -> None:
        total = sum(counts.values())
        self.counts = counts
        self.pairs = pairs or {}
        self.log_probs = {word: math.log(count / total) for word, count in counts.items()}
        self.floor = min(self.log_probs.values())  # the rarest word's log-probability
        self._cache: dict[str, tuple[str, float]] = {}
        self._outside: dict[str, bool] = {}
        # the words in order, made here (recognizers in several threads share one loaded
        # lexicon): the words starting alike lie together, so one binary search tells
        # whether any does, in memory of the words alone (a set of every start of every
        # word took 3.3 GB for a lexicon of long words within the file's bounds)
        self._sorted = sorted(self.log_probs)

    @classmethod
    def from_frequencies(cls, frequencies: Iterable[tuple[str, float]], scale: float = 1e9) -> WordLexicon:
        """Words with relative frequencies (e.g. wordfreq's), kept as whole counts per `scale`."""
        counts: dict[str, int] = {}
        for word, frequency in frequencies:
            key = word.lower()
            if _is_word(key) and len(key) <= MAX_WORD_LENGTH:
                counts[key] = counts.get(key, 0) + max(1, round(frequency * scale))
        if not counts:
            raise ValueError("no words of letters among the frequencies")
        return cls(counts)

    def lookup(self, token: str) -> tuple[str, float]:
        """A finished word: ("known", log P(word) - floor >= 0), ("unknown", 0.0) for a
        word of letters outside the lexicon, ("capitalized", 0.0) for one that starts with
        a capital (a name, an acronym), or ("other", 0.0) for digits and punctuation. The
        punctuation around a word ("(word," "word.") is not part of it; case is ignored."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        if len(self._cache) > 200_000:
            self._cache.clear()
        word = _core(token)
        if not _is_word(word.lower()) or len(word) > MAX_WORD_LENGTH:
            found = ("other", 0.0)
        elif (log_prob := self._log_prob(word.lower())) is not None:
            found = ("known", log_prob - self.floor)
        else:
            found = ("capitalized" if word[0].isupper() else "unknown", 0.0)
        self._cache[token] = found  # returned from here, not read back (threads share the lexicon)
        return found

    def _log_prob(self, word: str) -> float | None:
        """A known word's log-probability; a compound of known words ("lace-making",
        "co-operated") is as likely as its rarest part, since the lexicon's words
        come from text split at hyphens."""
        if word in self.log_probs:
            return self.log_probs[word]
        parts = word.split("-")
        if len(parts) > 1 and all(part in self.log_probs for part in parts):
            return min(self.log_probs[part] for part in parts)
        return None

    def outside(self, token: str) -> bool:
        """Whether a word being written has already left the lexicon: it starts with a
        lower-case letter and no known word begins with its letters so far. Decoding
        charges the unknown-word penalty at that point (and gives it back should the
        token become a number or a name), so the beam keeps room for real words."""
        cached = self._outside.get(token)
        if cached is not None:
            return cached
        if len(self._outside) > 200_000:
            self._outside.clear()
        value = self._outside[token] = self._left(token)
        return value  # returned from here, not read back (threads share the lexicon)

    def _left(self, token: str) -> bool:
        start = len(token) - len(token.lstrip(_NOT_WORD_START))
        letters = _LETTERS.match(token, start)
        if letters is None or not token[start].islower() or len(token) > MAX_WORD_LENGTH:
            return False
        rest = token[letters.end() :]
        if any(c.isalnum() for c in rest):
            return False  # letters then digits or more letters after a mark: not a word, never charged
        word = letters.group().rstrip("'-").lower()
        *done, last = word.split("-")  # a compound so far: known words, then the start of one
        return not (self._starts_a_word(word) or (all(p in self.log_probs for p in done) and self._starts_a_word(last)))

    def _starts_a_word(self, start: str) -> bool:
        """Whether a known word begins with `start`: the first word not before it does, if any does."""
        index = bisect.bisect_left(self._sorted, start)
        return index < len(self._sorted) and self._sorted[index].startswith(start)

    def pair_word(self, token: str) -> str:
        """The word a token is, lower-cased and without the marks around it, as word
        pairs know it; "" for a token that is no word (a number). A mark between two
        words leaves their pair's score as it is: the counts are of words only, and
        scoring only unmarked pairs would pay the decoder to drop commas."""
        word = _core(token).lower()
        return word if _is_word(word) and len(word) <= MAX_WORD_LENGTH else ""

    def pair_score(self, first: str, second: str) -> float:
        """The score of word `second` written right after `first` (both as `pair_word`
        gives them); 0 for a pair the lexicon does not know."""
        return self.pairs.get(first, _NO_PAIRS).get(second, 0) / PAIR_SCALE

    def save(self, path: str | os.PathLike[str]) -> None:
        document: dict[str, object] = {"format": LEXICON_FORMAT, "counts": self.counts}
        if self.pairs:
            document["pairs"] = self.pairs
        atomic_write_bytes(path, gzip.compress(json.dumps(document, separators=(",", ":")).encode(), mtime=0))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WordLexicon:
        """Refuses, with a ModelFileError naming the file, anything but a well-formed
        lexicon within bounds (the file is untrusted)."""
        data = read_limited(Path(path), ModelFileError, "word lexicon", MAX_LM_FILE_BYTES)
        try:
            document = _decompressed_json(data)
            counts = _checked_lexicon(document)
            return cls(counts, _checked_pairs(document, counts))  # type: ignore[arg-type]
        except ValueError as exc:
            raise ModelFileError(f"{path}: not a readable word lexicon ({exc})") from exc


_LETTERS = re.compile(r"[^\W\d_](?:[^\W\d_]|['-](?=[^\W\d_])|['-]$)*")  # a word so far: "don'", "well-"
_NOT_WORD_START = "".join(chr(c) for c in range(128) if not chr(c).isalnum())  # ASCII marks before a word


def _core(token: str) -> str:
    """The token without the punctuation around it: '(word,' -> 'word'."""
    start, end = 0, len(token)
    while start < end and not token[start].isalnum():
        start += 1
    while end > start and not token[end - 1].isalnum():
        end -= 1
    return token[start:end]


def _is_word(word: str) -> bool:
    """Letters, with apostrophes or hyphens only between letters ("don't", "well-known")."""
    return bool(word) and word.replace("'", "").replace("-", "").isalpha() and word[0].isalpha() and word[-1].isalpha()


def _checked_lexicon(document: object) -> dict[str, int]:
    """The word counts, typed and bounded; raises ValueError."""
    if not isinstance(document, dict) or document.get("format") != LEXICON_FORMAT:
        raise ValueError("not a handwrite word lexicon")
    counts = document.get("counts")
    if not isinstance(counts, dict) or not 0 < len(counts) <= MAX_LEXICON_WORDS:
        raise ValueError(f"counts must be a JSON object of 1 to {MAX_LEXICON_WORDS} words")
    for word, count in counts.items():
        if not _is_word(word) or word != word.lower() or len(word) > MAX_WORD_LENGTH:
            raise ValueError(f"{reprlib.repr(word)} is not a lower-case word of at most {MAX_WORD_LENGTH} letters")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            raise ValueError(f"count of {reprlib.repr(word)} must be a whole number from 1 to {MAX_COUNT}")
    return counts


_NO_PAIRS: dict[str, int] = {}


def _checked_pairs(document: dict, counts: dict[str, int]) -> dict[str, dict[str, int]]:
    """The word pairs' scores, if the lexicon has any: {known word: {known word: whole
    number within bounds}}; raises ValueError. (Checked a word list at a time: the
    bundled lexicon's 240,000 pairs checked one by one took a second to load.)"""
    pairs = document.get("pairs", {})
    if not isinstance(pairs, dict) or not pairs.keys() <= counts.keys():
        raise ValueError("pairs must be a JSON object of known words")
    total = 0
    for first, following in pairs.items():
        if not isinstance(following, dict) or not following.keys() <= counts.keys():
            raise ValueError(f"the words after {reprlib.repr(first)} must be a JSON object of known words")
        scores = following.values()
        if following and (
            not set(map(type, scores)) <= {int} or not -MAX_PAIR_SCORE <= min(scores) <= max(scores) <= MAX_PAIR_SCORE
        ):
            bound = f"whole numbers from -{MAX_PAIR_SCORE} to {MAX_PAIR_SCORE}"
            raise ValueError(f"the scores after {reprlib.repr(first)} must be {bound}")
        total += len(following)
    if total > MAX_WORD_PAIRS:
        raise ValueError(f"at most {MAX_WORD_PAIRS} word pairs")
    return pairs

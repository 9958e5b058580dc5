"""CTC decoding: greedy (best path) and prefix beam search with an optional
character language model and word lexicon. Both return text with per-character
confidences."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from handwrite.codec import BLANK, Codec
from handwrite.errors import HandwriteError
from handwrite.limits import MAX_BEAM
from handwrite.lm import MAX_WORD_LENGTH, CharNgramModel, WordLexicon


@dataclass(frozen=True)
class DecodingOptions:
    beam_size: int = 1  # 1 = greedy
    alternatives: int = 3  # n-best lines kept (beam search only)
    # The character LM scores a letter whatever its case (the network alone decides
    # the case: an LM of word frequencies took capitals mid-line for errors), and a
    # mark (punctuation) or digit never below mark_floor (it knows little of handwritten
    # quotes, dashes and line-end hyphens, and would turn a clear digit into a letter).
    # Weights chosen on IAM-OnDB testset_v.
    lm: CharNgramModel | None = None
    lm_weight: float = 0.25
    insertion_bonus: float = 0.5  # per character, balances the LM's preference for short text
    prune_log_prob: float = -8.0  # characters less likely than this in a frame are not extended
    # (the fields above keep their places: options made positionally mean what they meant)
    mark_floor: float = -1.5  # testset_v: -2.0 -> -1.5 kept CER (5.88%), WER 19.42 -> 19.38%, marks 16.92 -> 16.70%
    # The word lexicon: a lower-case word outside it pays unknown_word_penalty as soon as
    # no known word starts like it (so the beam keeps room for real words; it stays
    # possible: rare words, misspellings), and each known word completed (at a space or
    # the line's end) gains word_weight * its log-frequency above the rarest known word's.
    # Capitalized words (names), numbers and punctuation are left to the network and the
    # character LM. Chosen on IAM-OnDB testset_v.
    lexicon: WordLexicon | None = None
    word_weight: float = 0.05
    unknown_word_penalty: float = 4.0
    # Two words written one after the other (marks between them or not) gain pair_weight *
    # the lexicon's score of the pair (how much more often it is written than chance).
    # testset_v, beam 16 + LM + lexicon: 5.62% / 18.32% -> 5.43% / 17.48% (0.5: 5.46 / 17.65,
    # 1.5: 5.42 / 17.48, 2.0: 5.42 / 17.58 with punctuation 15.77 -> 15.99%).
    pair_weight: float = 1.0

    @property
    def uses_word_pairs(self) -> bool:
        return bool(self.lexicon and self.lexicon.pairs and self.pair_weight)

    def __post_init__(self) -> None:
        beam = self.beam_size
        if isinstance(beam, bool) or not isinstance(beam, int) or not 1 <= beam <= MAX_BEAM:
            raise HandwriteError(f"beam size must be a whole number from 1 to {MAX_BEAM}, not {beam!r}")


@dataclass(frozen=True)
class Hypothesis:
    text: str
    score: float  # log-probability (with LM terms when an LM is used)
    char_confidences: tuple[float, ...] = field(default=())
    empty_confidence: float | None = None  # only for an empty text
    char_frames: tuple[int, ...] = field(default=())  # the frame each character was first read in

    @property
    def confidence(self) -> float:
        """Mean peak posterior of the characters (for empty text: of "nothing")."""
        if self.char_confidences:
            return float(np.mean(self.char_confidences))
        return self.empty_confidence if self.empty_confidence is not None else 0.0


GREEDY = DecodingOptions()


def decode(log_probs: np.ndarray, codec: Codec, options: DecodingOptions = GREEDY) -> list[Hypothesis]:
    """(T, C) log-probabilities of one line -> n-best hypotheses, best first."""
    if options.beam_size <= 1 and options.lm is None and options.lexicon is None:
        return [greedy_decode(log_probs, codec)]
    return beam_search(log_probs, codec, options)


def greedy_decode(log_probs: np.ndarray, codec: Codec) -> Hypothesis:
    best = log_probs.argmax(axis=1)
    probs = np.exp(log_probs[np.arange(len(best)), best])
    labels: list[int] = []
    confidences: list[float] = []
    frames: list[int] = []
    previous = BLANK
    for frame, (label, p) in enumerate(zip(best.tolist(), probs.tolist(), strict=True)):
        if label != BLANK and label == previous:
            confidences[-1] = max(confidences[-1], p)
        elif label != BLANK:
            labels.append(label)
            confidences.append(p)
            frames.append(frame)
        previous = label
    return Hypothesis(
        codec.decode(labels),
        float(log_probs.max(axis=1).sum()),
        tuple(confidences),
        _empty_confidence(log_probs) if not labels else None,
        tuple(frames),
    )


def _empty_confidence(log_probs: np.ndarray) -> float:
    """For an empty transcription: how sure the model is that nothing was written."""
    return float(np.exp(log_probs[:, BLANK]).mean()) if len(log_probs) else 1.0


@dataclass
class _Beam:
    """One prefix in the beam: probability of ending in blank / in its last
    character, its language-model score, and each character's peak posterior."""

    blank: float = -math.inf
    char: float = -math.inf
    lm: float = 0.0
    confidences: tuple[float, ...] = ()
    frames: tuple[int, ...] = ()  # where each character was first read
    word: str = ""  # the last word so far (its first MAX_WORD_LENGTH + 1 characters), for the lexicon
    previous: str = ""  # the word before it, for word pairs ("" after a number)

    def total(self) -> float:
        return _logsumexp(self.blank, self.char)

    def score(self) -> float:
        return self.total() + self.lm

    def saw(self, probability: float) -> None:
        if self.confidences and probability > self.confidences[-1]:
            self.confidences = (*self.confidences[:-1], probability)


def beam_search(log_probs: np.ndarray, codec: Codec, options: DecodingOptions) -> list[Hypothesis]:
    """CTC prefix beam search, optionally scored with a character language model."""
    beams: dict[tuple[int, ...], _Beam] = {(): _Beam(blank=0.0)}
    for t, frame in enumerate(log_probs):
        candidates = [int(c) for c in np.nonzero(frame > options.prune_log_prob)[0] if c != BLANK]
        following: dict[tuple[int, ...], _Beam] = {}
        for prefix, beam in beams.items():
            same = following.setdefault(
                prefix,
                _Beam(
                    lm=beam.lm, confidences=beam.confidences, frames=beam.frames, word=beam.word, previous=beam.previous
                ),
            )
            same.blank = _logsumexp(same.blank, beam.total() + float(frame[BLANK]))
            if prefix and beam.char > -math.inf:  # the last character held for another frame
                same.char = _logsumexp(same.char, beam.char + float(frame[prefix[-1]]))
                same.saw(math.exp(frame[prefix[-1]]))
            for label in candidates:
                extended = (*prefix, label)
                probability = math.exp(frame[label])
                if extended not in following:
                    char = codec.alphabet[label - 1]
                    word = "" if char == " " else (beam.word + char)[: MAX_WORD_LENGTH + 1]
                    lm = beam.lm + _lm_term(prefix, char, codec, options) + _word_term(beam.word, word, options)
                    previous = beam.previous
                    if char == " ":  # a word is complete
                        pair, previous = _word_pair(beam.previous, beam.word, options)
                        lm += pair
                    following[extended] = _Beam(
                        lm=lm,
                        confidences=(*beam.confidences, probability),
                        frames=(*beam.frames, t),
                        word=word,
                        previous=previous,
                    )
                target = following[extended]
                # a repeated character needs a blank between its two occurrences
                source = beam.blank if prefix and label == prefix[-1] else beam.total()
                target.char = _logsumexp(target.char, source + float(frame[label]))
                target.saw(probability)
        ranked = sorted(following.items(), key=lambda item: -item[1].score())
        beams = dict(ranked[: max(options.beam_size, 1)])
    for prefix, beam in beams.items():  # the line ends: its last word, then the LM's end of text
        beam.lm += _word_term(beam.word, "", options) + _word_pair(beam.previous, beam.word, options)[0]
        if options.lm:
            beam.lm += options.lm_weight * options.lm.log_prob(_context(prefix, codec), options.lm.END)
    ranked = sorted(beams.items(), key=lambda item: -item[1].score())[: max(1, options.alternatives)]
    empty = _empty_confidence(log_probs)
    return [
        Hypothesis(codec.decode(prefix), beam.score(), beam.confidences, None if prefix else empty, beam.frames)
        for prefix, beam in ranked
    ]


def _lm_term(prefix: tuple[int, ...], char: str, codec: Codec, options: DecodingOptions) -> float:
    if options.lm is None:
        return 0.0
    lm, context = options.lm, _context(prefix, codec)
    if char.lower() != char.upper():  # a letter with a case: the network decides which
        log_prob = lm.log_prob_any_case(context, char)
    else:
        log_prob = lm.log_prob(context, char)
        if not char.isalpha() and char != " ":
            log_prob = max(log_prob, options.mark_floor)
    return options.lm_weight * log_prob + options.insertion_bonus


def _word_term(before: str, after: str, options: DecodingOptions) -> float:
    """The lexicon's change of score as the last word goes from `before` to `after`
    ("" when a space or the line's end completes it): the unknown-word penalty is
    charged once the word leaves the lexicon, given back if it becomes a number or a
    name, and settled with the known-word bonus when the word is complete."""
    lexicon = options.lexicon
    if lexicon is None:
        return 0.0
    charged = -options.unknown_word_penalty if lexicon.outside(before) else 0.0
    if after:
        return (-options.unknown_word_penalty if lexicon.outside(after) else 0.0) - charged
    kind, log_frequency = lexicon.lookup(before) if before else ("other", 0.0)
    if kind == "known":
        return options.word_weight * log_frequency - charged
    return (-options.unknown_word_penalty if kind == "unknown" else 0.0) - charged


def _word_pair(previous: str, token: str, options: DecodingOptions) -> tuple[float, str]:
    """As `token` completes after the word `previous`: the pair's score, and the word
    the next one pairs with. A token of marks alone (a dash, a lone comma, nothing
    between two spaces) passes the previous word on, so a stray mark can neither
    dodge a pair's score nor cost a good pair its bonus; a number parts the words."""
    lexicon = options.lexicon
    if lexicon is None or not options.uses_word_pairs or not any(c.isalnum() for c in token):
        return 0.0, previous
    word = lexicon.pair_word(token)
    return options.pair_weight * lexicon.pair_score(previous, word), word


def _context(prefix: tuple[int, ...], codec: Codec) -> str:
    return "".join(codec.alphabet[i - 1] for i in prefix[-12:])


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    hi, lo = (a, b) if a > b else (b, a)
    return hi + math.log1p(math.exp(lo - hi))

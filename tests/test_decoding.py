import math

import numpy as np
import pytest

from handwrite.codec import Codec
from handwrite.decoding import DecodingOptions, beam_search, decode, greedy_decode
from handwrite.lm import CharNgramModel, WordLexicon

CODEC = Codec("abc ")


def frames(*rows: dict[int, float]) -> np.ndarray:
    """Log-probabilities from per-frame {label: probability}; the rest shared evenly."""
    out = np.zeros((len(rows), len(CODEC)))
    for t, row in enumerate(rows):
        rest = (1 - sum(row.values())) / (len(CODEC) - len(row))
        out[t] = [row.get(c, rest) for c in range(len(CODEC))]
    return np.log(out)


def test_greedy_collapses_repeats_and_drops_blanks():
    lp = frames({1: 0.9}, {1: 0.8}, {0: 0.9}, {1: 0.7}, {2: 0.6}, {0: 0.9})
    hyp = greedy_decode(lp, CODEC)
    assert hyp.text == "aab"
    assert hyp.char_confidences == (0.9, 0.7, 0.6)
    assert math.isclose(hyp.confidence, (0.9 + 0.7 + 0.6) / 3)


def test_empty_output_reports_confidence_in_nothing():
    hyp = greedy_decode(frames({0: 0.9}, {0: 0.7}), CODEC)
    assert hyp.text == "" and math.isclose(hyp.confidence, 0.8)


def test_beam_search_finds_the_sum_over_paths_that_greedy_misses():
    # Best path is blank-blank (""), but "a" has more total probability.
    lp = frames({0: 0.4, 1: 0.35}, {0: 0.4, 1: 0.35})
    assert greedy_decode(lp, CODEC).text == ""
    best = beam_search(lp, CODEC, DecodingOptions(beam_size=4))[0]
    assert best.text == "a"


def test_beam_returns_ranked_alternatives():
    lp = frames({1: 0.6, 2: 0.3}, {0: 0.9}, {3: 0.9})
    hyps = decode(lp, CODEC, DecodingOptions(beam_size=5, alternatives=3))
    assert [h.text for h in hyps[:2]] == ["ac", "bc"]
    assert hyps[0].score > hyps[1].score


def test_language_model_breaks_ties_towards_likely_text():
    lm = CharNgramModel.train([("abc abc abc", 10.0)], order=3, min_count=1)
    lp = frames({1: 0.9}, {2: 0.48, 3: 0.48}, {3: 0.9})  # "abc" vs "acc"-ish ambiguity
    plain = decode(lp, CODEC, DecodingOptions(beam_size=8))
    with_lm = decode(lp, CODEC, DecodingOptions(beam_size=8, lm=lm, lm_weight=1.0))
    assert with_lm[0].text == "abc"
    assert {h.text for h in plain[:2]} >= {"abc"}


def test_language_model_keeps_a_clear_character_it_never_saw():
    codec = Codec("ab -")  # the LM below never saw "-"
    # weighted like word frequencies: without a rule for unseen characters, "-" would score about e^-30
    lm = CharNgramModel.train([("a b a b", 1000.0)], order=3, min_count=1)
    probs = np.full((5, len(codec)), 0.02)
    for t, label in enumerate([1, 0, codec.encode("-")[0], 0, 2]):  # a, blank, -, blank, b
        probs[t, label] = 0.94
    best = decode(np.log(probs), codec, DecodingOptions(beam_size=8, lm=lm))[0]
    assert best.text == "a-b"  # not "a b", which the LM likes


# --- the word lexicon and the character LM's treatment of case and marks

WORDS = Codec("abcT1, ")


def spelled(*rows: dict[str, float]) -> np.ndarray:
    """Log-probabilities over WORDS from per-frame {character (or "" for blank): probability},
    each frame followed by a sure blank; the rest of a frame shared evenly."""
    out = []
    for row in rows:
        labels = {(WORDS.alphabet.index(c) + 1 if c else 0): p for c, p in row.items()}
        rest = (1 - sum(labels.values())) / (len(WORDS) - len(labels))
        out.append([labels.get(c, rest) for c in range(len(WORDS))])
        out.append([0.96 if c == 0 else 0.04 / (len(WORDS) - 1) for c in range(len(WORDS))])
    return np.log(np.array(out))


def test_lexicon_prefers_a_known_word_to_a_slightly_likelier_non_word():
    lp = spelled({"c": 0.9}, {"a": 0.9}, {"c": 0.5, "b": 0.45})  # "cac" a little over "cab"
    lexicon = WordLexicon({"cab": 3, "the": 10})
    assert decode(lp, WORDS, DecodingOptions(beam_size=8))[0].text == "cac"
    assert decode(lp, WORDS, DecodingOptions(beam_size=8, lexicon=lexicon))[0].text == "cab"


def test_a_clear_word_outside_the_lexicon_is_still_written():
    lp = spelled({"b": 0.97}, {"a": 0.97}, {"c": 0.97}, {"c": 0.97})  # "bacc", no known word near
    lexicon = WordLexicon({"cab": 3, "abc": 3})
    assert decode(lp, WORDS, DecodingOptions(beam_size=8, lexicon=lexicon))[0].text == "bacc"


def test_the_unknown_word_penalty_is_paid_once_per_lower_case_word_never_for_names_or_numbers():
    lexicon = WordLexicon({"cab": 3})
    options = DecodingOptions(beam_size=8, lexicon=lexicon, word_weight=0.0, unknown_word_penalty=4.0)
    for text, penalties in [("bacc cab", 1), ("bacc ac", 2), ("Tacc 11,", 0), ("cab, 1a", 0)]:
        lp = spelled(*({c: 0.97} for c in text))
        plain = decode(lp, WORDS, DecodingOptions(beam_size=8))[0]
        scored = decode(lp, WORDS, options)[0]
        assert plain.text == scored.text == text
        # the same paths up to beam pruning (a few hundredths), less a penalty per unknown word
        assert scored.score == pytest.approx(plain.score - 4.0 * penalties, abs=0.05), text


def test_a_word_pair_decides_between_two_known_words_that_read_alike():
    """The second word is "cab" or "cac" (both known, "cac" a little likelier on the
    ink); the pair "ba cab" is known, so with word pairs the line reads "ba cab"."""
    lexicon = WordLexicon({"ba": 5, "cab": 3, "cac": 3}, pairs={"ba": {"cab": 200}})  # 2.0
    lp = spelled({"b": 0.97}, {"a": 0.97}, {" ": 0.97}, {"c": 0.9}, {"a": 0.9}, {"c": 0.5, "b": 0.45})
    unpaired = DecodingOptions(beam_size=8, lexicon=lexicon, pair_weight=0.0)
    assert decode(lp, WORDS, unpaired)[0].text == "ba cac"
    assert decode(lp, WORDS, DecodingOptions(beam_size=8, lexicon=lexicon))[0].text == "ba cab"  # pairs by default


def test_a_word_pair_counts_for_two_words_in_a_row_whatever_the_marks_between_them():
    """A comma between the words keeps the pair's score: scoring only unmarked pairs
    paid the decoder to drop commas (punctuation CER rose on testset_v)."""
    lexicon = WordLexicon({"ba": 5, "cab": 3}, pairs={"ba": {"cab": 200}})  # 2.0
    options = DecodingOptions(beam_size=8, lexicon=lexicon, word_weight=0.0, unknown_word_penalty=0.0, pair_weight=0.0)
    cases = [
        ("ba cab", 1),
        ("ba, cab", 1),
        ("ba ,cab", 1),
        ("ba , cab", 1),  # a lone mark passes the word on (found in review: it let the beam dodge a bad pair)
        ("ba  cab", 1),  # nor can nothing between two spaces
        ("cab ba", 0),
        ("ba 1 cab", 0),  # a number parts the words
        ("ba cab ba cab", 2),
    ]
    for text, pairs in cases:
        lp = spelled(*({c: 0.97} for c in text))
        plain = decode(lp, WORDS, options)[0]
        paired = decode(lp, WORDS, DecodingOptions(**{**options.__dict__, "pair_weight": 0.5}))[0]
        assert plain.text == paired.text == text
        assert paired.score == pytest.approx(plain.score + 0.5 * 2.0 * pairs, abs=0.05), text


def test_the_character_lm_leaves_the_case_of_a_letter_to_the_network():
    """An LM of lower-case words would otherwise turn a capital read at 60% into its
    lower-case letter: names and sentence starts mid-line read worse with the LM."""
    codec = Codec("abtT ")
    lm = CharNgramModel.train([("a tab at a bat", 100.0), ("Tab", 1.0)], order=3, min_count=1)
    lp = np.log(
        np.array(
            [
                [0.02, 0.9, 0.02, 0.02, 0.02, 0.02],
                [0.9, 0.02, 0.02, 0.02, 0.02, 0.02],
                [0.02, 0.02, 0.02, 0.02, 0.02, 0.9],
                [0.9, 0.02, 0.02, 0.02, 0.02, 0.02],
                [0.02, 0.02, 0.02, 0.33, 0.6, 0.03],
            ]
        )
    )  # "a T" (or "a t")
    assert decode(lp, codec, DecodingOptions(beam_size=8, lm=lm, lm_weight=1.0))[0].text == "a T"


def test_the_character_lm_cannot_talk_a_clear_mark_away():
    """A mark the LM saw too rarely after this context still scores mark_floor at worst."""
    codec = Codec("ab,")
    lm = CharNgramModel.train([("ab ab ab ab", 1000.0), ("a,", 1.0)], order=3, min_count=1)
    lp = np.log(np.array([[0.02, 0.9, 0.04, 0.04], [0.9, 0.04, 0.02, 0.04], [0.03, 0.02, 0.05, 0.9]]))
    assert lm.log_prob("a", ",") < -5
    assert decode(lp, codec, DecodingOptions(beam_size=8, lm=lm, lm_weight=1.0))[0].text == "a,"


def test_the_character_lm_cannot_talk_a_clear_digit_away():
    """Digits score mark_floor at worst too: found on testset_v, where an LM of words
    turned a model's clear digits into letters (digits 43% -> 49% CER with the LM)."""
    codec = Codec("ab1")
    lm = CharNgramModel.train([("ab ab ab ab", 1000.0), ("a1", 1.0)], order=3, min_count=1)
    lp = np.log(np.array([[0.02, 0.9, 0.04, 0.04], [0.9, 0.04, 0.02, 0.04], [0.03, 0.02, 0.05, 0.9]]))
    assert lm.log_prob("a", "1") < -5
    assert decode(lp, codec, DecodingOptions(beam_size=8, lm=lm, lm_weight=1.0))[0].text == "a1"


def test_options_made_positionally_keep_their_meaning():
    """The fields of before the word lexicon keep their places (the reordering put the
    LM where prune_log_prob was: DecodingOptions(8, 3, lm) failed in the first frame)."""
    lm = CharNgramModel.train([("ab ab", 1.0)], order=2, min_count=1)
    options = DecodingOptions(8, 3, lm, 0.3, 0.4, -6.0)
    assert (options.lm, options.lm_weight, options.insertion_bonus, options.prune_log_prob) == (lm, 0.3, 0.4, -6.0)

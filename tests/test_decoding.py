import math

import numpy as np

from handwrite.codec import Codec
from handwrite.decoding import DecodingOptions, beam_search, decode, greedy_decode
from handwrite.lm import CharNgramModel

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

import argparse
import gzip
import json
import math

import pytest

from handwrite import HandwriteError, ModelFileError
from handwrite.lm import CharNgramModel, WordLexicon
from tests.hostile import run_reader


def test_probabilities_sum_to_one_and_prefer_seen_text():
    lm = CharNgramModel.train([("the cat", 5.0), ("the hat", 3.0)], order=3, min_count=1)
    total = sum(math.exp(lm.log_prob("th", c)) for c in lm.vocabulary)
    assert total == pytest.approx(1.0, abs=0.02)
    assert lm.log_prob("th", "e") > lm.log_prob("th", "q")


def test_save_load_round_trip(tmp_path):
    lm = CharNgramModel.train([("hello world", 2.0)], order=4, min_count=1)
    lm.save(tmp_path / "lm.json.gz")
    back = CharNgramModel.load(tmp_path / "lm.json.gz")
    assert back.log_prob("hel", "l") == pytest.approx(lm.log_prob("hel", "l"))


def test_corrupt_file_is_refused(tmp_path):
    (tmp_path / "lm.json.gz").write_bytes(b"not gzip")
    with pytest.raises(ModelFileError, match="not a readable language model"):
        CharNgramModel.load(tmp_path / "lm.json.gz")


def test_characters_the_model_never_saw_stay_writable():
    """Quotes, brackets or a user's new letter: an accented letter scores as its
    base letter, anything else as one character among the vocabulary (interpolation
    alone would give about e^-35, and the decoder could never write them)."""
    lm = CharNgramModel.train([("the cafe is open", 50.0), ("a well made cafe", 30.0)], order=4, min_count=1)
    assert lm.log_prob("caf", "\u00e9") == pytest.approx(lm.log_prob("caf", "e"))
    assert lm.log_prob("well", "-") == pytest.approx(-math.log(len(lm.vocabulary)))
    assert lm.log_prob("well", "-") > lm.log_prob("well", "p")  # p was seen, never after "well"
    # in the context, an unseen character reads as a word break
    assert lm.log_prob('say "o', "p") == pytest.approx(lm.log_prob("say o", "p"))
    assert lm.log_prob("caf\u00e9 ", "i") == pytest.approx(lm.log_prob("cafe ", "i"))


# --- hostile and broken files (issue 17): a ModelFileError naming the file, in bounded
# time and memory, never a traceback at load or later while decoding


def _write(tmp_path, name, document=None, raw=None):
    path = tmp_path / f"{name}.lm.json.gz"
    path.write_bytes(gzip.compress(raw if raw is not None else json.dumps(document).encode(), mtime=0))
    return path


GOOD = {
    "format": "handwrite-char-ngram",
    "order": 3,
    "vocabulary": "ab ",
    "counts": {"": {"a": 3, "b": 2}, "a": {"b": 2}},
}

LM_CASES = {
    "zero-count": ({**GOOD, "counts": {"": {"a": 0}}}, "must be a whole number from 1"),
    "negative-count": ({**GOOD, "counts": {"": {"a": -5, "b": 2}}}, "must be a whole number from 1"),
    "string-count": ({**GOOD, "counts": {"": {"a": "3"}}}, "must be a whole number from 1"),
    "bool-count": ({**GOOD, "counts": {"": {"a": True}}}, "must be a whole number from 1"),
    "float-count": ({**GOOD, "counts": {"": {"a": 1.5}}}, "must be a whole number from 1"),
    "two-chars": ({**GOOD, "counts": {"": {"ab": 1}}}, "'ab' after '' is not one character"),
    "long-context": ({**GOOD, "counts": {"abc": {"a": 1}}}, "context 'abc' is longer than order 3 allows"),
    "empty-counts": ({**GOOD, "counts": {"": {}}}, "not a non-empty JSON object"),
    "counts-list": ({**GOOD, "counts": [1, 2]}, "counts must be a non-empty JSON object"),
    "order-huge": ({**GOOD, "order": 10**6}, "order must be a whole number from 1 to 12"),
    "order-zero": ({**GOOD, "order": 0}, "order must be a whole number from 1 to 12"),
    "order-string": ({**GOOD, "order": "3"}, "order must be a whole number"),
    "vocabulary-list": ({**GOOD, "vocabulary": ["a"]}, "vocabulary must be a string"),
    "vocabulary-huge": ({**GOOD, "vocabulary": "".join(map(chr, range(0x4E00, 0x4E00 + 20_000)))}, "1 to 4096"),
    "vocabulary-repeats": ({**GOOD, "vocabulary": "aab"}, "repeats"),
    "document-list": ([1], "not a handwrite character language model"),
    "deep-array": (None, "nested too deeply"),
    "deep-object": (None, "nested too deeply"),
}
DEEP = {"deep-array": b"[" * 100_000 + b"]" * 100_000, "deep-object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000}


@pytest.mark.parametrize("case", sorted(LM_CASES))
def test_invalid_language_models_are_refused_with_a_clear_error(tmp_path, case):
    document, message = LM_CASES[case]
    path = _write(tmp_path, case, document, DEEP.get(case))
    with pytest.raises(ModelFileError, match=message) as caught:
        CharNgramModel.load(path)
    assert str(path) in str(caught.value)


def test_a_well_formed_hand_written_model_loads(tmp_path):
    lm = CharNgramModel.load(_write(tmp_path, "good", GOOD))
    assert lm.log_prob("a", "b") > lm.log_prob("a", "a")


def test_a_gzip_bomb_is_refused_in_bounded_memory(tmp_path):
    """2 MB of gzip that expands to 2 GB: it took 34 s and 5 GB before being refused.
    The child may not allocate 1 GB of data: reading it whole fails the test."""
    bomb = tmp_path / "bomb.lm.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:
        stream.write(b'{"format": "handwrite-char-ngram", "pad": "')
        for _ in range(128):
            stream.write(b" " * (1 << 24))
        stream.write(b'"}')
    outcome = run_reader(
        f"""
        from handwrite.errors import ModelFileError
        from handwrite.lm import CharNgramModel, WordLexicon
        try:
            CharNgramModel.load({str(bomb)!r})
            result = "loaded"
        except ModelFileError as exc:
            result = str(exc)
        """,
        timeout=60,
        memory_bytes=1024 * 2**20,
    )
    assert outcome["error"] is None, outcome["error"]
    assert "bomb.lm.json.gz" in outcome["result"] and "decompresses to more than" in outcome["result"]


def test_the_bundled_language_model_loads_and_scores_as_before():
    from handwrite.recognizer import DEFAULT_LM

    lm = CharNgramModel.load(DEFAULT_LM)
    assert lm.order == 6 and len(lm.vocabulary) == 75  # quotes, brackets and hyphens too
    assert lm.log_prob("hel", "l") == pytest.approx(-2.0535061676841018)


# --- library-level bounds on the beam search the language model acts through (issue 17)


@pytest.mark.parametrize("beam", [0, -1, 65, 10**6, True, 8.0, "8"])
def test_an_absurd_beam_is_refused_by_the_library(beam):
    """A beam of 10^6 took over 3 GB; 0 silently meant greedy."""
    import handwrite
    from handwrite.decoding import DecodingOptions

    with pytest.raises(HandwriteError, match="beam size must be a whole number from 1 to 64"):
        handwrite.load_model(beam_size=beam)
    with pytest.raises(HandwriteError, match="beam size"):
        DecodingOptions(beam_size=beam)


def test_beams_within_the_bound_are_accepted():
    from handwrite.decoding import DecodingOptions

    assert DecodingOptions(beam_size=64).beam_size == 64
    assert DecodingOptions(beam_size=1).beam_size == 1


# --- the word lexicon


def _lexicon():
    return WordLexicon({"the": 50, "don't": 5, "well-known": 2, "cat": 3})


def test_lexicon_judges_finished_words_whatever_their_case_and_the_marks_around_them():
    lexicon = _lexicon()
    kind, log_frequency = lexicon.lookup("the")
    assert kind == "known" and log_frequency == pytest.approx(math.log(50 / 2))  # above the rarest word
    assert lexicon.lookup('"The,')[0] == lexicon.lookup("THE.")[0] == "known"
    assert lexicon.lookup("don't") == lexicon.lookup("Don't!")
    assert lexicon.lookup("thx")[0] == "unknown"
    assert lexicon.lookup("Gaitskell")[0] == "capitalized"  # a name: not the lexicon's to judge
    for token in ("1990", "10:30", "-", '"', "b2b", "a.m"):
        assert lexicon.lookup(token)[0] == "other", token


def test_a_word_leaves_the_lexicon_once_no_known_word_starts_like_it():
    lexicon = _lexicon()
    assert not lexicon.outside("th") and not lexicon.outside("(th")
    assert lexicon.outside("thx") and lexicon.outside("(thx") and lexicon.outside("thx,")
    assert not lexicon.outside("don'") and not lexicon.outside("well-") and lexicon.outside("well-x")
    assert not lexicon.outside("Thx")  # capitalized
    assert not lexicon.outside("thx1") and not lexicon.outside("thx,a")  # no longer a word: never charged
    assert not lexicon.outside("") and not lexicon.outside("x" * 100)


def test_a_compound_of_known_words_is_known_as_its_rarest_part():
    """Found on testset_v: 'lace-making' and 'co-operated' were unknown words (the
    lexicon's text is split at hyphens), so the decoder wrote 'lace making'."""
    lexicon = _lexicon()
    assert lexicon.lookup("the-cat") == lexicon.lookup("cat") == lexicon.lookup("Cat-the,")
    assert lexicon.lookup("the-thx")[0] == "unknown" and lexicon.lookup("the--cat")[0] == "unknown"
    assert not lexicon.outside("the-c") and not lexicon.outside("the-cat-th")
    assert lexicon.outside("the-x") and lexicon.outside("thx-c")


def test_lexicon_from_frequencies_keeps_words_of_letters_lower_cased(tmp_path):
    lexicon = WordLexicon.from_frequencies(
        [("The", 0.05), ("the", 0.01), ("1990", 0.01), ("u.s", 0.01), ("cat", 1e-12)]
    )
    assert lexicon.counts == {"the": 60_000_000, "cat": 1}
    lexicon.save(tmp_path / "words.lexicon.json.gz")
    assert WordLexicon.load(tmp_path / "words.lexicon.json.gz").counts == lexicon.counts
    with pytest.raises(ValueError, match="no words of letters"):
        WordLexicon.from_frequencies([("1990", 0.1)])


def test_word_pairs_are_scored_for_two_plain_words_and_kept_by_save_and_load(tmp_path):
    lexicon = WordLexicon({"the": 50, "cat": 3}, pairs={"the": {"cat": 125}})  # in hundredths
    assert lexicon.pair_score("the", lexicon.pair_word("Cat")) == 1.25
    assert lexicon.pair_score("cat", "the") == 0.0 and lexicon.pair_score("", "cat") == 0.0
    assert lexicon.pair_word("Cat,") == lexicon.pair_word('"cat') == "cat"
    assert lexicon.pair_word("1990") == lexicon.pair_word(",") == ""
    lexicon.save(tmp_path / "pairs.lexicon.json.gz")
    assert WordLexicon.load(tmp_path / "pairs.lexicon.json.gz").pair_score("the", "cat") == 1.25
    WordLexicon({"the": 50}).save(tmp_path / "plain.lexicon.json.gz")  # a lexicon of before pairs
    assert WordLexicon.load(tmp_path / "plain.lexicon.json.gz").pairs == {}


LEXICON_CASES = {
    "not-a-lexicon": ({"format": "handwrite-char-ngram", "counts": {"a": 1}}, "not a handwrite word lexicon"),
    "no-counts": ({"format": "handwrite-word-lexicon"}, "counts must be a JSON object of 1 to"),
    "empty-counts": ({"format": "handwrite-word-lexicon", "counts": {}}, "counts must be a JSON object of 1 to"),
    "zero-count": ({"format": "handwrite-word-lexicon", "counts": {"a": 0}}, "must be a whole number from 1"),
    "bool-count": ({"format": "handwrite-word-lexicon", "counts": {"a": True}}, "must be a whole number from 1"),
    "number-word": ({"format": "handwrite-word-lexicon", "counts": {"1990": 3}}, "is not a lower-case word"),
    "upper-case": ({"format": "handwrite-word-lexicon", "counts": {"The": 3}}, "is not a lower-case word"),
    "long-word": ({"format": "handwrite-word-lexicon", "counts": {"a" * 65: 3}}, "is not a lower-case word"),
    "pairs-a-list": ({"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": ["a a"]}, "pairs must be"),
    "pair-unknown-first": (
        {"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": {"b": {"a": 1}}},
        "pairs must be a JSON object of known words",
    ),
    "pair-unknown-second": (
        {"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": {"a": {"b": 1}}},
        "the words after 'a' must be",
    ),
    "pair-a-list": (
        {"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": {"a": ["a", 1]}},
        "the words after 'a' must be",
    ),
    "pair-text-score": (
        {"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": {"a": {"a": "1"}}},
        "the scores after 'a' must be whole numbers",
    ),
    "pair-float-score": (
        {"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": {"a": {"a": math.nan}}},
        "the scores after 'a' must be whole numbers",
    ),
    "pair-bool-score": (
        {"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": {"a": {"a": True}}},
        "the scores after 'a' must be whole numbers",
    ),
    "pair-huge-score": (
        {"format": "handwrite-word-lexicon", "counts": {"a": 1}, "pairs": {"a": {"a": 10**400}}},
        "the scores after 'a' must be whole numbers",
    ),
}


@pytest.mark.parametrize("case", sorted(LEXICON_CASES))
def test_invalid_lexicons_are_refused_with_a_clear_error(tmp_path, case):
    document, message = LEXICON_CASES[case]
    path = _write(tmp_path, case, document)
    with pytest.raises(ModelFileError, match=message) as caught:
        WordLexicon.load(path)
    assert "word lexicon" in str(caught.value) and str(path) in str(caught.value)


def test_a_lexicon_of_long_words_loads_in_bounded_memory(tmp_path):
    """As many 64-letter words as the JSON bound lets through (456,976, every one with
    its own 60 starts): keeping every start of every word took about 3.3 GB and a
    minute. The child may not allocate 1 GB."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ("".join(letters[(i // 26**k) % 26] for k in range(4)) + "a" * 60 for i in range(26**4))
    path = _write(tmp_path, "long-words", {"format": "handwrite-word-lexicon", "counts": dict.fromkeys(words, 1)})
    outcome = run_reader(
        f"""
        from handwrite.lm import WordLexicon
        lexicon = WordLexicon.load({str(path)!r})
        result = [lexicon.outside("baca"), lexicon.outside("bacaaaa"), lexicon.outside("bacaab")]
        """,
        timeout=60,
        memory_bytes=1024 * 2**20,
    )
    assert outcome["error"] is None, outcome["error"]
    assert outcome["result"] == [False, False, True]


def test_the_bundled_lexicon_loads():
    from handwrite.recognizer import DEFAULT_LEXICON

    lexicon = WordLexicon.load(DEFAULT_LEXICON)
    assert 45_000 < len(lexicon.counts) < 50_000
    assert lexicon.lookup("The")[0] == lexicon.lookup("handwriting")[0] == "known"
    assert lexicon.log_probs["the"] > lexicon.log_probs["handwriting"]


def test_a_letter_scores_whatever_its_case():
    lm = CharNgramModel.train([("the cat. The hat", 5.0)], order=3, min_count=1)
    either = math.log(math.exp(lm.log_prob("a ", "t")) + math.exp(lm.log_prob("a ", "T")))
    assert lm.log_prob_any_case("a ", "t") == pytest.approx(either)
    assert lm.log_prob_any_case("a ", "T") == pytest.approx(either)


def test_the_bundled_language_model_brings_the_word_lexicon_unless_told_not_to(tmp_path):
    import handwrite
    from handwrite.limits import LM_BEAM
    from handwrite.options import ModelOptions, add_flags, from_args

    assert handwrite.load_model(language_model=True).decoding.lexicon is not None
    assert handwrite.load_model().decoding.lexicon is None
    lm_file = tmp_path / "mine.lm.json.gz"
    CharNgramModel.train([("hello world", 2.0)], order=3, min_count=1).save(lm_file)
    assert handwrite.load_model(language_model=lm_file).decoding.lexicon is None  # perhaps not English
    words_alone = handwrite.load_model(words=True).decoding
    assert words_alone.lexicon is not None and words_alone.lm is None and words_alone.beam_size == LM_BEAM > 1
    assert handwrite.load_model(beam_size=4, language_model=True).decoding.beam_size == 4  # an asked beam is kept
    parser = argparse.ArgumentParser()
    add_flags(parser, ModelOptions)
    keywords = from_args(ModelOptions, parser.parse_args(["--lm", "--no-words"])).decoding()
    model = handwrite.load_model(**keywords)
    assert model.decoding.lm is not None and model.decoding.lexicon is None

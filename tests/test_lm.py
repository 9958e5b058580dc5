import math

import pytest

from handwrite import ModelFileError
from handwrite.lm import CharNgramModel


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

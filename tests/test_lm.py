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

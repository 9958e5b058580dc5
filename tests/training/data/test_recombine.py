import random

import numpy as np

from handwrite.ink import Ink
from handwrite.training.data.recombine import WordPool, split_words


def written(words: list[str], letter_gap: float = 10.0, word_gap: float = 60.0) -> Ink:
    """Ink with one zigzag stroke per letter, 40 units wide and 100 high."""
    strokes, x = [], 0.0
    for word in words:
        for _ in word:
            zigzag = np.array([[x, 0.0], [x + 20, 100.0], [x + 40, 0.0], [x + 40, 50.0]])
            strokes.append(zigzag)
            x += 40 + letter_gap
        x += word_gap - letter_gap
    return Ink(strokes, text=" ".join(words))


def test_a_line_is_cut_into_its_words_at_the_widest_gaps():
    words, gap = split_words(written(["the", "quick", "fox."]))
    assert [w.text for w in words] == ["the", "quick", "fox."]
    assert [len(w.strokes) for w in words] == [3, 5, 4]
    assert all(min(s[:, 0].min() for s in w.strokes) == 0 for w in words), "each word starts at x = 0"
    assert words[1].width > words[0].width and gap > 0


def test_a_space_before_punctuation_in_the_transcription_is_not_a_gap_to_cut():
    ink = written(["Mr.", "Foot,", "too."])
    words, _ = split_words(Ink(ink.strokes, text="Mr . Foot , too ."))  # as some IAM-OnDB forms write it
    assert [w.text for w in words] == ["Mr.", "Foot,", "too."]
    assert [len(w.strokes) for w in words] == [3, 5, 4]


def test_a_line_without_clear_word_gaps_is_not_cut():
    assert split_words(written(["the", "quick"], letter_gap=30, word_gap=32)) is None, "gaps alike: no clear cut"
    assert split_words(written(["thequick"], letter_gap=10)) is not None, "one word needs no cut"
    assert split_words(Ink(written(["ab", "cd"]).strokes, text="ab cd ef")) is None, "more words than gaps"
    assert split_words(Ink([], text="ab")) is None
    assert split_words(Ink(written(["ab"]).strokes, text="")) is None


def test_the_pool_writes_new_lines_from_the_words_it_holds():
    pool = WordPool([written(["the", "quick", "fox"]), written(["jumps", "over"], letter_gap=30, word_gap=32)])
    assert sorted(w.text for w in pool.words) == ["fox", "quick", "the"], "the unclear line gives no words"
    rng = random.Random(0)
    for _ in range(20):
        line = pool.line(rng)
        words = line.text.split()
        assert 3 <= len(words) <= 8 and set(words) <= {"the", "quick", "fox"}
        assert len(line.strokes) == sum(len(w) for w in words), "every letter's stroke, once"
        recut, _ = split_words(line)
        assert [w.text for w in recut] == words, "the new line's words sit where its text says"


def test_an_empty_pool_is_false():
    assert not WordPool([])
    assert not WordPool([Ink(written(["ab"]).strokes, text="ab cd ef")])

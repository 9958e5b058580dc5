"""Per-word alternatives derived from a line's n-best readings."""

from handwrite.results import Alternative, Line


def line(text: str, *others: tuple[str, float]) -> Line:
    return Line(text, 0.9, alternatives=(Alternative(text, 0.6), *(Alternative(t, c) for t, c in others)))


def texts(readings: tuple[Alternative, ...]) -> list[str]:
    return [reading.text for reading in readings]


def test_each_word_gets_the_readings_that_change_only_it():
    found = line("the cat sat", ("the cot sat", 0.2), ("tho cat sat", 0.1), ("the cat sad", 0.05)).word_alternatives()
    assert [texts(readings) for readings in found] == [["tho"], ["cot"], ["sad"]]
    assert found[1][0].confidence == 0.2  # the line alternative's


def test_readings_that_change_two_words_or_join_them_belong_to_no_word():
    found = line("the cat", ("tho cot", 0.2), ("thecat", 0.1)).word_alternatives()
    assert found == ((), ())


def test_an_insertion_at_a_word_edge_is_that_word_s():
    assert texts(line("a cat", ("a cats", 0.2)).word_alternatives()[1]) == ["cats"]
    assert texts(line("cat a", ("cats a", 0.2)).word_alternatives()[0]) == ["cats"]
    assert texts(line("a b", ("a xb", 0.2)).word_alternatives()[1]) == ["xb"]


def test_a_word_read_as_two_and_repeated_letters():
    assert texts(line("today is", ("to day is", 0.2)).word_alternatives()[0]) == ["to day"]
    assert texts(line("aa b", ("a b", 0.2)).word_alternatives()[0]) == ["a"]


def test_most_likely_first_each_once_and_one_entry_per_word():
    found = line("in ink", ("in inks", 0.3), ("in irk", 0.2), ("in inks", 0.1)).word_alternatives()
    assert len(found) == 2 and found[0] == ()
    assert found[1] == (Alternative("inks", 0.3), Alternative("irk", 0.2))


def test_a_line_without_alternatives_or_text_has_none():
    assert Line("hello world", 0.9).word_alternatives() == ((), ())
    assert line("", ("a", 0.1)).word_alternatives() == ()

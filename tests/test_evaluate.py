"""evaluate.error_rates, behind every CER / WER figure: hand-computed cases."""

import pytest

from handwrite.evaluate import ErrorRates, error_rates, evaluate


def test_identical_text_has_no_errors():
    rates = error_rates([("hello world", "hello world")])
    assert rates == ErrorRates(cer=0.0, wer=0.0, lines=1, chars=11, words=2, skipped=0)


def test_a_page_counts_its_lines_scored_and_left_out():
    rates = error_rates([("hello world\nthe fox", "hello world\nthe fox"), ("a # b\nc\nd", "a b\nc\nd")])
    assert (rates.lines, rates.skipped) == (2, 3)


def test_one_missing_letter():
    rates = error_rates([("hello world", "helo world")])
    assert rates.cer == pytest.approx(1 / 11)
    assert rates.wer == pytest.approx(1 / 2)


def test_cer_and_wer_count_substitutions_and_insertions():
    # characters: c->b, then " down" inserted: 1 + 5 edits over 11 reference characters;
    # words: cat->bat and "down" inserted: 2 edits over 3 reference words
    rates = error_rates([("the cat sat", "the bat sat down")])
    assert rates.cer == pytest.approx(6 / 11)
    assert rates.wer == pytest.approx(2 / 3)
    assert (rates.chars, rates.words) == (11, 3)


def test_deletions_count_too():
    rates = error_rates([("one two three", "one three")])
    assert rates.cer == pytest.approx(4 / 13)  # "two " gone
    assert rates.wer == pytest.approx(1 / 3)


def test_rates_are_over_the_whole_corpus_not_averaged_per_line():
    # per-line average would be (1/1 + 0/10) / 2 = 50%; corpus level: 1 error in 11 characters
    rates = error_rates([("a", "b"), ("abcdefghij", "abcdefghij")])
    assert rates.cer == pytest.approx(1 / 11)
    assert rates.wer == pytest.approx(1 / 2)
    assert rates.lines == 2


@pytest.mark.parametrize(
    ("reference", "hypothesis"),
    [
        ("Mr . Gaitskell , he said", "Mr. Gaitskell, he said"),
        ("Mr. Gaitskell, he said", "Mr . Gaitskell , he said"),
        ("it 's so ; really : yes ! no ? end .", "it's so; really: yes! no? end."),
    ],
)
def test_no_space_before_punctuation_on_either_side(reference, hypothesis):
    rates = error_rates([(reference, hypothesis)])
    assert rates.cer == 0.0 and rates.wer == 0.0


def test_normalised_reference_is_what_the_rates_divide_by():
    rates = error_rates([("Mr . Smith , hi", "Mr. Smith, xx")])
    assert rates.chars == len("Mr. Smith, hi") == 13
    assert rates.words == 3
    assert rates.cer == pytest.approx(2 / 13)
    assert rates.wer == pytest.approx(1 / 3)


def test_a_space_after_punctuation_is_not_removed():
    rates = error_rates([("a,b", "a, b")])
    assert rates.cer == pytest.approx(1 / 3)


def test_runs_of_spaces_and_line_breaks_collapse():
    rates = error_rates([("a  b   c", "  a b\tc "), ("hello world", "hello\nworld")])
    assert rates.cer == 0.0 and rates.wer == 0.0
    assert rates.chars == len("a b c") + len("hello world")


def test_lines_with_a_hash_are_left_out():
    rates = error_rates([("crossed # out", "anything at all"), ("abc", "abd"), ("#", "")])
    assert rates.skipped == 2 and rates.lines == 1
    assert rates.chars == 3 and rates.words == 1
    assert rates.cer == pytest.approx(1 / 3)
    assert rates.wer == 1.0


def test_a_hash_only_in_the_hypothesis_is_an_error_not_a_skip():
    rates = error_rates([("abc", "a#c")])
    assert rates.skipped == 0 and rates.cer == pytest.approx(1 / 3)


def test_an_empty_reference_adds_the_hypothesis_as_errors():
    rates = error_rates([("ab", "ab"), ("", "xy")])
    assert rates.lines == 2 and rates.chars == 2 and rates.words == 1
    assert rates.cer == pytest.approx(2 / 2)
    assert rates.wer == pytest.approx(1 / 1)


def test_empty_reference_and_hypothesis_is_no_error():
    rates = error_rates([("", ""), ("   ", "")])
    assert rates.cer == 0.0 and rates.wer == 0.0 and rates.lines == 2 and rates.chars == 0


def test_nothing_to_score_gives_zeros_not_a_division_error():
    assert error_rates([]) == ErrorRates(0.0, 0.0, 0, 0, 0, 0)
    assert error_rates([("#", "x")]) == ErrorRates(0.0, 0.0, 0, 0, 0, 1)


def test_an_empty_hypothesis_is_all_deletions():
    rates = error_rates([("hello world", "")])
    assert rates.cer == 1.0 and rates.wer == 1.0


def test_pairs_may_be_a_generator():
    rates = error_rates((ref, ref.upper()) for ref in ["ab", "cd"])
    assert rates.cer == 1.0 and rates.lines == 2


def test_printed_summary():
    assert str(error_rates([("hello world", "helo world")])) == "CER 9.09%  WER 50.00%  (1 line, 11 chars)"


def test_evaluate_reads_labelled_inputs_with_a_model_and_scores_them():
    from PIL import Image

    from handwrite.ink import Ink
    from handwrite.results import Result

    class Model:  # reads every input as "hello world"
        def recognize_batch(self, items):
            return [Result("hello world", 0.9) for _ in items]

    image = Image.new("L", (20, 10))
    image.info["text"] = "hello  world ."  # spacing normalised as scoring does it
    items = [Ink(text="hello world"), Ink(text="helo world"), image]
    seen = []
    rates = evaluate(Model(), items, lambda item, ref, hyp: seen.append((item, ref, hyp)))
    assert rates == error_rates(
        [("hello world", "hello world"), ("helo world", "hello world"), ("hello world.", "hello world")]
    )
    assert [(ref, hyp) for _, ref, hyp in seen] == [
        ("hello world", "hello world"),
        ("helo world", "hello world"),
        ("hello world.", "hello world"),
    ]
    assert seen[2][0] is image
    assert rates.figures() == {"cer": rates.cer, "wer": rates.wer, "lines": 3}


def test_a_recorded_figure_reads_as_eval_printed_it():
    rates = ErrorRates(cer=0.05774951, wer=0.146548, lines=1508, chars=44260, words=8000, skipped=0)
    recorded = rates.figures()
    assert f"{recorded['cer']:.2%} {recorded['wer']:.2%}" == "5.77% 14.65%"
    assert str(rates).startswith("CER 5.77%  WER 14.65%")


def test_evaluate_counts_the_lines_of_a_page_and_passes_them_on_as_lines():
    from handwrite.ink import Ink
    from handwrite.results import Result

    class Model:  # reads the page right, its lines joined as recognize() joins them
        def recognize_batch(self, items):
            return [Result("first line\nsecond line.", 0.9) for _ in items]

    seen = []
    rates = evaluate(Model(), [Ink(text="first  line\n\nsecond line .\n")], lambda _, ref, hyp: seen.append((ref, hyp)))
    assert (rates.lines, rates.cer) == (2, 0.0)
    assert seen == [("first line\nsecond line.", "first line\nsecond line.")]

import pytest

from handwrite.codec import BLANK, PRINTABLE_ASCII, Codec, normalize_spacing


def test_round_trip_and_blank():
    codec = Codec(PRINTABLE_ASCII)
    labels = codec.encode("Hello, world!")
    assert BLANK not in labels
    assert codec.decode(labels) == "Hello, world!"
    assert len(codec) == len(PRINTABLE_ASCII) + 1


def test_normalisation_maps_typographic_variants_and_spaces():
    codec = Codec(PRINTABLE_ASCII)
    assert codec.decode(codec.encode("\u201cit\u2019s\u201d  \u2013 ok")) == '"it\'s" - ok'


def test_spacing_is_normalised_as_scoring_does_it():
    assert normalize_spacing("  Mr . Gaitskell ,  don 't  ") == "Mr. Gaitskell, don't"
    assert normalize_spacing("a - b ( c )") == "a - b ( c )", "only . , ; : ! ? ' lose the space before them"


def test_unknown_characters_are_named():
    codec = Codec("abc ")
    assert codec.unknown_chars("abz\u00e9") == {"z", "\u00e9"}
    with pytest.raises(ValueError, match="not in the model's alphabet"):
        codec.encode("abz")


def test_growth_keeps_existing_ids():
    codec = Codec("abc")
    grown = codec.extended("c@\u00e9")
    assert grown.encode("abc") == codec.encode("abc")
    assert grown.alphabet == "abc@\u00e9"

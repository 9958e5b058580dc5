"""Build the bundled English character n-gram (handwrite/models/english-chars.lm.json.gz)
from wordfreq's English word frequencies (no IAM-OnDB text is used).

Pseudo-text is sampled word by word from the frequency list, with sentence
capitals, punctuation (sometimes spaced, as in IAM-style transcriptions) and
numbers, so the model sees word boundaries and cross-word contexts.

    python scripts/build_lm.py [--words 400000] [--order 6]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from wordfreq import top_n_list, word_frequency

from handwrite.lm import CharNgramModel

OUT = Path(__file__).resolve().parent.parent / "handwrite" / "models" / "english-chars.lm.json.gz"


TITLES = ("Mr.", "Mrs.", "Dr.", "St.")


def pseudo_lines(total_words: int, rng: random.Random, marks: bool = True) -> list[str]:
    """Lines of words drawn by frequency, with sentence capitals, punctuation and numbers;
    with `marks`, also what handwritten lines hold and plain word lists lack: quoted
    speech, dashes, brackets, titles before names, capitalized names, and a word broken
    with a hyphen at the line's end (else the LM takes every mark for a rare accident)."""
    vocabulary = [w for w in top_n_list("en", 50000) if w.isascii() and (w.isalpha() or "'" in w)]
    weights = [word_frequency(w, "en") for w in vocabulary]
    words = rng.choices(vocabulary, weights, k=total_words)
    lines, line, capitalize, quoted = [], [], True, False
    for word in words:
        if word in ("i", "i'm", "i'll", "i've", "i'd"):
            word = word.capitalize()
        if capitalize or (marks and rng.random() < 0.02):  # a sentence start, or a name
            word = word.capitalize()
        if marks and rng.random() < 0.005:
            word = f"{rng.choice(TITLES)} {word.capitalize()}"
        capitalize = False
        if rng.random() < 0.03:
            word = str(rng.choice([rng.randint(1, 31), rng.randint(1800, 2030), rng.randint(2, 999)]))
        if marks and not quoted and rng.random() < 0.03:
            word, quoted = '"' + word.capitalize(), True
        if rng.random() < 0.12:
            mark = rng.choice(".,,,;:?!'")
            capitalize = mark in ".?!"
            word += (" " if rng.random() < 0.3 else "") + mark
            if marks and quoted and rng.random() < 0.5:
                word, quoted = word + '"', False
        if marks:
            word = _bracket_or_dash(word, rng)
        line.append(word)
        if len(line) >= rng.randint(4, 9):
            if marks and rng.random() < 0.1:
                line[-1] = _broken(line[-1], rng)
            lines.append(" ".join(line))
            line = []
    return lines


def _bracket_or_dash(word: str, rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.01:
        return word + " -"
    if draw < 0.015:
        return f"({word})"
    return word


def _broken(word: str, rng: random.Random) -> str:
    """A word cut at the line's end, "any-" for "anything"."""
    letters = len(word) - len(word.lstrip('"(')) + 2
    return word[: rng.randint(letters, len(word) - 1)] + "-" if len(word) > letters + 1 else word


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--order", type=int, default=6)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--plain", action="store_true", help="words and sentence marks only (the first bundled LM)")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args()
    lines = pseudo_lines(args.words, random.Random(0), marks=not args.plain)
    model = CharNgramModel.train(((line, 1.0) for line in lines), order=args.order, min_count=args.min_count)
    model.save(args.output)
    print(f"{len(lines)} lines, {len(model.counts)} contexts -> {args.output} ({args.output.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

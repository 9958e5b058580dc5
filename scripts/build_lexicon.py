"""Build the bundled English word lexicon (handwrite/models/english-words.lexicon.json.gz)
from wordfreq's English word frequencies (Apache-2.0 code, CC BY-SA 4.0 data; no
IAM-OnDB text is used): the most frequent words of letters (with inner apostrophes
and hyphens), lower-cased, each with its frequency as a whole count per 10^9 words.

With `--pairs`, the lexicon also scores word pairs, from the English word-pair
counts that symspellpy ships (`pip install -e '.[data]'`; MIT, the counts derived by
SymSpell's author from the Google Books Ngram data, CC BY 3.0): for each listed
pair of two lexicon words, log c(a b) - log c(a _) - log c(_ b) + log N, where the
marginals and N are sums over the listed pairs themselves (the list holds only
frequent pairs, so its own sums are the consistent ones to measure chance by).

    python scripts/build_lexicon.py [--words 50000] [--pairs]
"""

from __future__ import annotations

import argparse
import importlib.resources
import math
from collections import Counter
from pathlib import Path

from wordfreq import top_n_list, word_frequency

from handwrite.lm import PAIR_SCALE, WordLexicon

OUT = Path(__file__).resolve().parent.parent / "handwrite" / "models" / "english-words.lexicon.json.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=50_000, help="most frequent words asked of wordfreq")
    parser.add_argument("--pairs", action="store_true", help="also word pairs, from symspellpy's counts")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args()
    # wordfreq's list holds numbers, symbols and non-Latin words too; the lexicon keeps words of letters
    words = [w for w in top_n_list("en", args.words) if w.isascii()]
    lexicon = WordLexicon.from_frequencies((w, word_frequency(w, "en")) for w in words)
    if args.pairs:
        lexicon = WordLexicon(lexicon.counts, pair_scores(symspell_pairs(), lexicon.counts))
    lexicon.save(args.output)
    size = args.output.stat().st_size
    pairs = sum(map(len, lexicon.pairs.values()))
    print(f"{len(lexicon.counts)} words, {pairs} pairs -> {args.output} ({size} bytes)")


def symspell_pairs() -> dict[tuple[str, str], int]:
    """symspellpy's English word-pair counts: lines of "first second count"."""
    source = importlib.resources.files("symspellpy") / "frequency_bigramdictionary_en_243_342.txt"
    pairs = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        first, second, count = line.split()
        pairs[first, second] = int(count)
    return pairs


def pair_scores(counts: dict[tuple[str, str], int], known: dict[str, int]) -> dict[str, dict[str, int]]:
    """Association of each pair of known words in hundredths, {first: {second: score}}
    (see the module's doc)."""
    kept = {pair: count for pair, count in counts.items() if pair[0] in known and pair[1] in known}
    left: Counter = Counter()
    right: Counter = Counter()
    for (first, second), count in kept.items():
        left[first] += count
        right[second] += count
    log_total = math.log(sum(kept.values()))
    scores: dict[str, dict[str, int]] = {}
    for (first, second), count in sorted(kept.items()):
        association = math.log(count) - math.log(left[first]) - math.log(right[second]) + log_total
        scores.setdefault(first, {})[second] = round(association * PAIR_SCALE)
    return scores


if __name__ == "__main__":
    main()

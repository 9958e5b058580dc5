"""Build the bundled English word lexicon (handwrite/models/english-words.lexicon.json.gz)
from wordfreq's English word frequencies (Apache-2.0 code, CC BY-SA 4.0 data; no
IAM-OnDB text is used): the most frequent words of letters (with inner apostrophes
and hyphens), lower-cased, each with its frequency as a whole count per 10^9 words.

    python scripts/build_lexicon.py [--words 50000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wordfreq import top_n_list, word_frequency

from handwrite.lm import WordLexicon

OUT = Path(__file__).resolve().parent.parent / "handwrite" / "models" / "english-words.lexicon.json.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=50_000, help="most frequent words asked of wordfreq")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args()
    # wordfreq's list holds numbers, symbols and non-Latin words too; the lexicon keeps words of letters
    words = [w for w in top_n_list("en", args.words) if w.isascii()]
    lexicon = WordLexicon.from_frequencies((w, word_frequency(w, "en")) for w in words)
    lexicon.save(args.output)
    print(f"{len(lexicon.counts)} words -> {args.output} ({args.output.stat().st_size} bytes)")


if __name__ == "__main__":
    main()

"""Decoders side by side on IAM-OnDB lines with the bundled online model (`--kind
image`: the image model on the lines rendered to images): greedy,
beam, beam + character LM, beam + word lexicon (with its word pairs), beam + both
without and with the word pairs (`--lm`). For each: CER, WER,
decoding time per line, and CER on capitals, digits, punctuation and lower-case
letters separately (a language model must not buy lower-case accuracy with them).

The network reads every line once (its time is reported apart); the decoders then
take turns on each line, so their times are measured under the same load. With
`--flashlight W`, flashlight-text's lexicon decoder (KenLM, LM weight W) over the
same lexicon joins them, where that package is installed (it is no dependency).

    python scripts/lm_benchmark.py --split testset_v [--kind image] [--limit N] [--beam 16]
        [--lm-weight W] [--insertion-bonus B] [--mark-floor F] [--word-weight W] [--unknown-word-penalty P]
        [--pair-weight W ...] [--flashlight 1.0]

Choose settings on testset_v; testset_t is for the final measure only.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch

from handwrite.codec import Codec, normalize_spacing
from handwrite.decoding import GREEDY, DecodingOptions, decode
from handwrite.evaluate import error_rates
from handwrite.inputs import item_text
from handwrite.limits import LM_BEAM
from handwrite.lm import CharNgramModel, WordLexicon
from handwrite.recognizer import DEFAULT_LEXICON, DEFAULT_LM, Recognizer, load_model
from handwrite.training.data.datasets import load_iam_split, spread_subset
from handwrite.training.inputs import rendered_line

REPO = Path(__file__).resolve().parent.parent
IAM = Path(os.environ.get("HANDWRITE_IAM_ONDB", REPO.parent / "shared" / "datasets" / "iam-ondb"))
CLASSES = ("capitals", "digits", "punctuation", "lowercase")


def char_class(char: str) -> str | None:
    """The class a character's errors are counted in (None: spaces)."""
    if char.isspace():
        return None
    if char.isdigit():
        return "digits"
    if char.isalpha():
        return "capitals" if char.isupper() else "lowercase"
    return "punctuation"


def class_errors(reference: str, hypothesis: str) -> tuple[Counter, Counter]:
    """(errors, reference characters) per class, from one minimum-edit alignment: a
    substituted or deleted character counts against its reference class, an inserted
    one against its own class."""
    ref, hyp = normalize_spacing(reference), normalize_spacing(hypothesis)
    rows = [list(range(len(hyp) + 1))]
    for i, r in enumerate(ref, 1):
        row = [i]
        for j, h in enumerate(hyp, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (r != h)))
        rows.append(row)
    errors: Counter = Counter()
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and rows[i][j] == rows[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] != hyp[j - 1]:
                errors[char_class(ref[i - 1])] += 1
            i, j = i - 1, j - 1
        elif i and rows[i][j] == rows[i - 1][j] + 1:
            errors[char_class(ref[i - 1])] += 1
            i -= 1
        else:
            errors[char_class(hyp[j - 1])] += 1
            j -= 1
    return errors, Counter(char_class(c) for c in ref)


def network_outputs(model: Recognizer, inks: list) -> tuple[list[list[np.ndarray]], float]:
    """Each ink's lines (as layout finds them, as recognize() reads them) through the
    network: their log-probabilities, and the seconds that took. An image model reads
    each ink rendered as `handwrite eval` renders it (its look fixed by the line's id)."""
    started = time.perf_counter()
    outputs = []
    for ink in inks:
        outputs.append(model.log_probs(model.line_frames(rendered_line(ink) if model.kind == "image" else ink)))
    return outputs, time.perf_counter() - started


Decoder = Callable[[np.ndarray], str]  # one line's (T, C) log-probabilities -> its text


def decoders(args: argparse.Namespace, codec: Codec) -> dict[str, Decoder]:
    """The decoders compared, with the weights asked for (default: the library's). Each
    has its own copy of the LM and lexicon: their caches would otherwise make whichever
    decoder runs second on a line look faster."""

    def lm() -> CharNgramModel:
        return CharNgramModel.load(args.lm_file)

    def lexicon() -> WordLexicon:
        return WordLexicon.load(args.lexicon)

    tuned = _given(args, "lm_weight", "insertion_bonus", "mark_floor")
    words = _given(args, "word_weight", "unknown_word_penalty")
    beam = DecodingOptions(beam_size=args.beam)
    ours = {
        "greedy": GREEDY,
        f"beam {args.beam}": beam,
        f"beam {args.beam} + char LM": dataclasses.replace(beam, lm=lm(), **tuned),
        f"beam {args.beam} + words": dataclasses.replace(beam, lexicon=lexicon(), **words),
        f"beam {args.beam} + char LM + words, no word pairs": dataclasses.replace(
            beam, lm=lm(), lexicon=lexicon(), **tuned, **words, pair_weight=0.0
        ),
        f"beam {args.beam} + char LM + words (`--lm`)": dataclasses.replace(
            beam, lm=lm(), lexicon=lexicon(), **tuned, **words
        ),
    }
    for weight in args.pair_weight or ():
        ours[f"beam {args.beam} + char LM + words + word pairs ({weight})"] = dataclasses.replace(
            beam, lm=lm(), lexicon=lexicon(), **tuned, **words, pair_weight=weight
        )
    chosen: dict[str, Decoder] = {
        name: functools.partial(_best_text, codec=codec, options=options) for name, options in ours.items()
    }
    if args.flashlight is not None:
        name = f"flashlight-text lexicon decoder, beam {args.beam}, KenLM word unigram (weight {args.flashlight})"
        chosen[name] = flashlight_decoder(codec, lexicon(), args.beam, args.flashlight)
    return chosen


def _best_text(log_probs: np.ndarray, codec: Codec, options: DecodingOptions) -> str:
    return decode(log_probs, codec, options)[0].text


def flashlight_decoder(codec: Codec, lexicon: WordLexicon, beam: int, lm_weight: float) -> Decoder:
    """flashlight-text's LexiconDecoder (pip install flashlight-text; a wheel, with KenLM
    built in) over the same word unigram: it writes lexicon words only, so the words here
    are the lexicon's in lower case (90% of a word's probability) and capitalized (10%),
    marks, and the numbers 0 to 2030 (each 1e-4). KenLM reads an ARPA file and needs a
    bigram section, so one bigram is written."""
    from flashlight.lib.text.decoder import (
        CriterionType,
        KenLM,
        LexiconDecoder,
        LexiconDecoderOptions,
        SmearingMode,
        Trie,
    )
    from flashlight.lib.text.dictionary import Dictionary, create_word_dict

    words = {w: p + math.log(0.9) for w, p in lexicon.log_probs.items()}
    words |= {w.capitalize(): p + math.log(0.1) for w, p in lexicon.log_probs.items() if w.capitalize() not in words}
    words |= {m: math.log(1e-4) for m in [*".,;:!?'\"()-", *map(str, range(2031))] if m not in words}
    words = {w: p for w, p in words.items() if all(c in codec.alphabet for c in w)}
    arpa = Path(tempfile.mkdtemp()) / "unigram.arpa"
    with arpa.open("w") as out:
        out.write(f"\\data\\\nngram 1={len(words) + 3}\nngram 2=1\n\n\\1-grams:\n-99\t<s>\t0\n-1\t</s>\n-6\t<unk>\n")
        out.writelines(f"{p / math.log(10):.4f}\t{w}\n" for w, p in words.items())
        out.write("\n\\2-grams:\n-1\t<s> the\n\n\\end\\\n")
    tokens = Dictionary(["<blank>", *codec.alphabet])
    word_dict = create_word_dict({**{w: [list(w)] for w in words}, "<s>": [], "</s>": [], "<unk>": []})
    lm = KenLM(str(arpa), word_dict)
    space = tokens.get_index(" ")
    trie, start = Trie(len(codec.alphabet) + 1, space), lm.start(False)
    for word in words:
        index = word_dict.get_index(word)
        trie.insert([tokens.get_index(c) for c in word], index, lm.score(start, index)[1])
    trie.smear(SmearingMode.MAX)
    options = LexiconDecoderOptions(
        beam, len(codec.alphabet) + 1, 25.0, lm_weight, 0.0, -math.inf, 0.0, False, CriterionType.CTC
    )
    decoder = LexiconDecoder(options, trie, lm, space, 0, word_dict.get_index("<unk>"), [], False)

    def read(log_probs: np.ndarray) -> str:
        emissions = np.ascontiguousarray(log_probs, dtype=np.float32)
        path = decoder.decode(emissions.ctypes.data, *emissions.shape)[0].tokens
        labels = [label for i, label in enumerate(path) if label > 0 and (i == 0 or label != path[i - 1])]
        return codec.decode(labels).strip()

    return read


def _given(args: argparse.Namespace, *names: str) -> dict[str, float]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def compare(
    outputs: list[list[np.ndarray]], references: list[str], chosen: dict[str, Decoder]
) -> dict[str, dict[str, float]]:
    """Every decoder on every line, taking turns line by line."""
    texts: dict[str, list[str]] = {name: [] for name in chosen}
    seconds = dict.fromkeys(chosen, 0.0)
    for line_outputs in outputs:
        for name, read in chosen.items():
            started = time.perf_counter()
            texts[name].append("\n".join(read(lp) for lp in line_outputs))
            seconds[name] += time.perf_counter() - started
    return {name: figures(references, texts[name]) | {"ms": 1000 * seconds[name] / len(outputs)} for name in chosen}


def figures(references: list[str], hypotheses: list[str]) -> dict[str, float]:
    kept = [(r, h) for r, h in zip(references, hypotheses, strict=True) if "#" not in r]
    rates = error_rates(kept)
    errors: Counter = Counter()
    counts: Counter = Counter()
    for reference, hypothesis in kept:
        e, c = class_errors(reference, hypothesis)
        errors.update(e)
        counts.update(c)
    return {"cer": rates.cer, "wer": rates.wer} | {k: errors[k] / max(counts[k], 1) for k in CLASSES}


def table(results: dict[str, dict[str, float]], network_ms: float) -> Iterable[str]:
    yield "| decoder | CER | WER | ms/line (decoding) | " + " | ".join(f"CER {k}" for k in CLASSES) + " |"
    yield "|---" * (4 + len(CLASSES)) + "|"
    for name, row in results.items():
        classes = " | ".join(f"{row[k]:.2%}" for k in CLASSES)
        yield f"| {name} | {row['cer']:.2%} | {row['wer']:.2%} | {row['ms']:.1f} | {classes} |"
    yield f"\nnetwork (same for all): {network_ms:.1f} ms/line"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iam-ondb", type=Path, default=IAM)
    parser.add_argument("--split", default="testset_v")
    parser.add_argument("--limit", type=int, default=None, help="only this many lines, spread over the split")
    parser.add_argument("--kind", default="ink", choices=("ink", "image"), help="image: IAM-OnDB lines rendered")
    parser.add_argument("-m", "--model", default=None, help="model file (default: the bundled model of --kind)")
    parser.add_argument("--beam", type=int, default=LM_BEAM, help="default: the beam --lm decodes with")
    parser.add_argument("--lm-file", type=Path, default=DEFAULT_LM)
    parser.add_argument("--lexicon", type=Path, default=DEFAULT_LEXICON)
    for name in ("lm-weight", "insertion-bonus", "mark-floor", "word-weight", "unknown-word-penalty"):
        parser.add_argument(f"--{name}", type=float, default=None, help="default: the library's")
    parser.add_argument(
        "--pair-weight",
        type=float,
        action="append",
        help="also the LM and lexicon with word pairs scored at this weight (repeatable; the lexicon needs pairs)",
    )
    parser.add_argument(
        "--flashlight",
        type=float,
        metavar="LM_WEIGHT",
        help="also flashlight-text's lexicon decoder (1.0 on testset_v)",
    )
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model, kind=args.kind)
    inks = spread_subset(load_iam_split(args.iam_ondb, args.split), args.limit or 10**9)
    outputs, network_seconds = network_outputs(model, inks)
    results = compare(outputs, [item_text(ink) for ink in inks], decoders(args, model.codec))
    print(f"IAM-OnDB {args.split}, {len(inks)} lines, {args.threads} thread(s)\n")
    print("\n".join(table(results, 1000 * network_seconds / len(inks))))


if __name__ == "__main__":
    main()

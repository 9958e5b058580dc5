"""Teach the bundled model a character it lacks ('é' by default) from a few
samples, then test on new samples: CER and how many of the new characters are
read. Samples are synthetic single-stroke ink (Hershey glyph plus accent
stroke), written in files in a temporary folder.

    python scripts/new_character.py [--train 8] [--test 30] [--lm]

--lm also reads the new samples with the fine-tuned model through beam 8 and the
English character LM, which never saw the new character.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import handwrite
from handwrite.evaluate import error_rates
from handwrite.training.data.synthetic import render_text
from handwrite.training.finetune import FinetuneOptions, finetune

WORDS = [
    "caf\u00e9",
    "\u00e9t\u00e9",
    "r\u00e9sum\u00e9",
    "d\u00e9j\u00e0",
    "\u00e9cole",
    "\u00e9lan",
    "fianc\u00e9",
    "clich\u00e9",
    "pass\u00e9",
    "n\u00e9e",
    "s\u00e9ance",
    "b\u00e9b\u00e9",
    "m\u00eal\u00e9e",
    "entr\u00e9e",
]
PLAIN = ["the", "and", "of", "in", "with", "a", "very", "good", "late", "at", "my", "old"]


def lines(count: int, rng: random.Random) -> list[handwrite.Ink]:
    out = []
    for _ in range(count):
        words = [rng.choice(WORDS)] + [rng.choice(PLAIN + WORDS) for _ in range(rng.randint(1, 3))]
        rng.shuffle(words)
        out.append(render_text(" ".join(words), rng))
    return out


def char_recall(inks: list[handwrite.Ink], texts: list[str], char: str) -> float:
    found = sum(min(ink.text.count(char), text.count(char)) for ink, text in zip(inks, texts, strict=True))
    return found / max(1, sum(ink.text.count(char) for ink in inks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=8)
    parser.add_argument("--test", type=int, default=30)
    parser.add_argument("--lr", type=float, default=FinetuneOptions.learning_rate)
    parser.add_argument("--head-lr-scale", type=float, default=FinetuneOptions.head_lr_scale)
    parser.add_argument("--max-steps", type=int, default=FinetuneOptions.max_steps)
    parser.add_argument("--lm", action="store_true", help="also decode with beam 8 + the English character LM")
    args = parser.parse_args()
    train, test = lines(args.train, random.Random(1)), lines(args.test, random.Random(2))
    base = handwrite.load_model()
    with tempfile.TemporaryDirectory() as tmp:
        for i, ink in enumerate(train):
            handwrite.write_ink(ink, Path(tmp) / f"sample-{i}.inkml")
        out = Path(tmp) / "personal.safetensors"
        options = FinetuneOptions(
            data=[tmp],
            output=str(out),
            progress=False,
            learning_rate=args.lr,
            head_lr_scale=args.head_lr_scale,
            max_steps=args.max_steps,
        )
        report = finetune(options)
        tuned = handwrite.load_model(out)
        models = [("base", base), ("fine-tuned", tuned)]
        if args.lm:
            models.append(("fine-tuned, beam 8 + LM", handwrite.load_model(out, language_model=True)))
        for name, model in models:
            texts = [r.text for r in model.recognize_batch(test)]
            rates = error_rates((ink.text, t) for ink, t in zip(test, texts, strict=True))
            print(
                f"{name}: CER {rates.cer:.2%} on {len(test)} new lines; "
                f"'\u00e9' read {char_recall(test, texts, chr(0xE9)):.0%} of the time; e.g. {texts[0]!r}"
            )
    print(
        f"fine-tune: {report.steps} steps, {report.seconds:.0f} s, new characters {report.new_chars!r}; "
        f"reference of that example: {test[0].text!r}"
    )


if __name__ == "__main__":
    main()

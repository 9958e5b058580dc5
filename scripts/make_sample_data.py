"""Write the demo inks in data/: lines rendered from Hershey single-stroke fonts
(no IAM-OnDB data), as InkML with truth and as ink JSON.

    python scripts/make_sample_data.py
"""

from __future__ import annotations

import random
from pathlib import Path

from handwrite import write_ink
from handwrite.data.synthetic import render_text

LINES = [
    ("hello-world", "hello world", "scripts"),
    ("quick-fox", "the quick brown fox jumps", "cursive"),
    ("meeting", "Meeting at 10:30 tomorrow.", "futural"),
    ("handwriting", "handwriting recognition", "rowmans"),
]


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "data" / "ink"
    rng = random.Random(7)
    for name, text, font in LINES:
        ink = render_text(text, rng, font)
        write_ink(ink, out / f"{name}.inkml")
    write_ink(render_text("ink as json", rng, "scripts"), out / "ink-as-json.json")
    print(f"wrote {len(LINES) + 1} files to {out}")


if __name__ == "__main__":
    main()

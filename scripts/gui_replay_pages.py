"""Whole IAM-OnDB pages through the drawing app: each form's lines stacked into
its page (they share the whiteboard's coordinates), saved as InkML and replayed
with `handwrite gui --replay PAGE --text-out TXT` (mouse events onto the page,
scaled to its width, lines found by the app's layout analysis and read line by
line). The app's page CER is compared with the library's on the same page
(`recognize()` with the app's decoding: beam 8 and the English language model),
and the lines the app found with the form's lines.

    python scripts/gui_replay_pages.py [--split testset_t] [--forms 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import handwrite
from handwrite.evaluate import error_rates

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page_benchmark import _forms  # the benchmark's choice of forms: the same pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="testset_t", choices=("testset_v", "testset_t"))
    parser.add_argument("--forms", type=int, default=3)
    args = parser.parse_args()
    model = handwrite.load_model(beam_size=8, language_model=True)
    app_pairs, library_pairs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for form_id, lines in _forms(args.split, args.forms).items():
            page = handwrite.Ink([s for line in lines for s in line.ink.strokes])
            reference = " ".join(line.ink.text or "" for line in sorted(lines, key=lambda line: line.line_id))
            path, text_out = Path(tmp) / f"{form_id}.inkml", Path(tmp) / f"{form_id}.txt"
            handwrite.write_ink(page, path)
            app_text = _replayed(path, text_out, tmp)
            library = model.recognize(page)
            app_pairs.append((reference, app_text.replace("\n", " ")))
            library_pairs.append((reference, library.text.replace("\n", " ")))
            found = len(app_text.split("\n"))
            print(f"{form_id}: {len(lines)} lines; app found {found}, library {len(library.lines)}")
    app, library = error_rates(app_pairs), error_rates(library_pairs)
    print(
        f"{len(app_pairs)} {args.split} pages: app (--replay) CER {app.cer:.2%} WER {app.wer:.2%}; "
        f"library recognize() CER {library.cer:.2%} WER {library.wer:.2%}"
    )


def _replayed(path: Path, text_out: Path, home: str) -> str:
    """The page's whole text as the app wrote it to --text-out."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": home, "XDG_DATA_HOME": home}
    command = [sys.executable, "-m", "handwrite", "gui", "--replay", str(path), "--text-out", str(text_out)]
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=600)
    return text_out.read_text(encoding="utf-8").rstrip("\n")


if __name__ == "__main__":
    main()

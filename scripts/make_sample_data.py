"""Write the demo data in data/ (no IAM-OnDB data):

- data/ink: lines rendered from Hershey single-stroke fonts, as InkML with
  truth and as ink JSON;
- data/notes: those lines written on the pages of a Xournal++ notebook
  (notebook.xopp: two pages, of three lines and two; its text in
  notebook.gt.txt, which `handwrite eval data/notes` scores it against), kept
  out of data/ink, whose files are all labelled lines;
- data/images: those inks drawn as line images (PNG with .gt.txt), a line in
  a handwriting font when one is installed, and a page of three lines.

    python scripts/make_sample_data.py [--what all|inks|notebook|images]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from PIL import Image

from handwrite import Ink, read_ink, write_ink
from handwrite.formats.images import ground_truth_path
from handwrite.training.data.render import PaperStyle, find_handwriting_fonts, render_font_line, render_ink
from handwrite.training.data.synthetic import render_text

DATA = Path(__file__).resolve().parent.parent / "data"
LINES = [
    ("hello-world", "hello world", "scripts"),
    ("quick-fox", "the quick brown fox jumps", "cursive"),
    ("meeting", "Meeting at 10:30 tomorrow.", "futural"),
    ("handwriting", "handwriting recognition", "rowmans"),
]
FONT_LINE = ("note-in-a-font", "Call Anna before Friday!")
PAGE_PAPER = 247
# The notebook's pages: which demo lines each holds, top to bottom.
NOTEBOOK_PAGES = (("hello-world", "quick-fox", "handwriting"), ("meeting", "ink-as-json"))
A4_POINTS = (595.27559055, 841.88976378)
LEFT, FIRST_BASELINE, LINE_SPACING = 72.0, 120.0, 64.0  # points; the demo inks are about 30 units tall


def write_inks() -> None:
    out = DATA / "ink"
    rng = random.Random(7)
    for name, text, font in LINES:
        write_ink(render_text(text, rng, font), out / f"{name}.inkml")
    write_ink(render_text("ink as json", rng, "scripts"), out / "ink-as-json.json")
    print(f"wrote {len(LINES) + 1} files to {out}")


def write_notebook() -> None:
    """The demo lines written on A4 pages as they would be in Xournal++ (points, y down):
    each line's baseline (y = 0 in the demo inks) on a rule of the page."""
    strokes: list[np.ndarray] = []
    page_starts, texts = [], []
    for names in NOTEBOOK_PAGES:
        page_starts.append(len(strokes))
        for row, name in enumerate(names):
            line = read_ink(DATA / "ink" / (f"{name}.json" if name == "ink-as-json" else f"{name}.inkml"))
            offset = np.array([LEFT - line.bounds()[0], FIRST_BASELINE + row * LINE_SPACING, 0.0])
            strokes += [stroke + offset for stroke in line.strokes]
            texts.append(line.text or "")
    notebook = Ink(strokes, page_starts=tuple(page_starts), page_sizes=(A4_POINTS,) * len(NOTEBOOK_PAGES))
    path = DATA / "notes" / "notebook.xopp"
    write_ink(notebook, path)
    ground_truth_path(path).write_text("\n".join(texts) + "\n", encoding="utf-8")
    print(f"wrote {path}: {len(NOTEBOOK_PAGES)} pages, {len(strokes)} strokes, and its text")


def write_images() -> None:
    out = DATA / "images"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    lines = []
    for name, _, _ in LINES:
        ink = read_ink(DATA / "ink" / f"{name}.inkml")
        image = render_ink(ink, rng)
        _save(image, ink.text or "", out / f"{name}.png")
        lines.append((image, ink.text or ""))
    fonts = find_handwriting_fonts()
    if fonts:
        name, text = FONT_LINE
        _save(render_font_line(text, fonts[0], rng), text, out / f"{name}.png")
    # the page's lines share one plain paper, so no pasted rectangle edges look like ink
    plain = PaperStyle(background=(PAGE_PAPER / 255, PAGE_PAPER / 255), gradient=0.0, noise=(0.0, 0.0))
    inks = [read_ink(DATA / "ink" / f"{name}.inkml") for name, _, _ in LINES[:3]]
    page = _page([render_ink(ink, rng, plain) for ink in inks])
    _save(page, "\n".join(ink.text or "" for ink in inks), out / "page-of-three-lines.png")
    print(f"wrote {len(list(out.glob('*.png')))} images to {out}")


def _page(images: list[Image.Image]) -> Image.Image:
    gap = 30
    page = Image.new("L", (max(i.width for i in images) + 40, sum(i.height for i in images) + gap * 4), PAGE_PAPER)
    top = gap
    for image in images:
        page.paste(image, (20, top))
        top += image.height + gap
    return page


def _save(image: Image.Image, text: str, path: Path) -> None:
    image.save(path)
    ground_truth_path(path).write_text(text + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--what", choices=("all", "inks", "notebook", "images"), default="all")
    args = parser.parse_args()
    if args.what in ("all", "inks"):
        write_inks()
    if args.what in ("all", "inks", "notebook"):
        write_notebook()
    if args.what in ("all", "images"):
        write_images()


if __name__ == "__main__":
    main()

"""Synthetic ink from single-stroke (Hershey) fonts, for the characters and
styles real data lacks: digits, capitals, punctuation, symbols.

Each glyph gets its own small random scale, slant and baseline offset; words
get random spacing; in the script faces, glyphs of a word are joined into one
pen stroke where the font's strokes nearly meet, as in connected writing.
"""

from __future__ import annotations

import functools
import random

import numpy as np
from HersheyFonts import HersheyFonts

from handwrite.ink import Ink

# Only the simplex (single-line) faces: the complex ones trace every line twice.
SCRIPT_FONTS = ("scripts", "cursive")
PRINT_FONTS = ("futural", "rowmans")
FONT_NAMES = SCRIPT_FONTS + PRINT_FONTS
JOIN_DISTANCE = 4.0  # font units (cap height ~21): closer stroke ends are joined


@functools.cache
def _glyph_table(font: str) -> dict[str, tuple[list[np.ndarray], float, float]]:
    """char -> (strokes in font units, y down, x from the glyph's left edge; advance)."""
    fonts = HersheyFonts()
    fonts.load_default_font(font)
    table = {}
    for code in range(32, 127):
        char = chr(code)
        glyph = next(iter(fonts.glyphs_for_text(char)))
        strokes = [np.asarray(s, dtype=np.float64) - [glyph.left_offset, 0] for s in glyph.strokes if len(s)]
        table[char] = (strokes, float(glyph.char_width), float(glyph.base_line))
    return table


# Accented letters: the base glyph plus an accent stroke (font units, y down),
# so synthetic ink can teach characters no Hershey face has.
_ACCENT_STROKES = {
    "acute": [[(-1.5, -1.0), (2.0, -5.0)]],
    "grave": [[(-2.0, -5.0), (1.5, -1.0)]],
    "circumflex": [[(-3.0, -1.0), (0.0, -4.5), (3.0, -1.0)]],
    "diaeresis": [[(-2.5, -2.0), (-2.0, -2.5)], [(2.0, -2.0), (2.5, -2.5)]],
}
ACCENTED = {
    **{c: (b, "acute") for c, b in zip("\u00e1\u00e9\u00ed\u00f3\u00fa", "aeiou", strict=True)},
    **{c: (b, "grave") for c, b in zip("\u00e0\u00e8\u00f9", "aeu", strict=True)},
    **{c: (b, "circumflex") for c, b in zip("\u00e2\u00ea\u00ee\u00f4\u00fb", "aeiou", strict=True)},
    **{c: (b, "diaeresis") for c, b in zip("\u00e4\u00eb\u00ef\u00f6\u00fc", "aeiou", strict=True)},
}


def supported_chars() -> str:
    return "".join(chr(c) for c in range(32, 127)) + "".join(ACCENTED)


def _glyph(table: dict, char: str) -> tuple[list[np.ndarray], float, float]:
    if char not in ACCENTED:
        return table.get(char, table["?"])
    base, accent = ACCENTED[char]
    strokes, advance, baseline = table[base]
    points = np.concatenate(strokes)
    centre, top = (points[:, 0].min() + points[:, 0].max()) / 2, points[:, 1].min()
    marks = [np.asarray(mark) + np.array([centre, top]) for mark in _ACCENT_STROKES[accent]]
    return [*strokes, *marks], advance, baseline


def render_text(text: str, rng: random.Random, font: str | None = None) -> Ink:
    """Pen strokes writing ``text`` in a random (or the given) Hershey face."""
    font = font or rng.choice(FONT_NAMES)
    table = _glyph_table(font)
    slant = rng.uniform(-0.15, 0.45)
    size = rng.uniform(0.85, 1.15)
    tracking = rng.uniform(0.65, 0.85)  # the faces run wider than handwriting
    drift = 0.0
    pen_x = 0.0
    strokes: list[np.ndarray] = []
    join = font in SCRIPT_FONTS
    previous_char = " "
    for char in text:
        glyph_strokes, advance, baseline = _glyph(table, char)
        drift = 0.9 * drift + rng.gauss(0.0, 0.6)
        glyph_scale = size * rng.uniform(0.92, 1.08)
        glyph_slant = slant + rng.gauss(0.0, 0.05)
        for index, stroke in enumerate(glyph_strokes):
            y = (stroke[:, 1] - baseline) * glyph_scale
            x = stroke[:, 0] * glyph_scale * tracking - y * glyph_slant + pen_x
            placed = np.stack([x, y + drift], axis=1)
            # only a glyph's first stroke continues the previous one (never an accent or a dot)
            if join and index == 0 and previous_char != " " and strokes and _close(strokes[-1][-1], placed[0]):
                strokes[-1] = np.concatenate([strokes[-1], placed])
            else:
                strokes.append(placed)
        previous_char = char
        pen_x += advance * glyph_scale * tracking * (rng.uniform(1.1, 1.6) if char == " " else rng.uniform(0.9, 1.05))
    noise = np.random.default_rng(rng.getrandbits(32))
    jittered = [s + noise.normal(0.0, 0.1, s.shape) for s in strokes]  # a hand is never as steady as a font
    return Ink(_with_time(jittered), text=text, source=f"hershey:{font}")


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return float(np.hypot(*(a - b))) < JOIN_DISTANCE


def _with_time(strokes: list[np.ndarray]) -> list[np.ndarray]:
    """Add a plausible time channel: 100 points a second, 0.1 s per pen lift."""
    timed, clock = [], 0.0
    for stroke in strokes:
        t = clock + 0.01 * np.arange(len(stroke))
        timed.append(np.column_stack([stroke, t]))
        clock = t[-1] + 0.1
    return timed


class TextSampler:
    """Lines to write: real transcriptions, and made-up lines rich in the
    digits, capitals and punctuation that real transcriptions rarely hold."""

    PUNCTUATION = ".,;:!?'\"-()"
    SYMBOLS = "#&*+/[]@$%=<>_~^{}|\\`"

    def __init__(self, corpus_lines: list[str], words: list[str], rng: random.Random) -> None:
        self.lines = [line for line in corpus_lines if line.strip()]
        self.words = words or ["the", "of", "and", "to", "in", "handwriting", "writing"]
        self.rng = rng

    def sample(self) -> str:
        if self.lines and self.rng.random() < 0.4:
            return self.rng.choice(self.lines)
        return self._made_up_line()

    def _made_up_line(self) -> str:
        rng = self.rng
        tokens = []
        for _ in range(rng.randint(1, 5)):
            roll = rng.random()
            if roll < 0.15:
                token = str(rng.choice([rng.randint(0, 9), rng.randint(10, 99), rng.randint(100, 2030)]))
            elif roll < 0.2:
                token = f"{rng.randint(0, 99)}{rng.choice('.,:/-')}{rng.randint(0, 99):02d}"
            elif roll < 0.25:
                token = rng.choice(self.SYMBOLS) + rng.choice(self.words)
            else:
                token = rng.choice(self.words)
                token = token.upper() if rng.random() < 0.07 else token.capitalize() if rng.random() < 0.25 else token
            if rng.random() < 0.2:
                token += rng.choice(self.PUNCTUATION)
            if rng.random() < 0.05:
                token = rng.choice("(\"'") + token + rng.choice(")\"'")
            tokens.append(token)
        return " ".join(tokens)


def common_words(count: int = 20000) -> list[str]:
    """Frequent English words from wordfreq (only used at training time)."""
    try:
        from wordfreq import top_n_list
    except ImportError:
        return []
    return [w for w in top_n_list("en", count) if w.isascii() and w.isalpha()]

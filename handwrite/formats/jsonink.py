"""Ink JSON: {"strokes": [[[x, y, t], ...], ...], "text": "..."}."""

from __future__ import annotations

import json

from handwrite.errors import FormatError, InkError
from handwrite.ink import MAX_POINTS, Ink

# A point [x, y, t] is one list and three commas' worth of values: an ink at the
# point cap holds about 4 * MAX_POINTS lists, objects and values, plus a little text.
MAX_JSON_VALUES = 4 * MAX_POINTS + 65536


def parse_json_ink(data: bytes, name: str = "<json>") -> Ink:
    _check_values(data, name)
    try:
        document = json.loads(data)
    except RecursionError:
        raise FormatError(f"{name}: JSON nested too deeply to be ink") from None
    except ValueError as exc:  # malformed JSON, undecodable bytes, a 5000-digit number
        raise FormatError(f"{name}: malformed JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("strokes"), list):
        raise FormatError(f'{name}: expected an object with a "strokes" list')
    text = document.get("text")
    if text is not None and not isinstance(text, str):
        raise FormatError(f'{name}: "text" must be a string')
    try:
        return Ink.from_points(document["strokes"], text=text)
    except (InkError, ValueError, TypeError) as exc:
        raise FormatError(f"{name}: {exc}") from exc


def _check_values(data: bytes, name: str) -> None:
    """Refuse, before parsing, a document that would build more Python objects
    than an ink at the point cap: json.loads has no streaming, and millions of
    tiny values ([], "ab", 1.5) cost some 60 bytes each once parsed. Every value
    or key but the first follows a comma, a colon or an opening bracket, so their
    count bounds it (those inside strings only count too many)."""
    values = data.count(b",") + data.count(b":") + data.count(b"[") + data.count(b"{")
    if values > MAX_JSON_VALUES:
        raise FormatError(
            f"{name}: about {values} JSON values, more than an ink of {MAX_POINTS} points holds; refused unparsed"
        )


def format_json_ink(ink: Ink) -> str:
    strokes = [[[round(float(v), 6) for v in point] for point in stroke] for stroke in ink.strokes]
    document: dict = {"strokes": strokes}
    if ink.text is not None:
        document["text"] = ink.text
    return json.dumps(document, ensure_ascii=False)

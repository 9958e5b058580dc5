"""Ink JSON: {"strokes": [[[x, y, t], ...], ...], "text": "..."}."""

from __future__ import annotations

import json

from handwrite.errors import FormatError, InkError
from handwrite.ink import Ink


def parse_json_ink(data: bytes, name: str = "<json>") -> Ink:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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


def format_json_ink(ink: Ink) -> str:
    strokes = [[[round(float(v), 6) for v in point] for point in stroke] for stroke in ink.strokes]
    document: dict = {"strokes": strokes}
    if ink.text is not None:
        document["text"] = ink.text
    return json.dumps(document, ensure_ascii=False)

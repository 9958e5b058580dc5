"""W3C InkML: read traces (any channel order, difference encodings, nested
trace groups) with their truth annotation; write the same."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import numpy as np

from handwrite.errors import FormatError, InkError
from handwrite.formats.xmlsafe import local_name, parse_xml
from handwrite.ink import Ink

NAMESPACE = "http://www.w3.org/2003/InkML"
TRUTH_TYPES = ("truth", "transcription")
_TOKEN = re.compile(r"([!'\"]?)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?i:nan|inf(?:inity)?)|[TF*?])")


def parse_inkml(data: bytes, name: str = "<inkml>") -> Ink:
    root = parse_xml(data, name)
    if local_name(root.tag) != "ink":
        raise FormatError(f"{name}: not InkML (root element is <{local_name(root.tag)}>, expected <ink>)")
    channels = _channels(root)
    strokes = []
    for element in root.iter():
        if local_name(element.tag) == "trace":
            try:
                strokes.append(_parse_trace(element.text or "", channels))
            except ValueError as exc:
                trace_id = element.get("{http://www.w3.org/XML/1998/namespace}id") or element.get("id") or "?"
                raise FormatError(f"{name}: trace {trace_id}: {exc}") from exc
    try:
        return Ink(strokes, text=_truth(root), source=name)
    except InkError as exc:
        raise FormatError(f"{name}: {exc}") from exc


def _channels(root: Element) -> list[str]:
    """Channel names of the first <traceFormat> (default X Y)."""
    for element in root.iter():
        if local_name(element.tag) == "traceFormat":
            names = [c.get("name", "").upper() for c in element if local_name(c.tag) == "channel"]
            if names:
                return names
    return ["X", "Y"]


def _truth(root: Element) -> str | None:
    # The annotation of the whole ink (a direct child) wins over nested ones.
    candidates = [el for el in root if local_name(el.tag) == "annotation"] + [
        el for el in root.iter() if local_name(el.tag) == "annotation"
    ]
    for element in candidates:
        if element.get("type", "").lower() in TRUTH_TYPES:
            return (element.text or "").strip()
    return None


def _parse_trace(text: str, channels: list[str]) -> np.ndarray:
    """Points of one trace as (n, 3) x, y, t, decoding ' (first) and " (second) differences."""
    n = len(channels)
    rows: list[list[float]] = []
    velocity = [0.0] * n
    mode = ["!"] * n
    for raw_point in text.split(","):
        if not raw_point.strip():
            continue
        tokens = _TOKEN.findall(raw_point)
        if _TOKEN.sub("", raw_point).strip():
            raise ValueError(f"point {raw_point.strip()[:40]!r} holds something that is not a number")
        if len(tokens) < min(n, 2):
            raise ValueError(f"point {raw_point.strip()[:40]!r} has {len(tokens)} values for {n} channels")
        values = []
        for i, (prefix, token) in enumerate(tokens[:n]):
            if prefix:
                mode[i] = prefix
            values.append(_decode(token, i, mode[i], rows, velocity))
        while len(values) < n:  # trailing channels may be omitted
            values.append(rows[-1][len(values)] if rows else 0.0)
        rows.append(values)
    if not rows:
        return np.zeros((0, 3))
    table = np.asarray(rows, dtype=np.float64)
    out = np.zeros((len(rows), 3))
    for column, channel in enumerate(("X", "Y", "T")):
        if channel in channels:
            out[:, column] = table[:, channels.index(channel)]
    if "T" in channels:
        out[:, 2] = out[:, 2] / 1000.0  # InkML time is conventionally milliseconds
    return out


def _decode(token: str, i: int, mode: str, rows: list[list[float]], velocity: list[float]) -> float:
    value = (1.0 if token == "T" else 0.0) if token in "TF*?" else float(token)
    if not rows or mode == "!":
        velocity[i] = 0.0 if not rows else value - rows[-1][i]
        return value
    if mode == "'":
        velocity[i] = value
        return rows[-1][i] + value
    velocity[i] += value  # second difference: change of the first difference
    return rows[-1][i] + velocity[i]


def format_inkml(ink: Ink) -> str:
    """InkML text with X Y T channels (T in milliseconds) and a truth annotation."""
    has_time = any(np.any(s[:, 2] != 0) for s in ink.strokes)
    channels = ["X", "Y", "T"] if has_time else ["X", "Y"]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<ink xmlns="{NAMESPACE}">']
    if ink.text is not None:
        lines.append(f'  <annotation type="truth">{escape(ink.text)}</annotation>')
    lines.append("  <traceFormat>")
    lines += [f'    <channel name="{c}" type="decimal"/>' for c in channels]
    lines.append("  </traceFormat>")
    for stroke in ink.strokes:
        points = ", ".join(_format_point(p, has_time) for p in stroke)
        lines.append(f"  <trace>{points}</trace>")
    lines.append("</ink>")
    return "\n".join(lines) + "\n"


def _format_point(point: np.ndarray, has_time: bool) -> str:
    text = f"{point[0]:.6g} {point[1]:.6g}"
    return f"{text} {point[2] * 1000.0:.10g}" if has_time else text

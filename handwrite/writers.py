"""One writer class per output format of `handwrite transcribe`, chosen by name from
`WRITERS` (txt, json, jsonl, csv, pdf).

A writer gets each input's `Item` in input order (`add`) and is closed at the end
(`close`); it writes to a stream (stdout) or, with `-o`, into an `OutputFolder`.
Importable without torch or numpy: the command's `-f` choices come from `WRITERS`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from handwrite.errors import HandwriteError, UsageError
from handwrite.output_folder import ERRORS_JSON
from handwrite.printable import encodable, printable, shown
from handwrite.results import rounded_confidence

if TYPE_CHECKING:
    from PIL import Image

    from handwrite.ink import Ink
    from handwrite.output_folder import OutputFolder
    from handwrite.results import Result
    from handwrite.transcribe import Item


class Writer:
    """An output format: `add` each item in input order, `close` at the end.

    `per_input_suffix`: the suffix of the file written per input under `-o`
    (None: one file for the whole run, or the stream). `add` returns an error message
    when the item's output could not be written (the input then counts as failed).
    """

    per_input_suffix: str | None = None
    needs_sources = False  # keep what was read (an Ink or image) on each item

    def __init__(self, folder: OutputFolder | None, many: bool, out: TextIO | None = None) -> None:
        self.folder, self.many = folder, many
        self.out = out if out is not None else sys.stdout  # read now: tests swap sys.stdout

    @classmethod
    def check(cls, output_dir: Path | None) -> None:
        """Raise UsageError when this format cannot be written as asked."""

    def add(self, item: Item, root: Path) -> str | None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _write_for(self, item: Item, root: Path, content: str | bytes) -> str | None:
        assert self.folder is not None and self.per_input_suffix is not None
        target = self.folder.target(item.path, root, self.per_input_suffix)
        try:
            self.folder.write(target, content)
        except OSError as exc:
            where = exc.filename if exc.filename is not None else target
            return f"{shown(item.path)}: could not write {shown(Path(where))} ({exc.strerror or exc})"
        return None

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)


class TxtWriter(Writer):
    """The text: to the stream (with several inputs, each line of it after its input's
    path and a tab, so a page's lines keep their path: grep-able, cut-able), or one
    NAME.txt per input."""

    def __init__(self, folder: OutputFolder | None, many: bool, out: TextIO | None = None) -> None:
        super().__init__(folder, many, out)
        if folder is not None:
            self.per_input_suffix = ".txt"

    def add(self, item: Item, root: Path) -> str | None:
        if item.result is None:
            return None
        if self.folder is not None:
            return self._write_for(item, root, item.result.text + "\n")
        if not self.many:
            self._print(item.result.text)
            return None
        path = shown(item.path)
        self._print("\n".join(f"{path}\t{line}" for line in item.result.text.split("\n")))
        return None


class JsonWriter(Writer):
    """The page schema (docs/formats.md) plus "alternatives": a list of them on the stream,
    or one NAME.json per input (and errors.json for the inputs that failed)."""

    def __init__(self, folder: OutputFolder | None, many: bool, out: TextIO | None = None) -> None:
        super().__init__(folder, many, out)
        if folder is not None:
            self.per_input_suffix = ".json"
        self.records: list[dict] = []

    def add(self, item: Item, root: Path) -> str | None:
        record = full_record(item)
        if self.folder is not None and item.result is not None:
            return self._write_for(item, root, strict_json(record, indent=2) + "\n")
        self.records.append(record)
        return None

    def close(self) -> None:
        if self.folder is None:
            self._print(strict_json(self.records, indent=2))
        elif self.records:  # failures, beside the per-input results
            self.folder.write_new(ERRORS_JSON, strict_json(self.records, indent=2) + "\n")


class JsonlWriter(Writer):
    """One record per input: printed as it comes, or results.jsonl."""

    def __init__(self, folder: OutputFolder | None, many: bool, out: TextIO | None = None) -> None:
        super().__init__(folder, many, out)
        self.lines: list[str] = []

    def add(self, item: Item, root: Path) -> str | None:
        line = strict_json(record(item))
        if self.folder is None:
            self._print(line)
        else:
            self.lines.append(line + "\n")
        return None

    def close(self) -> None:
        if self.folder is not None and self.lines:  # none: interrupted before the first input
            self.folder.write_new("results.jsonl", "".join(self.lines))


class CsvWriter(Writer):
    """path, text, confidence, error: to the stream or results.csv."""

    def __init__(self, folder: OutputFolder | None, many: bool, out: TextIO | None = None) -> None:
        super().__init__(folder, many, out)
        self.rows = io.StringIO()
        self.csv = csv.writer(self.rows, lineterminator="\n")
        self.csv.writerow(["path", "text", "confidence", "error"])
        self.added = False

    def add(self, item: Item, root: Path) -> str | None:
        fields = record(item)
        self.csv.writerow(
            [fields["path"], fields.get("text", ""), fields.get("confidence", ""), fields.get("error", "")]
        )
        self.added = True
        return None

    def close(self) -> None:
        if self.folder is None:
            self.out.write(self.rows.getvalue())
        elif self.added:  # none: interrupted before the first input
            self.folder.write_new("results.csv", self.rows.getvalue())


class PdfWriter(Writer):
    """A searchable PDF per input (NAME.pdf): the ink drawn, or the image, with the
    text invisible on each word. Needs `-o` and handwrite.pdf."""

    per_input_suffix = ".pdf"
    needs_sources = True

    @classmethod
    def check(cls, output_dir: Path | None) -> None:
        if output_dir is None:
            raise UsageError("-f pdf writes one PDF per input: name the folder with -o OUTDIR")
        if _pdf_maker() is None:
            raise UsageError("-f pdf: PDF output is not available in this version (no handwrite.pdf)")

    def add(self, item: Item, root: Path) -> str | None:
        if item.result is None:
            return None
        make_pdf = _pdf_maker()
        assert make_pdf is not None and item.source is not None
        try:  # made here, written once by the output folder (atomically)
            return self._write_for(item, root, make_pdf(item.result, item.source, shown(Path(item.path).name)))
        except HandwriteError as exc:
            return str(exc) if str(item.path) in str(exc) else f"{shown(item.path)}: {exc}"
        except Exception as exc:  # one page the PDF library cannot take must not stop the batch
            return f"{shown(item.path)}: could not make the PDF ({type(exc).__name__}: {exc})"


def _pdf_maker() -> Callable[[Result, Ink | Image.Image, str], bytes] | None:
    try:
        from handwrite.pdf import searchable_pdf  # type: ignore[import-not-found]
    except ImportError:
        return None
    return searchable_pdf


WRITERS: dict[str, type[Writer]] = {
    "txt": TxtWriter,
    "json": JsonWriter,
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "pdf": PdfWriter,
}


def record(item: Item) -> dict:
    """The jsonl/csv record: path, text, confidence; or path, error."""
    if item.error is not None:
        return {"path": encodable(os.fspath(item.path)), "error": printable(item.error)}
    assert item.result is not None
    return {
        "path": encodable(os.fspath(item.path)),  # JSON and CSV keep a tab or newline in it exact
        "text": item.result.text,
        "confidence": rounded_confidence(item.result.confidence),
    }


def full_record(item: Item) -> dict:
    """`-f json`: {"path", **Result.to_dict() (the page schema), "alternatives", "words"};
    or {"path", "error"}."""
    fields = record(item)
    if item.result is None:
        return fields
    result = item.result
    fields.update(result.to_dict())
    fields["alternatives"] = [
        {"text": a.text, "confidence": rounded_confidence(a.confidence)} for a in result.alternatives
    ]
    fields["words"] = [{"text": w.text, "confidence": rounded_confidence(w.confidence)} for w in result.words]
    return fields


def strict_json(value: object, indent: int | None = None) -> str:
    """Strict JSON: a number that is not finite (a box from a broken model) is null,
    never `NaN` or `Infinity` in the output."""
    return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, indent=indent)


def _finite(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value

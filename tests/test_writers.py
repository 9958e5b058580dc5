"""One writer per output format (handwrite/writers.py), each on its own: what it
writes to a stream and into an output folder, for a good input and a failed one."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from handwrite.errors import UsageError
from handwrite.output_folder import OutputFolder
from handwrite.results import Alternative, Line, Result, Word
from handwrite.transcribe import Item, Source
from handwrite.writers import WRITERS, CsvWriter, JsonlWriter, JsonWriter, PdfWriter, TxtWriter, Writer, strict_json

ROOT = Path("inks")
GOOD = Item(
    ROOT / "note.inkml",
    Result(
        "hello",
        0.91234,
        (Alternative("hello", 0.91234), Alternative("hallo", 0.05)),
        lines=(Line("hello", 0.9, (0, 0, 10, 5), (0, 1), (Word("hello", 0.9, (0, 0, 10, 5), (0, 1)),)),),
    ),
)
FAILED = Item(ROOT / "bad.inkml", error="inks/bad.inkml: not InkML")


def written(writer_class: type[Writer], items: list[Item]) -> str:
    out = io.StringIO()
    writer = writer_class(None, many=len(items) > 1, out=out)
    assert all(writer.add(item, ROOT) is None for item in items)
    writer.close()
    return out.getvalue()


def test_the_registry_names_every_format_the_command_line_offers():
    assert list(WRITERS) == ["txt", "json", "jsonl", "csv", "pdf"]
    assert all(issubclass(writer, Writer) for writer in WRITERS.values())


def test_txt_prints_the_text_and_the_path_when_there_are_several():
    assert written(TxtWriter, [GOOD]) == "hello\n"
    assert written(TxtWriter, [GOOD, FAILED]) == "inks/note.inkml\thello\n"  # failures go to stderr
    page = Item(ROOT / "page.xopp", Result("first line\nsecond line", 0.9))
    assert written(TxtWriter, [page]) == "first line\nsecond line\n"
    assert written(TxtWriter, [page, GOOD]) == (  # each line of a page keeps its path
        "inks/page.xopp\tfirst line\ninks/page.xopp\tsecond line\ninks/note.inkml\thello\n"
    )


def test_jsonl_gives_one_record_per_input_in_order():
    records = [json.loads(line) for line in written(JsonlWriter, [GOOD, FAILED]).splitlines()]
    assert records == [
        {"path": "inks/note.inkml", "text": "hello", "confidence": 0.9123},
        {"path": "inks/bad.inkml", "error": "inks/bad.inkml: not InkML"},
    ]


def test_csv_has_a_header_and_a_row_per_input():
    rows = list(csv.reader(io.StringIO(written(CsvWriter, [GOOD, FAILED]))))
    assert rows == [
        ["path", "text", "confidence", "error"],
        ["inks/note.inkml", "hello", "0.9123", ""],
        ["inks/bad.inkml", "", "", "inks/bad.inkml: not InkML"],
    ]


def test_json_gives_the_page_schema_with_alternatives_and_the_errors():
    good, failed = json.loads(written(JsonWriter, [GOOD, FAILED]))
    assert good["text"] == "hello" and good["pages"][0]["lines"][0]["words"][0]["strokes"] == [0, 1]
    assert good["alternatives"][1] == {"text": "hallo", "confidence": 0.05}
    assert failed == {"path": "inks/bad.inkml", "error": "inks/bad.inkml: not InkML"}


def test_per_input_files_in_an_output_folder(tmp_path):
    sources = [Source(GOOD.path, ROOT), Source(FAILED.path, ROOT)]
    for writer_class, name in [(TxtWriter, "note.inkml.txt"), (JsonWriter, "note.inkml.json")]:
        folder = OutputFolder(tmp_path / writer_class.__name__, sources)
        writer = writer_class(folder, many=True)
        assert writer.add(GOOD, ROOT) is None and writer.add(FAILED, ROOT) is None
        writer.close()
        assert (folder.folder / name).exists()
    assert (tmp_path / "TxtWriter" / "note.inkml.txt").read_text() == "hello\n"
    assert json.loads((tmp_path / "JsonWriter" / "errors.json").read_text())[0]["path"] == "inks/bad.inkml"


def test_pdf_needs_an_output_folder():
    with pytest.raises(UsageError, match="-o OUTDIR"):
        PdfWriter.check(None)


def test_numbers_that_are_not_finite_are_null_in_json():
    assert strict_json({"box": [0.0, float("nan"), float("inf")], "c": float("-inf")}) == (
        '{"box": [0.0, null, null], "c": null}'
    )

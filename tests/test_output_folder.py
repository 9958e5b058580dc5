"""The `-o` folder (handwrite/output_folder.py): names per input and per root, and
results files that never replace one already there."""

from __future__ import annotations

from handwrite.output_folder import OutputFolder
from handwrite.transcribe import Source


def test_output_names_keep_the_whole_input_name_and_each_root(tmp_path):
    a, b, b2 = tmp_path / "a", tmp_path / "b", tmp_path / "x" / "b"
    sources = [Source(a / "x.inkml", a), Source(b / "s" / "x.inkml", b), Source(b2 / "x.png", b2)]
    out = OutputFolder(tmp_path / "out", sources)
    targets = [out.target(s.path, s.root, ".txt").relative_to(tmp_path / "out").as_posix() for s in sources]
    assert targets == ["a/x.inkml.txt", "b/s/x.inkml.txt", "b-2/x.png.txt"]
    one_root = OutputFolder(tmp_path / "out", [Source(a / "note.inkml", a), Source(a / "note.png", a)])
    assert [one_root.target(a / n, a, ".txt").name for n in ("note.inkml", "note.png")] == [
        "note.inkml.txt",
        "note.png.txt",
    ]


def test_a_results_file_is_never_replaced(tmp_path):
    out = OutputFolder(tmp_path, [])
    (tmp_path / "results.jsonl").write_text("mine\n")
    assert out.write_new("results.jsonl", "new\n").name == "results-2.jsonl"
    assert OutputFolder(tmp_path, []).write_new("results.jsonl", "newer\n").name == "results-3.jsonl"
    assert (tmp_path / "results.jsonl").read_text() == "mine\n"

"""IAM-OnDB layout, with made-up forms in the same layout (no real data)."""

import io
import tarfile
import warnings
from pathlib import Path

import pytest

from handwrite import FormatError, read_ink
from handwrite.formats import iamondb
from tests.hostile import time_limit


def line_xml(n_points: int = 3) -> str:
    points = "".join(f'<Point x="{100 + 10 * i}" y="{200 + i}" time="{1.0 + i / 100:.2f}"/>' for i in range(n_points))
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?><WhiteboardCaptureSession><StrokeSet>'
        f'<Stroke colour="black">{points}</Stroke><Stroke>{points}</Stroke></StrokeSet>'
        "</WhiteboardCaptureSession>"
    )


def ascii_txt(lines: list[str]) -> str:
    return "OCR:\n\nsomething else\n\nCSR:\n\n" + "\n".join(lines) + "\n"


FORMS = {
    "z01-000": ["first line", "Mr . Smith's caf\xe9"],
    "z01-001u": ["only one line"],
    "z02-007": ["two transcriptions", "but three files"],
}
FILES_PER_FORM = {"z01-000": 2, "z01-001u": 1, "z02-007": 3}


def make_tree(root: Path) -> None:
    for form, lines in FORMS.items():
        folder = f"{form[:3]}/{form[:7]}"
        for n in range(1, FILES_PER_FORM[form] + 1):
            path = root / "lineStrokes" / folder / f"{form}-{n:02d}.xml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(line_xml(), encoding="iso-8859-1")
        path = root / "ascii" / folder / f"{form}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ascii_txt(lines), encoding="iso-8859-1")


def make_tars(root: Path, source: Path) -> None:
    for name in ("lineStrokes", "ascii"):
        with tarfile.open(root / f"{name}-all.tar.gz", "w:gz") as archive:
            archive.add(source / name, arcname=name)


@pytest.fixture(params=["folders", "tars"])
def iam_root(request, tmp_path) -> Path:
    make_tree(tmp_path / "tree")
    if request.param == "folders":
        return tmp_path / "tree"
    (tmp_path / "tars").mkdir()
    make_tars(tmp_path / "tars", tmp_path / "tree")
    return tmp_path / "tars"


def test_reads_lines_with_transcriptions_and_skips_mismatched_form(iam_root):
    with pytest.warns(UserWarning, match="z02-007: 3 line files but 2 transcription lines"):
        lines = list(iamondb.iter_lines(iam_root))
    assert [line.line_id for line in lines] == ["z01-000-01", "z01-000-02", "z01-001u-01"]
    assert lines[1].ink.text == "Mr . Smith's caf\xe9"
    assert lines[0].ink.strokes[0][1].tolist() == [110.0, 201.0, 1.01]


def test_form_filter(iam_root):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lines = list(iamondb.iter_lines(iam_root, {"z01-001u"}))
    assert [line.ink.text for line in lines] == ["only one line"]


def test_split_file_with_leading_spaces(tmp_path):
    (tmp_path / "trainset.txt").write_text(" z01-000\n  z01-001u\n\n")
    assert iamondb.read_split(tmp_path / "trainset.txt") == ["z01-000", "z01-001u"]


def test_read_ink_on_a_line_file_finds_its_transcription(tmp_path):
    make_tree(tmp_path)
    ink = read_ink(tmp_path / "lineStrokes/z01/z01-000/z01-000-02.xml")
    assert ink.text == "Mr . Smith's caf\xe9"
    assert ink.num_points == 6


def test_missing_csr_section_is_a_clear_error():
    with pytest.raises(FormatError, match="no 'CSR:' section"):
        iamondb.parse_transcription("OCR:\n\nhello\n", "z.txt")


def test_point_without_coordinates_is_a_clear_error():
    bad = b"<WhiteboardCaptureSession><StrokeSet><Stroke><Point x='1'/></Stroke></StrokeSet></WhiteboardCaptureSession>"
    with pytest.raises(FormatError, match="lacks a numeric"):
        iamondb.parse_line_strokes(bad, "x.xml")


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FormatError, match="no IAM-OnDB line files"):
        list(iamondb.iter_lines(tmp_path))


def test_tar_members_are_read_without_extracting(tmp_path):
    make_tree(tmp_path / "tree")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(tmp_path / "tree", arcname=".")
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "both.tar.gz").write_bytes(buffer.getvalue())
    with pytest.warns(UserWarning):
        assert len(list(iamondb.iter_lines(tmp_path / "only"))) == 3


def test_real_dataset_splits(iam_ondb):
    forms = set(iamondb.read_split(iam_ondb / "splits" / "testset_v.txt"))
    assert len(forms) == 192
    lines = list(iamondb.iter_lines(iam_ondb, set(list(sorted(forms))[:3])))
    assert lines and all(line.ink.text and line.ink.num_points > 10 for line in lines)


def test_form_without_transcription_file_is_skipped_with_a_warning(tmp_path):
    make_tree(tmp_path)
    (tmp_path / "ascii/z01/z01-001/z01-001u.txt").unlink()
    with pytest.warns(UserWarning, match="z01-001u: no transcription file"):
        lines = list(iamondb.iter_lines(tmp_path, {"z01-000", "z01-001u"}))
    assert [line.form_id for line in lines] == ["z01-000", "z01-000"]


def test_nested_strokes_are_read_in_linear_time_without_lending_points():
    """50k <Stroke>s nested in one another: each once iterated over all below it
    (quadratic: 109 s) and counted the innermost point 50k times."""
    depth = 50_000
    xml = (
        b"<WhiteboardCaptureSession><StrokeSet>"
        + b"<Stroke>" * depth
        + b'<Point x="1" y="2" time="0"/>'
        + b"</Stroke>" * depth
        + b"</StrokeSet></WhiteboardCaptureSession>"
    )
    with time_limit(60, "reading 50k nested strokes"):
        ink = iamondb.parse_line_strokes(xml, "nested.xml")
    assert ink.num_points == 1


def test_a_point_belongs_only_to_the_stroke_it_is_in():
    xml = (
        b'<WhiteboardCaptureSession><StrokeSet><Stroke><Point x="1" y="1"/><Stroke><Point x="2" y="2"/>'
        b'</Stroke><Point x="3" y="3"/></Stroke></StrokeSet></WhiteboardCaptureSession>'
    )
    ink = iamondb.parse_line_strokes(xml, "nested.xml")
    assert [s[:, 0].tolist() for s in ink.strokes] == [[2.0], [1.0, 3.0]]  # in the order the strokes end

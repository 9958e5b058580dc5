"""The `handwrite` command as a user runs it."""

import csv
import io
import json
import shutil
import subprocess
import sys

import pytest

from handwrite.cli import main
from tests.conftest import SAMPLE_INK


@pytest.fixture
def mixed_folder(tmp_path):
    """Good inks, and files that must each fail alone."""
    folder = tmp_path / "inks"
    shutil.copytree(SAMPLE_INK, folder)
    (folder / "sub").mkdir()
    (folder / "sub" / "broken.inkml").write_text("<ink><trace>1 2, 3")
    (folder / "sub" / "nan.json").write_text('{"strokes": [[[NaN, 1], [2, 3]]]}')
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE ink [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<ink><annotation type="truth">&b;</annotation></ink>'
    )
    (folder / "sub" / "bomb.inkml").write_text(bomb)
    (folder / "sub" / "empty.inkml").write_text('<ink xmlns="http://www.w3.org/2003/InkML"></ink>')
    (folder / "notes.txt").write_text("not ink, ignored in folders")
    return folder


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_jsonl_one_object_per_input_in_order_and_bad_files_do_not_stop_others(capsys, mixed_folder):
    code, out, err = run(capsys, "transcribe", str(mixed_folder), "-f", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    expected = sorted(p for p in mixed_folder.rglob("*") if p.suffix in (".inkml", ".json"))
    assert [r["path"] for r in records] == [str(p) for p in expected]
    by_name = {r["path"].rsplit("/", 1)[1]: r for r in records}
    assert set(by_name) == {
        "handwriting.inkml",
        "hello-world.inkml",
        "ink-as-json.json",
        "meeting.inkml",
        "quick-fox.inkml",
        "broken.inkml",
        "nan.json",
        "bomb.inkml",
        "empty.inkml",
    }
    assert "malformed XML" in by_name["broken.inkml"]["error"]
    assert "NaN" in by_name["nan.json"]["error"]
    assert "unsafe XML" in by_name["bomb.inkml"]["error"]
    assert by_name["empty.inkml"]["text"] == ""
    assert set(by_name["hello-world.inkml"]) == {"path", "text", "confidence"}
    assert code == 1
    assert "broken.inkml" in err and "Traceback" not in err


def test_all_good_inputs_exit_zero_and_txt_prints_the_text(capsys):
    code, out, _ = run(capsys, "transcribe", str(SAMPLE_INK / "hello-world.inkml"))
    assert code == 0 and out.strip() and "\t" not in out


def test_missing_file_is_reported_and_exit_one(capsys, tmp_path):
    code, out, _err = run(capsys, "transcribe", str(tmp_path / "nope.inkml"), "-f", "jsonl")
    assert code == 1
    assert "no such file" in json.loads(out)["error"]


def test_usage_error_exits_two(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["transcribe", "x.inkml", "-f", "yaml"])
    assert stop.value.code == 2
    assert main([]) == 2


def test_output_folder_txt_mirrors_inputs(capsys, mixed_folder, tmp_path):
    out_dir = tmp_path / "out"
    code, _, _ = run(capsys, "transcribe", str(mixed_folder), "-o", str(out_dir))
    assert code == 1
    assert (out_dir / "hello-world.txt").read_text().strip()
    assert (out_dir / "sub" / "empty.txt").exists()
    assert not (out_dir / "sub" / "broken.txt").exists()


def test_csv_and_json_formats(capsys, mixed_folder):
    _, out, _ = run(capsys, "transcribe", str(mixed_folder), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 9 and {"path", "text", "confidence", "error"} <= set(rows[0])
    _, out, _ = run(capsys, "transcribe", str(SAMPLE_INK), "-f", "json")
    records = json.loads(out)
    assert all("alternatives" in r and "words" in r for r in records)


def test_jsonl_to_output_folder(capsys, mixed_folder, tmp_path):
    run(capsys, "transcribe", str(mixed_folder), "-f", "jsonl", "-o", str(tmp_path / "o"))
    assert len((tmp_path / "o" / "results.jsonl").read_text().splitlines()) == 9


def test_parallel_workers_give_the_same_results(capsys, mixed_folder):
    _, serial, _ = run(capsys, "transcribe", str(mixed_folder), "-f", "jsonl", "-j", "1")
    _, parallel, _ = run(capsys, "transcribe", str(mixed_folder), "-f", "jsonl", "-j", "2")
    assert serial == parallel


def test_corrupt_model_is_a_clear_error(capsys, tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"junk" * 10)
    code, _, err = run(capsys, "transcribe", str(SAMPLE_INK), "-m", str(bad))
    assert code == 1 and "model.safetensors" in err and "Traceback" not in err


def test_eval_prints_cer_and_wer(capsys):
    code, out, _ = run(capsys, "eval", str(SAMPLE_INK))
    assert code == 0 and "CER" in out and "WER" in out


def test_python_dash_m_and_console_script():
    done = subprocess.run([sys.executable, "-m", "handwrite", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("handwrite ")


def test_eval_records_its_figures_in_the_model_file(capsys, tmp_path):
    import handwrite
    from handwrite.recognizer import DEFAULT_INK_MODEL

    model = tmp_path / "copy.safetensors"
    shutil.copy(DEFAULT_INK_MODEL, model)
    code, out, _ = run(capsys, "eval", str(SAMPLE_INK), "-m", str(model), "--record-metrics")
    assert code == 0
    recorded = handwrite.load_model(model).metadata["metrics"]["labelled files"]["beam 1"]
    assert f"CER {recorded['cer']:.2%}" in out and recorded["lines"] == 5


def test_eval_with_language_model_and_weights(capsys):
    code, out, _ = run(capsys, "eval", str(SAMPLE_INK), "--lm", "--lm-weight", "0.2", "--insertion-bonus", "0.1")
    assert code == 0 and "LM (weight 0.2)" in out


def test_eval_without_labels_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "a.json").write_text('{"strokes": [[[1, 2], [3, 4]]]}')
    code, _, err = run(capsys, "eval", str(tmp_path))
    assert code == 1 and "no transcription" in err and "nothing to score" in err


def test_an_unreadable_image_is_a_per_file_error(capsys, tmp_path):
    (tmp_path / "line.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    code, out, _ = run(capsys, "transcribe", str(tmp_path / "line.png"), "-f", "jsonl")
    assert code == 1 and "line.png: not an image" in json.loads(out)["error"]

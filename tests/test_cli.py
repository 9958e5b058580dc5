"""The `handwrite` command as a user runs it."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from handwrite.cli import main
from tests.conftest import REPO, SAMPLE_INK

HELLO = SAMPLE_INK / "hello-world.inkml"
QUICK_FOX = SAMPLE_INK / "quick-fox.inkml"
HELLO_IMAGE = REPO / "data" / "images" / "hello-world.png"


LABELLED_INK = ("handwriting.inkml", "hello-world.inkml", "ink-as-json.json", "meeting.inkml", "quick-fox.inkml")


@pytest.fixture
def labelled_ink(tmp_path):
    """The five labelled demo lines (data/ink may hold more demos, of other kinds)."""
    folder = tmp_path / "labelled"
    folder.mkdir()
    for name in LABELLED_INK:
        shutil.copy(SAMPLE_INK / name, folder)
    return folder


@pytest.fixture
def mixed_folder(tmp_path, labelled_ink):
    """Good inks, and files that must each fail alone."""
    folder = tmp_path / "inks"
    shutil.copytree(labelled_ink, folder)
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
    assert (out_dir / "hello-world.inkml.txt").read_text().strip()
    assert (out_dir / "sub" / "empty.inkml.txt").exists()
    assert not (out_dir / "sub" / "broken.inkml.txt").exists()


def test_csv_and_json_formats(capsys, mixed_folder, labelled_ink):
    _, out, _ = run(capsys, "transcribe", str(mixed_folder), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 9 and {"path", "text", "confidence", "error"} <= set(rows[0])
    _, out, _ = run(capsys, "transcribe", str(labelled_ink), "-f", "json")
    records = json.loads(out)
    assert all("alternatives" in r and "words" in r for r in records)


def test_jsonl_to_output_folder(capsys, mixed_folder, tmp_path):
    run(capsys, "transcribe", str(mixed_folder), "-f", "jsonl", "-o", str(tmp_path / "o"))
    assert len((tmp_path / "o" / "results.jsonl").read_text().splitlines()) == 9


def test_parallel_workers_give_the_same_results(capsys, mixed_folder):
    _, serial, _ = run(capsys, "transcribe", str(mixed_folder), "-f", "jsonl", "-j", "1")
    _, parallel, _ = run(capsys, "transcribe", str(mixed_folder), "-f", "jsonl", "-j", "2")
    assert serial == parallel


def test_corrupt_model_is_a_clear_error(capsys, tmp_path, labelled_ink):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"junk" * 10)
    code, _, err = run(capsys, "transcribe", str(labelled_ink), "-m", str(bad))
    assert code == 1 and "model.safetensors" in err and "Traceback" not in err


def test_a_bundled_model_is_chosen_by_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "transcribe", str(HELLO), "-m", "online-default")
    assert code == 0 and out.strip() == "hello world"
    code, _, err = run(capsys, "transcribe", str(HELLO), "-m", "online-lstm")  # a usage error, said at once
    assert code == 2 and "online-lstm: no such file" in err and "online-default" in err and "Traceback" not in err
    code, _, err = run(capsys, "eval", str(HELLO), "-m", "online-default.safetensors")  # not here: the name?
    assert code == 2 and "did you mean the bundled model online-default?" in err


def test_training_commands_say_at_once_when_a_model_they_name_is_not_there(capsys, tmp_path):
    out = str(tmp_path / "out.safetensors")
    for argv, said in [
        (["finetune", str(SAMPLE_INK), "-b", str(tmp_path / "gone.safetensors"), "-o", out], "-b "),
        (["train", "--iam-ondb", str(tmp_path), "-o", out, "--load", "onlin-default"], "--load onlin-default"),
        (["train", "--iam-ondb", str(tmp_path), "-o", out, "--teacher", "nope"], "--teacher nope"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 2 and said in err and "no such" in err
    assert not list(tmp_path.iterdir())


def test_options_that_do_nothing_without_another_are_usage_errors(capsys, tmp_path):
    lm_file = tmp_path / "chars.lm.json.gz"
    lm_file.write_bytes(b"never read")
    for alone, needed in [
        (["--overwrite"], "give -o OUTDIR too"),
        (["--skip-existing"], "give -o OUTDIR too"),
        (["--skip-existing", "--overwrite", "-o", str(tmp_path / "out")], "choose one"),
        (["--skip-existing", "-f", "jsonl", "-o", str(tmp_path / "out")], "use -f txt, json or pdf"),
        (["--no-words"], "give --lm too"),
        (["--lm-file", str(lm_file), "--no-words"], "give --lm too"),  # such a file has no word lexicon
    ]:
        code, out, err = run(capsys, "transcribe", str(HELLO), *alone)
        assert code == 2 and needed in err and out == ""
    code, out, _ = run(capsys, "transcribe", str(HELLO), "--lm", "--no-words")
    assert code == 0 and out.strip() == "hello world"


def test_gui_screenshot_without_a_replay_is_a_usage_error_not_a_wait(capsys, tmp_path):
    code, _, err = run(capsys, "gui", "--screenshot", str(tmp_path / "x.png"), "--text-out", str(tmp_path / "x.txt"))
    assert code == 2 and "--screenshot and --text-out need --replay INK" in err
    assert not list(tmp_path.iterdir())


def test_gui_with_a_personal_model_not_yet_trained_says_how_to_train_one(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    code, _, err = run(capsys, "gui", "-m", "personal")
    assert code == 2 and "-m personal: no personal model yet" in err and "Train on my samples" in err


def test_eval_prints_cer_and_wer(capsys, labelled_ink):
    code, out, _ = run(capsys, "eval", str(labelled_ink))
    assert code == 0 and "CER" in out and "WER" in out


def test_python_dash_m_and_console_script():
    done = subprocess.run([sys.executable, "-m", "handwrite", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("handwrite ")


def test_eval_records_its_figures_in_the_model_file(capsys, tmp_path, labelled_ink):
    import handwrite
    from handwrite.recognizer import DEFAULT_INK_MODEL

    model = tmp_path / "copy.safetensors"
    shutil.copy(DEFAULT_INK_MODEL, model)
    code, out, _ = run(capsys, "eval", str(labelled_ink), "-m", str(model), "--record-metrics")
    assert code == 0
    recorded = handwrite.load_model(model).metadata["metrics"]["labelled files"]["beam 1"]
    assert f"CER {recorded['cer']:.2%}" in out and recorded["lines"] == 5


def test_eval_records_into_a_local_file_named_like_a_bundled_model(capsys, tmp_path, monkeypatch, labelled_ink):
    import handwrite
    from handwrite.recognizer import DEFAULT_INK_MODEL

    shutil.copy(DEFAULT_INK_MODEL, tmp_path / "online-default")  # -m reads this file, so it is named by path
    monkeypatch.chdir(tmp_path)
    before = DEFAULT_INK_MODEL.read_bytes()
    code, _, _ = run(capsys, "eval", str(labelled_ink), "-m", "online-default", "--record-metrics")
    assert code == 0 and "labelled files" in handwrite.load_model(tmp_path / "online-default").metadata["metrics"]
    assert DEFAULT_INK_MODEL.read_bytes() == before


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--record-metrics"], "name the file by its path with -m"),  # it wrote into the bundled model's file
        (["-m", "online-default", "--record-metrics"], "name the file by its path with -m"),
        (["--iam-ondb", "nowhere", "--limit", "10", "--record-metrics", "-m", "m.safetensors"], "not with --limit"),
        (["--iam-ondb", "nowhere", "--limit", "0"], "--limit takes"),  # it scored the whole split
        (["--limit", "2"], "--limit takes"),  # it was ignored
    ],
)
def test_eval_refuses_what_would_record_or_score_other_than_asked(capsys, labelled_ink, flags, said):
    from handwrite.recognizer import DEFAULT_INK_MODEL

    before = DEFAULT_INK_MODEL.read_bytes()
    code, _, err = run(capsys, "eval", str(labelled_ink), *flags)
    assert code == 2 and said in err
    assert DEFAULT_INK_MODEL.read_bytes() == before


def test_eval_without_inputs_is_a_usage_error(capsys):
    code, _, err = run(capsys, "eval")
    assert code == 2 and "nothing to score" in err


def test_eval_of_a_folder_without_inputs_is_a_usage_error_as_for_transcribe(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("not ink")
    for command in ("eval", "transcribe"):
        code, _, err = run(capsys, command, str(tmp_path))
        assert code == 2 and "no ink files or images found in" in err, (command, err)


def test_eval_with_language_model_and_weights(capsys, labelled_ink):
    code, out, _ = run(capsys, "eval", str(labelled_ink), "--lm", "--lm-weight", "0.2", "--insertion-bonus", "0.1")
    assert code == 0 and "LM (weight 0.2)" in out and "word lexicon with word pairs (weight 1.0)" in out


def test_eval_without_labels_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "a.json").write_text('{"strokes": [[[1, 2], [3, 4]]]}')
    code, _, err = run(capsys, "eval", str(tmp_path))
    assert code == 1 and "no transcription" in err and "nothing to score" in err


def test_eval_scores_a_notebook_against_the_gt_txt_beside_it_and_names_what_it_left_out(capsys, tmp_path):
    data = REPO / "data"
    code, out, err = run(capsys, "eval", str(data / "notes"))  # no truth inside a notebook: its .gt.txt
    assert code == 0 and "(5 lines," in out and "no transcription" not in err and "left out" not in out  # 2 pages
    code, out, err = run(capsys, "eval", str(data / "ink"), str(data / "images"))  # an ink model: images named
    assert code == 0 and "6 images in the folders not scored: this is an ink model" in err
    code, out, err = run(capsys, "eval", str(data / "ink"), "-m", "image-default")
    assert code == 1 and "5 ink files in the folders not scored" in err and "nothing to score" in err


def test_an_unreadable_image_is_a_per_file_error(capsys, tmp_path):
    (tmp_path / "line.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    code, out, _ = run(capsys, "transcribe", str(tmp_path / "line.png"), "-f", "jsonl")
    assert code == 1 and "line.png: not a" in json.loads(out)["error"]


# ---- issue 17: the command line and batch ------------------------------------------------


def test_beam_and_workers_are_bounded_usage_errors(capsys, tmp_path):
    missing = str(tmp_path / "missing.inkml")  # old code would only fail to read it
    too_many = str(len(os.sched_getaffinity(0)) + 1)
    for command, option, value in [
        ("transcribe", "--beam", "1000000"),
        ("transcribe", "--beam", "0"),
        ("eval", "--beam", "65"),
        ("transcribe", "-j", too_many),
        ("transcribe", "-j", "-1"),
    ]:
        with pytest.raises(SystemExit) as stop:
            main([command, missing, option, value])
        err = capsys.readouterr().err
        assert stop.value.code == 2, (option, value)
        assert f"argument {option}" in err and "must be from 1 to" in err and value in err


def test_lm_is_a_flag_and_a_custom_lm_is_its_own_option(capsys, tmp_path):
    from handwrite.recognizer import DEFAULT_LM

    folder = tmp_path / "more"
    folder.mkdir()
    shutil.copy(QUICK_FOX, folder)
    code, out, err = run(capsys, "transcribe", str(HELLO), "--beam", "8", "--lm", str(folder), "-f", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert [Path(r["path"]).name for r in records] == ["hello-world.inkml", "quick-fox.inkml"], err
    assert code == 0 and all(r["text"] for r in records)
    code, out, _ = run(capsys, "transcribe", str(HELLO), "--lm-file", str(DEFAULT_LM), "-f", "jsonl")
    assert code == 0 and json.loads(out)["text"]
    code, _, err = run(capsys, "transcribe", str(HELLO), str(folder), "--lm-file", str(tmp_path / "no-such-lm.json.gz"))
    assert code == 2 and err.count("no-such-lm.json.gz") == 1 and "Traceback" not in err  # said once, before work
    code, out, _ = run(capsys, "eval", str(HELLO), "--lm-file", str(DEFAULT_LM))
    assert code == 0 and "LM" in out
    with pytest.raises(SystemExit) as stop:  # which LM was meant is not guessed
        main(["transcribe", str(HELLO), "--lm", "--lm-file", str(DEFAULT_LM)])
    assert stop.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


@pytest.fixture
def odd_names(tmp_path):
    """A file name that is not UTF-8 (Latin-1 é), beside a plain one."""
    folder = tmp_path / "inks"
    folder.mkdir()
    shutil.copy(HELLO, folder / "plain.inkml")
    shutil.copy(HELLO, os.path.join(os.fsencode(folder), b"caf\xe9.inkml"))
    return folder


def test_file_names_that_are_not_utf8_are_written_and_reported(capsys, tmp_path, odd_names):
    out = tmp_path / "out"
    code, _, err = run(capsys, "transcribe", str(odd_names), "-f", "jsonl", "-o", str(out))
    assert code == 0, err
    records = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(Path(r["path"]).name for r in records) == ["caf\\xe9.inkml", "plain.inkml"]
    assert all(r["text"] for r in records)
    code, stdout, _ = run(capsys, "transcribe", str(odd_names), "-f", "jsonl")
    assert code == 0 and "caf\\xe9.inkml" in [Path(json.loads(line)["path"]).name for line in stdout.splitlines()]
    for fmt in ("csv", "txt"):
        code, stdout, _ = run(capsys, "transcribe", str(odd_names), "-f", fmt)
        assert code == 0 and "caf\\xe9.inkml" in stdout
    code, _, _ = run(capsys, "transcribe", str(odd_names), "-f", "json", "-o", str(out / "json"))
    assert code == 0
    assert sorted(os.listdir(os.fsencode(out / "json"))) == [b"caf\xe9.inkml.json", b"plain.inkml.json"]
    code, _, err = run(capsys, "transcribe", str(odd_names), "-f", "pdf", "-o", str(out / "pdf"))  # the PDF's title
    assert code == 0, err
    assert sorted(os.listdir(os.fsencode(out / "pdf"))) == [b"caf\xe9.inkml.pdf", b"plain.inkml.pdf"]


def test_control_characters_in_file_names_are_shown_escaped(capsys, tmp_path):
    """A name holding ESC [2J cleared the terminal its error went to; a tab or a newline
    broke the `path<TAB>text` lines."""
    folder = tmp_path / "odd"
    folder.mkdir()
    shutil.copy(HELLO, folder / "tab\there.inkml")
    (folder / "esc\x1b[2Jx.inkml").write_text("<ink><trace>1 2, 3")
    code, out, err = run(capsys, "transcribe", str(folder), "-f", "txt")
    assert code == 1 and "\x1b" not in err and "esc\\x1b[2Jx.inkml" in err
    assert [line.split("\t")[0].rsplit("/", 1)[1] for line in out.splitlines()] == ["tab\\there.inkml"]
    code, out, _ = run(capsys, "transcribe", str(folder), "-f", "jsonl")  # JSON keeps the name exact
    assert {Path(json.loads(line)["path"]).name for line in out.splitlines()} == {
        "tab\there.inkml",
        "esc\x1b[2Jx.inkml",
    }


def test_an_output_folder_that_cannot_be_made_is_said_before_any_reading(capsys, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    code, _, err = run(capsys, "transcribe", str(HELLO), "-o", str(blocked / "out"))
    assert code == 2 and "cannot make the output folder" in err and "a-file" in err
    code, _, err = run(capsys, "transcribe", str(tmp_path / "none.inkml"), "-o", str(tmp_path / "new" / "out"))
    assert "nothing written" in err and not (tmp_path / "new").exists()  # the folders it made, removed again
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 64)
    code, _, err = run(capsys, "transcribe", str(HELLO), "-o", str(tmp_path / "new" / "out"), "-m", str(garbage))
    assert code == 1 and "garbage.safetensors" in err and not (tmp_path / "new").exists()  # also when it fails


def test_ink_saved_as_json_under_a_result_s_name_is_read_and_never_replaced(capsys, tmp_path):
    import handwrite

    folder = tmp_path / "notes"
    folder.mkdir()
    shutil.copy(HELLO, folder / "hello-world.inkml")
    handwrite.write_ink(handwrite.read_ink(QUICK_FOX), folder / "hello-world.inkml.json")  # the user's own ink
    saved = (folder / "hello-world.inkml.json").read_bytes()
    code, out, _ = run(capsys, "transcribe", str(folder), "-f", "jsonl")
    assert code == 0 and len(out.splitlines()) == 2  # both are inputs
    code, _, err = run(capsys, "transcribe", str(folder), "-f", "json", "-o", str(folder), "--overwrite")
    assert code == 2 and "an input file would be written over" in err
    assert (folder / "hello-world.inkml.json").read_bytes() == saved
    out = tmp_path / "out"
    out.mkdir()
    (out / "hello-world.inkml.json").write_text('{"settings": "the user\'s own"}')  # neither input nor result
    code, _, err = run(capsys, "transcribe", str(folder / "hello-world.inkml"), "-f", "json", "-o", str(out))
    assert code == 2 and "no result of handwrite would be written over" in err


def test_output_names_are_unique_per_input_and_say_what_was_written(capsys, tmp_path):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    for folder, ink in ((a, HELLO), (b, QUICK_FOX)):
        folder.mkdir()
        shutil.copy(ink, folder / "x.inkml")
    shutil.copy(REPO / "data" / "images" / "handwriting.png", b / "x.png")  # a third text (not "hello world")
    code, _, err = run(capsys, "transcribe", str(a), str(b), "-o", str(out))
    assert code == 0
    texts = [(out / name).read_text() for name in ("a/x.inkml.txt", "b/x.inkml.txt", "b/x.png.txt")]
    assert len(set(texts)) == 3 and all(t.strip() for t in texts)
    assert f"wrote 3 files to {out}" in err


def test_json_into_the_input_folder_leaves_the_users_ink_json_alone(capsys, tmp_path):
    ink = tmp_path / "x.json"
    shutil.copy(SAMPLE_INK / "ink-as-json.json", ink)
    before = ink.read_bytes()
    code, _, _ = run(capsys, "transcribe", str(ink), "-f", "json", "-o", str(tmp_path))
    assert code == 0 and ink.read_bytes() == before
    record = json.loads((tmp_path / "x.json.json").read_text())
    assert record["path"] == str(ink) and record["text"]


def test_two_runs_into_one_folder_keep_both_results(capsys, tmp_path):
    out = tmp_path / "out"
    for _ in range(2):
        code, _, err = run(capsys, "transcribe", str(HELLO), "-f", "jsonl", "-o", str(out))
        assert code == 0
    assert str(out / "results-2.jsonl") in err
    assert sorted(p.name for p in out.iterdir()) == ["results-2.jsonl", "results.jsonl"]


def test_files_of_an_earlier_run_are_replaced_only_with_overwrite(capsys, tmp_path):
    out = tmp_path / "out"
    assert run(capsys, "transcribe", str(HELLO), "-o", str(out))[0] == 0
    (out / "hello-world.inkml.txt").write_text("edited by hand\n")
    code, _, err = run(capsys, "transcribe", str(HELLO), "-o", str(out))
    assert code == 2 and "already exist" in err and "--overwrite" in err
    assert (out / "hello-world.inkml.txt").read_text() == "edited by hand\n"
    assert run(capsys, "transcribe", str(HELLO), "-o", str(out), "--overwrite")[0] == 0
    assert (out / "hello-world.inkml.txt").read_text() != "edited by hand\n"


def test_skip_existing_reads_only_the_inputs_without_a_result(capsys, tmp_path):
    folder, out = tmp_path / "inks", tmp_path / "out"
    folder.mkdir()
    for name in ("a", "b", "c"):
        shutil.copy(HELLO, folder / f"{name}.inkml")
    assert run(capsys, "transcribe", str(folder), "-f", "json", "-o", str(out))[0] == 0
    (out / "b.inkml.json").unlink()
    (out / "c.inkml.json").write_text('{"path": "c.inkml", "text": "kept as it was"}')
    code, _, err = run(capsys, "transcribe", str(folder), "-f", "json", "-o", str(out), "--skip-existing")
    assert code == 0 and "2 inputs already transcribed" in err and "wrote 1 file" in err, err
    assert json.loads((out / "b.inkml.json").read_text())["text"] == "hello world"
    assert "kept as it was" in (out / "c.inkml.json").read_text()
    code, _, err = run(capsys, "transcribe", str(folder), "-f", "json", "-o", str(out), "--skip-existing")
    assert code == 0 and "3 inputs already transcribed" in err and "nothing written" in err, err


def test_skip_existing_knows_an_input_by_the_root_it_was_found_under(capsys, tmp_path, monkeypatch):
    """The same file under two roots has two results: the one removed is written again."""
    (tmp_path / "a").mkdir()
    shutil.copy(HELLO, tmp_path / "a" / "hello-world.inkml")
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "transcribe", ".", "a/hello-world.inkml", "-o", "out")[0] == 0
    (tmp_path / "out" / "a" / "hello-world.inkml.txt").unlink()
    code, _, err = run(capsys, "transcribe", ".", "a/hello-world.inkml", "-o", "out", "--skip-existing")
    assert code == 0 and "1 input already transcribed" in err and "wrote 1 file" in err, err
    assert (tmp_path / "out" / "a" / "hello-world.inkml.txt").read_text() == "hello world\n"


def test_skip_existing_takes_no_empty_file_or_link_for_a_result(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for make in (lambda target: target.write_bytes(b""), lambda target: target.symlink_to(HELLO)):
        target = out / "hello-world.inkml.pdf"
        make(target)
        code, _, err = run(capsys, "transcribe", str(HELLO), "-f", "pdf", "-o", str(out), "--skip-existing")
        assert code == 2 and "no finished result" in err and "--overwrite" not in err, err
        target.unlink()


def test_a_root_named_dot_dot_is_written_inside_the_output_folder(capsys, tmp_path, monkeypatch):
    """Its results went to OUTDIR/.. (beside the inputs), out of the folder named."""
    for name, sample in (("a", "hello-world.inkml"), ("b", "quick-fox.inkml")):
        (tmp_path / "t" / name).mkdir(parents=True)
        shutil.copy(SAMPLE_INK / sample, tmp_path / "t" / name / sample)
    monkeypatch.chdir(tmp_path / "t" / "a")
    assert run(capsys, "transcribe", "..", "../b", "-o", "../out")[0] == 0
    written = sorted(str(p.relative_to(tmp_path / "t")) for p in (tmp_path / "t").rglob("*.txt"))
    assert written == ["out/b/quick-fox.inkml.txt", "out/t/a/hello-world.inkml.txt", "out/t/b/quick-fox.inkml.txt"]


def test_a_file_that_cannot_be_written_fails_its_input_naming_the_output(capsys, tmp_path):
    folder, out = tmp_path / "inks", tmp_path / "out"
    folder.mkdir()
    long_name = "a" * 247 + ".inkml"  # fits; its output name (+ ".txt") does not
    shutil.copy(HELLO, folder / long_name)
    shutil.copy(HELLO, folder / "b.inkml")
    code, _, err = run(capsys, "transcribe", str(folder), "-o", str(out))
    assert code == 1
    assert f"{out}/{long_name}" in err and ".tmp" not in err and "Traceback" not in err
    assert (out / "b.inkml.txt").read_text().strip()
    assert [p.name for p in out.iterdir()] == ["b.inkml.txt"]


def test_no_inputs_in_the_folders_given_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "notes.txt").write_text("not ink")
    code, _, err = run(capsys, "transcribe", str(tmp_path))
    assert code == 2 and "no ink files or images found" in err


def _strict_json(text: str):
    def refuse(constant):
        raise AssertionError(f"{constant} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_scores_that_are_not_numbers_never_reach_json_and_fail_the_input(capsys, monkeypatch):
    import handwrite.transcribe as transcribe
    from handwrite.results import Alternative, Line, Result, Word

    nan, inf = float("nan"), float("inf")

    class BrokenModel:
        kind = "ink"

        def recognize_batch(self, items):
            broken = Result("hello", nan, (Alternative("hello", nan),))
            odd_boxes = Result(
                "fox",
                0.5,
                (Alternative("fox", inf),),
                lines=(Line("fox", nan, (0, 0, inf, nan), (0,), (Word("fox", nan, (nan, 0, 1, 1)),)),),
            )
            return [broken if "hello" in item.info.get("source", "hello") else odd_boxes for item in items]

    monkeypatch.setattr(transcribe, "load_model", lambda *args, **kwargs: BrokenModel())
    monkeypatch.setattr(transcribe, "_read_input", lambda path: types.SimpleNamespace(info={"source": str(path)}))
    for fmt in ("jsonl", "json", "csv"):
        code, out, err = run(capsys, "transcribe", str(HELLO), str(QUICK_FOX), "-f", fmt)
        assert code == 1, fmt
        assert "hello-world.inkml: the model gave scores that are not numbers" in err
        if fmt == "jsonl":
            hello, fox = map(_strict_json, out.splitlines())
            assert "error" in hello and fox["text"] == "fox"
        elif fmt == "json":
            hello, fox = _strict_json(out)
            assert "error" in hello and fox["pages"][0]["lines"][0]["text"] == "fox"
        else:
            assert "nan" not in out.lower() and "inf" not in out.lower()


def test_json_gives_the_page_schema_with_alternatives(capsys):
    code, out, _ = run(capsys, "transcribe", str(HELLO), "-f", "json")
    (record,) = _strict_json(out)
    assert code == 0 and {"path", "text", "confidence", "pages", "alternatives"} <= set(record)
    (page,) = record["pages"]
    assert page["number"] == 1 and page["lines"]
    line = page["lines"][0]
    assert line["text"] and len(line["box"]) == 4 and line["strokes"] and line["words"]
    assert {"text", "confidence", "box", "strokes"} <= set(line["words"][0])
    assert record["text"] == "\n".join(line["text"] for line in page["lines"])


def test_pdf_needs_an_output_folder(capsys):
    code, _, err = run(capsys, "transcribe", str(HELLO), "-f", "pdf")
    assert code == 2 and "-o" in err


def test_pdf_output_goes_through_the_pdf_writer(capsys, tmp_path, monkeypatch):
    calls = []

    def searchable_pdf(result, source, title):
        calls.append((result.text, source))
        return b"%PDF-1.7 " + title.encode() + b" " + result.text.encode()

    monkeypatch.setitem(sys.modules, "handwrite.pdf", types.SimpleNamespace(searchable_pdf=searchable_pdf))
    out = tmp_path / "out"
    code, _, err = run(capsys, "transcribe", str(HELLO), str(HELLO_IMAGE), "-f", "pdf", "-o", str(out))
    assert code == 0, err
    from PIL import Image

    from handwrite.ink import Ink

    assert isinstance(calls[0][1], Ink) and isinstance(calls[1][1], Image.Image)
    for path, (text, _) in zip(("ink/hello-world.inkml.pdf", "images/hello-world.png.pdf"), calls, strict=True):
        assert (out / path).read_bytes() == f"%PDF-1.7 {Path(path).stem} {text}".encode()
    assert f"wrote 2 files to {out}" in err


def test_a_pdf_that_cannot_be_made_fails_only_its_input(capsys, tmp_path, monkeypatch):
    def searchable_pdf(result, source, title):
        if "hello" in result.text:
            raise ValueError("no font for this")
        return b"%PDF-1.7"

    monkeypatch.setitem(sys.modules, "handwrite.pdf", types.SimpleNamespace(searchable_pdf=searchable_pdf))
    code, _, err = run(capsys, "transcribe", str(HELLO), str(QUICK_FOX), "-f", "pdf", "-o", str(tmp_path))
    assert code == 1 and "hello-world.inkml: could not make the PDF (ValueError: no font for this)" in err
    assert [p.name for p in tmp_path.iterdir()] == ["quick-fox.inkml.pdf"]
    assert f"wrote 1 file to {tmp_path}" in err


def test_pdf_without_the_pdf_module_is_a_usage_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "handwrite.pdf", None)  # as if it were not installed
    code, _, err = run(capsys, "transcribe", str(HELLO), "-f", "pdf", "-o", str(tmp_path))
    assert code == 2 and "PDF output is not available" in err


def test_pdf_output_with_the_real_pdf_writer(capsys, tmp_path):
    pytest.importorskip("handwrite.pdf")
    code, _, err = run(capsys, "transcribe", str(HELLO), "-f", "pdf", "-o", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "hello-world.inkml.pdf").read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["hello-world.inkml.pdf"]  # no temporary file left


def test_a_pdf_is_made_in_memory_and_written_once_titled_by_its_input(capsys, tmp_path, monkeypatch):
    """The output folder writes the PDF's bytes atomically; write_searchable_pdf (its own
    temporary file and rename inside the folder's) is not used, and the title is the input's
    name, not a temporary file's."""
    pdf = pytest.importorskip("handwrite.pdf")

    def refuse(*args):
        raise AssertionError("the PDF was written by pdf.py, not by the output folder")

    monkeypatch.setattr(pdf, "atomic_write_bytes", refuse)
    code, _, err = run(capsys, "transcribe", str(HELLO), "-f", "pdf", "-o", str(tmp_path))
    assert code == 0, err
    assert b"/Title (hello-world.inkml)" in (tmp_path / "hello-world.inkml.pdf").read_bytes()


# ---- end to end: a batch of hostile files between two good ones ------------------------------

# name -> contents; each must give one clear error line (a reader's own message, never an
# "unexpected error" or a traceback)
HOSTILE_ERRORS = {
    "b-eps.png": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 30\n{} loop\nshowpage\n",
    "c-huge.json": b'{"strokes": [[[1e308, 1, 0], [-1e308, 2, 1], [5, 1e308, 2]]]}',
    "c-huge.inkml": b'<ink xmlns="http://www.w3.org/2003/InkML"><trace>1e308 1, -1e308 2, 3 4</trace></ink>',
    "d-nan.json": b'{"strokes": [[[NaN, 1, 0], [Infinity, 2, 1]]]}',
    "d-nan.inkml": b'<ink xmlns="http://www.w3.org/2003/InkML"><trace>nan 1, inf 2, 3 4</trace></ink>',
    "e-deep.json": b"[" * 100_000 + b"]" * 100_000,
    "e-deep-strokes.json": b'{"strokes": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "f-fifo.inkml": None,  # a named pipe: reading it would wait for a writer forever
    "g-truncated.png": None,  # the first half of a real PNG
    "h-junk.xopp": bytes(range(256)) * 8,  # neither gzip nor XML
    "h-bomb.xopp": None,  # gzip of 300 MB of spaces
}
# blank or inkless images: no text (or an error), never a crash
HOSTILE_BLANK = ("i-blank.png", "i-transparent.png", "i-one-column.png", "i-one-row.png", "i-flat-16bit.png")
GOOD = {"a-good.inkml": HELLO, "z-good.png": HELLO_IMAGE}


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    """`transcribe -f jsonl` over the hostile folder, once, in a subprocess with a hang guard."""
    import gzip
    import resource

    import numpy as np
    from PIL import Image

    from tests.test_transcribe import run_cli

    folder = tmp_path_factory.mktemp("hostile")
    for name, source in GOOD.items():
        shutil.copy(source, folder / name)
    for name, data in HOSTILE_ERRORS.items():
        if data is not None:
            (folder / name).write_bytes(data)
    os.mkfifo(folder / "f-fifo.inkml")
    png = HELLO_IMAGE.read_bytes()
    (folder / "g-truncated.png").write_bytes(png[: len(png) // 2])
    with gzip.open(folder / "h-bomb.xopp", "wb", compresslevel=9) as bomb:
        bomb.write(b"<xournal>")
        for _ in range(300):
            bomb.write(b" " * (1 << 20))
    Image.new("L", (400, 60), 255).save(folder / "i-blank.png")
    Image.new("RGBA", (400, 60), (0, 0, 0, 0)).save(folder / "i-transparent.png")
    Image.new("L", (1, 300), 0).save(folder / "i-one-column.png")
    Image.new("L", (300, 1), 0).save(folder / "i-one-row.png")
    Image.fromarray(np.full((60, 300), 30000, dtype=np.uint16)).save(folder / "i-flat-16bit.png")
    done = run_cli("transcribe", str(folder), "-f", "jsonl", "--no-progress", timeout=120)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return folder, done, peak_kib


def _records(hostile_batch) -> dict[str, dict]:
    _, done, _ = hostile_batch
    return {Path(r["path"]).name: r for r in map(_strict_json, done.stdout.splitlines())}


def test_a_hostile_batch_gives_the_good_files_text_and_exit_one(hostile_batch):
    _, done, peak_kib = hostile_batch
    names = sorted([*GOOD, *HOSTILE_ERRORS, *HOSTILE_BLANK])
    assert [Path(json.loads(line)["path"]).name for line in done.stdout.splitlines()] == names  # nothing forged
    records = _records(hostile_batch)
    assert records["a-good.inkml"]["text"] == "hello world"
    assert records["z-good.png"]["text"].strip()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert peak_kib < 4 * 1024 * 1024  # under 4 GB


@pytest.mark.parametrize("name", sorted(HOSTILE_ERRORS))
def test_each_hostile_file_gives_one_clear_error_line(hostile_batch, name):
    _, done, _ = hostile_batch
    error = _records(hostile_batch)[name].get("error", "")
    assert error.startswith(str(hostile_batch[0] / name) + ": ")
    assert "unexpected error" not in error and "\n" not in error
    assert [line for line in done.stderr.splitlines() if name in line] == [f"handwrite: {error}"]


@pytest.mark.parametrize("name", HOSTILE_BLANK)
def test_an_inkless_image_reads_as_no_text(hostile_batch, name):
    record = _records(hostile_batch)[name]
    assert record.get("text") == "" or "unexpected error" not in record["error"]


def test_a_reader_that_stops_early_gets_no_error_message():
    """`handwrite transcribe ... | head`: the closed pipe is not reported as an error."""
    notebook = str(REPO / "data" / "notes" / "notebook.xopp")
    command = [sys.executable, "-m", "handwrite", "transcribe", *[notebook] * 8, "-f", "json"]  # > 64 KiB of JSON
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout.read(10)
        child.stdout.close()
        _, err = child.communicate(timeout=300)
    assert b"error" not in err and b"Traceback" not in err, err


def test_transcribe_reads_on_one_torch_thread():
    """As the app and the -j workers do: two threads on a busy machine made a line take seconds."""
    script = (
        "import contextlib, io, torch\n"
        "from handwrite.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['transcribe', {str(HELLO)!r}]) == 0\n"
        "print(torch.get_num_threads())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.split()[-1] == "1", done.stderr


def test_the_process_ends_after_its_work_is_written_without_torchs_teardown(tmp_path):
    """As the process's own command, main() ends the process once the work is done
    (torch's teardown raised the peak memory by about 130 MB), yet as Python would:
    output flushed, atexit handlers run, the exit status kept; given argv, it returns."""
    script = (
        "import atexit, sys\n"
        "from handwrite.cli import main\n"
        "atexit.register(lambda: print('atexit ran', flush=True))\n"
        f"sys.argv = ['handwrite', 'transcribe', '--no-progress', {str(HELLO)!r}, {str(tmp_path / 'none.inkml')!r},"
        f" '-f', 'json', '-o', {str(tmp_path / 'out')!r}]\n"
        "print('returned', main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1  # one input failed
    assert "atexit ran" in done.stdout and "returned" not in done.stdout
    written = next((tmp_path / "out").rglob("hello-world.inkml.json"))
    assert json.loads(written.read_text())["text"]


def test_eval_walks_each_folder_once(capsys, labelled_ink, monkeypatch):
    """The folder is searched once: for the model's kind and for the inputs alike."""
    walks = []
    real_rglob = Path.rglob

    def rglob(self, pattern):
        walks.append(self)
        return real_rglob(self, pattern)

    monkeypatch.setattr(Path, "rglob", rglob)
    code, out, err = run(capsys, "eval", str(labelled_ink))
    assert code == 0, err
    assert "CER" in out and walks == [labelled_ink]


def test_the_app_is_torn_down_as_usual_so_qt_writes_its_settings(monkeypatch):
    """After `handwrite gui` (Qt loaded), main() returns: Qt writes its settings (the
    window's geometry) as it is torn down, which ending the process at once would lose."""
    from handwrite import cli

    monkeypatch.setattr(cli, "_run", lambda argv: 0)
    monkeypatch.setattr(cli, "_exit_without_teardown", lambda code: pytest.fail("ended without teardown"))
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    monkeypatch.setitem(sys.modules, "PyQt6", types.ModuleType("PyQt6"))
    assert cli.main() == 0


def test_an_interrupted_batch_keeps_the_results_read_so_far(capsys, tmp_path, labelled_ink, monkeypatch):
    import handwrite.transcribe

    read = handwrite.transcribe.transcribe_files

    def interrupted_after_two(files, *args, **kwargs):
        results = read(files, *args, **kwargs)
        yield next(results)
        yield next(results)
        raise KeyboardInterrupt  # as Ctrl+C in the middle of a batch

    monkeypatch.setattr(handwrite.transcribe, "transcribe_files", interrupted_after_two)
    code, _, err = run(capsys, "transcribe", str(labelled_ink), "-f", "jsonl", "-o", str(tmp_path / "out"))
    assert code == 130 and "interrupted" in err and "results.jsonl" in err  # and it says where
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(row["text"] for row in rows)


def test_gui_passes_its_model_on_to_the_app():
    from gui.flags import as_argv
    from handwrite.cli import build_parser

    args = build_parser().parse_args(["gui", "-m", "personal", "--replay", "page.inkml"])
    assert as_argv(args) == ["--model", "personal", "--replay", "page.inkml"]

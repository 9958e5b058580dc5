"""Fine-tuning on a user's samples (synthetic stand-ins, no real data)."""

import os
import random
import stat

import pytest

import handwrite
from handwrite.cli import main
from handwrite.recognizer import DEFAULT_INK_MODEL
from handwrite.training.data.synthetic import render_text

FAST = ["--max-steps", "6", "--no-progress", "--holdout-from", "4"]


@pytest.fixture
def user_samples(tmp_path):
    rng = random.Random(1)
    folder = tmp_path / "samples"
    for i, text in enumerate(
        ["caf\u00e9 au lait", "the \u00e9t\u00e9 sun", "a caf\u00e9", "my pen", "ink \u00e9", "red"]
    ):
        handwrite.write_ink(render_text(text, rng, "futural"), folder / f"s{i}.inkml")
    return folder


def test_finetune_grows_the_alphabet_and_reports_cer(user_samples, tmp_path, capsys):
    out = tmp_path / "mine.safetensors"
    before = DEFAULT_INK_MODEL.read_bytes()
    assert main(["finetune", str(user_samples), "-o", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "new characters: \u00e9" in printed and "held-out CER before" in printed
    model = handwrite.load_model(out)
    assert model.codec.alphabet.endswith("\u00e9")
    assert model.metadata["base_model"] == str(DEFAULT_INK_MODEL)
    assert "held-out user samples" in model.metadata["metrics"]
    assert DEFAULT_INK_MODEL.read_bytes() == before  # the base is never touched


def test_old_characters_keep_their_ids(user_samples, tmp_path):
    out = tmp_path / "mine.safetensors"
    main(["finetune", str(user_samples), "-o", str(out), *FAST])
    base, tuned = handwrite.load_model(), handwrite.load_model(out)
    assert tuned.codec.alphabet[: len(base.codec.alphabet)] == base.codec.alphabet


def test_output_equal_to_base_is_refused(user_samples, tmp_path, capsys):
    base = tmp_path / "base.safetensors"
    base.write_bytes(DEFAULT_INK_MODEL.read_bytes())
    assert main(["finetune", str(user_samples), "-b", str(base), "-o", str(base), "--overwrite", *FAST]) == 1
    assert "must not be the base model" in capsys.readouterr().err


def test_an_output_that_exists_is_replaced_only_with_overwrite_and_only_if_a_model(user_samples, tmp_path, capsys):
    sample = next(user_samples.iterdir())
    kept = sample.read_bytes()
    for flags in ([], ["--overwrite"]):  # -o naming a sample by mistake wrote a model over it
        assert main(["finetune", str(user_samples), "-o", str(sample), *flags, *FAST]) == 2
    assert "not a model file" in capsys.readouterr().err and sample.read_bytes() == kept
    out = tmp_path / "mine.safetensors"
    assert main(["finetune", str(user_samples), "-o", str(out), "--max-steps", "1", "--no-progress"]) == 0
    earlier = out.read_bytes()
    assert main(["finetune", str(user_samples), "-o", str(out), "--max-steps", "1", "--no-progress"]) == 2
    assert "exists; --overwrite replaces it" in capsys.readouterr().err and out.read_bytes() == earlier
    assert main(["finetune", str(user_samples), "-o", str(out), "--max-steps", "1", "--overwrite"]) == 0


def test_an_output_that_is_a_fifo_or_a_folder_is_refused_before_training(user_samples, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for output, said in [(fifo, "named pipe (FIFO), not a regular file"), (tmp_path, "a folder, not a file")]:
        assert main(["finetune", str(user_samples), "-o", str(output), "--json", *FAST]) == 1
        printed = capsys.readouterr()
        assert said in printed.err and '"step"' not in printed.out  # said at once, not after training
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_bad_samples_are_skipped_with_a_reason_and_none_left_is_an_error(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    rng = random.Random(0)
    empty_text = render_text("x", rng)
    empty_text.text = "   "
    handwrite.write_ink(empty_text, folder / "empty-text.inkml")
    control = render_text("y", rng)
    control.text = "a\u0007b"
    handwrite.write_ink(control, folder / "control.json")
    (folder / "broken.inkml").write_text("<ink")
    with pytest.warns(UserWarning) as caught:
        code = main(["finetune", str(folder), "-o", str(tmp_path / "out.safetensors"), *FAST])
    assert code == 1 and "no usable training samples" in capsys.readouterr().err
    reasons = " ".join(str(w.message) for w in caught)
    assert "no transcription" in reasons and "control or unassigned" in reasons and "malformed XML" in reasons
    assert not (tmp_path / "out.safetensors").exists()


def test_cancelled_run_stops_training_and_writes_nothing(user_samples, tmp_path):
    import threading

    from handwrite.training.finetune import FinetuneOptions, finetune

    cancel = threading.Event()
    steps = []

    def on_step(step, total, loss):
        steps.append(step)
        if step == 2:
            cancel.set()  # as the app's Cancel would, mid-run

    out = tmp_path / "never.safetensors"
    options = FinetuneOptions(data=[str(user_samples)], output=str(out), progress=False, on_step=on_step)
    with pytest.raises(handwrite.HandwriteError, match="cancelled"):
        finetune(options, cancel)
    assert steps == [1, 2]  # no step after the cancel (of the 100 it would run)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["samples"]


def test_few_samples_all_train_and_none_are_held_out(user_samples, tmp_path, capsys):
    out = tmp_path / "mine.safetensors"
    assert main(["finetune", str(user_samples), "-o", str(out), "--max-steps", "3", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "6 samples trained, 0 held out" in printed


def test_a_full_disk_when_the_model_is_written_is_a_clear_error_and_leaves_nothing(
    user_samples, tmp_path, capsys, monkeypatch
):
    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)
    out = tmp_path / "mine.safetensors"
    before = DEFAULT_INK_MODEL.read_bytes()
    assert main(["finetune", str(user_samples), "-o", str(out), *FAST]) == 1
    assert f"handwrite: error: {out}: No space left on device" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["samples"]  # no model, no temporary file
    assert DEFAULT_INK_MODEL.read_bytes() == before


def test_the_report_says_why_training_stopped_and_whether_anything_changed(user_samples, tmp_path, capsys):
    import json

    out = tmp_path / "mine.safetensors"
    assert main(["finetune", str(user_samples), "-o", str(out), "--max-seconds", "0", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["steps"] == 0 and report["stopped"] == "time" and report["changed"] is False
    assert main(["finetune", str(user_samples), "-o", str(out), "--max-steps", "2", "--json", "--overwrite"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["steps"] == 2 and report["stopped"] == "steps" and report["changed"] is True


def test_plain_output_says_when_the_model_is_the_base_and_the_time_ran_out(user_samples, tmp_path, capsys):
    out = tmp_path / "mine.safetensors"
    assert main(["finetune", str(user_samples), "-o", str(out), "--max-seconds", "0", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "reads as the base model does" in printed and "time budget (--max-seconds 0) ran out" in printed


def test_a_sample_left_out_is_said_in_one_line_of_the_command_s_own(user_samples, tmp_path):
    """Python's warning format named a source file and printed its line beside the reason."""
    from tests.test_transcribe import run_cli

    (user_samples / "unlabelled.inkml").write_text(
        '<ink xmlns="http://www.w3.org/2003/InkML"><trace>1 2, 3 4</trace></ink>'
    )
    done = run_cli(
        "finetune", str(user_samples), "-o", str(tmp_path / "out.safetensors"), "--max-steps", "0", "--no-progress"
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "unlabelled.inkml" in line]
    assert len(said) == 1 and said[0].startswith("handwrite: warning: skipped: ") and ".py" not in done.stderr


def test_an_ensemble_is_no_base_to_fine_tune(user_samples, tmp_path, capsys):
    from handwrite.modelfile import ensemble_models, load_model_file, save_model_file

    ensemble = tmp_path / "ensemble.safetensors"
    save_model_file(ensemble_models([load_model_file(DEFAULT_INK_MODEL)] * 2), ensemble)
    out = tmp_path / "mine.safetensors"
    assert main(["finetune", str(user_samples), "-b", str(ensemble), "-o", str(out), *FAST]) == 1
    assert "cannot be trained or fine-tuned as one" in capsys.readouterr().err and not out.exists()


def test_finetune_trains_on_one_thread_and_gives_the_callers_count_back(user_samples, tmp_path):
    """Two threads on a machine busy with other work made each step wait (a new user's run:
    24 steps in 200 s, against 25 in 8.4 s on one)."""
    import torch

    from handwrite.training.finetune import FinetuneOptions, finetune

    seen = []
    options = FinetuneOptions(
        data=[str(user_samples)],
        output=str(tmp_path / "mine.safetensors"),
        max_steps=2,
        progress=False,
        on_step=lambda *_: seen.append(torch.get_num_threads()),
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        finetune(options)
        assert seen == [1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)

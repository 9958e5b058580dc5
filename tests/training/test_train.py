"""Training end to end on tiny synthetic data (Hershey ink, no real data)."""

import json
import os
import random
import subprocess
import sys

import pytest
import torch

from handwrite.cli import main
from handwrite.modelfile import load_model_file
from handwrite.training.inputs import Sample
from handwrite.training.train import Trainer, TrainOptions
from tests.conftest import REPO

TINY = ["--hidden", "16", "--layers", "1", "--batch-size", "8", "--valid-lines", "0", "--no-progress",
        "--synthetic-fraction", "0.1", "--threads", "1"]  # fmt: skip


def train_args(data, out, work, *extra) -> list[str]:
    return ["train", "--train", str(data), "-o", str(out), "--work-dir", str(work), *extra, *TINY]


def metrics(work) -> list[dict]:
    return [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]


def test_train_writes_model_metrics_plot_and_checkpoint_then_resumes(synthetic_dir, tmp_path):
    out, work = tmp_path / "model.safetensors", tmp_path / "run"
    assert main(train_args(synthetic_dir, out, work, "--epochs", "2")) == 0
    meta = load_model_file(out).metadata()
    assert meta["kind"] == "ink"
    (selection,) = meta["metrics"].values()
    # the file holds the best evaluation of the run, on the 5 held-out lines (every 10th of 48)
    assert selection["beam 1"]["lines"] == 5
    assert round(selection["beam 1"]["cer"], 5) == min(entry["cer"] for entry in metrics(work))  # the log rounds
    assert "every 10th training line" in next(iter(meta["metrics"]))
    assert meta["training"]["options"]["hidden"] == 16
    assert [entry["epoch"] for entry in metrics(work)] == [1, 2]
    assert (work / "learning-curve.png").stat().st_size > 1000
    steps_before = metrics(work)[-1]["step"]

    trained = out.read_bytes()
    assert main(train_args(synthetic_dir, out, tmp_path / "again", "--epochs", "1")) == 2  # not replaced unasked
    assert out.read_bytes() == trained and not (tmp_path / "again").exists()
    resume = ["--epochs", "3", "--resume", str(work / "checkpoint.pt")]  # a resumed run goes on into it
    assert main(train_args(synthetic_dir, out, work, *resume)) == 0
    assert metrics(work)[-1]["epoch"] == 3 and metrics(work)[-1]["step"] > steps_before
    sample = next(p for p in synthetic_dir.iterdir() if p.is_file())
    kept = sample.read_bytes()  # -o naming a training file: a model was written over it
    assert main(train_args(synthetic_dir, sample, tmp_path / "c", "--epochs", "1", "--overwrite")) == 2
    assert sample.read_bytes() == kept


def test_load_starts_a_new_run_from_a_models_weights(synthetic_dir, tmp_path):
    base, out = tmp_path / "base.safetensors", tmp_path / "tuned.safetensors"
    assert main(train_args(synthetic_dir, base, tmp_path / "a", "--epochs", "1", "--rnn", "gru")) == 0
    assert main(train_args(synthetic_dir, out, tmp_path / "b", "--epochs", "1", "--load", str(base))) == 0
    meta = load_model_file(out).metadata()
    assert meta["base_model"] == str(base)
    # the loaded network's kind is recorded, not the flag's default (found in review: "lstm")
    assert meta["architecture"]["rnn"] == meta["training"]["options"]["rnn"] == "gru"

    options = TrainOptions(str(out), str(tmp_path / "b"), train_files=[str(synthetic_dir)], hidden=16, layers=1)
    options.resume = str(tmp_path / "b" / "checkpoint.pt")
    resumed = Trainer(options)  # the models a resumed run saves still name the base it started from
    assert resumed.base_info["base_model"] == str(base)


def test_an_output_that_is_a_fifo_is_refused_before_any_training(synthetic_dir, tmp_path, capsys):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    assert main(train_args(synthetic_dir, fifo, tmp_path / "run", "--epochs", "1")) == 1
    assert "named pipe (FIFO), not a regular file; not written over" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # no work folder, no checkpoint: refused first


def test_ema_saves_the_moving_average_and_a_resume_keeps_it(synthetic_dir, tmp_path):
    out, work = tmp_path / "model.safetensors", tmp_path / "run"
    assert main(train_args(synthetic_dir, out, work, "--epochs", "1", "--ema-decay", "0.9")) == 0
    saved = load_model_file(out).state
    checkpoint = torch.load(work / "checkpoint.pt", weights_only=True)
    name = "head.weight"
    assert torch.equal(saved[name], checkpoint["ema"][f"module.{name}"])  # the average is what is kept ...
    assert not torch.equal(saved[name], checkpoint["net"][name])  # ... not the last step's weights
    resume = ["--epochs", "2", "--ema-decay", "0.9", "--resume", str(work / "checkpoint.pt")]
    assert main(train_args(synthetic_dir, out, work, *resume)) == 0
    assert torch.load(work / "checkpoint.pt", weights_only=True)["ema"]["n_averaged"] > checkpoint["ema"]["n_averaged"]


def test_resume_from_a_corrupt_checkpoint_is_a_clear_error(synthetic_dir, tmp_path, capsys):
    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"not a checkpoint")
    code = main(train_args(synthetic_dir, tmp_path / "m.safetensors", tmp_path, "--epochs", "1", "--resume", str(bad)))
    assert code == 1
    assert "cannot resume from this checkpoint" in capsys.readouterr().err


def test_resume_continues_the_checkpoints_network_whatever_the_flags_say(synthetic_dir, tmp_path, capsys):
    """Found resuming a distilled 3 x 128 run without its --hidden 128: a torch traceback
    of size mismatches. A resume builds the network the checkpoint holds and says which
    flags it did not follow."""
    out, work = tmp_path / "m.safetensors", tmp_path / "run"
    assert main(train_args(synthetic_dir, out, work, "--epochs", "1")) == 0
    wider = [a if a != "16" else "24" for a in train_args(synthetic_dir, out, work, "--epochs", "2")]
    assert main([*wider, "--resume", str(work / "checkpoint.pt")]) == 0
    err = capsys.readouterr().err
    assert "ignoring --hidden 24" in err and "Traceback" not in err
    assert load_model_file(out).config.hidden == 16
    assert metrics(work)[-1]["epoch"] == 2


def test_no_training_data_is_a_clear_error(tmp_path, capsys):
    assert main(train_args(tmp_path, tmp_path / "m.safetensors", tmp_path)) == 1
    assert "no training data" in capsys.readouterr().err


def test_data_parallel_under_torchrun(synthetic_dir, tmp_path):
    out = tmp_path / "ddp.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "handwrite"]
    command = torchrun + train_args(synthetic_dir, out, tmp_path / "run", "--epochs", "1", "--max-minutes", "5")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert load_model_file(out).metadata()["training"]["steps"] >= 1
    assert len(metrics(tmp_path / "run")) == 1  # only rank 0 evaluates and writes


def test_a_student_learns_its_teachers_frames():
    """distilled_batch_loss at weight 1 is the KL to the teacher's frames: zero for the
    teacher itself, and steps on it bring a smaller network close to the teacher."""
    from handwrite.model import ModelConfig, RecognizerNet
    from handwrite.training.train import distilled_batch_loss

    torch.manual_seed(0)
    teacher = RecognizerNet(ModelConfig(8, 12, hidden=16, layers=1, conv_channels=16)).eval()
    teacher.head.weight.data *= 20  # peaked, varied frames, as a trained teacher's are
    student = RecognizerNet(ModelConfig(8, 12, hidden=8, layers=1, conv_channels=16)).eval()
    features = [torch.randn(n, 8).numpy() for n in (40, 64, 52)]
    samples = [Sample(None, "ab", [1, 2], n) for n in (40, 64, 52)]
    assert distilled_batch_loss(teacher, teacher, features, samples, 1.0).item() == pytest.approx(0.0, abs=1e-6)

    before = distilled_batch_loss(student, teacher, features, samples, 1.0).item()
    optimizer = torch.optim.Adam(student.parameters(), lr=2e-2)
    for _ in range(50):
        loss = distilled_batch_loss(student, teacher, features, samples, 1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert distilled_batch_loss(student, teacher, features, samples, 1.0).item() < 0.3 * before


def test_a_teacher_that_reads_other_inputs_is_refused(synthetic_dir, tmp_path, capsys):
    teacher = tmp_path / "teacher.safetensors"
    assert main(train_args(synthetic_dir, teacher, tmp_path / "t", "--epochs", "1", "--step", "0.3")) == 0
    out = tmp_path / "student.safetensors"
    assert main(train_args(synthetic_dir, out, tmp_path / "s", "--epochs", "1", "--teacher", str(teacher))) != 0
    assert "same inputs" in capsys.readouterr().err


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_image_training_writes_its_hershey_share_of_synthetic_lines_in_ink(synthetic_dir, tmp_path, share):
    from handwrite.ink import Ink
    from handwrite.training.data.render import find_handwriting_fonts

    if share < 1 and not find_handwriting_fonts():
        pytest.skip("no handwriting fonts installed: every synthetic line is Hershey ink")
    options = TrainOptions(
        str(tmp_path / "m.safetensors"), str(tmp_path / "run"), kind="image", train_files=[str(synthetic_dir)],
        hidden=16, layers=1, threads=1, hershey_share=share,
    )  # fmt: skip
    trainer = Trainer(options)
    rng = random.Random(3)
    lines = [trainer.inputs.synthetic(trainer.sampler.sample(), rng, trainer.codec) for _ in range(12)]
    assert sum(isinstance(line.source, Ink) for line in lines) == round(12 * share)


def test_an_image_model_says_its_synthetic_lines_are_hershey_ink_when_no_fonts_are_installed(
    synthetic_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr("handwrite.training.inputs.find_handwriting_fonts", lambda: [])
    out = tmp_path / "m.safetensors"
    args = train_args(synthetic_dir, out, tmp_path / "run", "--epochs", "1", "--kind", "image")
    assert main([*args, "--synthetic-fraction", "0.5"]) == 0
    data = load_model_file(out).info["training"]["data"]
    assert "synthetic lines in Hershey ink (no handwriting fonts installed) (50% of lines)" in data


def test_a_checkpoint_gives_its_runs_last_moving_average(synthetic_dir, tmp_path):
    from handwrite.errors import HandwriteError
    from handwrite.training.train import checkpoint_moving_average

    out, work = tmp_path / "m.safetensors", tmp_path / "run"
    assert main(train_args(synthetic_dir, out, work, "--epochs", "1", "--ema-decay", "0.9")) == 0
    state, step = checkpoint_moving_average(str(work / "checkpoint.pt"))
    best = load_model_file(out)
    assert step > 0 and {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in best.state.items()}
    averaged = tmp_path / "averaged.safetensors"  # scripts/average_models.py: the last step's, said as such
    (work / "best.safetensors").write_bytes(out.read_bytes())  # where a run's -o is, in the training scripts
    script = [sys.executable, str(REPO / "scripts" / "average_models.py"), str(averaged), str(work / "checkpoint.pt")]
    subprocess.run(script, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    training = load_model_file(averaged).info["training"]
    assert training["steps"] == step and "epochs" not in training  # the best file's epoch count is not its
    plain = tmp_path / "plain"
    assert main(train_args(synthetic_dir, tmp_path / "p.safetensors", plain, "--epochs", "1")) == 0
    with pytest.raises(HandwriteError, match="no moving average"):
        checkpoint_moving_average(str(plain / "checkpoint.pt"))


def test_a_file_of_weights_that_is_no_training_checkpoint_is_a_clear_error(synthetic_dir, tmp_path, capsys):
    from handwrite.errors import HandwriteError
    from handwrite.training.train import checkpoint_moving_average

    tensor = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), tensor)
    with pytest.raises(HandwriteError, match="not a training checkpoint"):
        checkpoint_moving_average(str(tensor))
    resume = train_args(synthetic_dir, tmp_path / "m.safetensors", tmp_path / "run", "--resume", str(tensor))
    assert main(resume) == 1
    assert "cannot resume from this checkpoint (not a training checkpoint)" in capsys.readouterr().err


def test_resume_as_another_kind_of_model_is_a_clear_error(synthetic_dir, tmp_path, capsys):
    out, work = tmp_path / "m.safetensors", tmp_path / "run"
    assert main(train_args(synthetic_dir, out, work, "--epochs", "1")) == 0
    as_image = train_args(synthetic_dir, out, work, "--epochs", "2", "--kind", "image")
    assert main([*as_image, "--resume", str(work / "checkpoint.pt")]) == 1
    assert "an ink run cannot resume as image" in capsys.readouterr().err


def test_an_ensemble_can_teach_but_not_be_trained_on(synthetic_dir, tmp_path, capsys):
    from handwrite.modelfile import ensemble_models, save_model_file

    members = []
    for rnn in ("lstm", "gru"):
        path = tmp_path / f"{rnn}.safetensors"
        assert main(train_args(synthetic_dir, path, tmp_path / rnn, "--epochs", "1", "--rnn", rnn)) == 0
        members.append(load_model_file(path))
    ensemble = tmp_path / "ensemble.safetensors"
    save_model_file(ensemble_models(members), ensemble)
    out = tmp_path / "student.safetensors"
    assert main(train_args(synthetic_dir, out, tmp_path / "s", "--epochs", "1", "--load", str(ensemble))) != 0
    assert "cannot be trained or fine-tuned as one" in capsys.readouterr().err and not out.exists()
    assert main(train_args(synthetic_dir, out, tmp_path / "t", "--epochs", "1", "--teacher", str(ensemble))) == 0
    assert load_model_file(out).config.rnn == "lstm"

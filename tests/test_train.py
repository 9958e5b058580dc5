"""Training end to end on tiny synthetic data (Hershey ink, no real data)."""

import json
import os
import subprocess
import sys

from handwrite.cli import main
from handwrite.modelfile import load_model_file

TINY = [
    "--hidden",
    "16",
    "--layers",
    "1",
    "--batch-size",
    "8",
    "--valid-lines",
    "0",
    "--no-progress",
    "--synthetic-fraction",
    "0.1",
    "--threads",
    "1",
]


def test_train_writes_model_metrics_plot_and_checkpoint_then_resumes(synthetic_dir, tmp_path):
    out, work = tmp_path / "model.safetensors", tmp_path / "run"
    assert (
        main(["train", "--train", str(synthetic_dir), "-o", str(out), "--work-dir", str(work), "--epochs", "2", *TINY])
        == 0
    )
    model = load_model_file(out)
    meta = model.metadata()
    assert meta["kind"] == "ink"
    assert meta["metrics"]["validation"]["cer"] >= 0 and meta["metrics"]["validation"]["lines"] > 0
    assert meta["training"]["options"]["hidden"] == 16
    log = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2]
    assert (work / "learning-curve.png").stat().st_size > 1000
    steps_before = log[-1]["step"]

    assert (
        main(
            [
                "train",
                "--train",
                str(synthetic_dir),
                "-o",
                str(out),
                "--work-dir",
                str(work),
                "--epochs",
                "3",
                "--resume",
                str(work / "checkpoint.pt"),
                *TINY,
            ]
        )
        == 0
    )
    log = [json.loads(line) for line in (work / "metrics.jsonl").read_text().splitlines()]
    assert log[-1]["epoch"] == 3 and log[-1]["step"] > steps_before


def test_load_starts_a_new_run_from_a_models_weights(synthetic_dir, tmp_path):
    base = tmp_path / "base.safetensors"
    assert (
        main(
            [
                "train",
                "--train",
                str(synthetic_dir),
                "-o",
                str(base),
                "--work-dir",
                str(tmp_path / "a"),
                "--epochs",
                "1",
                *TINY,
            ]
        )
        == 0
    )
    out = tmp_path / "tuned.safetensors"
    assert (
        main(
            [
                "train",
                "--train",
                str(synthetic_dir),
                "-o",
                str(out),
                "--work-dir",
                str(tmp_path / "b"),
                "--epochs",
                "1",
                "--load",
                str(base),
                *TINY,
            ]
        )
        == 0
    )
    assert load_model_file(out).metadata()["base_model"] == str(base)


def test_resume_from_a_corrupt_checkpoint_is_a_clear_error(synthetic_dir, tmp_path, capsys):
    bad = tmp_path / "checkpoint.pt"
    bad.write_bytes(b"not a checkpoint")
    code = main(
        [
            "train",
            "--train",
            str(synthetic_dir),
            "-o",
            str(tmp_path / "m.safetensors"),
            "--work-dir",
            str(tmp_path),
            "--epochs",
            "1",
            "--resume",
            str(bad),
            *TINY,
        ]
    )
    assert code == 1
    assert "cannot resume from this checkpoint" in capsys.readouterr().err


def test_no_training_data_is_a_clear_error(tmp_path, capsys):
    assert (
        main(
            [
                "train",
                "--train",
                str(tmp_path),
                "-o",
                str(tmp_path / "m.safetensors"),
                "--work-dir",
                str(tmp_path),
                *TINY,
            ]
        )
        == 1
    )
    assert "no training data" in capsys.readouterr().err


def test_data_parallel_under_torchrun(synthetic_dir, tmp_path):
    out = tmp_path / "ddp.safetensors"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "handwrite",
        "train",
        "--train",
        str(synthetic_dir),
        "-o",
        str(out),
        "--work-dir",
        str(tmp_path / "run"),
        "--epochs",
        "1",
        *TINY,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert load_model_file(out).metadata()["training"]["steps"] >= 1
    log = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(log) == 1  # only rank 0 evaluates and writes

"""The options of a training run and of a fine-tune: plain dataclasses, importable
without torch. The fields declared with `option` are also the `handwrite train` and
`handwrite finetune` flags (handwrite/options.py makes them); the others only the
library sets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from handwrite.options import flag, option

FRACTION = (0.0, 1.0)
AT_LEAST_ONE = (1, None)
NOT_NEGATIVE = (0, None)


@dataclass
class TrainOptions:
    output: str = option(flags=("-o", "--output"), help="the best model file")
    overwrite: bool = option(False, help="replace the model file OUT if it exists (--resume continues into it)")
    work_dir: str = option("runs/train", help="checkpoints, metrics.jsonl, learning-curve.png")
    kind: str = option("ink", choices=("ink", "image"), help="the model to train")
    iam_ondb: str | None = option(
        None, metavar="DIR", help="IAM-OnDB folder: trainset for training, testset_v to select"
    )
    train_files: list[str] = field(
        default_factory=list,
        metadata=flag(flags=("--train",), metavar="PATH", help="labelled ink/image files or folders"),
    )
    valid_files: list[str] = field(
        default_factory=list,
        metadata=flag(flags=("--valid",), metavar="PATH", help="labelled validation files or folders"),
    )
    valid_lines: int = option(400, bounds=NOT_NEGATIVE, help="validation lines scored (0 = all)")
    synthetic_fraction: float = option(0.1, bounds=NOT_NEGATIVE, help="synthetic lines per real line, each epoch")
    hershey_share: float = option(
        0.3, bounds=FRACTION, help="image: share of synthetic lines in Hershey-font ink rather than TTF fonts"
    )
    epochs: int = option(30, bounds=AT_LEAST_ONE, help="passes over the training lines")
    max_minutes: float | None = option(None, bounds=NOT_NEGATIVE, help="stop (and finish the LR decay) after this long")
    batch_size: int = option(24, bounds=AT_LEAST_ONE, help="lines per step")
    learning_rate: float = option(2e-3, flags=("--lr",), metavar="LR", bounds=NOT_NEGATIVE, help="peak learning rate")
    warmup_steps: int = 200
    weight_decay: float = 0.01
    ema_decay: float = option(
        0.0,
        bounds=FRACTION,
        help="evaluate and save a moving average of the weights with this decay (e.g. 0.999; 0 = off)",
    )
    eval_every: int = option(0, bounds=NOT_NEGATIVE, help="steps between evaluations (0 = per epoch)")
    rnn: str = option("lstm", choices=("lstm", "gru", "rnn"), help="the recurrent layers (rnn: plain tanh)")
    hidden: int = option(192, bounds=AT_LEAST_ONE, help="hidden size of each recurrent layer")
    layers: int = option(3, bounds=AT_LEAST_ONE, help="recurrent layers")
    dropout: float = option(0.25, bounds=FRACTION, help="dropout between layers")
    step: float = option(0.2, help="ink: resampling step in writing heights")
    image_height: int = option(48, bounds=AT_LEAST_ONE, help="image: line height in pixels")
    seed: int = option(1, help="random seed")
    resume: str | None = option(
        None, metavar="CHECKPOINT", exclusive="start", help="continue an interrupted run (optimizer, step, ...)"
    )
    load: str | None = option(
        None,
        metavar="MODEL",
        exclusive="start",
        help="start from this model's weights (file or bundled name; a new run)",
    )
    teacher: str | None = option(
        None, metavar="MODEL", help="distil: also match this model's per-frame output (same kind, alphabet, inputs)"
    )
    distill_weight: float = option(
        0.5, bounds=FRACTION, help="with --teacher: share of the loss that matches the teacher (the rest is CTC)"
    )
    limit_train: int | None = option(None, bounds=AT_LEAST_ONE, help="use only this many training lines")
    threads: int | None = option(None, bounds=AT_LEAST_ONE, help="torch threads per process")
    progress: bool = option(True, help="no progress bar")


@dataclass
class FinetuneOptions:
    data: list[str] = field(metadata=flag(positional=True, nargs="+", metavar="DATA", help="labelled files or folders"))
    output: str = option(flags=("-o", "--output"), metavar="OUT", help="the fine-tuned model file")
    overwrite: bool = option(False, help="replace the model file OUT if it exists")
    base: str | None = option(  # default: the bundled model
        None,
        flags=("-b", "--base"),
        metavar="BASE",
        help="model to start from, a file or bundled name (default: the bundled one of the kind)",
    )
    # share of samples kept out to measure CER and stop early ...
    holdout: float = option(0.2, bounds=FRACTION, help="share of samples held out (default 0.2)")
    # ... once there are this many: with fewer, every sample is worth more for training (chosen
    # on testset_v: 5 lines held out 1 and stopped early on it gave +2% CER; all 5 trained -24%)
    holdout_from: int = option(10, metavar="N", bounds=NOT_NEGATIVE, help="hold out only from N samples up")
    # chosen on testset_v writer adaptation (lr 3e-4, 5 lines: -24% CER)
    max_steps: int = option(100, bounds=NOT_NEGATIVE, help="at most this many steps")
    max_seconds: float = option(110.0, bounds=NOT_NEGATIVE, help="at most this long")
    batch_size: int = 8
    learning_rate: float = option(3e-4, flags=("--lr",), metavar="LR", bounds=NOT_NEGATIVE, help="learning rate")
    head_lr_scale: float = option(1.0, bounds=NOT_NEGATIVE, help="output layer's LR, relative")
    augmentation: float = 1.0  # scale of the training distortions (slant, rotation, ...): 0 = none
    # of each batch: guards against forgetting
    synthetic_fraction: float = option(0.25, bounds=FRACTION, help="share of each batch that is synthetic")
    recombined_fraction: float = 0.5  # of the user's share of a batch: new lines from their words (ink)
    replay_data: list[str] = field(
        default_factory=list, metadata=flag(flags=("--mix",), metavar="PATH", help="labelled base-like data mixed in")
    )
    eval_every: int = 10
    patience: int = 6  # evaluations without improvement before stopping
    seed: int = option(0, help="random seed")
    # one, as recognition uses: with two, a machine busy with other work made each thread wait
    # for the other (a new user's run: 24 steps in 200 s against 25 in 8.4 s with one)
    threads: int = option(1, bounds=AT_LEAST_ONE, help="torch threads (default 1)")
    progress: bool = option(True, help="no progress bar")  # a tqdm bar on stderr
    on_step: Callable[[int, int, float], object] | None = None  # (step, max_steps, loss), e.g. for a GUI

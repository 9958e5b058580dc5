"""The options of a training run and of a fine-tune: plain dataclasses, importable
without torch, so `handwrite train --help` and `finetune --help` show their defaults
without loading training code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TrainOptions:
    output: str  # the best model file
    work_dir: str  # checkpoints, metrics log, plot
    kind: str = "ink"  # or "image"
    iam_ondb: str | None = None
    train_files: list[str] = field(default_factory=list)
    valid_files: list[str] = field(default_factory=list)
    valid_lines: int = 400  # validation subset evaluated during training (0 = all)
    synthetic_fraction: float = 0.1
    epochs: int = 30
    max_minutes: float | None = None
    batch_size: int = 24
    learning_rate: float = 2e-3
    warmup_steps: int = 200
    weight_decay: float = 0.01
    ema_decay: float = 0.0  # > 0: evaluate and save a moving average of the weights (e.g. 0.999)
    eval_every: int = 0  # steps; 0 = once per epoch
    rnn: str = "lstm"
    hidden: int = 192
    layers: int = 3
    dropout: float = 0.25
    step: float = 0.2  # ink: resampling step in writing heights
    image_height: int = 48  # image: normalised line height in pixels
    seed: int = 1
    resume: str | None = None
    load: str | None = None
    limit_train: int | None = None
    threads: int | None = None
    progress: bool = True


@dataclass
class FinetuneOptions:
    data: list[str]
    output: str
    base: str | None = None  # default: the bundled model
    holdout: float = 0.2  # share of samples kept out to measure CER and stop early ...
    # ... once there are this many: with fewer, every sample is worth more for training (chosen
    # on testset_v: 5 lines held out 1 and stopped early on it gave +2% CER; all 5 trained -24%)
    holdout_from: int = 10
    max_steps: int = 100  # chosen on testset_v writer adaptation (lr 3e-4, 5 lines: -24% CER)
    max_seconds: float = 110.0
    batch_size: int = 8
    learning_rate: float = 3e-4
    head_lr_scale: float = 1.0  # learning rate of the output layer, relative
    augmentation: float = 1.0  # scale of the training distortions (slant, rotation, ...): 0 = none
    synthetic_fraction: float = 0.25  # of each batch: guards against forgetting
    recombined_fraction: float = 0.5  # of the user's share of a batch: new lines from their words (ink)
    replay_data: list[str] = field(default_factory=list)  # labelled base-like data to mix in too
    eval_every: int = 10
    patience: int = 6  # evaluations without improvement before stopping
    seed: int = 0
    progress: bool = True  # a tqdm bar on stderr
    on_step: Callable[[int, int, float], object] | None = None  # (step, max_steps, loss), e.g. for a GUI

"""Training an ink or an image model: IAM-OnDB and/or labelled files, plus
synthetic lines (Hershey ink for ink models; handwriting fonts for image
models, which also see the real ink rendered to images); augmentation;
length-bucketed padded batches; AdamW with warmup and cosine decay;
checkpoints (--resume continues a run, --load starts from a model's weights);
optionally an exponential moving average of the weights, which is then what is
evaluated and saved; the best model by CER on the validation set is kept; a
metrics log and a learning-curve plot. Runs data-parallel under torchrun (gloo
on CPU, NCCL on GPU)."""

from __future__ import annotations

import datetime
import json
import math
import os
import pickle
import random
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from handwrite.codec import PRINTABLE_ASCII, Codec
from handwrite.decoding import greedy_decode
from handwrite.errors import HandwriteError
from handwrite.evaluate import ErrorRates, error_rates
from handwrite.features import FeatureSettings
from handwrite.fileio import atomic_open, atomic_write_text
from handwrite.imaging import ImageSettings
from handwrite.inputs import Item, item_text
from handwrite.model import ModelConfig, RecognizerNet, batched_log_probs, pad_features
from handwrite.modelfile import ModelFile, check_model_output, load_model_file, save_model_file
from handwrite.recognizer import model_file_path
from handwrite.training.data.batching import bucketed_batches
from handwrite.training.data.datasets import load_iam_split, load_labelled, spread_subset
from handwrite.training.data.synthetic import TextSampler, common_words
from handwrite.training.inputs import (
    Sample,
    TrainingImageInputs,
    TrainingInkInputs,
    TrainingInputs,
    training_inputs_for,
)
from handwrite.training.options import TrainOptions

IAM_CITATION = (
    "M. Liwicki and H. Bunke, 'IAM-OnDB - an On-Line English Sentence Database Acquired from "
    "Handwritten Text on a Whiteboard', ICDAR 2005. Non-commercial research use only."
)


class Trainer:
    def __init__(self, options: TrainOptions) -> None:
        self.options = options
        # now, not when the first model is saved; a resumed run goes on writing its own
        check_model_output(options.output, replace=options.overwrite or options.resume is not None)
        self.rank, self.world_size = _init_distributed()
        self.device = torch.device(
            f"cuda:{self.rank % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu"
        )
        torch.set_num_threads(options.threads or max(1, (os.cpu_count() or 1) // self.world_size))
        # Data order and synthetic lines come from one seed shared by all ranks, so every
        # rank sees the same batch list and takes its own share (DDP needs equal step
        # counts); augmentation differs per rank.
        self.data_rng = random.Random(options.seed)
        self.rng = random.Random(options.seed * 1000 + self.rank)
        torch.manual_seed(options.seed)
        self.work_dir = Path(options.work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.inputs: TrainingInputs = (
            TrainingImageInputs(ImageSettings(height=options.image_height))
            if options.kind == "image"
            else TrainingInkInputs(FeatureSettings(step=options.step))
        )
        self.base_info: dict = {}
        checkpoint = _read_checkpoint(options.resume) if options.resume else None
        self.codec, self.net = self._network_from(checkpoint) if checkpoint else self._build_network()
        if isinstance(self.inputs, TrainingImageInputs):  # new or loaded: this run's share
            self.inputs.hershey = options.hershey_share
        self.teacher = self._load_teacher() if options.teacher else None
        self.train_set = self._samples(self._load_train())
        self.valid_set, self.selected_on = self._load_valid()
        self.sampler = TextSampler([s.text for s in self.train_set], common_words(), self.data_rng)
        self.model = self.net.to(self.device)
        if self.world_size > 1:
            self.model = nn.parallel.DistributedDataParallel(self.net)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay
        )
        # only rank 0 evaluates and saves, so only it keeps the average
        self.ema = _moving_average(self.net, options.ema_decay) if options.ema_decay and self.rank == 0 else None
        self.step = 0
        self.epoch = 0
        self.best_cer = math.inf
        self.elapsed_before = 0.0  # minutes trained before a resume
        self._started = time.monotonic()
        self.history: list[dict] = []
        if checkpoint:
            self._restore(checkpoint)

    # ---- data -------------------------------------------------------------
    def _build_network(self) -> tuple[Codec, RecognizerNet]:
        o = self.options
        if o.load:
            base = load_model_file(model_file_path(o.load))
            if base.kind != o.kind:
                raise HandwriteError(f"{o.load}: a {base.kind} model cannot start a {o.kind} model's training")
            self.base_info = {"base_model": str(o.load)}
            self.inputs = training_inputs_for(base.kind, base.preprocessing)
            return base.codec, base.network_to_train(o.load).train()
        codec = Codec(PRINTABLE_ASCII)
        config = ModelConfig(
            self.inputs.num_features, len(codec), o.rnn, o.hidden, o.layers, dropout=o.dropout, front=o.kind
        )
        return codec, RecognizerNet(config)

    def _network_from(self, checkpoint: dict) -> tuple[Codec, RecognizerNet]:
        """The network a checkpoint was saved from (its architecture, inputs and
        alphabet, whatever this run's --rnn, --hidden, ... say), to resume it."""
        try:
            config = ModelConfig.from_dict(json.loads(checkpoint["config"]))
            preprocessing = json.loads(checkpoint["preprocessing"])
            codec = Codec(checkpoint["alphabet"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HandwriteError(f"{self.options.resume}: cannot resume from this checkpoint ({exc})") from exc
        if config.front != self.options.kind:
            raise HandwriteError(f"{self.options.resume}: an {config.front} run cannot resume as {self.options.kind}")
        self._note_ignored_flags(config)
        config = replace(config, dropout=self.options.dropout)  # the one setting a resume may change
        self.inputs = training_inputs_for(config.front, preprocessing)
        return codec, RecognizerNet(config).train()

    def _note_ignored_flags(self, config: ModelConfig) -> None:
        o = self.options
        asked = {"rnn": o.rnn, "hidden": o.hidden, "layers": o.layers}
        ignored = [f"--{name} {value}" for name, value in asked.items() if getattr(config, name) != value]
        if ignored and self.rank == 0:
            kept = ", ".join(f"{name} {getattr(config, name)}" for name in asked)
            print(f"resuming the checkpoint's network ({kept}); ignoring {', '.join(ignored)}", file=sys.stderr)

    def _load_teacher(self) -> nn.Module:
        """The network whose per-frame output the one trained learns to match: it must
        read the same inputs, with the same alphabet, at the same frame rate."""
        o = self.options
        teacher = load_model_file(model_file_path(o.teacher))
        if teacher.kind != o.kind or teacher.codec.alphabet != self.codec.alphabet:
            raise HandwriteError(f"{o.teacher}: a teacher must be a {o.kind} model with the same alphabet")
        if teacher.preprocessing != self.inputs.preprocessing():
            raise HandwriteError(f"{o.teacher}: a teacher must read the same inputs (preprocessing differs)")
        if teacher.config.front != self.net.config.front:
            raise HandwriteError(f"{o.teacher}: a teacher must have the same front (frame rate)")
        net = teacher.build_network().eval().to(self.device)
        net.requires_grad_(False)
        return net

    def _load_train(self) -> list[Item]:
        o = self.options
        inks = load_labelled(o.train_files) if o.train_files else []
        if o.iam_ondb:
            inks += load_iam_split(o.iam_ondb, "trainset")
        if o.limit_train:
            inks = inks[: o.limit_train]
        if not inks:
            raise HandwriteError("no training data: give --iam-ondb and/or labelled files")
        return inks

    def _load_valid(self) -> tuple[list[Sample], str]:
        """The validation samples, and what they are (for the model file's metadata)."""
        o = self.options
        inks, name = (load_labelled(o.valid_files), "validation files") if o.valid_files else ([], "")
        if o.iam_ondb and not o.valid_files:
            inks, name = load_iam_split(o.iam_ondb, "testset_v"), "IAM-OnDB testset_v"
        if not inks:  # no validation set given: hold out every 10th training line
            inks, name = [s.source for s in self.train_set[::10]], "every 10th training line (held out)"
            self.train_set = [s for i, s in enumerate(self.train_set) if i % 10]
        if o.valid_lines:
            inks = spread_subset(inks, o.valid_lines)
        return self._samples(inks), name

    def _samples(self, items: list[Item]) -> list[Sample]:
        samples = []
        for item in items:
            try:
                sample = self.inputs.sample(item, item_text(item), self.codec)
            except ValueError:
                continue  # characters the model cannot output: not trainable
            if sample.labels and sample.length:
                samples.append(sample)
        return samples

    def _synthetic_samples(self, count: int) -> list[Sample]:
        """Fresh synthetic lines each epoch. Hershey glyphs take a longer pen path
        than handwriting, so lines longer than 95% of the real ones are dropped:
        they would cost several real batches each."""
        if count <= 0:
            return []
        longest = float(np.percentile([s.length for s in self.train_set], 95))
        samples = []
        for _ in range(count):
            try:
                sample = self.inputs.synthetic(self.sampler.sample(), self.data_rng, self.codec)
            except ValueError:
                continue
            if sample.labels and 0 < sample.length <= longest:
                samples.append(sample)
        return samples

    # ---- training -----------------------------------------------------------
    def run(self) -> ErrorRates | None:
        o = self.options
        steps_per_epoch = self._steps_per_epoch()
        self.total_steps = max(1, steps_per_epoch * o.epochs)
        self._started = time.monotonic() - 60 * self.elapsed_before
        progress = self._progress_bar()
        result = None
        out_of_time = False
        while self.epoch < o.epochs and not out_of_time:
            epoch_set = self.train_set + self._synthetic_samples(int(len(self.train_set) * o.synthetic_fraction))
            batches = bucketed_batches(
                [s.length for s in epoch_set], o.batch_size, self.data_rng, self.rank, self.world_size
            )
            for batch in batches:
                loss = self._train_step([epoch_set[i] for i in batch])
                if progress:
                    progress.update(1)
                    progress.set_postfix(loss=f"{loss:.3f}", epoch=self.epoch)
                if o.eval_every and self.step % o.eval_every == 0:
                    result = self._evaluate_and_save()
                if self._time_is_up():
                    out_of_time = True  # the time budget is spent: stop after one last evaluation
                    break
            else:
                self.epoch += 1
            if not o.eval_every or self.epoch >= o.epochs or out_of_time:
                result = self._evaluate_and_save()
        if progress:
            progress.close()
        if self.world_size > 1:
            dist.destroy_process_group()
        return result

    def _time_is_up(self) -> bool:
        """Whether the time budget is spent; under DDP all ranks agree (rank 0's clock decides)."""
        if not self.options.max_minutes:
            return False
        up = torch.tensor([float(self._elapsed_minutes() > self.options.max_minutes)], device=self.device)
        if self.world_size > 1:
            dist.broadcast(up, src=0)
        return bool(up.item())

    def _elapsed_minutes(self) -> float:
        return (time.monotonic() - self._started) / 60

    def _steps_per_epoch(self) -> int:
        n = len(self.train_set) * (1 + self.options.synthetic_fraction)
        return math.ceil(n / self.options.batch_size / self.world_size)

    def _train_step(self, batch: list[Sample]) -> float:
        self.model.train()
        features = [self.inputs.training_frames(s, self.rng) for s in batch]
        for group in self.optimizer.param_groups:
            group["lr"] = self._learning_rate()
        if self.teacher is None:
            loss = batch_loss(self.model, features, batch, self.device)
        else:
            weight = self.options.distill_weight
            loss = distilled_batch_loss(self.model, self.teacher, features, batch, weight, self.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
        self.optimizer.step()
        if self.ema is not None:
            self.ema.update_parameters(self.net)
        self.step += 1
        value = loss.item()
        self._running_loss = 0.98 * getattr(self, "_running_loss", value) + 0.02 * value
        return value

    def _learning_rate(self) -> float:
        o = self.options
        if self.step < o.warmup_steps:
            return o.learning_rate * (self.step + 1) / o.warmup_steps
        progress = min(1.0, (self.step - o.warmup_steps) / max(1, self.total_steps - o.warmup_steps))
        if o.max_minutes:  # a time budget: decay to the floor by the end of it, whichever ends first
            progress = max(progress, min(1.0, self._elapsed_minutes() / o.max_minutes))
        return o.learning_rate * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))

    # ---- evaluation and saving ----------------------------------------------
    def _evaluate_and_save(self) -> ErrorRates | None:
        result = None
        if self.rank == 0:
            result = evaluate_network(self._kept_net, self.codec, self.inputs, self.valid_set, self.device)
            improved = result.cer < self.best_cer
            if improved:
                self.best_cer = result.cer
                save_model_file(self._model_file(result), self.options.output)
            self._log(result, improved)
            self._save_checkpoint()
        if self.world_size > 1:
            dist.barrier()
        return result

    @property
    def _kept_net(self) -> RecognizerNet:
        """The network that is evaluated and saved: the moving average when there is one."""
        return self.ema.module if self.ema is not None else self.net

    def _model_file(self, result: ErrorRates) -> ModelFile:
        o = self.options
        state = {k: v.detach().cpu() for k, v in self._kept_net.state_dict().items()}
        synthetic = (
            "synthetic Hershey ink"
            if o.kind == "ink"
            else f"synthetic lines ({o.hershey_share:.0%} Hershey ink, the rest handwriting fonts)"
            if self.inputs.fonts  # type: ignore[union-attr]
            else "synthetic lines in Hershey ink (no handwriting fonts installed)"
        )
        real = "IAM-OnDB trainset" if o.kind == "ink" else "IAM-OnDB trainset rendered to images"
        info = {
            **self.base_info,
            "training": {
                "data": ([real] if o.iam_ondb else [])
                + [str(p) for p in o.train_files]
                + ([f"{synthetic} ({o.synthetic_fraction:.0%} of lines)"] if o.synthetic_fraction else []),
                "citation": IAM_CITATION if o.iam_ondb else None,
                "selected_on": self.selected_on,
                "steps": self.step,
                "epochs": self.epoch,
                # a loaded or resumed network is what it is, whatever the (default) flags said
                "options": {**asdict(o), **{k: getattr(self.net.config, k) for k in ("rnn", "hidden", "layers")}},
            },
            # keyed like `handwrite eval --record-metrics`: set, then decoding
            "metrics": {f"{self.selected_on}, {result.lines} lines (model selection)": {"beam 1": result.figures()}},
        }
        return ModelFile(self.inputs.kind, self.codec, self.net.config, self.inputs.preprocessing(), state, info)

    def _log(self, result: ErrorRates, improved: bool) -> None:
        entry = {
            "step": self.step,
            "epoch": self.epoch,
            "loss": round(getattr(self, "_running_loss", 0.0), 4),
            "cer": round(result.cer, 5),
            "wer": round(result.wer, 5),
            "best": improved,
            "minutes": round(self._elapsed_minutes(), 2),  # of training time, for curves against time
            "time": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        self.history.append(entry)
        with open(self.work_dir / "metrics.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        print(json.dumps(entry), flush=True)
        plot_learning_curve(self.history, self.work_dir / "learning-curve.png")

    def _save_checkpoint(self) -> None:
        checkpoint = {
            "net": self.net.state_dict(),
            **({"ema": self.ema.state_dict()} if self.ema is not None else {}),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "best_cer": self.best_cer,
            "elapsed_minutes": self._elapsed_minutes(),
            "history": json.dumps(self.history),
            "base_info": json.dumps(self.base_info),  # a resumed --load run still names its base
            "config": json.dumps(self.net.config.to_dict()),
            "preprocessing": json.dumps(self.inputs.preprocessing()),
            "alphabet": self.codec.alphabet,
        }
        with atomic_open(self.work_dir / "checkpoint.pt", "wb") as handle:
            torch.save(checkpoint, handle)

    def _restore(self, checkpoint: dict) -> None:
        """Weights, optimizer, average and progress of the checkpointed run."""
        self.net.load_state_dict(checkpoint["net"])
        if self.ema is not None and "ema" in checkpoint:
            self.ema.load_state_dict(checkpoint["ema"])
        elif self.ema is not None:  # a checkpoint without one: the average restarts from its weights
            self.ema.module.load_state_dict(checkpoint["net"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.step, self.epoch = int(checkpoint["step"]), int(checkpoint["epoch"])
        self.best_cer = float(checkpoint["best_cer"])
        self.elapsed_before = float(checkpoint.get("elapsed_minutes", 0.0))
        self.history = json.loads(checkpoint["history"])
        self.base_info = json.loads(checkpoint.get("base_info", "{}"))

    def _progress_bar(self):
        if self.rank != 0 or not self.options.progress:
            return None
        from tqdm import tqdm

        return tqdm(
            total=self._steps_per_epoch() * self.options.epochs, initial=self.step, unit="step", dynamic_ncols=True
        )


def _read_checkpoint(path: str, doing: str = "resume from") -> dict:
    """A training checkpoint's contents (weights only: no pickled code runs); what the
    caller is `doing` with it names the error."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise HandwriteError(f"{path}: cannot {doing} this checkpoint ({reason})") from exc
    if not isinstance(checkpoint, dict):
        raise HandwriteError(f"{path}: cannot {doing} this checkpoint (not a training checkpoint)")
    return checkpoint


def batch_loss(
    model: nn.Module, features: list[np.ndarray], samples: list[Sample], device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Mean CTC loss of a batch (padded frames are excluded through the lengths)."""
    return _ctc_and_outputs(model, features, samples, device)[0]


def distilled_batch_loss(
    model: nn.Module,
    teacher: RecognizerNet,
    features: list[np.ndarray],
    samples: list[Sample],
    weight: float,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """(1 - weight) x the CTC loss + weight x the mean over real frames of
    KL(teacher || model): a smaller network learns the teacher's per-frame
    distribution (where it puts each character and how sure it is), which
    carries more than the transcription alone."""
    ctc, log_probs, out_lengths, (x, lengths) = _ctc_and_outputs(model, features, samples, device)
    with torch.no_grad():
        teacher_log_probs, _ = teacher(x, lengths)
    frames = torch.arange(log_probs.shape[0], device=device)[:, None] < out_lengths[None, :]  # (T, B) real frames
    per_frame = (teacher_log_probs.exp() * (teacher_log_probs - log_probs)).sum(dim=-1)
    kl = (per_frame * frames).sum() / frames.sum().clamp(min=1)
    return (1 - weight) * ctc + weight * kl


def _ctc_and_outputs(
    model: nn.Module, features: list[np.ndarray], samples: list[Sample], device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The batch's mean CTC loss, the model's log-probabilities and output lengths, and
    the padded input it read (on `device`)."""
    x, lengths = pad_features(features)
    x, lengths = x.to(device), lengths.to(device)
    targets = torch.tensor([label for s in samples for label in s.labels], dtype=torch.long, device=device)
    target_lengths = torch.tensor([len(s.labels) for s in samples], dtype=torch.long, device=device)
    log_probs, out_lengths = model(x, lengths)
    ctc = nn.functional.ctc_loss(log_probs, targets, out_lengths, target_lengths, blank=0, zero_infinity=True)
    return ctc, log_probs, out_lengths, (x, lengths)


def evaluate_network(
    net: RecognizerNet,
    codec: Codec,
    inputs: TrainingInputs,
    samples: list[Sample],
    device: torch.device | str = "cpu",
) -> ErrorRates:
    """Greedy-decoded CER/WER of a network on labelled samples."""
    outputs = batched_log_probs(net, [inputs.sample_frames(s) for s in samples], device)
    return error_rates((s.text, greedy_decode(lp, codec).text) for s, lp in zip(samples, outputs, strict=True))


def plot_learning_curve(history: list[dict], path: Path) -> None:
    """Validation CER and training loss against steps (skipped without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [100 * h["cer"] for h in history], "o-", label="validation CER %")
    ax.set_xlabel("step")
    ax.set_ylabel("CER %")
    ax.grid(alpha=0.3)
    twin = ax.twinx()
    twin.plot(steps, [h["loss"] for h in history], "s--", color="tab:orange", label="training loss")
    twin.set_ylabel("CTC loss")
    # above the axes, in a strip of its own: inside, it covers the curves or the right axis
    fig.legend(loc="upper center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=90)
    plt.close(fig)


def checkpoint_moving_average(path: str) -> tuple[dict[str, torch.Tensor], int]:
    """The weights of the moving average a run's checkpoint holds (--ema-decay), and
    the step it was saved at: a run's last average, where the best file holds the one
    that scored best on the validation lines."""
    checkpoint = _read_checkpoint(path, "average")
    if "ema" not in checkpoint:
        raise HandwriteError(f"{path}: the run kept no moving average (--ema-decay)")
    try:
        average = _moving_average(RecognizerNet(ModelConfig.from_dict(json.loads(checkpoint["config"]))), 0.0)
        average.load_state_dict(checkpoint["ema"])  # the decay only matters while training
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise HandwriteError(f"{path}: cannot read the run's moving average ({exc})") from exc
    return {name: t.detach().clone() for name, t in average.module.state_dict().items()}, int(checkpoint["step"])


def _moving_average(net: RecognizerNet, decay: float) -> torch.optim.swa_utils.AveragedModel:
    """An exponential moving average of the weights and batch-norm statistics: less noisy
    than the last step's weights, which matters most late in a run on little data."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _init_distributed() -> tuple[int, int]:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return 0, 1
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend=backend)
    return dist.get_rank(), world_size


def write_options(options: TrainOptions, path: Path) -> None:
    atomic_write_text(path, json.dumps(asdict(options), indent=2))


__all__ = ["Sample", "TrainOptions", "Trainer", "evaluate_network", "item_text"]

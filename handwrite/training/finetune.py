"""Adapt a model to a user's labelled samples.

Starts from a base model's weights (never changes the base file). Characters
the base model lacks are added as new outputs, old outputs kept. For ink,
half of the user's share of each batch is new lines set from the words of
their samples (data/recombine.py), so a few lines teach letters, not
sentences. Forgetting is held back by few, small steps, frozen batch-norm
statistics, synthetic lines (single-stroke ink or font lines, by the model's
kind; optionally base-like data too) mixed into every batch, and early
stopping on a held-out slice of the user's samples. The output is written
once, atomically, at the end: a cancelled or failed run leaves nothing.
"""

from __future__ import annotations

import random
import threading
import time
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from handwrite.codec import Codec
from handwrite.errors import HandwriteError
from handwrite.evaluate import ErrorRates
from handwrite.ink import Ink
from handwrite.inputs import Item, item_source, item_text
from handwrite.modelfile import ModelFile, check_model_output, load_model_file, save_model_file
from handwrite.training.data.datasets import load_labelled
from handwrite.training.data.recombine import WordPool
from handwrite.training.data.synthetic import TextSampler, common_words
from handwrite.training.inputs import Sample, TrainingInkInputs, TrainingInputs, training_inputs_for
from handwrite.training.options import FinetuneOptions
from handwrite.training.train import batch_loss, evaluate_network


@dataclass
class FinetuneReport:
    output: str
    train_samples: int
    heldout_samples: int
    new_chars: str
    steps: int
    seconds: float
    before: ErrorRates | None
    after: ErrorRates | None
    # why training ended: "steps" (max_steps done), "time" (the max_seconds budget ran out),
    # "no improvement" (early stopping on the held-out samples) or "cancelled"
    stopped: str = "steps"
    changed: bool = True  # False: the weights written are the base's (no step was kept)


def finetune(options: FinetuneOptions, cancel: threading.Event | None = None) -> FinetuneReport:
    """Run a fine-tune on `options.threads` torch threads (the caller's count comes back
    after); raises HandwriteError with a clear message on bad input."""
    threads = torch.get_num_threads()
    torch.set_num_threads(options.threads)
    try:
        return _finetune(options, cancel)
    finally:
        torch.set_num_threads(threads)


def _finetune(options: FinetuneOptions, cancel: threading.Event | None) -> FinetuneReport:
    from handwrite.recognizer import default_model_path, model_file_path

    items = usable_samples(load_labelled(options.data))
    kind = "image" if items and not any(isinstance(item, Ink) for item in items) else "ink"
    base_path = model_file_path(options.base) if options.base else default_model_path(kind)
    if Path(options.output).resolve() == base_path.resolve():
        raise HandwriteError(f"{options.output}: the output must not be the base model (the base is never changed)")
    check_model_output(options.output, replace=options.overwrite)  # now, not after the fine-tune
    base = load_model_file(base_path)
    items = _of_kind(items, base.kind)
    codec = base.codec.extended(sorted({c for item in items for c in base.codec.unknown_chars(item_text(item))}))
    net = base.network_to_train(base_path)
    new_chars = codec.alphabet[len(base.codec.alphabet) :]
    net.grow_classes(len(codec), like=[_resembled(c, base.codec) for c in new_chars])
    inputs = training_inputs_for(base.kind, base.preprocessing)
    if isinstance(inputs, TrainingInkInputs):  # a writer's own slant and proportions are what there is to learn
        inputs.augmentation = inputs.augmentation.scaled(options.augmentation)
    rng = random.Random(options.seed)
    torch.manual_seed(options.seed)
    samples = [inputs.sample(item, item_text(item), codec) for item in items]
    rng.shuffle(samples)
    enough = len(samples) >= max(2, options.holdout_from) and options.holdout > 0
    held = max(1, round(len(samples) * options.holdout)) if enough else 0
    heldout, train = samples[:held], samples[held:]
    replay = _of_kind(usable_samples(load_labelled(options.replay_data)), base.kind)
    mix_in = [inputs.sample(item, item_text(item), codec) for item in replay]

    run = _Run(options, net, codec, inputs, train, heldout, mix_in, rng)
    before = run.evaluate()
    started = time.monotonic()
    after = run.train(cancel, started)
    if cancel is not None and cancel.is_set():
        raise HandwriteError("fine-tuning cancelled; nothing was written")
    info = {
        "base_model": str(base_path),
        "training": {
            "data": [f"{len(samples)} user samples"]
            + ([f"synthetic {_SYNTHETIC[base.kind]}"] if options.synthetic_fraction else []),
            "finetune": {
                "samples": len(samples),  # all of them: held_out of these checked it, the rest trained it
                "held_out": len(heldout),
                "steps": run.step,
                "new_chars": new_chars,
                "learning_rate": options.learning_rate,
            },
            "base_training": base.info.get("training", {}).get("data", []),
        },
        "metrics": {"held-out user samples": {"before": _rates(before), "after": _rates(after)}} if heldout else {},
    }
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    save_model_file(ModelFile(base.kind, codec, net.config, base.preprocessing, state, info), options.output)
    seconds = time.monotonic() - started
    return FinetuneReport(
        options.output, len(train), len(heldout), new_chars, run.step, seconds, before, after, run.stopped, run.changed
    )


_SYNTHETIC = {"ink": "Hershey ink", "image": "lines in handwriting fonts"}


def usable_samples(items: list[Item]) -> list[Item]:
    """Samples with text made of real characters; others are skipped with a warning."""
    usable = []
    for item in items:
        text = item_text(item).strip()
        source = item_source(item)
        odd = sorted({c for c in text if unicodedata.category(c)[0] == "C"})
        if not text:
            warnings.warn(f"skipped: {source}: empty transcription", stacklevel=2)
        elif odd:
            warnings.warn(f"skipped: {source}: text holds control or unassigned characters {odd!r}", stacklevel=2)
        elif isinstance(item, Ink) and item.is_empty():
            warnings.warn(f"skipped: {source}: no strokes", stacklevel=2)
        else:
            usable.append(item)
    return usable


def _resembled(char: str, codec: Codec) -> int | None:
    """The output of the letter a new character is built on (e for é, c for ç), if any."""
    letter = unicodedata.normalize("NFD", char)[0]
    if letter == char or codec.unknown_chars(letter):
        return None
    return codec.encode(letter)[0]


def _of_kind(items: list[Item], kind: str) -> list[Item]:
    """The items a model of this kind reads; others are skipped with a warning."""
    wanted = [item for item in items if isinstance(item, Ink) == (kind == "ink")]
    if len(wanted) < len(items):
        other = "images" if kind == "ink" else "ink files"
        warnings.warn(f"skipped {len(items) - len(wanted)} {other}: the base is an {kind} model", stacklevel=2)
    return wanted


def _rates(rates: ErrorRates | None) -> dict | None:
    return None if rates is None else rates.figures()


class _Run:
    """The training loop of one fine-tune, with early stopping on held-out loss
    (smoother than the CER of a few lines; the CER is what gets reported)."""

    def __init__(
        self,
        options: FinetuneOptions,
        net: nn.Module,
        codec: Codec,
        inputs: TrainingInputs,
        train: list[Sample],
        heldout: list[Sample],
        mix_in: list[Sample],
        rng: random.Random,
    ) -> None:
        if not train:
            raise HandwriteError("no usable training samples (each needs strokes or an image, and a transcription)")
        self.options, self.net, self.codec, self.inputs = options, net, codec, inputs
        self.train_set, self.heldout, self.mix_in, self.rng = train, heldout, mix_in, rng
        # made-up ASCII lines only: Hershey has no glyphs for the new characters a user may add
        self.sampler = TextSampler([], common_words(5000), rng)
        head = list(net.head.parameters())
        body = [p for p in net.parameters() if all(p is not h for h in head)]
        self.optimizer = torch.optim.AdamW(
            [
                {"params": body, "lr": options.learning_rate},
                # the output layer moves faster: new characters start from borrowed rows
                {"params": head, "lr": options.learning_rate * options.head_lr_scale},
            ],
            weight_decay=0.0,
        )
        # ink only: a line image cannot be cut into words as reliably
        self.words = WordPool(s.source for s in train if isinstance(s.source, Ink))
        self.step = 0
        self.stopped = "steps"
        self.changed = False

    def evaluate(self) -> ErrorRates | None:
        if not self.heldout:
            return None
        return evaluate_network(self.net, self.codec, self.inputs, self.heldout)  # type: ignore[arg-type]

    @torch.no_grad()
    def heldout_loss(self) -> float:
        self.net.eval()
        frames = [self.inputs.sample_frames(s) for s in self.heldout]
        return batch_loss(self.net, frames, self.heldout).item()

    def train(self, cancel: threading.Event | None, started: float) -> ErrorRates | None:
        o = self.options
        best = self.heldout_loss() if self.heldout else None
        start_state = {k: v.clone() for k, v in self.net.state_dict().items()}
        best_state = start_state
        stale = 0
        progress = _progress(o)
        self.stopped = "time"  # unless the loop ends another way
        while self.step < o.max_steps and time.monotonic() - started < o.max_seconds:
            if cancel is not None and cancel.is_set():
                self.stopped = "cancelled"
                break
            loss = self._step()
            if o.on_step is not None:
                o.on_step(self.step, o.max_steps, loss)
            if progress:
                progress.update(1)
                progress.set_postfix(loss=f"{loss:.3f}")
            if self.heldout and self.step % o.eval_every == 0:
                loss = self.heldout_loss()
                if best is None or loss < best:
                    best, stale = loss, 0
                    best_state = {k: v.clone() for k, v in self.net.state_dict().items()}
                else:
                    stale += 1
                    if stale >= o.patience:
                        self.stopped = "no improvement"
                        break
        else:
            if self.step >= o.max_steps:
                self.stopped = "steps"
        if progress:
            progress.close()
        if self.heldout:
            self.net.load_state_dict(best_state)
        # a user must be told when the "personal" model is the base model itself
        self.changed = any(not torch.equal(v, start_state[k]) for k, v in self.net.state_dict().items())
        return self.evaluate() if self.heldout else None

    def _user_line(self) -> Sample:
        """One of the user's samples, or a new line recombined from their words."""
        if self.words and self.rng.random() < self.options.recombined_fraction:
            line = self.words.line(self.rng)
            return self.inputs.sample(line, line.text or "", self.codec)
        return self.rng.choice(self.train_set)

    def _step(self) -> float:
        o = self.options
        self.net.train()
        for module in self.net.modules():  # a few samples must not move the batch-norm statistics
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        mixed = max(1, round(o.batch_size * o.synthetic_fraction)) if o.synthetic_fraction > 0 else 0
        batch = [self._user_line() for _ in range(o.batch_size - mixed)]
        for _ in range(mixed):
            if self.mix_in and self.rng.random() < 0.5:
                batch.append(self.rng.choice(self.mix_in))
            else:
                batch.append(self.inputs.synthetic(self.sampler.sample(), self.rng, self.codec))
        features = [self.inputs.training_frames(s, self.rng) for s in batch]
        loss = batch_loss(self.net, features, batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
        self.optimizer.step()
        self.step += 1
        return loss.item()


def _progress(options: FinetuneOptions):
    if not options.progress:
        return None
    from tqdm import tqdm

    return tqdm(total=options.max_steps, unit="step", desc="fine-tuning", dynamic_ncols=True)

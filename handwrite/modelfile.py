"""Model files: safetensors weights plus self-describing JSON metadata.

Loading never executes code (no pickle). A file that is missing, truncated,
corrupt, of another format or from an incompatible version is refused with a
ModelFileError that says which and why.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from handwrite.codec import Codec
from handwrite.errors import ModelFileError
from handwrite.fileio import atomic_write_bytes, checked_size
from handwrite.model import ModelConfig, RecognizerNet

FORMAT = "handwrite-model"
FORMAT_VERSION = 1
KINDS = ("ink", "image")
MAX_MODEL_BYTES = 512 * 1024 * 1024


@dataclass
class ModelFile:
    """Everything a model file holds: the network and what it needs to be used."""

    kind: str
    codec: Codec
    config: ModelConfig
    preprocessing: dict
    state: dict[str, torch.Tensor]
    info: dict = field(default_factory=dict)  # training data, metrics, base model, ...

    def build_network(self) -> RecognizerNet:
        net = RecognizerNet(self.config)
        try:
            net.load_state_dict(self.state, strict=True)
        except RuntimeError as exc:
            raise ModelFileError(f"weights do not fit the architecture in the metadata: {exc}") from exc
        return net.eval()

    def metadata(self) -> dict:
        from handwrite import __version__

        return {
            "kind": self.kind,
            "alphabet": self.codec.alphabet,
            "blank_index": 0,
            "unicode_normalization": self.codec.normalization,
            "preprocessing": self.preprocessing,
            "architecture": self.config.to_dict(),
            "handwrite_version": __version__,
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            **self.info,
        }


def save_model_file(model: ModelFile, path: str | os.PathLike[str]) -> None:
    """Write atomically: a crash mid-save leaves the previous file intact."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state.items()}
    header = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "metadata": json.dumps(model.metadata(), ensure_ascii=False),
    }
    atomic_write_bytes(path, save_safetensors(state, metadata=header))


def average_models(models: list[ModelFile]) -> ModelFile:
    """A "model soup": the element-wise mean of the weights of models that share a kind,
    alphabet, architecture and preprocessing, and were trained on from one starting
    model (so their weights lie in one basin; averaging unrelated models gives noise).
    The first model's information is kept, less its metrics: the mean is another model."""
    first = models[0]
    for other in models[1:]:
        same = (other.kind, other.codec.alphabet, other.config, other.preprocessing)
        if same != (first.kind, first.codec.alphabet, first.config, first.preprocessing):
            raise ModelFileError("only models of one kind, alphabet, architecture and preprocessing can be averaged")
    state = {
        name: torch.stack([m.state[name] for m in models]).float().mean(0).to(tensor.dtype)
        if tensor.is_floating_point()
        else tensor
        for name, tensor in first.state.items()
    }
    info = {k: v for k, v in first.info.items() if k != "metrics"}
    return ModelFile(first.kind, first.codec, first.config, first.preprocessing, state, info)


def load_model_file(path: str | os.PathLike[str]) -> ModelFile:
    path = Path(path)
    data = _read(path)
    try:
        state = load_safetensors(data)
        header = _header(data)
    except (SafetensorError, ValueError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path}: not a readable model file (corrupt or truncated: {exc})") from exc
    meta = _check_header(header, path)
    try:
        codec = Codec(meta["alphabet"], meta.get("unicode_normalization", "NFC"))
        config = ModelConfig.from_dict(meta["architecture"])
        kind = meta["kind"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: metadata incomplete or invalid ({exc})") from exc
    if kind not in KINDS:
        raise ModelFileError(f"{path}: unknown model kind {kind!r} (expected one of {', '.join(KINDS)})")
    if config.front != kind:
        raise ModelFileError(f"{path}: an {kind} model whose network has an {config.front!r} front")
    if config.num_classes != len(codec):
        raise ModelFileError(f"{path}: {config.num_classes} outputs but an alphabet of {len(codec)} classes")
    known = {"kind", "alphabet", "blank_index", "unicode_normalization", "preprocessing", "architecture"}
    info = {k: v for k, v in meta.items() if k not in known}
    return ModelFile(kind, codec, config, meta.get("preprocessing", {}), state, info)


def _read(path: Path) -> bytes:
    checked_size(path, ModelFileError, "model file", MAX_MODEL_BYTES, minimum=8)
    return path.read_bytes()


def _header(data: bytes) -> dict:
    length = int.from_bytes(data[:8], "little")
    if length > len(data) - 8:
        raise ValueError("header length beyond end of file")
    return json.loads(data[8 : 8 + length]).get("__metadata__") or {}


def _check_header(header: dict, path: Path) -> dict:
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: a safetensors file, but not a handwrite model (no '{FORMAT}' metadata)")
    try:
        version = int(header.get("format_version", "0"))
    except ValueError:
        version = -1
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format version {header.get('format_version')!r}; "
            f"this handwrite reads version {FORMAT_VERSION}"
        )
    try:
        meta = json.loads(header["metadata"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: metadata missing or not JSON") from exc
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata is not a JSON object")
    return meta

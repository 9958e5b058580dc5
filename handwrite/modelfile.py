"""Model files: safetensors weights plus self-describing JSON metadata.

Loading never executes code (no pickle). A file that is missing, truncated,
corrupt, of another format or from an incompatible version is refused with a
ModelFileError that says which and why.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import reprlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from handwrite.codec import Codec
from handwrite.errors import ModelFileError
from handwrite.features import FeatureSettings
from handwrite.fileio import atomic_write_bytes, check_writable_kind, read_limited
from handwrite.imaging import ImageSettings
from handwrite.model import (
    EnsembleConfig,
    EnsembleNet,
    NetworkConfig,
    RecognizerNet,
    config_from_dict,
    network_for,
)

FORMAT = "handwrite-model"
FORMAT_VERSION = 1
# The oldest handwrite that reads the files written now, recorded in each file's header as
# "min_reader_version"; files from before the field have none and need MIN_READER_DEFAULT.
# Raise it to __version__ when a change writes what an older handwrite would refuse or misread.
MIN_READER_VERSION = "0.1.0"
# Ensembles (several networks in one file) came in 0.2.0; 0.1.x would refuse one for
# lacking num_features instead of saying to upgrade, so such a file needs 0.2.0.
ENSEMBLE_READER_VERSION = "0.2.0"
MIN_READER_DEFAULT = "0.1.0"
KINDS = ("ink", "image")
MAX_MODEL_BYTES = 512 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024 * 1024  # the bundled models' headers are about 10 kB
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")  # weights; F8 and integer weights are refused
INTEGER_DTYPES = ("I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64")  # counters (BatchNorm's)
NORMALIZATIONS = ("NFC", "NFD", "NFKC", "NFKD")
MAX_WEIGHT = 1e6  # in absolute value
Shapes = dict[str, tuple[tuple[int, ...], torch.dtype]]  # tensor name -> (shape, dtype)
# Preprocessing values outside these give no usable input (a step of 0 divides by
# zero); the bundled models use step 0.2, percentiles 20/80, jump 6, height 48.
PREPROCESSING_LIMITS: dict[str, tuple[float, float]] = {
    "step": (0.001, 10.0),
    "height_low": (0.0, 100.0),
    "height_high": (0.0, 100.0),
    "max_jump": (0.01, 1000.0),
    "smooth": (0.0, 1.0),  # writing heights; the kernel is capped anyway, but a file is untrusted
    "height": (16, 512),
    "margin": (0, 64),
    "width_scale": (0.05, 20.0),
    "ink_threshold": (0.0, 1.0),
}


@dataclass
class ModelFile:
    """Everything a model file holds: the network and what it needs to be used."""

    kind: str
    codec: Codec
    config: NetworkConfig  # one network, or an ensemble of them
    preprocessing: dict
    state: dict[str, torch.Tensor]
    info: dict = field(default_factory=dict)  # training data, metrics, base model, ...

    def build_network(self, share_weights: bool = False) -> RecognizerNet | EnsembleNet:
        """The network with the file's weights. With `share_weights` (for reading only:
        training would change the file's tensors in place) it holds this file's tensors
        instead of copies, and is built without first making random weights: one copy
        of the weights in memory instead of three at the peak."""
        if not share_weights:
            net = network_for(self.config)
            return self._load_into(net, self.state, assign=False)
        expected = self.config.state_shapes()
        with torch.device("meta"):  # no memory, no random initialisation
            net = network_for(self.config)
        # the network's own types (a file may hold float16 weights): no copy where they agree
        state = {name: t.to(expected[name][1]) if name in expected else t for name, t in self.state.items()}
        return self._load_into(net, state, assign=True)

    def network_to_train(self, source: object) -> RecognizerNet:
        """A copy of the file's network to train further; ModelFileError naming `source`
        for an ensemble, which trains as its members do, one at a time (it can teach)."""
        if isinstance(self.config, EnsembleConfig):
            raise ModelFileError(
                f"{source}: an ensemble of {len(self.config.members)} networks cannot be trained or fine-tuned "
                "as one: start from a single model (it can be a --teacher)"
            )
        return self.build_network()  # type: ignore[return-value]

    @staticmethod
    def _load_into(
        net: RecognizerNet | EnsembleNet, state: dict[str, torch.Tensor], assign: bool
    ) -> RecognizerNet | EnsembleNet:
        try:
            net.load_state_dict(state, strict=True, assign=assign)
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
        "min_reader_version": ENSEMBLE_READER_VERSION
        if isinstance(model.config, EnsembleConfig)
        else MIN_READER_VERSION,
        "metadata": json.dumps(model.metadata(), ensure_ascii=False),
    }
    atomic_write_bytes(path, save_safetensors(state, metadata=header))


def record_metrics(
    model: ModelFile, path: str | os.PathLike[str], dataset: str, decoding: str, figures: Mapping[str, object]
) -> None:
    """Store evaluation figures in a model file's metadata, under the set they were
    measured on and how it was decoded (a later entry for the same pair replaces the
    earlier), and save the file atomically."""
    metrics = model.info.setdefault("metrics", {})
    metrics.setdefault(dataset, {})[decoding] = dict(figures)
    save_model_file(model, path)


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


def ensemble_models(models: list[ModelFile]) -> ModelFile:
    """One model file holding these models' networks, read together (EnsembleConfig):
    single networks of one kind, alphabet and preprocessing. Each member's information
    is kept under "members" (less its calibration: the ensemble reads differently);
    the file's own says only what data they were trained on, with its terms. It has no
    metrics, calibration or history of its own until it is measured."""
    first = models[0]
    for other in models:
        if isinstance(other.config, EnsembleConfig):
            raise ModelFileError("an ensemble cannot be a member of another: give its members")
        if (other.kind, other.codec.alphabet, other.preprocessing) != (
            first.kind,
            first.codec.alphabet,
            first.preprocessing,
        ):
            raise ModelFileError("only models of one kind, alphabet and preprocessing can read as an ensemble")
    try:
        config = EnsembleConfig(tuple(m.config for m in models))  # type: ignore[misc]
    except ValueError as exc:
        raise ModelFileError(f"these models cannot read as an ensemble: {exc}") from None
    state, seen = {}, set()
    for number, member in enumerate(models):
        for name, tensor in member.state.items():  # a model given twice: safetensors saves no shared tensors
            state[f"members.{number}.{name}"] = tensor.clone() if id(tensor) in seen else tensor
            seen.add(id(tensor))
    members = [{k: v for k, v in m.info.items() if k != "calibration"} for m in models]
    return ModelFile(first.kind, first.codec, config, first.preprocessing, state, _ensemble_info(members))


def _ensemble_info(members: list[dict]) -> dict:
    """What an ensemble's own metadata says: its members' training data (each named
    once, in order) and the first citation of their data's terms; their own under "members"."""
    trainings = [m.get("training") if isinstance(m.get("training"), dict) else {} for m in members]
    data = [d for t in trainings for d in (t.get("data") if isinstance(t.get("data"), list) else [])]
    training: dict = {"data": list(dict.fromkeys(map(str, data)))}
    citation = next((t["citation"] for t in trainings if t.get("citation")), None)
    if citation:
        training["citation"] = citation
    return {"training": training, "members": members}


def check_model_output(path: str | os.PathLike[str], replace: bool) -> None:
    """Before a long job writes a model to `path`: a UsageError when a file is there and
    may not be replaced (without `replace`, or when it is no model file: `-o` naming a
    training sample by mistake wrote a model over it); an OSError where a folder, FIFO
    or device stands."""
    from handwrite.errors import UsageError
    from handwrite.printable import shown

    path = Path(path)
    check_writable_kind(path)
    if not path.is_file():
        return
    if not replace:
        raise UsageError(f"-o {shown(path)}: exists; --overwrite replaces it (or choose another name)")
    try:
        load_model_file(path)
    except ModelFileError as exc:
        raise UsageError(f"-o {shown(path)}: not replaced, it is not a model file ({exc})") from None


def load_model_file(path: str | os.PathLike[str]) -> ModelFile:
    """Everything is checked before a tensor is loaded or a network is built: the
    metadata's types and bounds, and the tensors' names, shapes and types as the
    safetensors header gives them. A file is untrusted: the architecture it claims
    decides how much memory building the network takes."""
    path = Path(path)
    data = read_limited(path, ModelFileError, "model file", MAX_MODEL_BYTES, minimum=8)
    foreign = _foreign_kind(data)
    if foreign is not None:
        raise ModelFileError(f"{path}: not a readable model file (not safetensors: {foreign})")
    try:
        entries, header = _safetensors_header(data)
    except ValueError as exc:
        raise ModelFileError(f"{path}: not a readable model file (corrupt or truncated: {exc})") from exc
    meta = _check_header(header, path)
    try:
        kind, codec, config, preprocessing = _checked_metadata(meta)
    except ValueError as exc:
        raise ModelFileError(f"{path}: invalid metadata: {exc}") from exc
    expected = config.state_shapes()
    _check_tensors(entries, expected, path)
    state = _load_tensors(data, expected, path)
    known = {"kind", "alphabet", "blank_index", "unicode_normalization", "preprocessing", "architecture"}
    info = {k: v for k, v in meta.items() if k not in known}
    return ModelFile(kind, codec, config, preprocessing, state, info)


# What a file given as a model commonly is instead, by its first bytes.
_FOREIGN_STARTS = (
    (b"<", "it looks like XML, an ink file?"),
    (b"{", "it looks like JSON, an ink file?"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "gzip data, a notebook or a language model?"),
    (b"PK\x03\x04", "a zip archive, a PyTorch .pt file? handwrite loads no pickles"),
)


def _foreign_kind(data: bytes) -> str | None:
    """What a file is, when its start says it is not safetensors (whose first 8 bytes
    give the header's length, followed by the header's `{`); None when it may be one."""
    if data[8:9] == b"{":
        return None
    start = data[:8].lstrip()
    return next((what for magic, what in _FOREIGN_STARTS if start.startswith(magic)), None)


def _safetensors_header(data: bytes) -> tuple[dict[str, dict], dict[str, str]]:
    """The tensor entries (name -> dtype, shape, offsets) and the string metadata,
    read from the header alone; raises ValueError when the header is malformed."""
    length = int.from_bytes(data[:8], "little")
    if length > len(data) - 8:
        raise ValueError("header length beyond end of file")
    if length > MAX_HEADER_BYTES:
        raise ValueError(f"header of {length} bytes, more than the {MAX_HEADER_BYTES} accepted")
    header = _json(data[8 : 8 + length], "header")
    if not isinstance(header, dict):
        raise ValueError("header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("header metadata is not a map of strings")
    for name, entry in header.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str) or not _is_shape(entry.get("shape")):
            raise ValueError(f"tensor {reprlib.repr(name)} has no valid dtype and shape")
    return header, metadata


def _json(text: bytes | str, what: str) -> object:
    """Parsed JSON; ValueError also for nesting too deep for the parser (a hostile
    file of 10^5 brackets raises RecursionError, which no caller expects)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{what} is nested too deeply") from None


def _is_shape(shape: object) -> bool:
    return isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)


def _check_header(header: dict[str, str], path: Path) -> dict:
    if header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: a safetensors file, but not a handwrite model (no '{FORMAT}' metadata)")
    _check_reader_version(header, path)
    try:
        version = int(header.get("format_version", "0"))
    except ValueError:
        version = -1
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format version {reprlib.repr(header.get('format_version'))}; "
            f"this handwrite reads version {FORMAT_VERSION}"
        )
    try:
        meta = _json(header["metadata"], "metadata")
    except (KeyError, ValueError) as exc:
        raise ModelFileError(f"{path}: metadata missing or not JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata is not a JSON object")
    return meta


def _check_reader_version(header: dict[str, str], path: Path) -> None:
    """Refuse a file that needs a newer handwrite, before reading anything else of it."""
    from handwrite import __version__

    needed = header.get("min_reader_version", MIN_READER_DEFAULT)
    wanted = _release(needed)
    if wanted is None:
        raise ModelFileError(f"{path}: minimum reader version {reprlib.repr(needed)} is not a version number")
    if wanted > (_release(__version__) or ()):
        try:
            made_by = _json(header.get("metadata", "{}"), "metadata").get("handwrite_version")  # type: ignore[union-attr]
        except (ValueError, AttributeError):
            made_by = None
        made_by = reprlib.repr(made_by)[1:-1] if isinstance(made_by, str) else "an unknown version"
        raise ModelFileError(
            f"{path}: made by handwrite {made_by}, needs at least {reprlib.repr(needed)[1:-1]}; "
            f"this is {__version__}: upgrade handwrite"
        )


def _release(version: str) -> tuple[int, ...] | None:
    """The release numbers of a version string ("0.2.1" -> (0, 2, 1); a suffix such as
    ".dev1" is ignored), trailing zeros dropped so "1.0" equals "1"; None if there are none."""
    found = re.match(r"\d{1,9}(\.\d{1,9})*", version)
    if not found:
        return None
    numbers = [int(n) for n in found.group().split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def _checked_metadata(meta: dict) -> tuple[str, Codec, NetworkConfig, dict]:
    """Kind, codec, architecture and preprocessing, each checked on its own and
    against the others; raises ValueError saying what is wrong."""
    kind = meta.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown model kind {reprlib.repr(kind)} (expected one of {', '.join(KINDS)})")
    codec = _checked_codec(meta)
    if "architecture" not in meta:
        raise ValueError("no architecture")
    config = config_from_dict(meta["architecture"])
    if config.front != kind:
        raise ValueError(f"an {kind} model whose network has an {config.front!r} front")
    if config.num_classes != len(codec):
        raise ValueError(f"{config.num_classes} outputs but an alphabet of {len(codec)} classes")
    preprocessing = _checked_preprocessing(kind, meta.get("preprocessing", {}), config)
    for name in ("training", "metrics"):  # read as objects by fine-tuning and evaluation
        if not isinstance(meta.get(name, {}), dict):
            raise ValueError(f"{name} must be a JSON object")
    _check_calibration(meta.get("calibration", {}))
    return kind, codec, config, preprocessing


CALIBRATION_LIMITS = {"offset": (0.0, 0.5), "scale": (0.1, 10.0)}


def _check_calibration(calibration: object) -> None:
    """The optional confidence calibration: {"offset": o, "scale": s} within bounds."""
    if not isinstance(calibration, dict) or set(calibration) - set(CALIBRATION_LIMITS):
        raise ValueError(f"calibration must be an object with {' and '.join(CALIBRATION_LIMITS)} only")
    for name, value in calibration.items():
        _check_setting(f"calibration {name}", value, 0.0, CALIBRATION_LIMITS[name])


def _checked_codec(meta: dict) -> Codec:
    alphabet = meta.get("alphabet")
    if not isinstance(alphabet, str) or not alphabet:
        raise ValueError(f"the alphabet must be a non-empty string of characters, not {reprlib.repr(alphabet)}")
    repeated = sorted(c for c, n in Counter(alphabet).items() if n > 1)
    if repeated:
        raise ValueError(f"the alphabet repeats {reprlib.repr(''.join(repeated))}")
    try:
        alphabet.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the alphabet holds characters that are not valid Unicode (lone surrogates)") from None
    blank = meta.get("blank_index", 0)
    if isinstance(blank, bool) or blank != 0:
        raise ValueError(f"blank index {reprlib.repr(blank)}; this handwrite reads models whose CTC blank is class 0")
    normalization = meta.get("unicode_normalization", "NFC")
    if not isinstance(normalization, str) or normalization not in NORMALIZATIONS:
        raise ValueError(
            f"Unicode normalization {reprlib.repr(normalization)} is not one of {', '.join(NORMALIZATIONS)}"
        )
    return Codec(alphabet, normalization)


def _checked_preprocessing(kind: str, preprocessing: object, config: NetworkConfig) -> dict:
    """The preprocessing block, its values typed and bounded, and matching what the
    network's first layer reads (features per point, or image height)."""
    key, settings_class = ("features", FeatureSettings) if kind == "ink" else ("image", ImageSettings)
    if not isinstance(preprocessing, dict) or not isinstance(preprocessing.get(key, {}), dict):
        raise ValueError(f"preprocessing must be a JSON object holding a {key!r} object")
    block = preprocessing.get(key, {})
    for spec in fields(settings_class):
        if spec.name in block:
            _check_setting(f"{key}.{spec.name}", block[spec.name], spec.default, PREPROCESSING_LIMITS.get(spec.name))
    settings = settings_class.from_dict(block)
    if isinstance(settings, FeatureSettings):
        if settings.height_low >= settings.height_high:
            raise ValueError("features.height_low must be below features.height_high")
        if settings.num_features != config.num_features:
            raise ValueError(
                f"preprocessing makes {settings.num_features} features per point, "
                f"but the network's first layer reads {config.num_features}"
            )
    else:
        if 2 * settings.margin >= settings.height:
            raise ValueError("image.margin leaves no rows for the ink")
        if settings.height != config.num_features:
            raise ValueError(
                f"preprocessing scales lines to {settings.height} pixels high, "
                f"but the network reads columns of {config.num_features}"
            )
    return preprocessing


def _check_setting(name: str, value: object, default: object, limits: tuple[float, float] | None) -> None:
    """Of the type of the setting's default (bool, whole number, number) and within limits."""
    if isinstance(default, bool) or isinstance(value, bool):
        if not (isinstance(default, bool) and isinstance(value, bool)):
            raise ValueError(f"{name} must be {'true or false' if isinstance(default, bool) else 'a number'}")
        return
    wanted = int if isinstance(default, int) else int | float
    # a whole number is finite (and math.isfinite cannot take one too large for a float)
    if not isinstance(value, wanted) or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError(
            f"{name} must be a {'whole number' if wanted is int else 'finite number'}, not {reprlib.repr(value)}"
        )
    if limits and not limits[0] <= value <= limits[1]:
        raise ValueError(f"{name} {reprlib.repr(value)} is out of bounds ({limits[0]} to {limits[1]})")


def _check_tensors(
    entries: dict[str, dict], expected: dict[str, tuple[tuple[int, ...], torch.dtype]], path: Path
) -> None:
    """The header's tensors against those the architecture needs, before loading any."""
    problems = []
    missing, extra = sorted(expected.keys() - entries.keys()), sorted(entries.keys() - expected.keys())
    if missing:
        problems.append(f"missing {_names(missing)}")
    if extra:
        problems.append(f"unexpected {_names(extra)}")
    for name in sorted(expected.keys() & entries.keys()):
        shape, dtype = expected[name]
        found = entries[name]
        if found["shape"] != list(shape):
            problems.append(f"{name} has shape {reprlib.repr(found['shape'])}, the architecture needs {list(shape)}")
        if found["dtype"] not in (FLOAT_DTYPES if dtype.is_floating_point else INTEGER_DTYPES):
            wanted = "floating-point" if dtype.is_floating_point else "integer"
            problems.append(f"{name} is of type {reprlib.repr(found['dtype'])}, not {wanted}")
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise ModelFileError(
            f"{path}: weights do not fit the architecture in the metadata: {'; '.join(problems[:3])}{more}"
        )


def _names(names: list[str]) -> str:
    shown = ", ".join(reprlib.repr(n) for n in names[:5])
    return f"tensors {shown}" + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _load_tensors(data: bytes, expected: Shapes, path: Path) -> dict[str, torch.Tensor]:
    try:
        state = load_safetensors(data)
    except (SafetensorError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a readable model file (corrupt or truncated: {exc})") from exc
    # the header was read twice (here and by safetensors); both readings must agree
    if {name: tuple(t.shape) for name, t in state.items()} != {name: s for name, (s, _) in expected.items()}:
        raise ModelFileError(f"{path}: corrupt model file (its tensors differ from its header)")
    _check_weights(state, path)
    return state


def _check_weights(state: dict[str, torch.Tensor], path: Path) -> None:
    """NaN weights give NaN confidences, which are not even valid JSON; so can huge
    finite ones (they overflow). Trained weights stay far below MAX_WEIGHT (bundled: 20)."""
    for name, tensor in state.items():
        if not tensor.is_floating_point() or not tensor.numel():
            continue
        if not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"{path}: the weights of {name} hold NaN or infinite values")
        largest = float(tensor.abs().max())
        if largest > MAX_WEIGHT:
            raise ModelFileError(f"{path}: the weights of {name} reach {largest:.3g}, more than {MAX_WEIGHT:g}")

"""The user's sample store: one InkML file per labelled sample (truth plus
metadata), in the user's data folder. Every write is atomic, so a crash or
kill mid-save loses nothing that was already kept."""

from __future__ import annotations

import datetime
import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from handwrite.errors import FormatError, HandwriteError
from handwrite.fileio import atomic_write_bytes, read_limited
from handwrite.formats import MAX_INK_FILE_BYTES, read_ink, write_ink
from handwrite.formats.inkml import format_inkml
from handwrite.ink import Ink
from handwrite.printable import control_character

# Sentences that together hold every letter, digit and common punctuation mark,
# for the "copy this sentence" mode.
# a line of writing holds a few hundred characters; a label far longer cannot be its text
MAX_LABEL_CHARS = 1000

COVERAGE_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs!",
    "Sphinx of black quartz, judge my vow.",
    "How vexingly quick daft zebras jump?",
    "Call me at 10:45 on 23/06 - room 789.",
    'She said: "Jived fox nymph grabs quick waltz."',
    "Bright vixens jump; dozy fowl quack (twice).",
    "We paid $36 for 12 items, about 3% off.",
    "Email me at name@example.com & I'll reply.",
    "Quiz: is 5 + 4 = 9? Yes, it's [obviously] true.",
)


@dataclass(frozen=True)
class Sample:
    path: Path
    text: str
    created: str

    def ink(self) -> Ink:
        return read_ink(self.path)


def data_home() -> Path:
    """Where handwrite keeps the user's data, for the app and the library alike:
    $XDG_DATA_HOME/handwrite when that is an absolute path, else
    ~/.local/share/handwrite."""
    base = os.environ.get("XDG_DATA_HOME", "")
    # the XDG spec: a relative path is invalid and ignored (it would mean another folder,
    # and so other samples and another personal model, wherever handwrite was started)
    return (Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share") / "handwrite"


PERSONAL_MODEL = "personal"  # the name `-m` and load_model() know the personal model by


def personal_model_path() -> Path:
    """data_home()/personal.safetensors: the model the app's Train on my samples writes
    (the one it replaces is kept beside it as personal.previous.safetensors)."""
    return data_home() / f"{PERSONAL_MODEL}.safetensors"


def default_store_dir() -> Path:
    """data_home()/samples: the app's samples are the library's default store."""
    return data_home() / "samples"


@dataclass
class ImportReport:
    """What SampleStore.import_folder did with the ink files it found."""

    added: int = 0
    duplicates: int = 0  # the same strokes and text as a sample kept already, or as another file here
    unlabelled: int = 0  # no transcription (InkML's annotation type="truth", JSON's "text"), or no strokes
    unreadable: int = 0  # not ink, or a transcription no sample may have

    @property
    def skipped(self) -> int:
        return self.duplicates + self.unlabelled + self.unreadable


class SampleStore:
    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_store_dir()

    def add(self, ink: Ink, text: str) -> Sample:
        """Keep an ink with its (corrected) transcription."""
        text = _clean(text)
        if not text:
            raise HandwriteError("a sample needs a transcription; this one is empty")
        if ink.is_empty():
            raise HandwriteError("a sample needs strokes; this ink is empty")
        now = datetime.datetime.now(datetime.UTC)
        # the time to the microsecond first, so the names sort in the order samples were kept
        # (the lines of one page are kept within microseconds); the random part keeps them unique
        name = f"{now:%Y-%m-%d-%H%M%S%f}-{uuid.uuid4().hex[:8]}.inkml"
        path = self.folder / name
        write_ink(Ink(ink.strokes, text=text), path)
        return Sample(path, text, name[:10])

    def samples(self) -> list[Sample]:
        """All readable samples, oldest first (unreadable files are left alone)."""
        return [Sample(path, ink.text or "", path.name[:10]) for path, ink in self._stored()]

    def _stored(self) -> Iterator[tuple[Path, Ink]]:
        """Each readable, labelled sample file with its ink, oldest first."""
        for path in sorted(self.folder.glob("*.inkml")):
            try:
                ink = read_ink(path)
            except FormatError:
                continue
            if ink.text:
                yield path, ink

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples())

    def __len__(self) -> int:
        return len(self.samples())

    def relabel(self, sample: Sample, text: str) -> Sample:
        text = _clean(text)
        if not text:
            raise HandwriteError("a sample needs a transcription; this one is empty")
        ink = sample.ink()
        write_ink(Ink(ink.strokes, text=text), sample.path)
        return Sample(sample.path, text, sample.created)

    def delete(self, sample: Sample) -> None:
        sample.path.unlink(missing_ok=True)

    def export(self, folder: str | os.PathLike[str]) -> int:
        """Copy every sample into a folder (for backup or another machine)."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        samples = self.samples()
        for sample in samples:  # atomically too: a stopped export leaves no half-written file
            data = read_limited(sample.path, FormatError, "sample", MAX_INK_FILE_BYTES)
            atomic_write_bytes(target / sample.path.name, data)
        return len(samples)

    def import_folder(self, folder: str | os.PathLike[str]) -> ImportReport:
        """Add every labelled ink file of a folder that the store does not already
        hold (importing a backup twice adds nothing); what was added and what was
        skipped, and why."""
        if not Path(folder).is_dir():
            raise HandwriteError(f"{folder}: not a folder (samples are imported from a folder of ink files)")
        held = {_fingerprint(ink) for _, ink in self._stored()}
        report = ImportReport()
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix.lower() not in (".inkml", ".json") or path.is_dir():
                continue
            try:
                ink = read_ink(path)
                if not _clean(ink.text) or ink.is_empty():
                    report.unlabelled += 1
                    continue
                if (fingerprint := _fingerprint(ink)) in held:
                    report.duplicates += 1
                    continue
                self.add(ink, ink.text)
            except HandwriteError:  # unreadable, or a label no sample may have (control characters)
                report.unreadable += 1
                continue
            held.add(fingerprint)  # a folder holding one sample twice adds it once
            report.added += 1
        return report

    def next_sentence(self) -> str:
        """The prompt sentence that adds the most characters not yet written."""
        seen = {c for sample in self.samples() for c in sample.text}
        counts = {s: sum(1 for c in set(s) if c not in seen) for s in COVERAGE_SENTENCES}
        written = {sample.text for sample in self.samples()}
        candidates = [s for s in COVERAGE_SENTENCES if s not in written] or list(COVERAGE_SENTENCES)
        return max(candidates, key=lambda s: counts[s])


def _clean(text: str | None) -> str:
    """A transcription as the store keeps it: spaces collapsed, none at the ends. One
    with control characters (pasted from a terminal) or longer than any line is refused."""
    text = _collapsed(text)
    control = control_character(text)
    if control is not None:
        raise HandwriteError(f"a transcription cannot hold control characters ({control!r}): type it as plain text")
    if len(text) > MAX_LABEL_CHARS:
        raise HandwriteError(
            f"a sample is one line of writing: its transcription may have at most {MAX_LABEL_CHARS} "
            f"characters, not {len(text)}"
        )
    return text


def _collapsed(text: str | None) -> str:
    return " ".join((text or "").split())


def _fingerprint(ink: Ink) -> str:
    """The same strokes with the same text give the same fingerprint, whatever file they came from."""
    return hashlib.sha256(format_inkml(Ink(ink.strokes, text=_collapsed(ink.text))).encode()).hexdigest()

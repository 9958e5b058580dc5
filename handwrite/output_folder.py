"""The `-o` folder of `handwrite transcribe`: where each input's output file goes,
and never over a file this run did not write.

One file per input is named after the input's whole name plus the format's suffix
(`note.inkml.txt`, `note.png.txt`), each root given mirrored under its own name when
there are several. Per-input files that already exist stop the run before it starts
(unless `--overwrite`; an input file is never replaced), and a results file that
exists gets the next free name (`results-2.jsonl`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from handwrite.errors import HandwriteError, UsageError
from handwrite.fileio import atomic_open, atomic_write_text, remove_stale_temporaries
from handwrite.printable import counted, shown

if TYPE_CHECKING:
    from handwrite.transcribe import Source

ERRORS_JSON = "errors.json"  # `-f json`: the inputs that failed, beside the per-input results
_ERRORS_JSON_NAME = re.compile(r"errors(-[0-9]+)?\.json", re.IGNORECASE)  # errors-2.json: the next free name
_RESULT_START = re.compile(rb'\s*\{\s*"path"\s*:')


def is_transcription_output(path: Path, input_suffixes: Sequence[str]) -> bool:
    """Whether a file is, by its name, one `transcribe -f json -o` writes: a result
    ("note.inkml.json": an input's whole name plus .json) or the failures'
    errors.json. Folder walks pass these by, so a folder that holds earlier results
    beside its inputs reads as its inputs; a file named on its own is still read."""
    if path.suffix.lower() != ".json":
        return False
    if _ERRORS_JSON_NAME.fullmatch(path.name) is not None:
        return True
    return Path(path.stem).suffix.lower() in input_suffixes and holds_a_result(path)


def holds_a_result(path: Path) -> bool:
    """Whether a .json file is, by its first bytes, a result `transcribe -f json` wrote
    (it begins with the input's "path"), not ink saved as JSON under a name like one."""
    try:
        if not path.is_file():  # a FIFO would block the read; a device is no result
            return False
        with open(path, "rb") as file:
            head = file.read(64)
    except OSError:
        return False
    return _RESULT_START.match(head) is not None


class OutputFolder:
    """The `-o` folder: per-input names, no overwriting, what was written.

    An input's file is named after the input's whole name plus the format's suffix,
    at the input's place under its root; with several roots each is mirrored under
    its own name (`a/`, `b/`, `b-2/` for a second root named b)."""

    def __init__(self, folder: Path, sources: Sequence[Source], overwrite: bool = False) -> None:
        self.folder, self.overwrite = folder, overwrite
        self.inputs = {_key(source.path) for source in sources if source.error is None}
        roots = list(dict.fromkeys(source.root for source in sources))
        self.places: dict[Path, Path] = {roots[0]: folder} if len(roots) == 1 else {}
        taken: set[str] = set()
        for root in roots if len(roots) > 1 else ():
            label = Path(os.path.abspath(root)).name or "root"  # never "..": that would lead out of the folder
            name, n = label, 1
            while name in taken:
                n += 1
                name = f"{label}-{n}"
            taken.add(name)
            self.places[root] = folder / name
        self.sources = [source for source in sources if source.error is None]
        self.written: list[Path] = []  # in the order written
        self.run_files: list[Path] = []  # of those, the files for the whole run (results.jsonl)
        self.created: set[Path] = set()
        self.cleaned: set[Path] = set()
        self.made: list[Path] = []  # folders `make` made, outermost first
        self.skipping = False  # --skip-existing: results already here are passed by

    def make(self) -> None:
        """Before any work: make the folder (and the folders above it that are missing),
        so that one that cannot be made is said at once, not after the batch has been
        read; `tidy` removes them again if nothing was written."""
        missing = []
        place = Path(os.path.abspath(self.folder))
        while not os.path.lexists(place) and place != place.parent:
            missing.append(place)
            place = place.parent
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self.made.append(folder)
        except OSError as exc:
            raise UsageError(f"{shown(self.folder)}: cannot make the output folder ({exc.strerror or exc})") from None
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise UsageError(f"{shown(self.folder)}: cannot write into the output folder (no permission)")

    def tidy(self) -> None:
        """Remove the folders `make` made when nothing was written into them."""
        for folder in reversed(self.made) if not self.written else ():
            try:
                folder.rmdir()
            except OSError:  # something else put a file there meanwhile: keep it
                return

    def target(self, path: Path, root: Path, suffix: str) -> Path:
        try:
            relative = path.relative_to(root)
        except ValueError:
            relative = Path(path.name)
        return self.places.get(root, self.folder) / relative.parent / (relative.name + suffix)

    def check_targets(self, suffix: str | None) -> None:
        """Before any work: refuse to replace files this run did not write."""
        if suffix is None:
            return
        clashes, inputs, foreign = [], [], []
        for source in self.sources:
            target = self.target(source.path, source.root, suffix)
            if _key(target) in self.inputs:
                inputs.append(target)
            elif _not_a_result(target):  # ink saved as JSON under a result's name, or other JSON
                foreign.append(target)
            elif not self.overwrite and os.path.lexists(target):
                clashes.append(target)
        if inputs:  # never replaced, --overwrite or not
            raise UsageError(f"{_some(inputs)}: an input file would be written over; choose another output folder")
        if foreign:
            raise UsageError(
                f"{_some(foreign)}: a file that is no result of handwrite would be written over; "
                "choose another output folder"
            )
        if not clashes:
            return
        if self.skipping:  # what is left at a result's name is no finished result: --overwrite is no answer
            raise UsageError(
                f"{_some(clashes)}: no finished result (an empty file, a link, a folder or a FIFO) stands at "
                "a result's name; nothing written. Remove it or choose another output folder"
            )
        raise UsageError(
            f"{len(clashes)} of the files to write already exist ({_some(clashes)}); nothing written. "
            "Choose an empty output folder, or add --overwrite to replace them"
        )

    def pass_by_written(self, sources: list[Source], suffix: str) -> tuple[list[Source], int]:
        """`--skip-existing`: the sources left once those whose file (this suffix) an
        earlier run wrote here are passed by, and how many were; those are no longer this
        run's to check or write. A result is a regular file, not empty (each is written
        whole, synced, then renamed: an empty one is no result), and for JSON one that
        holds a result; anything else at its name is still refused by `check_targets`."""
        self.skipping = True
        written = {
            (source.path, source.root)
            for source in self.sources
            if _finished_result(self.target(source.path, source.root, suffix))
        }
        self.sources = [source for source in self.sources if (source.path, source.root) not in written]
        return [source for source in sources if (source.path, source.root) not in written], len(written)

    def write(self, target: Path, content: str | bytes) -> None:
        """One per-input file (atomically): text, or the bytes of a file (a PDF)."""
        replace = target in self.created or (self.overwrite and _key(target) not in self.inputs)
        self._clean(target.parent)
        data = content if isinstance(content, bytes) else content.encode("utf-8", "backslashreplace")
        with atomic_open(target, "wb", replace=replace) as file:  # synced: whole after a power cut too
            file.write(data)
        self._wrote(target)

    def write_new(self, name: str, content: str) -> Path:
        """A file for the whole run (results.jsonl): the name, or name-2, name-3, ...
        when it exists (unless --overwrite)."""
        stem, dot, suffix = name.partition(".")
        self._clean(self.folder)
        for n in range(1, 10_000):
            target = self.folder / (name if n == 1 else f"{stem}-{n}{dot}{suffix}")
            if self.overwrite and n == 1 and _key(target) not in self.inputs:
                atomic_write_text(target, content)
                break
            try:
                atomic_write_text(target, content, replace=False)
                break
            except FileExistsError:
                continue
        else:
            raise HandwriteError(f"{self.folder}: {name} and 9999 numbered versions of it exist; nothing written")
        self._wrote(target)
        self.run_files.append(target)
        return target

    def _wrote(self, target: Path) -> None:
        if target not in self.created:
            self.created.add(target)
            self.written.append(target)

    def _clean(self, folder: Path) -> None:
        if folder not in self.cleaned:
            self.cleaned.add(folder)
            remove_stale_temporaries(folder)

    def summary(self) -> str:
        """What was written, for stderr: "wrote OUT/results.jsonl", "wrote 12 files to OUT"."""
        per_input = [path for path in self.written if path not in self.run_files]
        if not per_input:
            return (
                f"wrote {', '.join(map(shown, self.run_files))}"
                if self.run_files
                else f"nothing written to {shown(self.folder)}"
            )
        line = f"wrote {counted(len(per_input), 'file')} to {shown(self.folder)}"
        return line + (f" (failures in {', '.join(map(shown, self.run_files))})" if self.run_files else "")


def _finished_result(target: Path) -> bool:
    """A file an earlier run wrote whole at a result's place (not a link, a folder, a
    FIFO or an empty file)."""
    try:
        status = os.lstat(target)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and status.st_size > 0 and not _not_a_result(target)


def _not_a_result(target: Path) -> bool:
    """A .json file already at a result's place that no earlier run wrote (ink JSON)."""
    return target.suffix.lower() == ".json" and os.path.lexists(target) and not holds_a_result(target)


def _some(paths: list[Path]) -> str:
    """The first few paths, for a message."""
    return ", ".join(shown(path) for path in paths[:3]) + (" ..." if len(paths) > 3 else "")


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))

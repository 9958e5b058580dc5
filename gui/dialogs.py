"""Dialogs that describe things: a model (File > Model info), the app (Help >
About), and where file dialogs start (the user's documents folder, then the
last folder used).

Everything shown about a model is read from its file's metadata (and the
bundled models' cards), never written here, so a fine-tuned or retrained model
describes itself.
"""

from __future__ import annotations

import functools
import html
import os
import re
from collections.abc import Sequence
from pathlib import Path

from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, QSettings, QStandardPaths
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

import handwrite

FRONTS = {  # architecture["front"], in words
    "ink": "1-D convolutions over the pen's movement",
    "image": "2-D convolutions over the line image",
}
INPUTS = {"ink": "pen strokes (online ink)", "image": "pictures of handwriting (line or page images)"}
CODE_LICENCE = "MIT"
LAST_FOLDER = "last_folder"  # settings key


# ---- file dialogs -------------------------------------------------------------
def start_folder(settings: QSettings, name: str = "") -> str:
    """Where a file dialog starts: the last folder used, else the user's documents
    (never the folder the app happened to be started from); `name` proposes a file."""
    folder = settings.value(LAST_FOLDER, "", str)
    if not folder or not Path(folder).is_dir():
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if not folder or not Path(folder).is_dir():  # a new account or a bare system: no Documents yet
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation)
    return str(Path(folder) / name) if name else folder


def remember_folder(settings: QSettings, path: str) -> str:
    """Remember the folder of a chosen file (or a chosen folder); returns `path`."""
    if path:
        chosen = Path(path)
        settings.setValue(LAST_FOLDER, str(chosen if chosen.is_dir() else chosen.parent))
    return path


def confirm(parent: QWidget, title: str, text: str, button: QMessageBox.StandardButton) -> bool:
    """Ask before something no undo reverses; Cancel is the default answer."""
    cancel = QMessageBox.StandardButton.Cancel
    return QMessageBox.question(parent, title, text, button | cancel, cancel) == button


def open_file(parent: QWidget, settings: QSettings, title: str, filter_: str) -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, start_folder(settings), filter_)
    return remember_folder(settings, path)


def save_file(
    parent: QWidget, settings: QSettings, title: str, name: str, filter_: str, start: str | None = None
) -> str:
    """The path to write ("": cancelled); the dialog proposes `name` in the start folder, or
    `start` (the file the document came from) when given. A name typed without a suffix gets
    the chosen filter's; the dialog asked before replacing the name as typed, not that one,
    so a file there is asked about here."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, start or start_folder(settings, name), filter_)
    if path and not Path(path).suffix:
        path += _SUFFIX.search(chosen or filter_).group(1)  # type: ignore[union-attr]
        if os.path.lexists(path) and not confirm(
            parent, "Replace the file?", f"{path} already exists. Replace it?", QMessageBox.StandardButton.Yes
        ):
            return ""
    return remember_folder(settings, path)


_SUFFIX = re.compile(r"\*(\.\w+)")  # a filter's first pattern, "PNG image (*.png)": ".png"


def counted(count: int, noun: str) -> str:
    """ "1 sample", "2 samples"."""
    return f"{count} {noun}" + ("s" if count != 1 else "")


def choose_folder(parent: QWidget, settings: QSettings, title: str) -> str:
    return remember_folder(settings, QFileDialog.getExistingDirectory(parent, title, start_folder(settings)))


# ---- describing a model -------------------------------------------------------
def architecture_in_words(meta: dict) -> str:
    """e.g. '3-layer bidirectional LSTM, 192 units each way, after 1-D convolutions
    over the pen's movement (128 channels)'."""
    arch = meta.get("architecture") or {}
    if not arch:
        return "not recorded"
    if isinstance(arch.get("members"), list):  # an ensemble: its networks read together
        described = [architecture_in_words({"architecture": member}) for member in arch["members"]]
        return f"{len(described)} networks reading together: " + "; and ".join(described)
    rnn = str(arch.get("rnn", "rnn")).upper()
    words = f"{arch.get('layers', '?')}-layer bidirectional {rnn}, {arch.get('hidden', '?')} units each way"
    front = FRONTS.get(str(arch.get("front", "")))
    if front:
        words += f", after {front} ({arch.get('conv_channels', '?')} channels)"
    return words + "; read out with CTC"


def network_in_brief(meta: dict) -> str:
    """e.g. '3 x 192 BiLSTM' (layers x units each way), for a menu entry."""
    arch = meta.get("architecture") or {}
    if isinstance(arch.get("members"), list):  # an ensemble
        return " + ".join(network_in_brief({"architecture": member}) for member in arch["members"])
    rnn = str(arch.get("rnn", "rnn")).upper()
    return f"{arch.get('layers', '?')} \u00d7 {arch.get('hidden', '?')} Bi{rnn}" if arch else "network not recorded"


def metric_rows(metrics: dict, path: tuple[str, ...] = ()) -> list[tuple[str, str, dict]]:
    """(set, decoding, figures) for every record holding a CER, however deeply the
    metadata nests them ({set: figures} or {set: {decoding: figures}})."""
    rows = []
    for name, value in metrics.items():
        if not isinstance(value, dict):
            continue
        if "cer" in value:
            where = (*path, str(name))
            decoding = str(value.get("decoding") or (where[-1] if len(where) > 1 else ""))
            label = " · ".join(where[:-1]) if len(where) > 1 else where[0]
            rows.append((label, decoding if decoding != label else "", value))
        else:
            rows.extend(metric_rows(value, (*path, str(name))))
    return rows


def _percent(value: object) -> str:
    """A rate from the metadata (the file's, so anything) as a percentage, else a dash."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    try:
        return f"{float(value):.2%}"
    except OverflowError:  # a whole number beyond a float's range
        return "–"


def metrics_table(metrics: dict) -> str:
    rows = metric_rows(metrics)
    if not rows:
        return "<p>No measurements recorded.</p>"
    cells = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(decoding)}</td>"
        f"<td align='right'>{_percent(figures.get('cer'))}</td><td align='right'>{_percent(figures.get('wer'))}</td>"
        f"<td align='right'>{html.escape(str(figures.get('lines', '–')))}</td></tr>"
        for label, decoding, figures in rows
    )
    titles = ("measured on", "decoding or stage", "CER", "WER", "lines")
    head = "<tr>" + "".join(f"<th align='left'>{title}</th>" for title in titles) + "</tr>"
    return f"<table cellspacing='0' cellpadding='4' border='1'>{head}{cells}</table>"


def training_data(meta: dict) -> list[str]:
    """What a model file says it was trained on. Only the file's outer shape is checked
    when it loads; a list of anything else here must not break a menu or a dialog."""
    data = (meta.get("training") or {}).get("data")
    return [str(entry) for entry in data] if isinstance(data, list) else []


def model_html(name: str, meta: dict) -> str:
    """A model file described for people: what it reads, how it is built, on what it
    was trained, how well it reads, and who wrote it when."""
    kind = str(meta.get("kind", "?"))
    training = meta.get("training") or {}
    data = training_data(meta)
    facts = [
        ("Reads", INPUTS.get(kind, kind)),
        ("Network", architecture_in_words(meta)),
        ("Alphabet", f"{len(meta.get('alphabet', ''))} characters"),
        ("Trained on", ", ".join(data) or "not recorded"),
    ]
    if training.get("selected_on"):
        facts.append(("Chosen on", str(training["selected_on"])))
    finetune = training.get("finetune")
    if isinstance(finetune, dict):
        facts.append(("Fine-tuned", f"{finetune.get('steps', '?')} steps on your samples"))
    if meta.get("base_model"):
        facts.append(("Started from", str(meta["base_model"])))
    facts.append(("Written by", f"handwrite {meta.get('handwrite_version', '?')} on {meta.get('created', '?')}"))
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in facts)
    terms = training.get("citation")
    terms_html = f"<p><b>Data and terms:</b> {html.escape(str(terms))}</p>" if terms else ""
    return (
        f"<h3>{html.escape(name)}</h3><table cellpadding='3'>{rows}</table>"
        f"<h4>How well it reads</h4>{metrics_table(meta.get('metrics') or {})}"
        "<p>CER: characters wrong per character; WER: words wrong per word (lower is better).</p>"
        f"{terms_html}"
    )


class TextDialog(QDialog):
    """Formatted text in a scrollable, selectable view, and Close."""

    def __init__(self, title: str, body: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 520)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(body)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

    def text(self) -> str:
        return self.browser.toPlainText()


def model_info_dialog(name: str, model: handwrite.Recognizer, parent: QWidget | None = None) -> TextDialog:
    dialog = TextDialog(f"Model: {name}", model_html(name, model.metadata), parent)
    dialog.resize(840, 560)  # the figures' table: a figure per cell, unwrapped
    return dialog


# ---- about --------------------------------------------------------------------
def card_terms(card: Path) -> str:
    """What a bundled model's card (markdown) says of its terms of use: the sentences
    of its 'terms' section that name a licence or a restriction, as plain text."""
    try:
        text = card.read_text(encoding="utf-8")
    except OSError:
        return ""
    section = re.search(r"^## [^\n]*terms[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S | re.I)
    if not section:
        return ""
    sentences = re.split(r"(?<=[.;])\s+", re.sub(r"[*`]", "", " ".join(section.group(1).split())))
    return " ".join(s for s in sentences if re.search(r"commercial|licen[cs]e|terms", s, re.I))


def _headline(meta: dict) -> str:
    """The test-set figures a bundled model's metadata records, best decoding last."""
    rows = [row for row in metric_rows(meta.get("metrics") or {}) if "testset_t" in row[0]] or metric_rows(
        meta.get("metrics") or {}
    )
    return "; ".join(
        f"{html.escape(decoding or label)}: {_percent(f.get('cer'))} CER, {_percent(f.get('wer'))} WER"
        for label, decoding, f in rows
    )


def model_metadata(path: Path, loaded: Sequence[handwrite.Recognizer | None] = ()) -> dict:
    """A model file's metadata: from a model already loaded from that file, else read
    once (loading a model takes a second or more; About should not, every time)."""
    for model in loaded:
        if model is not None and model.path and Path(model.path).resolve() == path.resolve():
            return model.metadata
    return _metadata(str(path), path.stat().st_mtime_ns if path.exists() else 0)


@functools.lru_cache(maxsize=8)
def _metadata(path: str, modified_ns: int) -> dict:
    return handwrite.load_model(path).metadata


def about_html(loaded: Sequence[handwrite.Recognizer | None] = ()) -> str:
    """Version, the bundled models (network, data, test figures and terms, from their
    files and cards) and the licences. `loaded`: models the app holds, reused."""

    models = []
    for path in handwrite.bundled_models().values():
        try:
            meta = model_metadata(path, loaded)
        except handwrite.HandwriteError as exc:
            models.append(f"<li><b>{path.name}</b>: cannot be read ({html.escape(str(exc))})</li>")
            continue
        terms = card_terms(path.with_suffix(".md")) or str((meta.get("training") or {}).get("citation", ""))
        models.append(
            f"<li><b>{html.escape(path.name)}</b> reads {INPUTS[meta['kind']]}: "
            f"{html.escape(architecture_in_words(meta))}."
            f"<br>Trained on {html.escape(', '.join(training_data(meta)))}."
            f"<br>IAM-OnDB testset_t: {_headline(meta)}.<br><i>{html.escape(terms)}</i></li>"
        )
    return (
        f"<h2>handwrite {html.escape(handwrite.__version__)}</h2>"
        "<p>Reads connected handwriting, live as you write, from pen strokes or from pictures, "
        "and learns your hand from samples you keep.</p>"
        f"<h3>Bundled models</h3><ul>{''.join(models)}</ul>"
        "<h3>Licences</h3><ul>"
        f"<li>handwrite's code: {CODE_LICENCE} licence.</li>"
        "<li>The bundled models were trained on IAM-OnDB, which is for non-commercial research only; "
        "the models inherit those terms (see each model's card beside it).</li>"
        "<li>The English language model and word lexicon (File > English language model) are built from wordfreq's "
        "word frequencies (CC BY-SA 4.0) and, for word pairs, Google Books Ngram counts (CC BY 3.0) "
        "as symspellpy ships them.</li>"
        f"<li>The app uses Qt {QT_VERSION_STR} through PyQt6 {PYQT_VERSION_STR} (Riverbank Computing), "
        "licensed under the GNU GPL v3; the app as distributed with PyQt6 is therefore under the GPL v3 "
        "unless you hold a commercial PyQt licence.</li>"
        "<li>PyTorch (BSD-style licence), NumPy (BSD), Pillow (HPND).</li></ul>"
    )


def about_dialog(parent: QWidget | None = None, loaded: Sequence[handwrite.Recognizer | None] = ()) -> TextDialog:
    return TextDialog("About handwrite", about_html(loaded), parent)


__all__ = [
    "TextDialog",
    "about_dialog",
    "about_html",
    "architecture_in_words",
    "choose_folder",
    "confirm",
    "counted",
    "metric_rows",
    "model_html",
    "model_info_dialog",
    "model_metadata",
    "network_in_brief",
    "open_file",
    "remember_folder",
    "save_file",
    "start_folder",
    "training_data",
]

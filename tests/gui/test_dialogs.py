"""Model info, Help > About, choosing an image model, and where file dialogs start."""

import dataclasses
import shutil

import pytest

pytest.importorskip("PyQt6.QtWidgets")

from PyQt6.QtCore import QStandardPaths, QTimer
from PyQt6.QtWidgets import QApplication

import handwrite
from gui import dialogs
from gui.dialogs import TextDialog
from handwrite.modelfile import load_model_file, save_model_file
from handwrite.recognizer import DEFAULT_IMAGE_MODEL, DEFAULT_INK_MODEL
from tests.conftest import REPO, SAMPLE_INK

HANG_GUARD_MS = 60_000


def text_of_dialog_from(qtbot, trigger) -> str:
    """Trigger an action that opens a modal TextDialog; read its text and close it."""
    seen = {}

    def read_and_close():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, TextDialog):
            QTimer.singleShot(20, read_and_close)
            return
        seen["text"] = dialog.text()
        dialog.reject()

    QTimer.singleShot(0, read_and_close)
    trigger()
    qtbot.waitUntil(lambda: "text" in seen, timeout=HANG_GUARD_MS)
    return seen["text"]


def action(window, text):
    return next(a for a in window.actions() if a.text() == text)


def test_model_info_is_formatted_from_the_model_file_s_metadata(make_window, qtbot, tmp_path):
    from handwrite.modelfile import load_model_file, save_model_file

    window = make_window()
    meta = window.model.metadata
    text = text_of_dialog_from(qtbot, action(window, "Model &info").trigger)  # File > Model info
    assert "Reads\npen strokes (online ink)" in text
    assert "3-layer bidirectional LSTM, 192 units each way" in text
    assert f"{len(meta['alphabet'])} characters" in text and "IAM-OnDB trainset" in text
    decoding, lm = next((k, v) for k, v in meta["metrics"]["IAM-OnDB testset_t"].items() if "LM" in k)
    assert f"{decoding}\n{lm['cer']:.2%}\n{lm['wer']:.2%}\n{lm['lines']}" in text  # a table row
    assert "{" not in text and "'hidden'" not in text  # no raw dictionaries
    # another model file describes itself, not the bundled model
    custom = load_model_file(DEFAULT_INK_MODEL)
    custom.info = {
        **custom.info,
        "training": {"data": ["my <own> samples"]},
        "metrics": {"held-out": {"cer": 0.0123, "wer": 0.05, "lines": 4}},
        "created": "2031-02-03T04:05:06+00:00",
    }
    save_model_file(custom, tmp_path / "custom.safetensors")
    assert window.load_model(str(tmp_path / "custom.safetensors"))
    text = text_of_dialog_from(qtbot, action(window, "Model &info").trigger)
    assert "custom.safetensors" in text and "my <own> samples" in text and "1.23%" in text
    assert "on 2031-02-03T04:05:06" in text and "IAM-OnDB" not in text


def test_about_names_the_version_the_bundled_models_figures_and_the_licences(make_window, qtbot):
    window = make_window()
    text = text_of_dialog_from(qtbot, action(window, "&About handwrite").trigger)  # Help > About
    assert f"handwrite {handwrite.__version__}" in text
    assert {DEFAULT_INK_MODEL, DEFAULT_IMAGE_MODEL} <= set(handwrite.bundled_models().values())
    for path in handwrite.bundled_models().values():  # each model shipped, not only the defaults
        assert path.name in text
        figures = handwrite.load_model(path).metadata["metrics"]["IAM-OnDB testset_t"]
        assert all(f"{f['cer']:.2%} CER, {f['wer']:.2%} WER" in text for f in figures.values())
    assert "non-commercial" in text and "MIT licence" in text and "GPL" in text and "PyQt6" in text
    assert "wordfreq" in text and "Google Books Ngram" in text  # the language model's data


def test_choosing_an_image_model_says_what_it_is_for_and_keeps_the_page_s_model(
    make_window, tiny_image_model, messages, monkeypatch
):
    window = make_window()
    monkeypatch.setattr(dialogs.QFileDialog, "getOpenFileName", lambda *args: (str(tiny_image_model), ""))
    action(window, "Choose &model file…").trigger()  # File > Choose model file
    assert len(messages) == 1 and "Cannot" not in messages[0]
    assert "File > Open image now uses it" in messages[0] and "still the bundled model online-default" in messages[0]
    assert window.model.kind == "ink" and window.model_name == "bundled model online-default"
    assert window.image_model.kind == "image"
    again = make_window()  # remembered, for images only
    assert again.image_model_path == str(tiny_image_model) and again.model_name == "bundled model online-default"
    assert again.load_model(str(tiny_image_model)) and len(messages) == 1  # the one in use: said once, not again


def models_menu_entries(window) -> dict[str, bool]:
    """File > Models as the user sees it when it opens: model name -> ticked."""
    window.models_menu.aboutToShow.emit()
    return {entry.data(): entry.isChecked() for entry in window.models_menu.actions() if entry.data()}


def test_bundled_models_are_offered_by_name_ticked_where_in_use_and_remembered(
    make_window, tmp_path, monkeypatch, messages
):
    from handwrite import recognizer

    shipped = tmp_path / "models"
    shipped.mkdir()
    for name, source in [("online-default", DEFAULT_INK_MODEL), ("image-default", DEFAULT_IMAGE_MODEL)]:
        shutil.copy(source, shipped / f"{name}.safetensors")
    shutil.copy(DEFAULT_INK_MODEL, shipped / "online-other.safetensors")
    monkeypatch.setattr(recognizer, "MODELS_DIR", shipped)
    monkeypatch.setattr(recognizer, "DEFAULT_INK_MODEL", shipped / "online-default.safetensors")
    monkeypatch.setattr(recognizer, "DEFAULT_IMAGE_MODEL", shipped / "image-default.safetensors")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "online-other").write_bytes(b"not the bundled model")  # a file named like it: never used
    window = make_window()
    assert models_menu_entries(window) == {"image-default": True, "online-default": True, "online-other": False}
    shown = [a.text() for a in window.models_menu.actions() if not a.isSeparator()]
    assert shown == [  # under what each reads, with its network
        "Read what you write",
        "online-default  (3 \u00d7 192 BiLSTM)",
        "online-other  (3 \u00d7 192 BiLSTM)",
        "Read pictures (File > Open image)",
        "image-default  (3 \u00d7 192 BiLSTM)",
    ]
    entry = {a.data(): a for a in window.models_menu.actions() if a.data()}
    entry["image-default"].trigger()  # the one in use already: nothing happens, nothing is said
    entry["online-other"].trigger()
    assert window.model_name == "bundled model online-other" and window.model.kind == "ink" and not messages
    assert "bundled model online-other" in window.model_label.text()
    assert models_menu_entries(window) == {"image-default": True, "online-default": False, "online-other": True}
    again = make_window()
    assert again.model_name == "bundled model online-other"
    assert models_menu_entries(again)["online-other"]


def test_the_personal_models_are_found_again_in_the_models_menu(make_window, messages):
    """Trained on the user's samples, the personal model (and the one it replaced) are
    chosen like the bundled ones, named for what they are, not through a file dialog."""
    window = make_window()
    assert {"personal", "personal.previous"}.isdisjoint(models_menu_entries(window))
    personal = handwrite.personal_model_path()
    personal.parent.mkdir(parents=True, exist_ok=True)
    shipped = load_model_file(DEFAULT_INK_MODEL)
    written = shipped.info["created"][:10]

    def save(path, **training):
        info = {**shipped.info, "training": {**shipped.info["training"], **training}}
        save_model_file(dataclasses.replace(shipped, info=info), path)

    save(personal, finetune={"samples": 12, "steps": 100})
    previous = personal.parent / "personal.previous.safetensors"
    save(previous, data=["5 user samples"])  # as fine-tunes recorded it before the count was kept apart
    entries = {"online-default": True, "online-ensemble": False, "online-gru": False, "image-default": True}
    assert models_menu_entries(window) == {**entries, "personal": False, "personal.previous": False}
    shown = {a.data(): a for a in window.models_menu.actions() if a.data()}
    assert shown["personal"].text() == f"your personal model  (made from 12 of your samples, written {written})"
    assert (
        shown["personal.previous"].text()
        == f"your previous personal model  (made from 5 of your samples, written {written})"
    )
    shown["personal"].trigger()
    assert window.model_name == "your personal model" and "your personal model" in window.model_label.text()
    assert models_menu_entries(window)["personal"] and not messages
    save(previous, data=5, finetune=3)  # odd metadata: said as far as it can be, never raised into the menu
    models_menu_entries(window)
    shown = {a.data(): a for a in window.models_menu.actions() if a.data()}
    assert shown["personal.previous"].text() == f"your previous personal model  (written {written})"
    previous.write_bytes(b"not a model")
    models_menu_entries(window)
    shown = {a.data(): a for a in window.models_menu.actions() if a.data()}
    assert shown["personal.previous"].text() == "your previous personal model  (cannot be read)"
    assert not shown["personal.previous"].isEnabled()


def test_file_dialogs_start_in_documents_then_in_the_last_folder_used(make_window, tmp_path, monkeypatch):
    window = make_window()
    notes, exports = tmp_path / "notes", tmp_path / "exports"
    notes.mkdir()
    exports.mkdir()
    shutil.copy(SAMPLE_INK / "hello-world.inkml", notes)
    started = []

    def dialog(answer):
        def ask(parent, title, start, filter_):
            started.append(start)
            return answer, filter_

        return ask

    documents = tmp_path / "Documents"
    documents.mkdir()
    monkeypatch.setattr(dialogs.QStandardPaths, "writableLocation", lambda _: str(documents))
    monkeypatch.setattr(dialogs.QFileDialog, "getOpenFileName", dialog(str(notes / "hello-world.inkml")))
    action(window, "&Open ink or notebook…").trigger()
    assert started == [str(documents)]
    monkeypatch.setattr(dialogs.QFileDialog, "getSaveFileName", dialog(str(exports / "mine.png")))
    action(window, "&Export page as PNG…").trigger()
    assert started[-1] == str(notes / "page.png") and (exports / "mine.png").exists()
    monkeypatch.setattr(dialogs.QFileDialog, "getOpenFileName", dialog(""))  # cancelled
    action(window, "Open &image…").trigger()
    assert started[-1] == str(exports)
    again = make_window()  # remembered across sessions
    next(a for a in again.actions() if a.text() == "Open &image…").trigger()
    assert started[-1] == str(exports)


def test_without_a_documents_folder_file_dialogs_start_at_home(make_window, tmp_path, monkeypatch):
    """A new account or a bare system has no Documents folder yet: home, not the folder
    the app was started from."""
    home = tmp_path / "home"
    home.mkdir()
    places = {
        QStandardPaths.StandardLocation.DocumentsLocation: str(home / "Documents"),
        QStandardPaths.StandardLocation.HomeLocation: str(home),
    }
    monkeypatch.setattr(dialogs.QStandardPaths, "writableLocation", places.__getitem__)
    window = make_window()
    assert dialogs.start_folder(window.settings) == str(home)
    assert dialogs.start_folder(window.settings, "page.png") == str(home / "page.png")


def test_a_fine_tuned_model_s_before_and_after_are_rows_of_the_table():
    meta = {
        "kind": "ink",
        "training": {"data": ["12 user samples"], "finetune": {"steps": 40}},
        "base_model": "online-default.safetensors",
        "metrics": {"held-out user samples": {"before": {"cer": 0.2, "wer": 0.5, "lines": 3}, "after": None}},
    }
    text = TextDialog("Model", dialogs.model_html("personal.safetensors", meta)).text()
    assert "held-out user samples\nbefore\n20.00%\n50.00%\n3" in text
    assert "Fine-tuned\n40 steps on your samples" in text and "Started from\nonline-default.safetensors" in text


def test_a_chosen_image_model_that_is_gone_is_said_once_and_the_bundled_one_reads(
    make_window, tiny_image_model, tmp_path, messages
):
    chosen = tmp_path / "images.safetensors"
    shutil.copy(tiny_image_model, chosen)
    window = make_window()
    assert window.load_model(str(chosen))
    window.close()
    chosen.unlink()
    again = make_window()
    dialog = again.open_image(str(REPO / "data" / "images" / "hello-world.png"), show=False)
    assert dialog is not None and "images.safetensors" in messages[-1] and "bundled image model" in messages[-1]
    assert again.image_model_path is None and make_window().image_model_path is None


def test_a_model_file_s_figures_are_shown_as_text_never_as_markup():
    """Metadata is the file's, so hostile: a 'lines' figure holding markup is shown as
    written (it was put into the table as HTML: an image fetched, the table broken)."""
    table = dialogs.metrics_table({"held-out": {"cer": 0.1, "wer": 0.2, "lines": "<img src='x'><b>4</b>"}})
    assert "<img" not in table and "<b>4" not in table
    assert "&lt;img src=&#x27;x&#x27;&gt;&lt;b&gt;4&lt;/b&gt;" in table


def test_a_model_file_s_figure_too_large_for_a_number_is_shown_as_none():
    """The metrics are free-form JSON: a whole number beyond a float's range made the
    Model info (or About) dialog raise OverflowError, which aborts the app from a menu."""
    table = dialogs.metrics_table({"held-out": {"cer": 10**400, "wer": True, "lines": 3}})
    assert table.count("<td align='right'>–</td>") == 2


def test_an_ensemble_is_described_as_its_networks_reading_together():
    lstm = {"rnn": "lstm", "layers": 3, "hidden": 192, "front": "ink", "conv_channels": 128}
    gru = {**lstm, "rnn": "gru"}
    meta = {"architecture": {"members": [lstm, gru]}}
    assert dialogs.network_in_brief(meta) == "3 \u00d7 192 BiLSTM + 3 \u00d7 192 BiGRU"
    words = dialogs.architecture_in_words(meta)
    assert words.startswith("2 networks reading together: 3-layer bidirectional LSTM, 192 units each way")
    assert "; and 3-layer bidirectional GRU" in words


def test_an_image_chosen_in_open_ink_is_read_as_file_open_image_reads_it(make_window, monkeypatch):
    """It said "unknown ink format '.png'"; the image model reads what File > Open image offers."""
    from gui.image_view import IMAGE_SUFFIXES
    from handwrite.formats import IMAGE_SUFFIXES as READ

    assert IMAGE_SUFFIXES == READ
    window = make_window()
    opened = []
    monkeypatch.setattr(window, "open_image", lambda path: opened.append(path) or object())
    image = str(REPO / "data" / "images" / "hello-world.png")
    assert window.open_ink(image) and opened == [image]
    assert window.canvas.strokes == [] and window.path is None  # the page is as it was

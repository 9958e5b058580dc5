import os
import signal
import subprocess
import sys
import textwrap

import pytest

import handwrite
from handwrite.samples import COVERAGE_SENTENCES, ImportReport, SampleStore
from tests.hostile import time_limit


def ink():
    return handwrite.Ink.from_points([[[0, 0, 0], [5, 5, 0.1]], [[7, 0, 0.3], [9, 4, 0.4]]])


def test_add_list_relabel_delete(tmp_path):
    store = SampleStore(tmp_path / "store")
    sample = store.add(ink(), "  hello   world ")
    assert sample.text == "hello world" and sample.path.exists()
    assert [s.text for s in store.samples()] == ["hello world"]
    store.relabel(sample, "hello there")
    assert store.samples()[0].ink().text == "hello there"
    store.delete(sample)
    assert len(store) == 0


def test_samples_are_listed_in_the_order_they_were_kept(tmp_path):
    store = SampleStore(tmp_path)
    texts = [f"line {i}" for i in range(12)]  # as the lines of one page, kept within microseconds
    for text in texts:
        store.add(ink(), text)
    assert [s.text for s in store.samples()] == texts


def test_empty_text_or_ink_is_refused(tmp_path):
    store = SampleStore(tmp_path)
    with pytest.raises(handwrite.HandwriteError, match="transcription"):
        store.add(ink(), "  ")
    with pytest.raises(handwrite.HandwriteError, match="strokes"):
        store.add(handwrite.Ink(), "text")
    assert len(store) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [("hello \x1b[0mworld", "control characters"), ("a\x07b", "control characters"), ("word " * 300, "at most 1000")],
)
def test_a_label_no_line_can_have_is_refused_and_the_kept_sample_stays(tmp_path, text, message):
    """Text pasted from a terminal once made a file no reader opens: the sample vanished,
    and relabelling a good one lost it."""
    store = SampleStore(tmp_path)
    sample = store.add(ink(), "hello world")
    with pytest.raises(handwrite.HandwriteError, match=message):
        store.add(ink(), text)
    with pytest.raises(handwrite.HandwriteError, match=message):
        store.relabel(sample, text)
    assert [s.text for s in store.samples()] == ["hello world"]
    (tmp_path / "import").mkdir()  # an import skips such a file and takes the rest
    handwrite.write_ink(handwrite.Ink(ink().strokes, text="fine"), tmp_path / "import" / "a.json")
    (tmp_path / "import" / "b.json").write_text('{"strokes": [[[0, 0], [3, 4]]], "text": "a\\u001bb"}')
    assert store.import_folder(tmp_path / "import") == ImportReport(added=1, unreadable=1)
    assert sorted(s.text for s in store.samples()) == ["fine", "hello world"]


def test_a_failed_save_loses_nothing(tmp_path, monkeypatch):
    store = SampleStore(tmp_path)
    kept = store.add(ink(), "kept")

    def crash(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError, match="No space"):
        store.relabel(kept, "changed")
    with pytest.raises(OSError, match="No space"):
        store.add(ink(), "new")
    monkeypatch.undo()
    assert [s.text for s in store.samples()] == ["kept"]
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_a_process_killed_mid_save_loses_nothing(tmp_path):
    """A real SIGKILL while a relabelled sample is being written: the old file stays whole."""
    store = SampleStore(tmp_path)
    kept = store.add(ink(), "kept")
    child = textwrap.dedent(
        f"""
        import os, time
        from handwrite.samples import SampleStore
        store = SampleStore({str(tmp_path)!r})
        def stall(fd):  # the new bytes are written; hold here until killed
            print("saving", flush=True)
            time.sleep(60)
        os.fsync = stall
        store.relabel(store.samples()[0], "changed")
        """
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "saving"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert [s.text for s in SampleStore(tmp_path).samples()] == ["kept"]
    assert handwrite.read_ink(kept.path).text == "kept"


def test_export_and_import(tmp_path):
    store = SampleStore(tmp_path / "a")
    store.add(ink(), "one")
    store.add(ink(), "two")
    assert store.export(tmp_path / "backup") == 2
    other = SampleStore(tmp_path / "b")
    assert other.import_folder(tmp_path / "backup").added == 2
    assert sorted(s.text for s in other.samples()) == ["one", "two"]
    assert other.import_folder(tmp_path / "backup") == ImportReport(duplicates=2)  # a backup twice adds nothing
    (tmp_path / "backup" / "copy.inkml").write_bytes(next((tmp_path / "backup").iterdir()).read_bytes())
    assert SampleStore(tmp_path / "c").import_folder(tmp_path / "backup").added == 2  # nor a sample held twice
    assert store.import_folder(tmp_path / "backup").added == 0
    other.relabel(other.samples()[0], "one, changed")
    assert store.import_folder(other.folder).added == 1  # only what differs
    assert sorted(s.text for s in store.samples()) == ["one", "one, changed", "two"]
    blank = ink()
    blank.text = "   "
    handwrite.write_ink(blank, tmp_path / "backup" / "blank.json")  # JSON ink keeps the spaces
    assert SampleStore(tmp_path / "d").import_folder(tmp_path / "backup") == ImportReport(
        added=2, duplicates=1, unlabelled=1
    )  # skipped, said


def test_unreadable_files_in_the_store_are_left_alone(tmp_path):
    store = SampleStore(tmp_path)
    store.add(ink(), "fine")
    (tmp_path / "junk.inkml").write_text("<ink")
    assert [s.text for s in store.samples()] == ["fine"]


def test_prompts_cover_the_alphabet_first(tmp_path):
    store = SampleStore(tmp_path)
    covered = set("".join(COVERAGE_SENTENCES))
    assert set("abcdefghijklmnopqrstuvwxyz0123456789") <= {c.lower() for c in covered}
    first = store.next_sentence()
    store.add(ink(), first)
    assert store.next_sentence() != first


def test_a_fifo_or_device_in_the_store_or_an_import_is_left_alone(tmp_path):
    store = SampleStore(tmp_path / "store")
    store.add(ink(), "fine")
    os.mkfifo(tmp_path / "store" / "pipe.inkml")  # would block a reader waiting for a writer
    backup = tmp_path / "backup"
    backup.mkdir()
    os.mkfifo(backup / "pipe.json")  # (read_ink's own tests cover /dev/zero, in a bounded child process)
    with time_limit(60, "listing a store holding a FIFO"):
        assert [s.text for s in store.samples()] == ["fine"]
        assert store.export(tmp_path / "exported") == 1
        assert store.import_folder(backup) == ImportReport(unreadable=1)


def test_the_data_folder_follows_xdg_and_ignores_a_relative_path(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert handwrite.data_home() == tmp_path / "xdg" / "handwrite"
    for relative in ("xdg", ""):  # invalid by the XDG spec: the default instead of a folder that moves
        monkeypatch.setenv("XDG_DATA_HOME", relative)
        assert handwrite.data_home() == tmp_path / "home" / ".local" / "share" / "handwrite"

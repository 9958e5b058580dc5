"""The batch loop (handwrite/transcribe.py): finding inputs, worker processes,
where output goes. Commands that could hang run in a subprocess with a timeout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handwrite.cli import main
from handwrite.fileio import atomic_write_text
from tests.conftest import REPO, SAMPLE_INK

HELLO = SAMPLE_INK / "hello-world.inkml"
HANG_GUARD_S = 300  # a generous bound for a run that must end; never a timing assertion


def run_cli(*args: str, script: str | None = None, timeout: float = HANG_GUARD_S) -> subprocess.CompletedProcess:
    """`handwrite ARGS` in a fresh interpreter (or a script that patches it first), in its
    own process group; a hang fails the test (and the group is killed, workers too)."""
    command = [sys.executable, script] if script else [sys.executable, "-m", "handwrite"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        cwd=REPO,
        env=env,
        start_new_session=True,
    ) as child:
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            pytest.fail(f"handwrite {' '.join(args)} still running after {timeout} s (hung?)")
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


# ---- a worker process that dies ------------------------------------------------------

# Run as the main script, so spawned workers run it too (as __mp_main__): in a worker,
# reading a file named *kill-me* kills the worker as the out-of-memory killer would.
KILLER = """
import os, signal, sys
import handwrite.transcribe as transcribe

transcribe.CHUNK = 2
_read_input = transcribe._read_input


def read_or_die(path):
    if "kill-me" in path.name:
        os.kill(os.getpid(), signal.SIGKILL)
    return _read_input(path)


transcribe._read_input = read_or_die

if __name__ == "__main__":
    from handwrite.cli import main

    sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs -j 2")
def test_a_killed_worker_fails_its_files_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "inks"
    folder.mkdir()
    # chunks of 2, in name order: [a1, a2] [b1-kill-me, b2] [c1]; reading b1 kills its worker
    for name in ("a1", "a2", "b1-kill-me", "b2", "c1"):
        shutil.copy(HELLO, folder / f"{name}.inkml")
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    done = run_cli("transcribe", str(folder), "-j", "2", "-f", "jsonl", "--no-progress", script=str(script))
    records = {Path(r["path"]).name: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(records) == {"a1.inkml", "a2.inkml", "b1-kill-me.inkml", "b2.inkml", "c1.inkml"}, done.stderr
    died = {name for name, r in records.items() if "worker process died" in r.get("error", "")}
    assert "b1-kill-me.inkml" in died and not died & {"a1.inkml", "a2.inkml", "c1.inkml"}
    assert all(records[name]["text"] for name in ("a1.inkml", "a2.inkml", "c1.inkml"))
    assert done.returncode == 1
    assert "killed? out of memory?" in done.stderr and "Traceback" not in done.stderr


def _children(pid: int) -> set[int]:
    """The processes `pid` started (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found |= {int(child) for child in task.read_text().split()}
    return found


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or not Path("/proc/self/task").exists(), reason="-j 2, /proc")
def test_workers_end_when_the_batch_is_killed(tmp_path):
    """SIGKILL runs no cleanup: the -j workers lived on, each holding its models' memory."""
    folder = tmp_path / "inks"
    folder.mkdir()
    for n in range(400):
        shutil.copy(HELLO, folder / f"{n:03}.inkml")
    command = [sys.executable, "-m", "handwrite", "transcribe", str(folder), "-j", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) as batch:
        deadline = time.monotonic() + HANG_GUARD_S
        workers: set[int] = set()
        while time.monotonic() < deadline and batch.poll() is None:
            workers = {pid for pid in _children(batch.pid) if "spawn_main" in _cmdline(pid)}
            if len(workers) == 2:
                break
            time.sleep(0.2)
        assert len(workers) == 2, "the workers never started"
        batch.send_signal(signal.SIGKILL)  # whether the workers are still starting or reading
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and _cmdline(pid) for pid in workers):
        time.sleep(0.2)
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists() and _cmdline(pid)]
    for pid in alive:  # not left behind by a failing test either
        os.kill(pid, signal.SIGKILL)
    assert not alive


def test_a_killed_batch_goes_on_with_skip_existing(tmp_path):
    """Killed as soon as its first results are written, a run is taken up with
    --skip-existing: no input is read twice or left out, no result is half written."""
    folder, out = tmp_path / "inks", tmp_path / "out"
    folder.mkdir()
    for n in range(60):
        shutil.copy(HELLO, folder / f"{n:02}.inkml")
    command = [sys.executable, "-m", "handwrite", "transcribe", str(folder), "-o", str(out), "-j", "1", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) as batch:
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline and batch.poll() is None and not list(out.glob("*.txt")):
            time.sleep(0.02)
        batch.send_signal(signal.SIGKILL)  # a slow machine may have finished already: then all are there
    before = {path.name for path in out.glob("*.txt")}
    assert before, "the batch wrote nothing before it ended"
    done = run_cli("transcribe", str(folder), "-o", str(out), "--skip-existing", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} input{'s' if len(before) != 1 else ''} already transcribed" in done.stderr
    results = sorted(out.glob("*.txt"))  # (a temporary file of the killed write may stay: not a result)
    assert [path.name for path in results] == [f"{n:02}.inkml.txt" for n in range(60)]
    assert all(path.read_text() == "hello world\n" for path in results)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


# ---- finding inputs --------------------------------------------------------------------


def test_a_folder_tree_deeper_than_the_bound_is_an_error_line_not_a_traceback(tmp_path, capsys):
    root = tmp_path / "deep"
    root.mkdir()
    shutil.copy(HELLO, root / "top.inkml")
    _nested(root, 1100)
    try:
        code = main(["transcribe", str(root), "-f", "jsonl", "--no-progress"])
        out, err = capsys.readouterr()
    finally:
        _remove_nested(root, 1100)
    records = [json.loads(line) for line in out.splitlines()]
    assert [Path(r["path"]).name for r in records if "text" in r] == ["top.inkml"]
    assert any("folders deep" in r.get("error", "") for r in records)
    assert code == 1 and "folders deep" in err and "Traceback" not in err


def _nested(root: Path, depth: int) -> None:
    path = root
    for _ in range(depth):
        path = path / "d"
        os.mkdir(path)  # os.makedirs recurses: it cannot make 1100 levels


def _remove_nested(root: Path, depth: int) -> None:
    for level in range(depth, 0, -1):  # shutil.rmtree recurses too
        os.rmdir(root.joinpath(*["d"] * level))


def test_a_folder_that_cannot_be_searched_is_reported_and_exit_one(tmp_path, capsys, monkeypatch):
    root = tmp_path / "inks"
    (root / "locked").mkdir(parents=True)
    shutil.copy(HELLO, root / "hello.inkml")
    shutil.copy(HELLO, root / "locked" / "hidden.inkml")
    scandir = os.scandir

    def refuse_locked(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse_locked)  # as a folder without read permission behaves
    code = main(["transcribe", str(root), "-f", "jsonl"])
    out, err = capsys.readouterr()
    records = {Path(r["path"]).name: r for r in map(json.loads, out.splitlines())}
    assert records["hello.inkml"]["text"]
    assert "Permission denied" in records["locked"]["error"] and "locked" in err
    assert code == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_an_unreadable_folder_is_reported(tmp_path, capsys):
    root = tmp_path / "inks"
    (root / "locked").mkdir(parents=True)
    shutil.copy(HELLO, root / "hello.inkml")
    (root / "locked").chmod(0)
    try:
        code = main(["transcribe", str(root), "-f", "jsonl"])
    finally:
        (root / "locked").chmod(0o755)
    assert code == 1 and "locked" in capsys.readouterr().err


def test_folders_give_fifos_and_broken_links_named_as_input_and_links_to_folders_are_not_followed(tmp_path):
    from handwrite.transcribe import collect_inputs

    root, elsewhere = tmp_path / "inks", tmp_path / "elsewhere"
    (root / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(HELLO, root / "sub" / "a.inkml")
    shutil.copy(HELLO, elsewhere / "b.inkml")
    os.mkfifo(root / "pipe.inkml")
    (root / "gone.inkml").symlink_to(root / "missing.inkml")
    (root / "sub" / "loop").symlink_to(root)
    (root / "proc").symlink_to("/proc")  # was walked through every process's files
    (root / "linked").symlink_to(elsewhere)
    (root / "notes.txt").write_text("not an input")
    with pytest.warns(UserWarning, match="3 link\\(s\\) to folders not followed"):
        found = collect_inputs([root])
    assert [s.path.relative_to(root).as_posix() for s in found] == ["gone.inkml", "pipe.inkml", "sub/a.inkml"]
    assert all(s.root == root and s.error is None for s in found)
    assert [s.path.name for s in collect_inputs([root / "linked"])] == ["b.inkml"]  # named, a link is followed


def test_the_output_folder_inside_an_input_folder_is_not_read(tmp_path, capsys):
    shutil.copy(HELLO, tmp_path / "hello.inkml")
    assert main(["transcribe", str(tmp_path), "-f", "json", "-o", str(tmp_path / "out")]) == 0
    assert main(["transcribe", str(tmp_path), "-f", "jsonl", "-o", str(tmp_path / "out")]) == 0
    lines = (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    assert [Path(json.loads(line)["path"]).name for line in lines] == ["hello.inkml"]


# ---- where output goes ---------------------------------------------------------------------


def test_atomic_write_without_replace_never_writes_over_a_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("theirs")
    with pytest.raises(FileExistsError) as error:
        atomic_write_text(target, "ours", replace=False)
    assert error.value.filename == str(target)
    assert target.read_text() == "theirs" and os.listdir(tmp_path) == ["x.txt"]


def test_atomic_write_never_replaces_a_fifo_a_socket_or_a_folder(tmp_path):
    # a device is refused the same way; no test writes near a real one (/dev/null as root)
    fifo, sock = tmp_path / "pipe", tmp_path / "sock"
    os.mkfifo(fifo)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock))
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(fifo)
    targets = [
        (fifo, "named pipe"),
        (sock, "socket"),
        (tmp_path / "folder", "folder"),
        (tmp_path / "link", "named pipe (FIFO) (behind a symbolic link)"),
    ]
    for target, said in targets:
        with pytest.raises(OSError) as error:
            atomic_write_text(target, "ours")
        assert said in str(error.value) and error.value.filename == str(target)
    listener.close()
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and stat.S_ISSOCK(sock.lstat().st_mode)
    assert (tmp_path / "link").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link", "pipe", "sock"]  # no temporary left


def test_a_link_to_a_file_is_replaced_with_a_file_of_the_usual_permissions(tmp_path):
    theirs = tmp_path / "theirs.txt"
    theirs.write_text("theirs")
    theirs.chmod(0o666)
    (tmp_path / "out.txt").symlink_to(theirs)
    atomic_write_text(tmp_path / "out.txt", "ours")
    assert not (tmp_path / "out.txt").is_symlink() and (tmp_path / "out.txt").read_text() == "ours"
    assert theirs.read_text() == "theirs"  # the link is replaced, not followed
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o666 & ~umask


def test_a_results_file_name_taken_by_a_folder_moves_on_to_the_next_name(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "results.jsonl").mkdir(parents=True)
    assert main(["transcribe", str(HELLO), "-f", "jsonl", "-o", str(out)]) == 0
    assert (out / "results-2.jsonl").read_text().strip()


KILLED_WRITER = """
import os, signal, sys
from handwrite.fileio import atomic_open

with atomic_open(sys.argv[1], "w") as handle:
    handle.write("half a file")
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_temporary_files_of_a_killed_write_are_removed_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(out / "results.jsonl")],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=HANG_GUARD_S,
    )
    assert killed.returncode == -signal.SIGKILL
    (left,) = [p for p in out.iterdir() if p.name.startswith(".results.jsonl.")]  # what the kill left
    _age(left, 120)
    ours_in_use = out / f".x.txt.hw{os.getpid()}-abcdefgh.tmp"  # a live writer's: kept
    ours_in_use.write_text("being written")
    _age(ours_in_use, 120)
    not_ours = out / ".notes.txt.hw1-x.tmp"  # not our pattern: kept
    not_ours.write_text("someone's")
    _age(not_ours, 10**6)
    assert main(["transcribe", str(HELLO), "-f", "jsonl", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(["results.jsonl", ours_in_use.name, not_ours.name])


def test_stale_temporaries_need_a_dead_writer_or_a_day(tmp_path):
    from handwrite.fileio import remove_stale_temporaries

    dead = _dead_pid()
    fresh_dead = tmp_path / f".a.hw{dead}-abcdefgh.tmp"
    old_dead = tmp_path / f".b.hw{dead}-abcdefgh.tmp"
    day_old_alive = tmp_path / f".c.hw{os.getpid()}-abcdefgh.tmp"
    link = tmp_path / f".d.hw{dead}-abcdefgh.tmp"
    for path in (fresh_dead, old_dead, day_old_alive):
        path.write_text("x")
    link.symlink_to(tmp_path / "elsewhere")
    _age(old_dead, 120)
    _age(day_old_alive, 2 * 24 * 3600)
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted([old_dead.name, day_old_alive.name])
    assert fresh_dead.exists() and link.is_symlink()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_output_folder_given_as_input_is_read(tmp_path, capsys):
    shutil.copy(HELLO, tmp_path / "hello.inkml")
    assert main(["transcribe", str(tmp_path), "-f", "jsonl", "-o", str(tmp_path)]) == 0
    assert f"wrote {tmp_path / 'results.jsonl'}" in capsys.readouterr().err
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 1


def test_json_results_beside_the_inputs_are_not_read_as_ink_next_time(tmp_path, capsys):
    shutil.copy(HELLO, tmp_path / "hello.inkml")
    assert main(["transcribe", str(tmp_path), "-f", "json", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "hello.inkml.json").exists()
    capsys.readouterr()
    assert main(["transcribe", str(tmp_path), "-f", "jsonl"]) == 0  # the folder again: the ink only
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["path"] == str(tmp_path / "hello.inkml")
    assert main(["transcribe", str(tmp_path / "hello.inkml.json")]) == 1  # named: read, and said why not
    (tmp_path / "broken.inkml").write_text("<ink")  # a failure: written to errors.json
    assert main(["transcribe", str(tmp_path), "-f", "json", "-o", str(tmp_path), "--overwrite"]) == 1
    shutil.copy(tmp_path / "errors.json", tmp_path / "errors-2.json")  # as a run that found errors.json taken
    capsys.readouterr()
    assert main(["transcribe", str(tmp_path), "-f", "jsonl"]) == 1  # the broken ink fails, alone
    assert [json.loads(line)["path"] for line in capsys.readouterr().out.splitlines()] == [
        str(tmp_path / "broken.inkml"),
        str(tmp_path / "hello.inkml"),
    ]
    assert main(["eval", str(tmp_path)]) == 1  # eval walks folders the same way: the results are not ink
    assert "hello.inkml.json" not in capsys.readouterr().err


def test_an_input_the_network_refuses_fails_alone_not_its_whole_batch():
    """A HandwriteError from recognising a batch (say, scores that are not numbers for one
    input) is retried input by input: only the culprit fails."""
    import handwrite
    from handwrite.transcribe import transcribe_files

    model = handwrite.load_model()
    real = model.recognize_batch

    def refuses_quick_fox(items):
        if any("quick-fox" in (item.source or "") for item in items):
            if len(items) > 1:
                raise handwrite.HandwriteError("the network's output holds NaN")
            raise handwrite.HandwriteError(f"{items[0].source}: the network's output holds NaN")
        return real(items)

    model.recognize_batch = refuses_quick_fox
    files = [SAMPLE_INK / "hello-world.inkml", SAMPLE_INK / "quick-fox.inkml", SAMPLE_INK / "meeting.inkml"]
    items = list(transcribe_files(files, model=model))
    assert [item.result.text if item.result else None for item in items] == [
        "hello world",
        None,
        "Meeting at 10:30 tomorrow.",
    ]
    assert items[1].error == f"{files[1]}: the network's output holds NaN"

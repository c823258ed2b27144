"""Faults while writing the run folder: an unwritable destination is refused before any
work, a full disk ends in one line with nothing left behind, and the temporary folder of
a run killed outright (SIGKILL) is removed by the next run into the same place."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_cli import TINY  # tests/ is on the path: a sibling test module

from v1lab.cli import main, save_recording_folder
from v1lab.experiment import run_protocol
from v1lab.io import OWNER_MARKER, RunFolderError, check_run_folder, remove_stale_temporary_folders
from v1lab.protocol import dump_toml, parse_protocol

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(dump_toml(TINY))
    return path


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if a run starts: these refusals must come before any work."""

    def refuse(*args, **kwargs):
        raise AssertionError("the run started before the destination was checked")

    monkeypatch.setattr("v1lab.experiment.run_protocol", refuse)


# ------------------------------------------------------------ an unwritable destination


def test_a_file_on_the_way_to_out_is_refused_before_any_work(tiny, tmp_path, capsys, no_simulation):
    # Sessions run as root, where permission bits stop nothing: a file where a folder
    # must be is the unwritable place every user has.
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    for out in (blocker / "run", blocker / "deeper" / "run"):
        with pytest.raises(RunFolderError, match=f"{blocker} is a file, not a folder"):
            check_run_folder(out)
        assert main(["--protocol", str(tiny), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(out) in err and "is a file, not a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "tiny.toml"]


# ------------------------------------------------------------------------ a full disk


def _skip_or_fail(reason: str) -> None:
    """Skip, unless CI asked for the tmpfs tests to run (V1LAB_REQUIRE_MOUNT=1)."""
    if os.environ.get("V1LAB_REQUIRE_MOUNT") == "1":
        pytest.fail(f"tmpfs test could not run, and V1LAB_REQUIRE_MOUNT=1: {reason}")
    pytest.skip(reason)


@pytest.fixture
def small_disk(tmp_path):
    """A 20-MB tmpfs, mounted for the test (needs root, as the sessions here run)."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0:
        _skip_or_fail("mounting a tmpfs needs root")
    if shutil.which("mount") is None:
        _skip_or_fail("no mount command")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(where)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        _skip_or_fail(f"mount -t tmpfs was refused: {done.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` until at most ``leave`` bytes are free."""
    with open(disk / "filler", "wb") as fh:
        try:
            while shutil.disk_usage(disk).free > leave:
                fh.write(b"\0" * min(1 << 20, shutil.disk_usage(disk).free - leave or 4096))
                fh.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC


def test_a_disk_that_fills_while_writing_leaves_nothing_and_one_line(tiny, small_disk, capsys):
    _fill(small_disk, leave=300_000)  # room for the check, not for the run folder (~1 MB)
    out = small_disk / "new" / "run"
    assert main(["--protocol", str(tiny), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(
        f"v1lab: error: cannot write the run folder {out}: No space left on device"
    )
    assert err.endswith("; nothing was written\n")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # not even new/


@pytest.fixture(scope="module")
def tiny_recording():
    return run_protocol(parse_protocol(TINY))


@pytest.mark.parametrize("leave", [7_000, 13_000, 40_000, 280_000, 600_000])
def test_a_disk_full_at_any_file_is_one_error_and_leaves_nothing(
    tiny_recording, small_disk, capfd, leave
):
    # From protocol.toml to the figures (~1 MB in all): HDF5 reports a full disk as a
    # RuntimeError, and its freed objects print it again, unless kept quiet.
    _fill(small_disk, leave)
    with pytest.raises(RunFolderError) as info:
        save_recording_folder(tiny_recording, small_disk / "run")
    assert str(info.value).startswith(
        f"cannot write the run folder {small_disk / 'run'}: No space left on device ("
    )
    assert capfd.readouterr().err == ""
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_full_disk_is_refused_before_any_work(tiny, small_disk, capsys, no_simulation):
    _fill(small_disk, leave=0)
    out = small_disk / "run"
    assert main(["--protocol", str(tiny), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"v1lab: error: cannot write the run folder {out}: No space left on device "
        f"(trying {small_disk}); nothing was written\n"
    )
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_read_only_place_is_refused_before_any_work(tiny, small_disk, capsys, no_simulation):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    out = small_disk / "new" / "run"
    assert main(["--protocol", str(tiny), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"v1lab: error: cannot write the run folder {out}: Read-only file system "
        f"(trying {small_disk}); nothing was written\n"
    )


# ------------------------------------------------------- a run killed while writing

KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from v1lab.io import save_run

    class Protocol:
        def to_toml(self):  # save_run's first file: the run is now writing
            print("writing", flush=True)
            time.sleep(60)

    class Recording:
        protocol = Protocol()

    save_run(Recording(), sys.argv[1])
    """
)


def _marker(tmp: Path, **changes) -> None:
    tmp.mkdir()
    owner = {
        "v1lab": "temporary run folder",
        "destination": "run",
        "pid": os.getpid(),
        "started": Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19],
        "host": socket.gethostname(),
    }
    (tmp / OWNER_MARKER).write_text(json.dumps({**owner, **changes}))


def test_the_temporary_folder_of_a_killed_run_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(out)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert child.stdout.readline() == "writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    (left,) = tmp_path.glob(".run.*.tmp")  # what a SIGKILL leaves: nothing can clean up
    assert json.loads((left / OWNER_MARKER).read_text())["pid"] == child.pid

    # Beside it, temporary-looking folders that are not a dead run's: all must stay.
    _marker(tmp_path / ".run.alive000.tmp")  # this very process: alive
    _marker(tmp_path / ".run.otherhost.tmp", pid=child.pid, host="another-machine")
    _marker(tmp_path / ".run.other000.tmp", pid=child.pid, destination="run.other")
    (tmp_path / ".run.nomarker.tmp").mkdir()  # no marker: not ours to judge
    (tmp_path / ".run.file.tmp").write_text("a file")
    bad = tmp_path / ".run.garbled.tmp"
    bad.mkdir()
    (bad / OWNER_MARKER).write_text("{not json")
    # A process number used again by another process (started at another time): stale.
    _marker(tmp_path / ".run.reused00.tmp", started="1")
    kept = {p.name for p in tmp_path.iterdir()} - {left.name, ".run.reused00.tmp"}

    removed = remove_stale_temporary_folders(out)
    assert sorted(removed) == sorted([left, tmp_path / ".run.reused00.tmp"])
    assert {p.name for p in tmp_path.iterdir()} == kept


def test_the_next_run_into_the_same_place_removes_it(tiny, tmp_path):
    out = tmp_path / "run"
    stale = tmp_path / ".run.dead0000.tmp"
    _marker(stale, pid=2**22 + 1)  # above Linux's pid_max: no such process
    (stale / "recording.nwb").write_bytes(b"half")
    assert main(["--protocol", str(tiny), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tiny.toml"]
    assert OWNER_MARKER not in {p.name for p in out.iterdir()}


def test_a_process_whose_nwb_write_hit_a_full_disk_exits_cleanly(tiny, small_disk):
    # A full disk in the middle of the NWB file once left HDF5's objects in a state that
    # crashed the interpreter at exit (exit code 139 after the one-line error). The
    # leftover space that hit it was ~13 kB; the whole process is run to see its exit.
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from test_write_faults import _fill
        from v1lab.cli import main
        _fill(Path({str(small_disk)!r}), 13_000)
        sys.exit(main(["--protocol", {str(tiny)!r}, "--out", {str(small_disk / "run")!r},
                       "--quiet", "--no-audio"]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode in (1, 2), (done.returncode, done.stderr[-400:])
    assert done.stderr.count("\n") == 1, done.stderr

"""Command line: the default run, options, one-line errors, and an installed copy."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from v1lab.cli import main
from v1lab.io import load_npz
from v1lab.protocol import dump_toml

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "name": "tiny",
    "description": "two sweeps for the CLI tests",
    "seed": 2,
    "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
    "population": {"n_cells": 2},
    "trials": {"n_trials": 2, "isi_s": 0.5},
    "stimuli": [
        {"kind": "bar", "speed_deg_s": 4.0, "duration_s": 0.5, "direction_deg": [0.0, 90.0]}
    ],
}


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(dump_toml(TINY))
    return path


def test_list_names_the_default_protocol(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("hubel_wiesel_bars") or "hubel_wiesel_bars  " in out


def test_help_explains_each_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--protocol", "--out", "--seed", "--list", "--quiet", "--overwrite"):
        assert option in out


def test_run_writes_the_folder_and_prints_it(tiny, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["--protocol", str(tiny), "--out", str(out_dir)]) == 0
    printed = capsys.readouterr().out
    assert "[2/2]" in printed and "|" in printed  # a progress bar line per condition
    assert printed.strip().endswith(str(out_dir))
    assert (out_dir / "recording.nwb").is_file() and (out_dir / "figures").is_dir()


def test_quiet_prints_only_the_folder(tiny, tmp_path, capsys):
    out_dir = tmp_path / "q"
    assert main(["--protocol", str(tiny), "--out", str(out_dir), "--quiet"]) == 0
    assert capsys.readouterr().out == f"{out_dir}\n"


def test_seed_option_changes_the_spikes_and_is_recorded(tiny, tmp_path):
    assert main(["--protocol", str(tiny), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert (
        main(["--protocol", str(tiny), "--out", str(tmp_path / "b"), "--quiet", "--seed", "77"])
        == 0
    )
    a, b = load_npz(tmp_path / "a" / "recording.npz"), load_npz(tmp_path / "b" / "recording.npz")
    assert "seed = 77" in (tmp_path / "b" / "protocol.toml").read_text()
    assert not all(
        np.array_equal(x, y) for x, y in zip(a["spike_times"], b["spike_times"], strict=True)
    )


def test_existing_out_is_refused_before_any_work(tiny, tmp_path, capsys):
    out_dir = tmp_path / "exists"
    out_dir.mkdir()
    assert main(["--protocol", str(tiny), "--out", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err
    assert list(out_dir.iterdir()) == []
    assert main(["--protocol", str(tiny), "--out", str(out_dir), "--overwrite", "--quiet"]) == 0
    assert (out_dir / "recording.npz").is_file()


def test_bad_protocol_is_one_line_naming_field_value_and_allowed(tmp_path, capsys):
    bad = dict(TINY, stimuli=[{"kind": "bar", "speed_deg_s": 4.0, "duration_s": -2.0}])
    path = tmp_path / "bad.toml"
    path.write_text(dump_toml(bad))
    assert main(["--protocol", str(path), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert err == "v1lab: error: stimuli[0].duration_s = -2.0: expected a number > 0 (s)\n" or (
        err.count("\n") == 1 and "stimuli[0].duration_s = -2.0" in err
    )
    assert not (tmp_path / "never").exists()
    assert main(["--protocol", "no_such_protocol"]) == 2
    assert "available: " in capsys.readouterr().err


def test_run_experiment_script_is_the_same_command():
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_experiment.py"), "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "hubel_wiesel_bars" in result.stdout


def test_import_stays_fast():
    # pynwb and matplotlib are imported only where they are used.
    code = "import sys, v1lab, v1lab.experiment, v1lab.cli; print(sorted(m for m in ('pynwb', 'matplotlib', 'pandas', 'sounddevice') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_default_run_end_to_end(tmp_path):
    out_dir = tmp_path / "default"
    result = subprocess.run(
        [sys.executable, str(ROOT / "run_experiment.py"), "--out", str(out_dir)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "[24/24]" in result.stdout
    names = {p.name for p in out_dir.iterdir()}
    assert {
        "protocol.toml",
        "recording.nwb",
        "recording.npz",
        "presentations.csv",
        "metrics.csv",
    } <= names
    assert len(list((out_dir / "figures").glob("tuning_cell_*.png"))) == 16


@pytest.mark.slow
def test_installed_copy_finds_its_protocols(tmp_path):
    # A non-editable install (wheel) carries stimuli/ inside the package.
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(wheel_dir.glob("v1lab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "v1lab/_stimuli/hubel_wiesel_bars.toml" in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = "import v1lab.protocol as p; print(p.find_protocol('hubel_wiesel_bars'))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert Path(result.stdout.strip()).is_relative_to(target)


# ------------------------------------------------------------------- Ctrl-C (issue 12)


def _interrupted(cmd: list[str], delay_s: float, cwd: Path, wait_for_line: bool = False):
    """Start ``cmd``, send it SIGINT after ``delay_s`` (counted from its first stdout line
    when ``wait_for_line``), and return (exit code, stderr)."""
    import signal
    import time

    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        # As from a terminal, even when the tests run as a background job (SIGINT ignored).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    if wait_for_line:
        proc.stdout.readline()
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def _frames_in_v1lab(err: str) -> list[str]:
    """Traceback frames in v1lab's own code (run_experiment.py included) that had begun:
    not a script's line 0, nor the entry of ``main`` (``def main(``), which no handler
    inside it can cover."""
    lines = [*err.splitlines(), ""]
    return [
        line
        for line, source in itertools.pairwise(lines)
        if line.strip().startswith("File ")
        and (str(ROOT / "v1lab") in line or "run_experiment.py" in line)
        and "line 0," not in line
        and not source.strip().startswith("def main(")
    ]


def _assert_one_line(code: int, err: str, out_dir: Path) -> None:
    """Ctrl-C ended in one line and wrote nothing, unless it came before any line of
    v1lab ran (Python's own start-up: killed by the signal, or the interpreter's own
    report; the only window left, ~10 ms after the interpreter starts)."""
    if code == -2 or (code != 130 and "Traceback" in err):
        assert not _frames_in_v1lab(err), err
        return
    assert (code, err) == (130, "v1lab: interrupted; nothing was written\n"), err
    assert not out_dir.exists() and not list(out_dir.parent.glob(f".{out_dir.name}.*"))


@pytest.mark.parametrize("delay_s", [0.05, 0.2, 0.5, 1.0, 2.0])
def test_ctrl_c_while_the_script_starts_is_one_line(tmp_path, delay_s):
    cmd = [sys.executable, str(ROOT / "run_experiment.py"), "--out", str(tmp_path / "o")]
    _assert_one_line(*_interrupted(cmd, delay_s, tmp_path), tmp_path / "o")


@pytest.mark.parametrize("delay_s", [0.0, 0.05, 0.2, 0.5, 1.0])
def test_ctrl_c_from_the_first_line_of_main_is_one_line(tmp_path, delay_s):
    # What the `v1lab` console script runs; main() imports everything heavy itself.
    code = "import sys; from v1lab.cli import main; print(flush=True); sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", code, "--out", str(tmp_path / "o")]
    _assert_one_line(*_interrupted(cmd, delay_s, tmp_path, wait_for_line=True), tmp_path / "o")


# ---------------------------------------------------------------------------- --check


def test_check_validates_everything_and_runs_nothing(tiny, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["--protocol", str(tiny), "--out", str(out_dir), "--check"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("v1lab: tiny is ready: 2 conditions × 2 trials, seed 2, about ")
    assert printed.endswith(f"GB of memory; it would write {out_dir}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]
    assert main(["--protocol", str(tiny), "--out", str(out_dir), "--check", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    (tmp_path / "exists").mkdir()
    assert main(["--protocol", str(tiny), "--out", str(tmp_path / "exists"), "--check"]) == 2
    assert "--overwrite" in capsys.readouterr().err

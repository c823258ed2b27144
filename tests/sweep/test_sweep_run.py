"""Running a sweep: one atomic run folder per point, sweep.csv, resume, identical spikes on
joblib (1 or 2 workers) and on a Dask LocalCluster, and a worker killed mid-point.

Points are the tiny protocol (3 cells, 4 directions, 2 trials) × spiking.model × seed,
written with the data-only writer except in the command-line test (figures cost most of
a small point's time).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
import tomllib

import numpy as np
import pytest
from _sweep_tiny import TINY

from v1lab._validate import ParameterError
from v1lab.cli import main as cli_main
from v1lab.experiment import run_protocol
from v1lab.io import OWNER_MARKER, RunFolderError
from v1lab.protocol import parse_protocol
from v1lab.sweep import make_points, make_sweep_spec, parse_set, run_sweep, save_data_folder

pytest.importorskip("joblib")
pytest.importorskip("threadpoolctl")

AXES = ("spiking.model=poisson,lif", "seed=1..2")
NAMES = ["p000_model-poisson_seed-1", "p001_model-poisson_seed-2", "p002_model-lif_seed-1",
         "p003_model-lif_seed-2"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("protocol") / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def spec(tiny):
    return make_sweep_spec(tiny, [parse_set(a) for a in AXES])


@pytest.fixture(scope="module")
def reference(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweeps") / "reference"
    rows = run_sweep(spec, out, save_folder=save_data_folder, jobs=1)
    return out, rows


def index_without_durations(out):
    """sweep.csv's text without the duration column (the only one that may differ)."""
    lines = (out / "sweep.csv").read_text().splitlines()
    drop = lines[0].split(",").index("duration_s")
    return [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines]


def point_folders(out):
    return sorted(p.name for p in out.iterdir() if p.is_dir() and p.name.startswith("p"))


def spikes_sha256(times):
    counts = np.array([len(t) for t in times])
    digest = hashlib.sha256()
    digest.update(np.concatenate([[0], np.cumsum(counts)]).astype("<i8").tobytes())
    digest.update(np.concatenate(times).astype("<f8").tobytes())
    return digest.hexdigest()


def test_a_sweep_writes_one_run_folder_per_point_and_its_index(reference, spec):
    from threadpoolctl import threadpool_limits

    out, rows = reference
    assert point_folders(out) == NAMES
    assert [r["status"] for r in rows] == ["done"] * 4
    assert [(r["spiking.model"], r["seed"]) for r in rows] == [
        ("poisson", 1), ("poisson", 2), ("lif", 1), ("lif", 2),
    ]  # fmt: skip
    for point, row in zip(make_points(spec), rows, strict=True):
        folder = out / point.name
        assert {p.name for p in folder.iterdir()} == {
            "protocol.toml", "recording.nwb", "recording.npz", "presentations.csv", "metrics.csv",
        }  # fmt: skip
        assert tomllib.loads((folder / "protocol.toml").read_text())["seed"] == row["seed"]
        # The point's spikes are those of its protocol run on its own (one BLAS thread).
        with threadpool_limits(limits=1):
            alone = run_protocol(parse_protocol(tomllib.loads(point.protocol.to_toml())))
        assert row["spikes_sha256"] == spikes_sha256(alone.spike_times)
        assert row["n_spikes"] == sum(len(t) for t in alone.spike_times) > 0
        assert row["duration_s"] > 0
    assert len({r["spikes_sha256"] for r in rows}) == 4  # models and seeds do differ
    lines = (out / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("point,spiking.model,seed,folder,status,duration_s,n_cells,")
    assert len(lines) == 5 and "median_osi" in lines[0]
    assert (out / "sweep.png").stat().st_size > 10_000
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_rerunning_resumes_and_reruns_only_what_is_missing(reference, spec, tmp_path):
    import shutil

    out = tmp_path / "sweep"
    shutil.copytree(reference[0], out)
    stamps = {n: (out / n / "recording.npz").stat().st_mtime_ns for n in NAMES}
    shutil.rmtree(out / NAMES[2])
    rows = run_sweep(spec, out, save_folder=save_data_folder, jobs=1)
    assert point_folders(out) == NAMES
    for name in (NAMES[0], NAMES[1], NAMES[3]):  # untouched
        assert (out / name / "recording.npz").stat().st_mtime_ns == stamps[name]
    assert (out / NAMES[2] / "recording.npz").stat().st_mtime_ns != stamps[NAMES[2]]
    assert index_without_durations(out) == index_without_durations(reference[0])
    # Durations of the skipped points come from their records, not from this run.
    assert [r["duration_s"] for r in rows][:2] == [r["duration_s"] for r in reference[1]][:2]


def test_another_sweep_is_never_written_into_a_sweep_folder(reference, tiny):
    other = make_sweep_spec(tiny, [parse_set("seed=7")])
    with pytest.raises(RunFolderError, match="holds another sweep"):
        run_sweep(other, reference[0], save_folder=save_data_folder)


def test_two_joblib_workers_give_the_same_index_and_identical_spikes(reference, spec, tmp_path):
    run_sweep(spec, tmp_path / "jobs2", save_folder=save_data_folder, jobs=2)
    assert index_without_durations(tmp_path / "jobs2") == index_without_durations(reference[0])


def kill_the_first_writer(out, stop, killed):
    """SIGKILL the process writing the first point folder seen (its marker names it)."""
    while not stop.is_set():
        for tmp in out.glob(".p*.tmp"):
            try:
                pid = json.loads((tmp / OWNER_MARKER).read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue
            if pid != os.getpid():
                os.kill(pid, signal.SIGKILL)
                killed.append(tmp.name)
                return
        time.sleep(0.002)


def run_with_a_killer(out, **kwargs):
    stop, killed = threading.Event(), []
    out.mkdir()
    watcher = threading.Thread(target=kill_the_first_writer, args=(out, stop, killed))
    watcher.start()
    try:
        rows = run_sweep(out=out, save_folder=save_data_folder, **kwargs)
    finally:
        stop.set()
        watcher.join()
    return rows, killed


def check_complete_and_identical(out, rows, reference):
    assert [r["status"] for r in rows] == ["done"] * 4
    assert point_folders(out) == NAMES  # every point once, none duplicated
    assert not [p.name for p in out.iterdir() if p.name.startswith(".p")]  # no temporary left
    assert index_without_durations(out) == index_without_durations(reference[0])


def test_a_joblib_worker_killed_mid_point_loses_only_that_point(reference, spec, tmp_path):
    rows, killed = run_with_a_killer(tmp_path / "killed", spec=spec, jobs=2)
    assert len(killed) == 1  # the test did kill a worker while it wrote a point
    check_complete_and_identical(tmp_path / "killed", rows, reference)


def test_dask_local_cluster_identical_spikes_and_a_killed_worker(reference, spec, tmp_path):
    import logging

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=logging.CRITICAL,
    ) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        run_sweep(spec, tmp_path / "dask", save_folder=save_data_folder, scheduler=address)
        assert index_without_durations(tmp_path / "dask") == index_without_durations(reference[0])
        rows, killed = run_with_a_killer(tmp_path / "killed", spec=spec, scheduler=address)
    assert len(killed) == 1
    check_complete_and_identical(tmp_path / "killed", rows, reference)


def test_an_unreachable_scheduler_is_one_line(spec, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("v1lab.sweep.engine.SCHEDULER_TIMEOUT_S", 1.0)
    with pytest.raises(ParameterError, match="no Dask scheduler answered"):
        run_sweep(spec, tmp_path / "s", save_folder=save_data_folder,
                  scheduler="tcp://127.0.0.1:9")  # fmt: skip


def test_v1lab_sweep_writes_ordinary_run_folders(tiny, tmp_path, capsys):
    out = tmp_path / "sweep"
    argv = ["sweep", "--protocol", str(tiny), "--out", str(out), "--set", "seed=3", "--no-audio"]
    assert cli_main(argv) == 0
    stdout = capsys.readouterr().out
    assert "[1/1]" in stdout and "p000_seed-3 done in" in stdout
    folder = out / "p000_seed-3"
    assert {"figures", "report.html", "metrics.csv", "recording.nwb"} <= {
        p.name for p in folder.iterdir()
    }
    assert cli_main([*argv, "--quiet"]) == 0  # a rerun resumes: nothing to do
    assert capsys.readouterr().out == f"{out}\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "seed=5..1"], "--set seed = '5..1'"),
        (["--set", "population.n_cells=0"], "sweep point 0 (population.n_cells=0)"),
        (["--set", "seed=1", "--jobs", "2", "--scheduler", "tcp://x:1"], "--jobs = 2"),
        (["--set", "seed=1", "--jobs", "0"], "--jobs = 0"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tiny, tmp_path, capsys, extra, message):
    out = tmp_path / "sweep"
    assert cli_main(["sweep", "--protocol", str(tiny), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"v1lab: error: {message}") and err.count("\n") == 1
    assert not out.exists()


def test_check_lists_the_points_and_runs_nothing(tiny, tmp_path, capsys):
    out = tmp_path / "sweep"
    sets = [item for axis in AXES for item in ("--set", axis)]
    argv = ["sweep", "--protocol", str(tiny), "--out", str(out), "--check", *sets]
    assert cli_main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("v1lab sweep: 4 points of tiny")
    assert [line.strip() for line in lines[1:]] == NAMES
    assert not out.exists()


def test_ctrl_c_keeps_the_complete_points_and_says_how_to_resume(tiny, tmp_path, capsys,
                                                                 monkeypatch):  # fmt: skip
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("v1lab.sweep.run.run_sweep", interrupted)
    argv = ["sweep", "--protocol", str(tiny), "--out", str(tmp_path / "s"), "--set", "seed=1"]
    assert cli_main(argv) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rerun the same command to resume" in err

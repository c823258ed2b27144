"""The figure helper process: same files byte for byte, and the caller takes over if it fails."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display in tests

import pytest

import v1lab.plots.run_figures as run_figures
from v1lab.analysis import compute_metrics
from v1lab.experiment import run_protocol
from v1lab.plots import save_run_figures
from v1lab.plots.worker import FigureBatch, FigureWorker, start_figure_worker
from v1lab.protocol import parse_protocol


@pytest.fixture(scope="module")
def recording():
    data = {
        "name": "helper", "seed": 5,
        "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
        "population": {"n_cells": 8},
        "trials": {"n_trials": 2, "isi_s": 0.3},
        "stimuli": [{"kind": "bar", "speed_deg_s": 8.0, "duration_s": 0.5, "length_deg": 2.0,
                     "direction_deg": {"start": 0, "stop": 360, "step": 90}}],
    }  # fmt: skip
    return run_protocol(parse_protocol(data))


@pytest.fixture(scope="module")
def serial(recording, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serial")
    paths = save_run_figures(recording, folder, compute_metrics(recording))
    return {p.name: p.read_bytes() for p in paths}


def _files(paths):
    return {p.name: p.read_bytes() for p in paths}


def test_helper_draws_the_same_files_byte_for_byte(recording, serial, tmp_path):
    assert len(serial) >= 10  # 8 tuning cards, population tuning and summary
    with FigureWorker() as worker:
        assert worker.wait_ready()
        batch = FigureBatch(recording, compute_metrics(recording), worker=worker)
        files = _files(batch.write(tmp_path))
        assert worker.alive
    # The helper takes jobs from the front, this process from the back: both drew some.
    assert 1 <= batch.helper_jobs < len(serial)
    assert list(files) == list(serial)
    assert all(files[name] == serial[name] for name in serial)


def test_caller_matplotlib_settings_reach_the_helper(recording, tmp_path):
    metrics = compute_metrics(recording)
    with matplotlib.rc_context({"lines.linewidth": 3.5, "axes.facecolor": "#eeeeee"}):
        here = _files(save_run_figures(recording, tmp_path / "here", metrics))
        with FigureWorker() as worker:
            assert worker.wait_ready()
            batch = FigureBatch(recording, metrics, worker=worker)
            helped = _files(batch.write(tmp_path / "helped"))
    assert batch.helper_jobs >= 1
    assert helped == here


def test_dead_helper_leaves_its_jobs_to_the_caller(recording, serial, tmp_path):
    with FigureWorker() as worker:
        assert worker.wait_ready()
        batch = FigureBatch(recording, compute_metrics(recording), worker=worker)
        worker._proc.kill()  # mid-batch: the job it was given is never answered
        files = _files(batch.write(tmp_path))
        assert not worker.alive
    assert files == serial


def test_error_in_a_figure_is_raised_in_the_caller(recording, tmp_path, monkeypatch):
    real_jobs = run_figures.make_figure_jobs

    def with_a_broken_job(rec, run):
        return [run_figures.FigureJob("no_such_figure", "broken"), *real_jobs(rec, run)]

    monkeypatch.setattr(run_figures, "make_figure_jobs", with_a_broken_job)
    with FigureWorker() as worker:
        assert worker.wait_ready()
        batch = FigureBatch(recording, compute_metrics(recording), worker=worker)
        with pytest.raises(ValueError, match="no_such_figure"):
            batch.write(tmp_path)
        assert worker.alive  # an error in one figure does not stop the helper
    assert not list(tmp_path.glob("*.png"))  # nothing half-written


def test_helper_only_where_it_pays(monkeypatch):
    monkeypatch.setenv("V1LAB_FIGURE_WORKER", "0")
    assert start_figure_worker(10_000) is None
    monkeypatch.delenv("V1LAB_FIGURE_WORKER")
    assert start_figure_worker(2) is None  # too few figures
    worker = start_figure_worker(16)
    try:
        if len(os.sched_getaffinity(0)) >= 2:
            assert worker is not None and worker.wait_ready()
        else:
            assert worker is None
    finally:
        if worker is not None:
            worker.close()


def _helpers_started(monkeypatch):
    """Record every FigureWorker the CLI starts."""
    import v1lab.plots.worker as fw

    started = []
    real_init = fw.FigureWorker.__init__

    def init(self):
        real_init(self)
        started.append((self, self._proc.pid))

    monkeypatch.setattr(fw.FigureWorker, "__init__", init)
    return started


def _protocol_file(tmp_path):
    from v1lab.protocol import dump_toml

    data = {
        "name": "helper_cli", "seed": 5,
        "retina": {"extent_deg": 6.0, "lgn_extent_deg": 3.0},
        "population": {"n_cells": 8},
        "trials": {"n_trials": 2, "isi_s": 0.3},
        "stimuli": [{"kind": "bar", "speed_deg_s": 8.0, "duration_s": 0.5,
                     "direction_deg": {"start": 0, "stop": 360, "step": 90}}],
    }  # fmt: skip
    path = tmp_path / "helper_cli.toml"
    path.write_text(dump_toml(data))
    return path


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the helper needs 2 cores")
def test_the_cli_stops_its_helper(tmp_path, monkeypatch):
    from v1lab.cli import main

    started = _helpers_started(monkeypatch)
    out = tmp_path / "run"
    assert main(["--protocol", str(_protocol_file(tmp_path)), "--out", str(out), "--quiet"]) == 0
    assert len(started) == 1
    worker, pid = started[0]
    assert not worker.alive and not os.path.exists(f"/proc/{pid}")  # stopped and reaped
    assert len(list((out / "figures").glob("*.png"))) == 10


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the helper needs 2 cores")
def test_ctrl_c_while_writing_leaves_no_folder_and_no_helper(tmp_path, monkeypatch, capsys):
    import v1lab.audio
    from v1lab.cli import main

    started = _helpers_started(monkeypatch)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(v1lab.audio, "save_run_audio", interrupted)  # the helper is drawing
    out = tmp_path / "run"
    assert main(["--protocol", str(_protocol_file(tmp_path)), "--out", str(out)]) == 130
    assert "nothing was written" in capsys.readouterr().err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    worker, pid = started[0]
    assert not worker.alive and not os.path.exists(f"/proc/{pid}")

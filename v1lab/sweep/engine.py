"""Run a sweep's points on an existing engine: joblib locally, Dask on a cluster.

No scheduler of our own: points go to joblib's process backend (loky) with ``jobs``
workers, or to a ``dask.distributed`` scheduler (``tcp://host:8786``; ``dask-worker`` on
other machines, or a ``LocalCluster``). Each point is an ordinary run folder, written by
the run's own writer (temporary folder, then an atomic rename: :func:`v1lab.io.save_run`),
so a point is either complete or absent, and a sweep resumes: a point whose folder holds
its protocol is skipped.

A worker killed mid-point loses only that point. Dask reschedules the task on another
worker itself; joblib's pool breaks (``TerminatedWorkerError``), and the points not yet
complete are submitted again, up to :data:`MAX_ROUNDS` rounds. The killed point's
temporary folder names its dead process and is removed when the point is rerun. A point's
spikes depend on its protocol (its seed) only, so they are byte-identical whatever the
backend and the number of workers.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from v1lab._validate import ParameterError
from v1lab.experiment import run_protocol
from v1lab.io import save_run, save_table_csv, write_atomic
from v1lab.protocol import parse_protocol

__all__ = [
    "ENGINE_MODULES",
    "MAX_ROUNDS",
    "POINT_BLAS_THREADS",
    "PointTask",
    "check_engine",
    "is_point_complete",
    "iter_dask_results",
    "iter_joblib_results",
    "run_point",
    "save_data_folder",
]

#: The modules each engine needs (the ``sweep`` extra installs them).
ENGINE_MODULES = {"joblib": ("joblib", "threadpoolctl"), "dask": ("distributed", "threadpoolctl")}

#: Rounds of submission of the points left incomplete by workers that died (joblib).
MAX_ROUNDS = 4

#: BLAS threads of a point's simulation, whatever the engine. OpenBLAS splits a float32
#: matrix product differently with 1 and 2 threads, and the rounding differs: measured
#: here, a small protocol's spike times moved by up to 1e-8 s between a point run in this
#: process (2 threads) and in a joblib worker (loky gives each worker 1). Fixed at one,
#: the spikes are byte-identical on any backend and any number of workers, and a pool of
#: one process per core does not oversubscribe.
POINT_BLAS_THREADS = 1

#: How long a Dask scheduler has to answer before the sweep gives up (exit 2).
SCHEDULER_TIMEOUT_S = 20.0

#: Where each completed point's record (its duration, who ran it) is kept, under --out.
RECORDS = ".sweep"


@dataclass(frozen=True)
class PointTask:
    """What a worker needs for one point: plain data, so it pickles anywhere."""

    index: int
    protocol_toml: str
    folder: str
    record: str
    audio: bool


class WorkersLost(RuntimeError):
    """The engine lost its workers before every point had an answer."""


def check_engine(engine: str) -> None:
    """Refuse, before any work, an engine whose packages are not installed."""
    import importlib.util

    missing = [m for m in ENGINE_MODULES[engine] if importlib.util.find_spec(m) is None]
    if missing:
        raise ParameterError(
            "v1lab sweep", ", ".join(missing), "is not installed: pip install 'v1lab[sweep]'"
        )


def is_point_complete(folder: str | Path, protocol_toml: str) -> bool:
    """True if ``folder`` is a finished run folder of exactly this protocol.

    Raises
    ------
    ParameterError
        ``folder`` holds a run of another protocol (another sweep wrote there).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return False
    try:
        written = (folder / "protocol.toml").read_text()
    except OSError:
        written = None
    if written != protocol_toml:
        raise ParameterError(
            "--out", str(folder), "holds another run, not this sweep point; choose another --out"
        )
    return True


def save_data_folder(recording: Any, folder: Path, *, audio: bool = False) -> Path:
    """A run folder of the data only (``v1lab sweep --data-only``), written atomically.

    ``protocol.toml``, ``recording.nwb``, ``recording.npz``, ``presentations.csv`` and
    ``metrics.csv``: no figures, report or audio (``audio`` is ignored), which are most of
    a small point's time; the figures can be drawn later from the data.
    """
    from v1lab.analysis import compute_metrics

    metrics = compute_metrics(recording)

    def write_metrics(rec: Any, tmp: Path) -> None:
        save_table_csv(tmp / "metrics.csv", metrics)

    return save_run(recording, folder, extra={"metrics.csv": write_metrics})


def run_point(task: PointTask, save_folder: Callable[..., Any]) -> dict[str, Any]:
    """Simulate one point and write its run folder, then its record (in a worker).

    Returns ``{"index", "duration_s"}``, or ``{"index", "error"}`` (one line) if the
    point failed; a worker that dies returns nothing (the engine notices).
    """
    from threadpoolctl import threadpool_limits

    tic, cpu = time.perf_counter(), time.process_time()
    try:
        if is_point_complete(task.folder, task.protocol_toml):  # a rerun after a lost answer
            return {"index": task.index, "duration_s": math.nan}
        protocol = parse_protocol(tomllib.loads(task.protocol_toml))
        with threadpool_limits(limits=POINT_BLAS_THREADS):
            recording = run_protocol(protocol)
        save_folder(recording, Path(task.folder), audio=task.audio)
    except Exception as err:  # reported in sweep.csv; the other points go on
        return {"index": task.index, "error": " ".join(f"{type(err).__name__}: {err}".split())}
    duration, cpu = time.perf_counter() - tic, time.process_time() - cpu
    record = {"duration_s": duration, "cpu_s": cpu, "host": socket.gethostname(),
              "pid": os.getpid()}  # fmt: skip
    write_atomic(task.record, json.dumps(record))
    return {"index": task.index, "duration_s": duration, "cpu_s": cpu}


def iter_joblib_results(
    tasks: Iterable[PointTask], save_folder: Callable[..., Any], jobs: int
) -> Iterator[dict[str, Any]]:
    """Run tasks with joblib's process backend; results as they finish.

    Raises
    ------
    WorkersLost
        A worker process died (the pool is broken); the caller resubmits what is left.
    """
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    parallel = Parallel(n_jobs=jobs, return_as="generator_unordered")
    try:
        yield from parallel(delayed(run_point)(t, save_folder) for t in tasks)
    except TerminatedWorkerError as err:
        raise WorkersLost(" ".join(str(err).split())[:200]) from None


def iter_dask_results(
    tasks: Iterable[PointTask], save_folder: Callable[..., Any], scheduler: str
) -> Iterator[dict[str, Any]]:
    """Run tasks on a Dask scheduler; results as they finish.

    Dask reruns the task of a worker that died on another worker; a task whose workers
    died ``distributed.scheduler.allowed-failures`` times comes back as an error.
    """
    from dask.distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ParameterError(
            "--scheduler", scheduler, f"no Dask scheduler answered there ({err})"
        ) from None
    with client:
        tasks = list(tasks)
        futures = {
            client.submit(
                run_point,
                t,
                save_folder,
                pure=False,
                key=f"v1lab-point-{t.index}-{os.urandom(4).hex()}",
            ): t.index
            for t in tasks
        }
        for future in as_completed(futures, loop=client.loop):
            try:
                yield future.result()
            except Exception as err:  # KilledWorker and the like: this point only
                error = " ".join(f"{type(err).__name__}: {err}".split())
                yield {"index": futures[future], "error": error[:300]}

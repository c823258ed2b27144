"""Drawing a run's figures on two cores: a helper process and a shared job list.

Writing the default run's 18 figures with matplotlib takes longer than simulating it, and
matplotlib draws on one core. A :class:`FigureWorker` is a second Python process started
*before* the simulation, so that its imports (numpy, matplotlib: about a second) overlap
the simulation. :class:`FigureBatch` then shares one run's figure list between the two:
the helper takes jobs from the front while the caller writes the data files and the
audio, then takes jobs from the back itself, until none are left.

Figures are drawn by the same code in both processes
(:func:`v1lab.plots.run_figures.render_figures` with the caller's non-default matplotlib
settings), so the files are identical byte for byte whichever process drew them, and the
run folder's contents do not depend on whether a helper was used.

The helper is an ordinary subprocess (``python -c`` running :func:`_serve`) speaking
pickled messages over its stdin/stdout, not :mod:`multiprocessing`: nothing of the
caller's ``__main__`` is re-imported, nothing is forked from a process that may hold
audio or BLAS threads. If the helper cannot start or dies, the caller draws the rest
itself; an error in a figure is raised in the caller, from the caller's own drawing.
Set ``V1LAB_FIGURE_WORKER=0`` to draw everything in the calling process.
"""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = ["FigureBatch", "FigureWorker", "start_figure_worker"]

#: Fewer cells than this make too few figures for a helper process to pay off.
MIN_CELLS_FOR_WORKER = 8

_ENV_SWITCH = "V1LAB_FIGURE_WORKER"
_BATCH_TOKENS = itertools.count(1)


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _non_default_rc() -> dict[str, Any]:
    """The caller's matplotlib settings that differ from the defaults (sent to the helper)."""
    if "matplotlib" not in sys.modules:
        return {}
    import matplotlib

    skip = {"backend", "backend_fallback", "interactive"}
    defaults = matplotlib.rcParamsDefault
    out = {}
    for key in matplotlib.rcParams:
        if key in skip or key not in defaults:
            continue
        value = matplotlib.rcParams[key]
        try:
            same = bool(value == defaults[key])
        except Exception:  # arrays and cyclers may not compare: send them
            same = False
        if not same:
            out[key] = value
    return out


class FigureWorker:
    """A helper process that draws figures for :class:`FigureBatch`.

    Use it as a context manager; it starts at once (importing matplotlib in the
    background) and stops when the block ends, also on errors and Ctrl-C.

    Examples
    --------
    >>> from v1lab.plots.worker import FigureWorker
    >>> with FigureWorker() as worker:      # doctest: +SKIP
    ...     recording = run_protocol(protocol)
    ...     save_run_figures(recording, "figures", worker=worker)
    """

    def __init__(self) -> None:
        code = (
            f"import sys; sys.path.insert(0, {_package_root()!r}); "
            "from v1lab.plots.worker import _serve; _serve()"
        )
        self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            # Ctrl-C goes to the caller only: it stops the helper by closing its input.
            start_new_session=True,
        )
        self._lock = threading.Lock()
        self._ready: bool | None = None
        self._payload_token: int | None = None

    # -- protocol (called from FigureBatch's feeder thread, one batch at a time) --------

    def _handshake(self) -> bool:
        if self._ready is None:
            reply = self._receive()
            expected = str(Path(__file__).resolve())
            self._ready = reply is not None and reply == ("ready", expected)
            if not self._ready:
                self.close()
        return self._ready

    def _send(self, message: Any) -> bool:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return False
        try:
            pickle.dump(message, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def _receive(self) -> Any:
        proc = self._proc
        if proc is None or proc.stdout is None:
            return None
        try:
            return pickle.load(proc.stdout)
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return None

    def wait_ready(self) -> bool:
        """Block until the helper has imported matplotlib; ``False`` if it cannot work."""
        with self._lock:
            return self._handshake()

    def render(
        self, token: int, payload: bytes, job: Any, formats: Sequence[str], dpi: int
    ) -> tuple[str, Any]:
        """Have the helper draw one job.

        Returns ``("ok", files)``, ``("error", traceback text)`` or ``("dead", None)``.
        """
        with self._lock:
            if not self._handshake():
                return ("dead", None)
            first = token != self._payload_token
            message = ("job", token, payload if first else None, job, tuple(formats), dpi)
            if not self._send(message):
                self.close()
                return ("dead", None)
            reply = self._receive()
            if reply is None:
                self.close()
                return ("dead", None)
            self._payload_token = token
            return reply

    @property
    def alive(self) -> bool:
        """Whether the helper is (still) usable."""
        return self._proc is not None and self._proc.poll() is None and self._ready is not False

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the helper (it finishes the figure it is drawing) and reap it."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> FigureWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_figure_worker(n_cells: int) -> FigureWorker | None:
    """A :class:`FigureWorker` if one can help here, else ``None``.

    It helps with at least :data:`MIN_CELLS_FOR_WORKER` cells (so about 10 figures or
    more) on a machine with two or more cores, unless ``V1LAB_FIGURE_WORKER=0``.
    """
    if os.environ.get(_ENV_SWITCH, "1").strip() == "0":
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2 or n_cells < MIN_CELLS_FOR_WORKER:
        return None
    try:
        return FigureWorker()
    except OSError:
        return None


class FigureBatch:
    """One run's figures, shared between the caller and an optional :class:`FigureWorker`.

    Creating the batch hands the helper its first jobs at once (it works while the
    caller does something else); :meth:`write` draws whatever is left in the caller,
    waits for the helper and writes the files.

    Parameters
    ----------
    recording : Recording
    metrics : mapping, optional
        :func:`v1lab.analysis.compute_metrics` (computed if not given).
    formats : sequence of str
    dpi : int
    worker : FigureWorker, optional
    """

    def __init__(
        self,
        recording: Any,
        metrics: Mapping[str, np.ndarray] | None = None,
        *,
        formats: Sequence[str] = ("png",),
        dpi: int = 150,
        worker: FigureWorker | None = None,
    ) -> None:
        from v1lab.plots.figure_data import FigureData
        from v1lab.plots.run_figures import make_figure_jobs

        self._run = FigureData.make(recording, metrics)
        self._formats = tuple(formats)
        self._dpi = int(dpi)
        jobs = make_figure_jobs(recording, self._run)
        self._jobs = jobs
        self._files: list[list[tuple[str, bytes]] | None] = [None] * len(jobs)
        self._queue: deque[int] = deque(range(len(jobs)))
        self._lock = threading.Lock()
        self._left_over: list[int] = []
        self._thread: threading.Thread | None = None
        #: How many of the jobs the helper drew (the rest were drawn here).
        self.helper_jobs = 0
        if worker is not None and worker.alive and len(jobs) >= 2:
            payload = pickle.dumps(
                (recording, dict(self._run.metrics), _non_default_rc()),
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            self._thread = threading.Thread(
                target=self._feed, args=(worker, next(_BATCH_TOKENS), payload), daemon=True
            )
            self._thread.start()

    def _take(self, front: bool) -> int | None:
        with self._lock:
            if not self._queue:
                return None
            return self._queue.popleft() if front else self._queue.pop()

    def _feed(self, worker: FigureWorker, token: int, payload: bytes) -> None:
        while (i := self._take(front=True)) is not None:
            status, files = worker.render(token, payload, self._jobs[i], self._formats, self._dpi)
            if status == "ok":
                self._files[i] = files
                self.helper_jobs += 1
                continue
            # The caller draws it again itself: a real error then surfaces there, with
            # the caller's traceback; a dead helper leaves the rest to the caller.
            self._left_over.append(i)
            if status == "dead":
                return

    def _draw_here(self, i: int) -> None:
        from v1lab.plots.run_figures import render_figures

        self._files[i] = render_figures(self._jobs[i], self._run, self._formats, self._dpi)

    def cancel(self) -> None:
        """Give the helper no more jobs, and wait for the one it is drawing."""
        with self._lock:
            self._queue.clear()
        if self._thread is not None:
            self._thread.join()

    def write(self, folder: str | Path) -> list[Path]:
        """Draw what is left, wait for the helper and write every file into ``folder``."""
        from v1lab.io import write_atomic

        try:
            while (i := self._take(front=False)) is not None:
                self._draw_here(i)
        finally:
            self.cancel()
        for i in sorted(self._left_over):
            self._draw_here(i)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for files in self._files:
            for name, data in files or ():
                write_atomic(folder / name, data)
                paths.append(folder / name)
        return paths


# --------------------------------------------------------------------------------------
# The helper's side
# --------------------------------------------------------------------------------------


def _serve(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """The helper's loop: answer each job message with the files it draws."""
    import signal
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if stdout is None:
        # The pipe is for messages only: anything printed goes to stderr instead.
        stdout = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
    stdin = sys.stdin.buffer if stdin is None else stdin
    from v1lab.plots.figure_data import FigureData
    from v1lab.plots.run_figures import render_figures
    from v1lab.plots.style import load_pyplot

    load_pyplot()
    pickle.dump(("ready", str(Path(__file__).resolve())), stdout)
    stdout.flush()
    token, run, applied = None, None, set()
    while True:
        try:
            message = pickle.load(stdin)
        except (EOFError, OSError):
            return
        _, job_token, payload, job, formats, dpi = message
        try:
            if job_token != token:
                import matplotlib

                recording, metrics, rc = pickle.loads(payload)
                defaults = matplotlib.rcParamsDefault
                matplotlib.rcParams.update({k: defaults[k] for k in applied - set(rc)})
                matplotlib.rcParams.update(rc)
                applied = set(rc)
                token, run = job_token, FigureData.make(recording, metrics)
            reply: tuple[str, Any] = ("ok", render_figures(job, run, formats, dpi))
        except Exception:  # reported to the caller, who draws it again
            reply = ("error", traceback.format_exc())
        pickle.dump(reply, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()

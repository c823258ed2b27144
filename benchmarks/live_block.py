"""How long one 10-ms block of the live mode takes to compute, for 1, 10 and 100 cells.

A block is everything :meth:`v1lab.live.LiveEngine.step` does for 10 ms of session: render
the stimulus at the retina's frame times (200 Hz → 2 frames, exact area sampling), the
retina's DoG and temporal filters, V1, the streaming dead-time Poisson spikes, the block's
sound (44.1 kHz, hiss, band-pass, limiter) and the session log. The hand is simulated: a
4 × 0.5 deg slit swept back and forth across the receptive fields at 4 deg/s and turned
by 15° every half second, so every block renders a new position (the worst case; a still
hand costs less, its frames are cached).

Prints the median, 99th percentile and maximum block time per population size and how
many times faster than real time that is. Target: 99th percentile under 2 ms for 10
cells on a 2-core machine (the block lasts 10 ms; the rest is the window's and the sound
server's).

Like the live engine's process, the benchmark runs BLAS single-threaded
(``OPENBLAS_NUM_THREADS=1``, unless set otherwise) and prints the BLAS kernel it ran on.
Block times on a machine shared with other work show that work in their tail: the load
average is printed, and each size is timed twice, at normal priority and at the priority
the live engine asks for (a low real-time priority, ``SCHED_RR 10``, when the system
grants it; see :func:`v1lab.live.realtime.raise_priority`).

Run from the checkout: ``python benchmarks/live_block.py [--seconds 30] [--warmup 1]``.
"""

from __future__ import annotations

import os

# As in the live engine's process; must be set before numpy loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

try:
    import v1lab.live as live
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import v1lab.live as live

from v1lab.audio import make_electrode_amplitudes
from v1lab.live.realtime import raise_priority
from v1lab.model.cortex import make_population
from v1lab.model.retina import Retina

SPEED_DEG_S = 4.0
SWEEP_DEG = 3.0


def hand_path(n_blocks: int) -> list[live.StimulusParams]:
    """A slit swept back and forth at 4 deg/s, turned 15° every 0.5 s."""
    out = []
    period = 2 * SWEEP_DEG / SPEED_DEG_S  # there and back
    for b in range(n_blocks):
        t = b * live.BLOCK_S
        phase = (t % period) / period
        s = SWEEP_DEG * (4 * abs(phase - 0.5) - 1)  # a triangle wave in [-3, 3] deg
        orientation = 15.0 * math.floor(t / 0.5) % 180.0
        theta = math.radians(orientation + 90.0)  # move across the slit
        out.append(
            live.StimulusParams(
                x_deg=s * math.cos(theta), y_deg=s * math.sin(theta), orientation_deg=orientation
            )
        )
    return out


def time_blocks(n_cells: int, seconds: float, warmup_s: float) -> np.ndarray:
    rng = np.random.default_rng(n_cells)
    population = make_population(n_cells, rng)
    amplitudes = make_electrode_amplitudes(n_cells, 0, rng)
    config = live.LiveConfig(Retina(), population, tuple(amplitudes), seed=n_cells)
    engine = live.LiveEngine(config)
    n_warm = round(warmup_s / live.BLOCK_S)
    path = hand_path(n_warm + round(seconds / live.BLOCK_S))
    times = np.empty(len(path))
    try:
        for i, params in enumerate(path):
            tic = time.perf_counter()
            engine.step(params)
            times[i] = time.perf_counter() - tic
            # The live loop sleeps between blocks (its queue is full); so does this one, which
            # also keeps a real-time process under the kernel's 95 % real-time CPU budget.
            time.sleep(0.001)
    finally:
        engine.close()
    return times[n_warm:]


def blas_lines() -> list[str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    lines = ["OPENBLAS env: " + ", ".join(f"{k}={v}" for k, v in sorted(env.items()))]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [*lines, "BLAS kernel: unknown (pip install threadpoolctl)"]
    for info in threadpool_info():
        lines.append(
            f"BLAS: {info.get('internal_api')} {info.get('version')} "
            f"kernel={info.get('architecture')} threads={info.get('num_threads')}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="session timed per size (s)")
    parser.add_argument("--warmup", type=float, default=1.0, help="untimed session first (s)")
    parser.add_argument("--cells", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args(argv)
    print(
        f"v1lab live block benchmark: {args.seconds:g} s of session per size "
        f"({round(args.seconds / live.BLOCK_S)} blocks of {live.BLOCK_S * 1e3:g} ms), "
        "default retina (10 deg at 8 px/deg, 200 Hz, 961 LGN positions)"
    )
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} (1 min)"
    )
    for line in blas_lines():
        print(line)
    print(
        f"{'cells':>6} {'priority':>10} {'median ms':>10} {'p99 ms':>8} {'max ms':>8} "
        f"{'x real time':>12}"
    )
    for n_cells in args.cells:
        for priority in ("normal", "engine"):
            label = "normal"
            if priority == "engine":
                label = raise_priority().split(" ")[0]
                if label == "normal":
                    continue  # not granted: the same as the row above
            try:
                t = time_blocks(n_cells, args.seconds, args.warmup) * 1e3
            finally:
                if priority == "engine" and hasattr(os, "sched_setscheduler"):
                    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            median, p99 = float(np.median(t)), float(np.percentile(t, 99))
            print(
                f"{n_cells:>6} {label:>10} {median:>10.3f} {p99:>8.3f} {float(t.max()):>8.2f} "
                f"{live.BLOCK_S * 1e3 / median:>11.0f}x"
            )
    print(f"target: p99 < 2 ms for 10 cells; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

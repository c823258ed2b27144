"""How fast spikes become audio: seconds of audio rendered per wall-clock second.

Renders 60 s of Poisson spike trains at 20 spikes/s for 1, 10 and 100 cells with
:func:`v1lab.audio.render_spikes` (one shot, 44.1 kHz mono, default hiss, limiter and
fades) and with :class:`v1lab.audio.SpikeAudioRenderer` in 10-ms blocks (the live mode's
path), and prints the median of 3 runs. Target: > 200x real time for 10 cells.

Run from the checkout: ``python benchmarks/audio_render.py [--seconds 60] [--repeats 3]``.
No BLAS is involved (numpy element-wise ops, scipy.signal.sosfilt, scipy.ndimage), so
OPENBLAS_CORETYPE does not matter here.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

try:
    import v1lab.audio as audio
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import v1lab.audio as audio

FS = 44100
RATE_HZ = 20.0
BLOCK = 441  # 10 ms


def poisson_trains(rng: np.random.Generator, n_cells: int, duration_s: float) -> list:
    return [
        np.sort(rng.uniform(0.0, duration_s, rng.poisson(RATE_HZ * duration_s)))
        for _ in range(n_cells)
    ]


def time_one_shot(trains: list, duration_s: float, seed: int) -> float:
    t0 = time.perf_counter()
    audio.render_spikes(trains, duration_s, fs_hz=FS, rng=np.random.default_rng(seed))
    return time.perf_counter() - t0


def time_blocks(trains: list, duration_s: float, seed: int) -> float:
    r = audio.SpikeAudioRenderer(len(trains), fs_hz=FS, rng=np.random.default_rng(seed))
    n_blocks = int(duration_s * FS) // BLOCK
    # Split spikes into blocks up front (the live mode gets them block by block anyway).
    edges = np.arange(n_blocks + 1) * BLOCK
    per_block = [np.searchsorted(tr * FS, edges) for tr in trains]
    t0 = time.perf_counter()
    for b in range(n_blocks):
        spikes = [tr[i[b] : i[b + 1]] for tr, i in zip(trains, per_block, strict=True)]
        r.render_block(spikes, b * BLOCK / FS, BLOCK)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio per run (s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (median)")
    args = parser.parse_args(argv)
    dur = args.seconds
    print(
        f"v1lab.audio render benchmark: {dur:g} s of audio, {FS} Hz mono, {RATE_HZ:g} spikes/s "
        f"per cell, median of {args.repeats}"
    )
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    print(
        f"{'cells':>6} {'spikes':>8} {'one-shot x real time':>22} {'10-ms blocks x real time':>26}"
    )
    for n_cells in (1, 10, 100):
        rng = np.random.default_rng(n_cells)
        trains = poisson_trains(rng, n_cells, dur)
        n_spikes = sum(t.size for t in trains)
        one = np.median([time_one_shot(trains, dur, k) for k in range(args.repeats)])
        blk = np.median([time_blocks(trains, dur, k) for k in range(args.repeats)])
        print(f"{n_cells:>6} {n_spikes:>8} {dur / one:>21.0f}x {dur / blk:>25.0f}x")


if __name__ == "__main__":
    main()

"""Shared helpers of the benchmark scripts: import path, BLAS report, timing, tables.

Nothing here is timed itself; every script prints the BLAS kernel it ran on
(:func:`blas_report`) because ``OPENBLAS_CORETYPE`` changes float32 matrix-multiply
speed about twofold on this machine (see the README's Performance section).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def use_checkout() -> None:
    """Make ``import v1lab`` work from a checkout without ``pip install -e .``."""
    try:
        import v1lab  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(ROOT))


def blas_report() -> list[str]:
    """Lines naming the BLAS libraries loaded, their kernel (architecture) and threads.

    ``threadpoolctl`` is in the ``bench`` extra; without it the lines say so. The
    OPENBLAS_* variables of this process are printed too, since they pick the kernel.
    """
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    lines = [
        f"python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        "OPENBLAS env: " + (", ".join(f"{k}={v}" for k, v in sorted(env.items())) or "(none set)"),
    ]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        lines.append("BLAS kernel: unknown (pip install threadpoolctl, or '.[bench]')")
        return lines
    import numpy  # noqa: F401  (load numpy's BLAS so it is listed)

    for info in threadpool_info():
        lines.append(
            f"BLAS: {info.get('internal_api')} {info.get('version')} kernel="
            f"{info.get('architecture')} threads={info.get('num_threads')} "
            f"({Path(info.get('filepath', '?')).name})"
        )
    return lines


def load_note() -> str:
    """One line on machine contention: the 1-minute load average against the CPU count."""
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    busy = "contended" if load > 0.5 * cpus + 0.5 else "quiet"
    return f"machine {busy}: 1-min load {load:.2f} on {cpus} CPUs"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time (s) of one call, and its result."""
    tic = time.perf_counter()
    out = fn()
    return time.perf_counter() - tic, out


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain fixed-width table (right-aligned; floats already formatted by the caller)."""
    cells = [[str(h) for h in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB), from getrusage."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

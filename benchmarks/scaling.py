"""Wall time and peak memory of the default protocol as it grows: cells, duration, trials.

Protocols are built in code from ``hubel_wiesel_bars`` (24 swept-bar conditions, 1.5 s
each + 0.5 s blank, 10 trials): ``population.n_cells`` 10 → 100 → 1,000 → 10,000 at the
default length; then, at 1,000 cells, the stimulus duration doubled twice (1.5 → 3 → 6 s)
and the trials doubled twice (10 → 20 → 40). Each point runs :func:`run_protocol` in a
fresh subprocess, so its peak memory is that process's own ``ru_maxrss``
(``resource.getrusage``; it includes the interpreter and libraries, whose size after
imports is printed as ``base MB``), and nothing is cached between points. The wall time
is that of ``run_protocol`` alone, after the imports and a small warm-up that loads the
compiled spike kernels.

For each sweep the exponent ``b`` of ``time ∝ size^b`` is fitted (least squares in log-log)
and printed, over the whole sweep and over its last doubling; growth must be linear or
better (``b <= 1``, with 0.15 of slack for timing noise on a shared machine), else the
script exits 1. The fit uses the process's CPU time (user + system, all threads), which
other processes on a shared 2-core machine disturb far less than wall time; wall times
are printed beside it. Two absolute targets are checked too: the default run (16 cells) under
10 s and the shipped 10,000-cell ``orientation_map`` protocol under 60 s and 4 GB.

    python benchmarks/scaling.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
from _util import ROOT, blas_report, load_note, median, table, use_checkout

use_checkout()

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
import numpy as np
from v1lab.experiment import run_protocol
from v1lab.protocol import load_protocol, parse_protocol
from v1lab.cells.spikes import sim_spikes
spec = json.loads(sys.argv[1])
if spec.get("name"):
    protocol = load_protocol(spec["name"])
else:
    data = load_protocol("hubel_wiesel_bars").to_dict()
    data["population"]["n_cells"] = spec["n_cells"]
    data["trials"]["n_trials"] = spec["n_trials"]
    for block in data["stimuli"]:
        block["duration_s"] = spec["duration_s"]
    protocol = parse_protocol(data)
# Warm-up: load the compiled spike kernels (numba's on-disk cache), as any run would once
# (big enough to take the compiled path; see v1lab.cells._common.NUMBA_MIN_WORK).
sim_spikes(np.full((1000, 1000), 5.0), 1000.0, rng=np.random.default_rng(0))
base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this process
    return r.ru_utime + r.ru_stime
tic, cpu0 = time.perf_counter(), cpu()
rec = run_protocol(protocol)
wall, cpu_s = time.perf_counter() - tic, cpu() - cpu0
print(json.dumps({
    "wall_s": wall,
    "cpu_s": cpu_s,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "base_mb": base_mb,
    "n_cells": rec.n_cells,
    "spikes": int(sum(len(t) for t in rec.spike_times)),
    "presentations": rec.n_presentations,
}))
"""


def run_point(spec: dict, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(spec), str(ROOT)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"point {spec} failed:\n{out.stderr[-3000:]}")
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    result = dict(runs[0])
    for key in ("wall_s", "cpu_s", "peak_mb", "base_mb"):
        result[key] = median([r[key] for r in runs])
    result["walls"] = [r["wall_s"] for r in runs]
    return result


def fit_exponent(sizes: list[float], values: list[float]) -> float:
    """Slope of log(value) against log(size), least squares."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="subprocess runs per point")
    parser.add_argument(
        "--quick", action="store_true", help="cells up to 1,000 and no orientation map"
    )
    args = parser.parse_args()

    print("Scaling of run_protocol (hubel_wiesel_bars built in code), one subprocess per run")
    for line in blas_report():
        print("  " + line)
    print(f"  {load_note()}; medians of {args.repeats} runs")
    cells = [10, 100, 1000] if args.quick else [10, 100, 1000, 10000]
    sweeps = {
        "cells": [(n, {"n_cells": n, "n_trials": 10, "duration_s": 1.5}) for n in cells],
        "duration_s": [
            (d, {"n_cells": 1000, "n_trials": 10, "duration_s": d}) for d in (1.5, 3.0, 6.0)
        ],
        "trials": [(t, {"n_cells": 1000, "n_trials": t, "duration_s": 1.5}) for t in (10, 20, 40)],
    }
    rows, fits = [], []
    failed = False
    cache: dict[str, dict] = {}
    for sweep, points in sweeps.items():
        cpu_times, mems = [], []
        for size, spec in points:
            key = json.dumps(spec, sort_keys=True)
            if key not in cache:
                cache[key] = run_point(spec, args.repeats)
                print(f"  {sweep}={size}: {cache[key]['wall_s']:.2f} s", flush=True)
            r = cache[key]
            cpu_times.append(r["cpu_s"])
            mems.append(r["peak_mb"] - r["base_mb"])
            rows.append(
                [
                    sweep,
                    size,
                    spec["n_cells"],
                    spec["n_trials"],
                    spec["duration_s"],
                    r["presentations"],
                    r["spikes"],
                    f"{r['wall_s']:.2f}",
                    " ".join(f"{w:.1f}" for w in r["walls"]),
                    f"{r['cpu_s']:.2f}",
                    f"{r['peak_mb']:.0f}",
                    f"{r['base_mb']:.0f}",
                ]
            )
        sizes = [p[0] for p in points]
        b_all = fit_exponent(sizes, cpu_times)
        b_last = fit_exponent(sizes[-2:], cpu_times[-2:])
        m_all = fit_exponent(sizes, [max(m, 1.0) for m in mems])
        ok = b_all <= 1.15 and b_last <= 1.15
        failed |= not ok
        fits.append(
            [
                sweep,
                f"{sizes[0]}..{sizes[-1]}",
                f"{b_all:.2f}",
                f"{b_last:.2f}",
                f"{m_all:.2f}",
                "yes" if ok else "NO",
            ]
        )

    print()
    print(
        table(
            [
                "sweep",
                "size",
                "cells",
                "trials",
                "stim s",
                "presentations",
                "spikes",
                "wall s",
                "runs s",
                "CPU s",
                "peak MB",
                "base MB",
            ],
            rows,
        )
    )
    print()
    print(
        table(
            [
                "sweep",
                "range",
                "CPU-time exponent",
                "last doubling",
                "memory exponent",
                "linear or better",
            ],
            fits,
        )
    )
    print("(memory exponent: of peak MB minus base MB, the memory the run itself added)")

    print()
    targets = []
    default = run_point({"name": "hubel_wiesel_bars"}, args.repeats)
    targets.append(
        [
            "default run (16 cells)",
            f"{default['wall_s']:.2f} s",
            f"{default['peak_mb']:.0f} MB",
            "< 10 s",
            "yes" if default["wall_s"] < 10 else "NO",
        ]
    )
    failed |= default["wall_s"] >= 10
    if not args.quick:
        omap = run_point({"name": "orientation_map"}, args.repeats)
        ok = omap["wall_s"] < 60 and omap["peak_mb"] < 4096
        failed |= not ok
        targets.append(
            [
                f"orientation_map ({omap['n_cells']} cells)",
                f"{omap['wall_s']:.2f} s",
                f"{omap['peak_mb']:.0f} MB",
                "< 60 s, < 4 GB",
                "yes" if ok else "NO",
            ]
        )
    print(table(["run_protocol", "wall", "peak RSS", "target", "met"], targets))
    for sweep, _, b_all, *_ in fits:
        print(f"scaling_exponent_{sweep}: {b_all}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Sweep throughput and the engine's overhead per point (issue: sweeps on joblib/Dask).

Runs the same sweep — by default two spiking models × four seeds of the default protocol,
ordinary run folders (figures, report, audio) — with joblib and 1 worker (in this
process), joblib and 2 workers, and a Dask ``LocalCluster`` of 2 single-threaded workers,
and prints for each: wall time, points per minute, the mean time of a point inside its
worker (from the points' records), and the engine's overhead per point: wall time × workers
minus the points' own time, per point (dispatch, resume checks, sweep.csv, the summary
figure, a worker's start-up, and idle workers at the end of the sweep). Then it checks that
the three sweeps' sweep.csv agree (metrics and spike hashes) point by point.

    python benchmarks/sweep.py [--protocol hubel_wiesel_bars] [--seeds 4]
        [--models poisson,lif] [--data-only] [--no-dask]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
import tempfile
import time
from pathlib import Path

from _util import blas_report, use_checkout

use_checkout()

from v1lab.cli import save_recording_folder  # noqa: E402
from v1lab.sweep import make_sweep_spec, parse_set, run_sweep, save_data_folder  # noqa: E402


def _index(out: Path) -> list[dict[str, str]]:
    with open(out / "sweep.csv", newline="") as fh:
        return [{k: v for k, v in row.items() if k != "duration_s"} for row in csv.DictReader(fh)]


def _measure(label: str, spec, out: Path, workers: int, save_folder, **engine) -> dict:
    tic = time.perf_counter()
    rows = run_sweep(spec, out, save_folder=save_folder, progress=sys.stdout, **engine)
    wall = time.perf_counter() - tic
    inside = [r["duration_s"] for r in rows if math.isfinite(r["duration_s"])]
    records = [json.loads(p.read_text()) for p in sorted((out / ".sweep").glob("*.json"))]
    cpu = sum(r["cpu_s"] for r in records) / len(records)
    n = len(rows)
    overhead = (wall * workers - sum(inside)) / n
    mean_point = sum(inside) / len(inside)
    return {
        "label": label, "wall_s": wall, "points_per_min": 60 * n / wall, "point_s": mean_point,
        "overhead_s": overhead, "overhead_pct": 100 * overhead / mean_point,
        "done": sum(r["status"] == "done" for r in rows), "n": n, "cpu_s": cpu,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="hubel_wiesel_bars")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--models", default="poisson,lif")
    parser.add_argument("--data-only", action="store_true", help="points without figures")
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    axes = [parse_set(f"spiking.model={args.models}"), parse_set(f"seed=1..{args.seeds}")]
    spec = make_sweep_spec(args.protocol, axes)
    save_folder = save_data_folder if args.data_only else save_recording_folder
    for line in blas_report():
        print(line)
    print(f"sweep: {args.protocol}, {spec.n_points} points ({args.models} × seeds 1..{args.seeds})"
          f", {'data only' if args.data_only else 'ordinary run folders'}")  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results.append(_measure("joblib, 1 worker", spec, root / "j1", 1, save_folder, jobs=1))
        results.append(_measure("joblib, 2 workers", spec, root / "j2", 2, save_folder, jobs=2))
        if not args.no_dask:
            from distributed import LocalCluster

            tic = time.perf_counter()
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None, silence_logs=logging.ERROR) as cluster:  # fmt: skip
                start = time.perf_counter() - tic
                results.append(_measure("Dask LocalCluster, 2 workers", spec, root / "dask", 2,
                                        save_folder, scheduler=cluster.scheduler_address))  # fmt: skip
            print(f"(Dask LocalCluster start-up, not counted below: {start:.1f} s)")
        print(f"{'engine':<30} {'wall s':>8} {'points/min':>11} {'point s':>8} "
              f"{'overhead s/point':>17} {'% of a point':>13} {'CPU s/point':>12}")  # fmt: skip
        for r in results:
            print(f"{r['label']:<30} {r['wall_s']:>8.1f} {r['points_per_min']:>11.2f} "
                  f"{r['point_s']:>8.2f} {r['overhead_s']:>17.3f} {r['overhead_pct']:>12.1f}%"
                  f" {r['cpu_s']:>12.2f}"
                  f"  ({r['done']}/{r['n']} done)")  # fmt: skip
        reference = _index(root / "j1")
        for name in ("j2", "dask") if not args.no_dask else ("j2",):
            same = _index(root / name) == reference
            print(f"sweep.csv of {name} equals joblib-1's (metrics and spike hashes): {same}")
    print(blas_report()[0])


if __name__ == "__main__":
    main()

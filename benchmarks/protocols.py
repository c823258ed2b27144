"""Wall time and peak memory of every shipped protocol at its shipped size.

Each protocol runs in a fresh Python process (so its peak resident memory is its own),
timed in stages: ``simulate`` (:func:`v1lab.experiment.run_protocol`: population, retina,
V1, spikes), ``analyse`` (:func:`v1lab.analysis.compute_metrics`) and, with ``--folder``,
``write`` (the run folder: NWB, NPZ, CSV, figures and report.html; audio only with
``--audio``). Target on a 2-core machine: ``simulate + analyse`` under 60 s for every
protocol, the 10,000-cell orientation map included.

Run from the checkout::

    python benchmarks/protocols.py                      # every protocol
    python benchmarks/protocols.py spot_map sparse_noise
    python benchmarks/protocols.py --folder             # also write the run folders
    python benchmarks/protocols.py --native-blas        # unset OPENBLAS_CORETYPE

MACHINE-NOTES.md: ``OPENBLAS_CORETYPE=Haswell`` (set machine-wide) makes float32 matrix
products use the AVX2 kernel; ``--native-blas`` unsets it (and ``OPENBLAS_L2_SIZE``) in the
child processes. The kernel that ran is printed (``threadpoolctl``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROTOCOLS = (
    "hubel_wiesel_bars",
    "spot_map",
    "drifting_gratings",
    "contrast_series",
    "length_tuning",
    "sparse_noise",
    "orientation_map",
)
TARGET_S = 60.0


def run_one(name: str, folder: bool, audio: bool) -> dict:
    """Run one protocol in this process and return its timings (s) and peak RSS (MB)."""
    from v1lab.analysis import compute_metrics
    from v1lab.experiment import run_protocol
    from v1lab.protocol import load_protocol

    out: dict = {"protocol": name}
    protocol = load_protocol(name)
    out["conditions"] = len(protocol.conditions())
    out["cells"] = len(protocol.population.cells) or protocol.population.n_cells
    t0 = time.perf_counter()
    recording = run_protocol(protocol)
    out["simulate_s"] = time.perf_counter() - t0
    out["spikes"] = int(sum(len(t) for t in recording.spike_times))
    out["session_s"] = recording.duration_s
    t0 = time.perf_counter()
    metrics = compute_metrics(recording)
    out["analyse_s"] = time.perf_counter() - t0
    out["peak_mb_run"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if folder:
        from v1lab.cli import save_recording_folder
        from v1lab.plots.worker import start_figure_worker

        del metrics  # save_recording_folder measures again, as the CLI does
        # The CLI starts its figure helper before the simulation; here it gets the
        # same head start, so that its imports are not counted in write_s.
        worker = start_figure_worker(recording.n_cells)
        if worker is not None:
            worker.wait_ready()
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            save_recording_folder(recording, Path(tmp) / "run", audio=audio, figure_worker=worker)
            out["write_s"] = time.perf_counter() - t0
        if worker is not None:
            worker.close()
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        from threadpoolctl import threadpool_info

        out["blas"] = sorted(
            {f"{i['internal_api']} {i.get('architecture', '?')} x{i['num_threads']}"
             for i in threadpool_info() if i["user_api"] == "blas"}
        )  # fmt: skip
    except ImportError:
        out["blas"] = ["threadpoolctl not installed"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="*", default=list(PROTOCOLS))
    parser.add_argument("--folder", action="store_true", help="also write the run folder")
    parser.add_argument("--audio", action="store_true", help="with --folder: also audio/")
    parser.add_argument(
        "--native-blas", action="store_true", help="unset OPENBLAS_CORETYPE in the children"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.folder, args.audio)))
        return 0

    env = dict(os.environ)
    if args.native_blas:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    print(f"v1lab protocol benchmark — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', '(unset)')}")  # fmt: skip
    header = (
        f"{'protocol':<19} {'cells':>6} {'cond':>5} {'simulate':>9} {'analyse':>8} "
        f"{'sim+an':>7} {'write':>7} {'peak MB':>8}  target"
    )
    print(header)
    print("-" * len(header))
    failed = False
    blas: set[str] = set()
    for name in args.protocols:
        cmd = [sys.executable, __file__, "--one", name]
        cmd += ["--folder"] if args.folder else []
        cmd += ["--audio"] if args.audio else []
        wall = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - wall
        if result.returncode != 0:
            print(f"{name:<19} FAILED\n{result.stderr[-2000:]}")
            failed = True
            continue
        r = json.loads(result.stdout.strip().splitlines()[-1])
        blas.update(r["blas"])
        total = r["simulate_s"] + r["analyse_s"]
        ok = total < TARGET_S
        failed |= not ok
        write = f"{r['write_s']:6.1f}s" if "write_s" in r else "      -"
        print(
            f"{name:<19} {r['cells']:>6} {r['conditions']:>5} {r['simulate_s']:8.1f}s "
            f"{r['analyse_s']:7.1f}s {total:6.1f}s {write} {r['peak_mb']:8.0f}  "
            f"{'ok' if ok else 'SLOW'} (process {wall:.1f}s)"
        )
    print(f"BLAS: {', '.join(sorted(blas))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Wall time and peak memory of the default experiment (issue: "end to end").

Runs ``hubel_wiesel_bars`` exactly as ``python run_experiment.py`` does — simulation,
NWB/NPZ/CSV, figures and audio — in a fresh subprocess, and prints the wall time of each
stage and the peak resident memory. Target on a 2-core machine: under 20 s (10 s for
the performance issue) and under 1 GB.

    python benchmarks/default_run.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from v1lab.protocol import load_protocol
from v1lab.experiment import run_protocol
from v1lab.cli import save_recording_folder
t_import = time.perf_counter()
recording = run_protocol(load_protocol("hubel_wiesel_bars"))
t_sim = time.perf_counter()
save_recording_folder(recording, Path(sys.argv[1]) / "run")
t_save = time.perf_counter()
print(json.dumps({
    "import_s": t_import - t0,
    "simulate_s": t_sim - t_import,
    "write_s": t_save - t_sim,
    "total_s": t_save - t0,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "spikes": int(sum(len(t) for t in recording.spike_times)),
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs (the median is reported)")
    args = parser.parse_args()
    rows = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, tmp], capture_output=True, text=True, check=True
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = ["import_s", "simulate_s", "write_s", "total_s", "peak_mb"]
    print(f"{'run':>4} " + " ".join(f"{k:>11}" for k in keys))
    for i, r in enumerate(rows):
        print(f"{i:>4} " + " ".join(f"{r[k]:>11.2f}" for k in keys))
    med = {k: sorted(r[k] for r in rows)[len(rows) // 2] for k in keys}
    print("median " + " ".join(f"{med[k]:>11.2f}" for k in keys))
    print(f"default_run_wall_s: {med['total_s']:.2f}")
    print(f"default_run_peak_mb: {med['peak_mb']:.0f}")
    ok = med["total_s"] < 20 and med["peak_mb"] < 1024
    print("target (< 20 s, < 1 GB):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())

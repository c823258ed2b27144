"""Linear stage (frames × receptive fields): achieved GFLOP/s beside float32 matmul.

The retina → V1 linear drive is three matrix products per block of frames:

1. ``DoG``: pixels (T, P) @ DoG weights (P, n_pos) — the LGN's spatial receptive fields
   (:meth:`v1lab.model.retina.RetinaFilter.process`);
2. ``V1``: push–pull LGN signals (T, n_pos) @ Gabor weights (n_pos, n_subunits), once for
   the non-lagged and once for the lagged subunits (``V1Layer._subunit_responses``,
   inside :meth:`v1lab.model.cortex.V1Layer.compute_drive`);
3. ``pool``: squared push–pull signals (T, n_pos) @ normalisation pool (n_pos, n_cells)
   (:meth:`v1lab.model.cortex.V1Layer.compute_normalisation`).

For 64×64 and 128×128 frames and 1,000 and 10,000 cells it times each product on real
frames (a drifting grating) in blocks of T frames, float32 throughout, and prints the
achieved GFLOP/s (2·m·k·n per product, the flops actually executed) beside the machine's
float32 matmul GFLOP/s, measured in the same run (square 2048³ products, interleaved with
the stages so both see the same contention). Target: the linear stage >= 50 % of it.
The temporal filter and rectification between 1 and 2 (``lfilter``) is timed too but is
not a product and not in the GFLOP/s.

    python benchmarks/linear_stage.py                 # OPENBLAS_CORETYPE as the machine has it
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/linear_stage.py

Exits 1 if the linear stage is below 50 % of the matmul GFLOP/s in any configuration.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _util import blas_report, load_note, median, table, timed, use_checkout

use_checkout()

from v1lab.model.cortex import V1Layer  # noqa: E402
from v1lab.model.population import make_population  # noqa: E402
from v1lab.model.retina import Retina, RetinaFilter  # noqa: E402
from v1lab.model.stimulus import Grating, iter_frames  # noqa: E402

EXTENT_DEG = 10.0  # the default retina; pixels_per_deg sets the frame size


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """float32 square matrix multiply, GFLOP/s (median of ``repeats``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: threads started, pages touched
    return 2.0 * n**3 / median([timed(lambda: a @ b)[0] for _ in range(repeats)]) / 1e9


def bench_config(n_pixels: int, n_cells: int, n_frames: int, repeats: int) -> dict:
    retina = Retina(extent_deg=EXTENT_DEG, pixels_per_deg=n_pixels / EXTENT_DEG)
    lgn = RetinaFilter(retina)
    pop = make_population(n_cells, np.random.default_rng(1))
    v1 = V1Layer(pop, retina, lgn.positions_deg)
    stim = Grating(spatial_frequency_cpd=0.8, temporal_frequency_hz=4.0, duration_s=6.0)
    frames = next(iter_frames(stim, retina.grid, retina.frame_rate_hz, chunk_frames=n_frames))[1]
    pixels = np.ascontiguousarray(frames.reshape(n_frames, -1), dtype=np.float32)
    n_pos = lgn.n_positions

    def dog():
        return pixels @ lgn.spatial

    spatial = dog()
    lgn.reset()
    channels = lgn.process_spatial(spatial)
    push_pull = 0.5 * (channels[:, :n_pos] - channels[:, n_pos : 2 * n_pos])
    squared = np.square(push_pull)

    def temporal():
        lgn.reset()
        return lgn.process_spatial(spatial)

    stages = {
        "DoG": (dog, 2.0 * n_frames * pixels.shape[1] * n_pos),
        "V1": (
            lambda: v1._subunit_responses(channels),
            2.0 * n_frames * n_pos * v1.n_subunits,
        ),
        "pool": (lambda: squared @ v1.pool, 2.0 * n_frames * n_pos * n_cells),
    }
    out = {"matmul": [], "lfilter_s": median([timed(temporal)[0] for _ in range(repeats)])}
    for name, (fn, flops) in stages.items():
        fn()  # warm-up
        out["matmul"].append(matmul_gflops(repeats=3))
        out[name] = (median([timed(fn)[0] for _ in range(repeats)]), flops)
    out["subunits"] = v1.n_subunits
    out["n_pos"] = n_pos
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pixels", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--cells", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--frames", type=int, default=1024, help="frames per product (T)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print("Linear stage: retina -> V1 linear drive, float32, blocks of", args.frames, "frames")
    for line in blas_report():
        print("  " + line)
    print(f"  {load_note()}")
    rows = []
    worst = np.inf
    for n_pixels in args.pixels:
        for n_cells in args.cells:
            r = bench_config(n_pixels, n_cells, args.frames, args.repeats)
            ref = median(r["matmul"])
            t_lin = sum(r[k][0] for k in ("DoG", "V1", "pool"))
            f_lin = sum(r[k][1] for k in ("DoG", "V1", "pool"))
            g_lin = f_lin / t_lin / 1e9
            worst = min(worst, g_lin / ref)
            rows.append(
                [
                    f"{n_pixels}x{n_pixels}",
                    n_cells,
                    r["subunits"],
                    *(f"{r[k][1] / r[k][0] / 1e9:.0f}" for k in ("DoG", "V1", "pool")),
                    f"{1e3 * t_lin:.1f}",
                    f"{1e6 * t_lin / args.frames:.0f}",
                    f"{g_lin:.0f}",
                    f"{ref:.0f}",
                    f"{100 * g_lin / ref:.0f} %",
                    f"{1e3 * r['lfilter_s']:.1f}",
                ]
            )
            print(f"  done {n_pixels}x{n_pixels}, {n_cells} cells", flush=True)
    print()
    print(
        table(
            [
                "frames",
                "cells",
                "subunits",
                "DoG GF/s",
                "V1 GF/s",
                "pool GF/s",
                "linear ms",
                "us/frame",
                "linear GF/s",
                "matmul GF/s",
                "linear/matmul",
                "lfilter ms",
            ],
            rows,
        )
    )
    print()
    print(
        "GF/s = GFLOP/s executed (2mkn per product); matmul = float32 2048^3, measured "
        "between the stages (median); lfilter = temporal filter + rectification (not a product)."
    )
    print(f"linear_stage_fraction_of_matmul_min: {worst:.2f}")
    return 0 if worst >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())

"""How fast the cable runs: a 1000-compartment HH axon, 20 ms at 25 µs, v1lab and NEURON.

Workload (the same for both, in the same process): HH 1952's squid axon (diameter
476 µm, 35.4 Ω·cm, 1 µF/cm², 18.5 °C), 50 mm in 1000 compartments of 50 µm, a 0.1-ms
pulse at one end, 20 ms at dt = 25 µs (800 steps) with NEURON's default fixed step
(backward Euler) in both, voltage recorded at two electrodes (15 and 35 mm).

* v1lab: :func:`v1lab.axon.sim_cable` (numba kernel; the first call's compile is
  printed separately, the numpy + LAPACK back-end timed too).
* NEURON: one section with ``nseg = 1000`` and the built-in ``hh``
  (:func:`v1lab.axon.reference.sim_neuron_uniform_axon`), its rate tables off as in the
  tests; building the model is excluded, ``finitialize`` + ``continuerun`` timed.

Both velocities are printed (they agree to 1e-9); the ratio is v1lab time / NEURON time
(< 1: v1lab is faster). Median of ``--repeats`` runs each, interleaved.

Run from the checkout: ``python benchmarks/cable.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import sys
import time

from _util import load_note, median, table, use_checkout

use_checkout()

from v1lab.axon import make_unmyelinated_axon, sim_cable  # noqa: E402
from v1lab.axon.cable import default_stim_na  # noqa: E402
from v1lab.axon.measure import compute_electrode_velocity  # noqa: E402

ELECTRODES_UM = (15_000.0, 35_000.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    cab = make_unmyelinated_axon(length_mm=50.0, dx_um=50.0)
    assert cab.n == 1000
    stim = default_stim_na(cab)
    kw = {"duration_ms": 20.0, "dt_us": 25.0, "stim_na": stim, "electrodes_um": ELECTRODES_UM}
    print(load_note())
    tic = time.perf_counter()
    sim_cable(cab, **kw)
    print(
        f"v1lab first call (numba compile or cache load + run): {time.perf_counter() - tic:.3f} s"
    )
    try:
        from v1lab.axon.reference import load_neuron, sim_neuron_uniform_axon

        load_neuron()
        import neuron
    except Exception as err:
        print(f"NEURON not available ({err}); v1lab alone:")
        neuron = None
    ours, theirs, numpy_t = [], [], []
    v_ours = v_theirs = float("nan")
    for _ in range(args.repeats):
        tic = time.perf_counter()
        run = sim_cable(cab, **kw)
        ours.append(time.perf_counter() - tic)
        v_ours = compute_electrode_velocity(run)
        if neuron is not None:
            timing: dict[str, float] = {}
            nrun = sim_neuron_uniform_axon(cab, record_all=False, timing=timing, **kw)
            theirs.append(timing["run_s"])
            v_theirs = compute_electrode_velocity(nrun)
    tic = time.perf_counter()
    sim_cable(cab, backend="numpy", **kw)
    numpy_t.append(time.perf_counter() - tic)
    rows = [
        ["v1lab (numba)", f"{median(ours) * 1e3:.1f}", f"{v_ours:.6f}"],
        ["v1lab (numpy + LAPACK dgtsv)", f"{numpy_t[0] * 1e3:.1f}", ""],
    ]
    if theirs:
        rows.append(
            [f"NEURON {neuron.__version__}", f"{median(theirs) * 1e3:.1f}", f"{v_theirs:.6f}"]
        )
    print(table(["simulator", "ms (median)", "velocity m/s"], rows))
    if theirs:
        print(f"ratio v1lab / NEURON = {median(ours) / median(theirs):.2f}")
    print(load_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())

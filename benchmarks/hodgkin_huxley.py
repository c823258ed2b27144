"""How fast Hodgkin–Huxley V1 cells simulate: wall time for N cells × 2 s at dt = 25 µs.

Workload (the same for v1lab and Brian2): N Hodgkin–Huxley membranes (the 1952 set at
16.3 °C, i.e. rates × 3), 2 s at dt = 0.025 ms (80,000 steps), each driven by its own
input current — a V1-like rate trace (spontaneous 1 spike/s plus one 300-ms response of
40 spikes/s, at a different time for each cell) turned into current by
:func:`v1lab.cells.hh_fi.hh_current_for_rates` — plus Ornstein–Uhlenbeck noise
(2 µA/cm², 5 ms, advanced every 0.1 ms); spikes are upward crossings of −20 mV.

* v1lab: :func:`v1lab.cells.hh_fi.sim_hodgkin_huxley` end to end (rates in, spike
  trains out), median of ``--repeats`` after one warm-up call (numba's compile time is
  printed separately); also the numpy back-end for 100 cells.
* Brian2 (when it imports): the same equations, currents (``TimedArray``) and noise
  (``run_regularly``), ``exponential_euler``, ``cpp_standalone`` (single-threaded, its
  default; ``--brian2-threads -1`` gives it as many OpenMP threads as numba). Its time is the wall time of the compiled binary's run (the
  C++ compile is printed separately, not counted). The ratio printed is
  v1lab time / Brian2 time (< 1: v1lab is faster).

Run from the checkout: ``python benchmarks/hodgkin_huxley.py [--repeats 3] [--no-brian2]``.
Without Brian2 (or with one that fails to import) the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    import v1lab.cells as hh
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import v1lab.cells as hh

FS = 200.0  # rate samples per second (the V1 stage's frame rate)
DURATION_S = 2.0
DT_S = 2.5e-5
SIZES = (100, 1000)


def make_rates(n_cells: int, rng: np.random.Generator) -> np.ndarray:
    """Spontaneous 1 spike/s plus one 300-ms, 40 spikes/s response per cell."""
    t = np.arange(round(DURATION_S * FS)) / FS
    onset = rng.uniform(0.2, DURATION_S - 0.5, n_cells)
    inside = (t[:, None] >= onset) & (t[:, None] < onset + 0.3)
    return np.where(inside, 41.0, 1.0)


def n_threads() -> int:
    if hh.hh_backend() != "numba":
        return 1
    import numba

    return numba.get_num_threads()


def time_v1lab(rates: np.ndarray, repeats: int, backend: str) -> tuple[float, int]:
    times, spikes = [], 0
    for r in range(repeats):
        rng = np.random.default_rng(r)
        t0 = time.perf_counter()
        st = hh.sim_hodgkin_huxley(rates, FS, rng=rng, dt_s=DT_S, backend=backend)
        times.append(time.perf_counter() - t0)
        spikes = st.n_spikes
    return statistics.median(times), spikes


def brian2_or_reason():
    try:
        import brian2
    except Exception as err:  # ImportError, or a Brian2 that does not run on this numpy
        return None, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return brian2, None


def time_brian2(b2, currents: np.ndarray, threads: int, workdir: str) -> dict[str, float]:
    """Build and run the same model in cpp_standalone; return compile/run times, spikes."""
    from brian2 import (
        NeuronGroup,
        SpikeMonitor,
        TimedArray,
        cm,
        defaultclock,
        device,
        ms,
        msiemens,
        mV,
        second,
        set_device,
        uA,
        uF,
    )

    n_cells = currents.shape[1]
    device.reinit()
    device.activate()
    set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
    defaultclock.dt = DT_S * second
    p = hh.HHParameters()
    phi = p.phi
    noise_dt_ms = 0.1
    a = float(np.exp(-noise_dt_ms / 5.0))
    b = float(2.0 * np.sqrt(1 - a * a))
    drive = TimedArray(currents * uA / cm**2, dt=1 / FS * second)
    eqs = f"""
    dv/dt = (I_drive(t, i) + I_noise - gna*m**3*h*(v - ENa) - gk*n**4*(v - EK)
             - gl*(v - El)) / Cm : volt
    dm/dt = {phi}*(alpham*(1 - m) - betam*m) : 1
    dh/dt = {phi}*(alphah*(1 - h) - betah*h) : 1
    dn/dt = {phi}*(alphan*(1 - n) - betan*n) : 1
    alpham = 1/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
    betam = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
    alphah = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
    betah = 1/(1 + exp(-(v + 35*mV)/(10*mV)))/ms : Hz
    alphan = 0.1/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
    betan = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
    I_noise : amp/meter**2
    """
    namespace = {
        "I_drive": drive,
        "Cm": p.c_m_uf_cm2 * uF / cm**2,
        "gna": p.g_na_ms_cm2 * msiemens / cm**2,
        "gk": p.g_k_ms_cm2 * msiemens / cm**2,
        "gl": p.g_l_ms_cm2 * msiemens / cm**2,
        "ENa": p.e_na_mv * mV,
        "EK": p.e_k_mv * mV,
        "El": p.e_l_mv * mV,
    }
    group = NeuronGroup(
        n_cells,
        eqs,
        threshold="v > -20*mV",
        refractory="v > -30*mV",  # re-armed 10 mV below the detection level, as v1lab
        method="exponential_euler",
        namespace=namespace,
    )
    group.v = -65 * mV
    group.m, group.h, group.n = 0.0529, 0.5961, 0.3177  # steady state at -65 mV
    group.run_regularly(f"I_noise = I_noise*{a} + {b}*uA/cm**2*randn()", dt=noise_dt_ms * ms)
    mon = SpikeMonitor(group)
    b2.run(DURATION_S * second, namespace=namespace)
    t0 = time.perf_counter()
    device.build(directory=workdir, compile=True, run=False, clean=True)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    device.run(directory=workdir, with_output=False, run_args=[])
    run_wall_s = time.perf_counter() - t0
    inner = getattr(device, "_last_run_time", float("nan"))
    return {
        "compile_s": compile_s,
        "run_wall_s": run_wall_s,
        "run_loop_s": float(inner),
        "spikes": int(mon.num_spikes),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (median)")
    parser.add_argument("--no-brian2", action="store_true", help="skip the Brian2 comparison")
    parser.add_argument("--no-numpy", action="store_true", help="skip the numpy back-end")
    parser.add_argument(
        "--brian2-threads",
        type=int,
        default=0,
        help="OpenMP threads for Brian2 (0 = its default, single-threaded; -1 = as numba)",
    )
    args = parser.parse_args(argv)
    backend = hh.hh_backend()
    threads = n_threads()
    b2_threads = threads if args.brian2_threads < 0 else args.brian2_threads
    print(
        f"Hodgkin–Huxley benchmark: N cells × {DURATION_S:g} s at dt = {DT_S * 1e3:g} ms "
        f"({round(DURATION_S / DT_S)} steps), 16.3 °C, OU input noise; median of {args.repeats}"
    )
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, v1lab back-end "
        f"{backend} ({threads} thread{'s' if threads > 1 else ''}), {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}"
    )
    t0 = time.perf_counter()
    hh.sim_hodgkin_huxley(np.ones((2, 1)), FS, rng=np.random.default_rng(0))  # warm-up
    print(f"first call (numba compile or cache load, f–I table): {time.perf_counter() - t0:.2f} s")

    b2, reason = (None, "skipped (--no-brian2)") if args.no_brian2 else brian2_or_reason()
    if b2 is None:
        print(f"Brian2 not available — {reason}; printing v1lab times only.")
    else:
        print(
            f"Brian2 {b2.__version__}, cpp_standalone, "
            + (f"OpenMP threads {b2_threads}" if b2_threads > 1 else "single-threaded (default)")
        )

    print(
        f"{'cells':>6} {'v1lab s':>9} {'spikes':>8} {'µs/cell·s':>10}"
        + ("" if b2 is None else f" {'Brian2 s':>9} {'spikes':>8} {'compile s':>10} {'ratio':>6}")
    )
    rng = np.random.default_rng(2024)
    for n_cells in SIZES:
        rates = make_rates(n_cells, rng)
        wall, spikes = time_v1lab(rates, args.repeats, backend)
        line = f"{n_cells:>6} {wall:>9.3f} {spikes:>8} {wall / (n_cells * DURATION_S) * 1e6:>10.1f}"
        if b2 is not None:
            currents = hh.hh_current_for_rates(rates)
            with tempfile.TemporaryDirectory(prefix="v1lab_b2_") as workdir:
                try:
                    res = time_brian2(b2, currents, b2_threads, workdir)
                except Exception as err:  # a broken compiler set-up must not crash the script
                    print(line + f"  Brian2 failed: {type(err).__name__}: {err}")
                    continue
            b2_s = res["run_wall_s"]
            line += (
                f" {b2_s:>9.3f} {res['spikes']:>8} {res['compile_s']:>10.1f} {wall / b2_s:>6.2f}"
            )
        print(line)
    if not args.no_numpy and backend == "numba":
        rates = make_rates(100, rng)
        wall, spikes = time_v1lab(rates, 1, "numpy")
        print(f"numpy back-end, 100 cells: {wall:.2f} s ({spikes} spikes)")


if __name__ == "__main__":
    main()

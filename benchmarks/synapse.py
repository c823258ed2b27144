"""Cost per simulated cell-second of the conductance-based cell with its LGN inputs,
v1lab beside Brian2 (cpp_standalone) on the same cell and the same input spikes.

Workload: the ``lgn_to_simple_cell`` lab's feedforward circuit — Pospischil et al.'s
(2008) regular-spiking cell (Na, Kd, M, leak) with AMPA ``Exp2Syn`` conductances from its
~39 LGN inputs — driven by drifting gratings at 12 orientations × 4 contrasts ×
``--n-trials`` trials, 1.25 s each. The LGN spike trains are drawn once (v1lab's retina
and Poisson stage, not timed) and given to both simulators as the same events:

* v1lab: :func:`v1lab.synapse.sim_synaptic_cell` (numba kernel; Rush–Larsen gates,
  exponential-Euler V, exact synaptic exponentials), dt = 25 µs, spikes only;
* Brian2: a ``NeuronGroup`` of the same cells with the same equations
  (``exponential_euler``), the events from a ``SpikeGeneratorGroup`` through
  ``Synapses`` that add ``w·f`` to both exponentials (NEURON's ``Exp2Syn`` scheme),
  dt = 25 µs, a ``SpikeMonitor``; ``cpp_standalone``, the build (code generation and
  compilation) timed apart from the run, and the run timed as the binary's own
  simulation time (``device._last_run_time``).

v1lab at one thread (numba's ``set_num_threads(1)``) and at ``--threads``; Brian2 at
``--brian-threads`` OpenMP threads (default 1; 0 = its plain single-threaded standalone).
Brian2 is built once per process (a second standalone build in one process fails), and
its binary run ``--repeats`` times.
Statistics check before a ratio counts: total spike counts within 3 % (the integrators
differ in the last digits; a spike near threshold can go either way).

    /work/venv312/bin/python benchmarks/synapse.py              # Brian2 needs Python >= 3.12
    python benchmarks/synapse.py --no-brian2                    # v1lab only

Timing depends on the machine's load; the load average is printed beside every figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np
from _util import load_note, median, table, use_checkout

use_checkout()

import numba  # noqa: E402

from v1lab.model.retina import Retina, make_lgn_positions  # noqa: E402
from v1lab.model.stimulus import Grating  # noqa: E402
from v1lab.synapse import AMPA, make_cell, make_events, sim_synaptic_cell  # noqa: E402
from v1lab.synapse.lgn import SimpleCellWiring, compute_lgn_rates, make_lgn_inputs  # noqa: E402


def make_workload(n_trials: int, seed: int = 1):
    """The cell, and the events of every train (trains = stimulus × trial)."""
    from v1lab.cells import sim_poisson_dead_time

    retina = Retina(extent_deg=4.0, lgn_extent_deg=2.4, lgn_spacing_deg=0.15)
    cell = make_cell("rs")
    wiring = SimpleCellWiring(unitary_epsp_mv=2.0)
    rng = np.random.default_rng(seed)
    inputs = make_lgn_inputs(wiring, make_lgn_positions(2.4, 0.15), cell, rng)
    stims = [
        Grating(orientation_deg=float(o), direction_deg=float(o) + 90, contrast=c,
                spatial_frequency_cpd=0.8, temporal_frequency_hz=4.0, duration_s=1.0)
        for c in (0.15, 0.3, 0.6, 1.0) for o in range(0, 180, 15)
    ]  # fmt: skip
    rates = compute_lgn_rates(
        stims, retina, inputs.columns, pre_s=0.25, spontaneous_hz=10.0, gain_hz=150.0
    )
    lgn = sim_poisson_dead_time(rates, retina.frame_rate_hz, n_trials=n_trials, rng=rng)
    n_in, n_stim = inputs.columns.size, len(stims)
    counts = np.diff(lgn.indptr)
    trial, rest = np.divmod(np.arange(counts.size), n_stim * n_in)
    stim, which = np.divmod(rest, n_in)
    target = np.repeat(stim * n_trials + trial, counts)
    source = np.repeat(np.arange(counts.size), counts)
    weight = inputs.weight_ns[np.repeat(which, counts)]
    return cell, lgn.times_s, target, source, weight, n_stim * n_trials, lgn.duration_s, counts.size


def run_v1lab(cell, times, target, weight, n_trains, duration_s):
    ev = make_events(target, times, weight, n_trains=n_trains)
    tic = time.perf_counter()
    tr = sim_synaptic_cell(cell, [AMPA], ev, duration_s)
    return time.perf_counter() - tic, tr.spikes.counts().ravel()


BRIAN_EQS = """
dv/dt = (gl*(El - v) - gna*m**3*h*(v - ENa) - (gk*n**4 + gm*p)*(v - EK) - (B - A)*(v - Esyn))/C : volt
dm/dt = 1.28/ms/exprel(-(v - VT - 13*mV)/(4*mV))*(1 - m) - 1.4/ms/exprel((v - VT - 40*mV)/(5*mV))*m : 1
dh/dt = 0.128/ms*exp(-(v - VT - 17*mV)/(18*mV))*(1 - h) - 4/ms/(1 + exp(-(v - VT - 40*mV)/(5*mV)))*h : 1
dn/dt = 0.16/ms/exprel(-(v - VT - 15*mV)/(5*mV))*(1 - n) - 0.5/ms*exp(-(v - VT - 10*mV)/(40*mV))*n : 1
dp/dt = (1/(1 + exp(-(v + 35*mV)/(10*mV))) - p)/(tau_max/(3.3*exp((v + 35*mV)/(20*mV)) + exp(-(v + 35*mV)/(20*mV)))) : 1
dA/dt = -A/tau1 : siemens
dB/dt = -B/tau2 : siemens
"""


def build_brian2(
    cell, times, source, target, weight, n_trains, n_sources, duration_s, threads, workdir
):
    """Build the same model on cpp_standalone (timed); returns (build s, run(), counts())."""
    import brian2 as b2
    from brian2 import ms, mV, nS, pF

    from v1lab.synapse.cell import compute_rest_mv, steady_gates

    b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.defaultclock.dt = 0.025 * ms
    g_na, g_k, g_m, g_l = cell.conductances_ns
    e_na, e_k, e_l = cell.reversals_mv
    ns = {
        "gl": g_l * nS, "gna": g_na * nS, "gk": g_k * nS, "gm": g_m * nS, "El": e_l * mV,
        "ENa": e_na * mV, "EK": e_k * mV, "Esyn": AMPA.e_rev_mv * mV, "C": cell.capacitance_pf * pF,
        "VT": cell.v_t_mv * mV, "tau_max": cell.tau_max_ms * ms,
        "tau1": AMPA.tau_rise_ms * ms, "tau2": AMPA.tau_decay_ms * ms,
    }  # fmt: skip
    group = b2.NeuronGroup(
        n_trains, BRIAN_EQS, threshold="v > -20*mV", refractory="v > -30*mV",
        method="exponential_euler", namespace=ns,
    )  # fmt: skip
    rest = compute_rest_mv(cell)
    m0, h0, n0, p0 = steady_gates(rest, cell)
    group.v, group.m, group.h, group.n, group.p = rest * mV, m0, h0, n0, p0
    gen = b2.SpikeGeneratorGroup(n_sources, source, times * b2.second)
    f = AMPA.peak_factor
    syn = b2.Synapses(gen, group, "w : siemens", on_pre=f"A_post += {f!r}*w\nB_post += {f!r}*w")
    src = np.flatnonzero(np.bincount(source, minlength=n_sources) > 0)
    tgt = np.zeros(n_sources, np.int64)
    tgt[source] = target
    wt = np.zeros(n_sources)
    wt[source] = weight
    syn.connect(i=src, j=tgt[src])
    syn.w = wt[src] * nS
    mon = b2.SpikeMonitor(group)
    b2.run(duration_s * b2.second)
    tic = time.perf_counter()
    b2.device.build(directory=workdir, compile=True, run=False)
    build_s = time.perf_counter() - tic

    def run() -> float:
        b2.device.run(directory=workdir, with_output=False)
        return b2.device._last_run_time

    def counts() -> np.ndarray:
        return np.bincount(np.asarray(mon.i[:]), minlength=n_trains)

    return build_s, run, counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-trials", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="v1lab's second row")
    ap.add_argument("--brian-threads", type=int, default=1, help="Brian2 OpenMP threads (0 = off)")
    ap.add_argument("--no-brian2", action="store_true")
    args = ap.parse_args()

    cell, times, target, source, weight, n_trains, duration_s, n_sources = make_workload(
        args.n_trials
    )
    cell_s = n_trains * duration_s
    print(
        f"workload: {n_trains} cells × {duration_s:g} s = {cell_s:g} cell-s; {times.size} input spikes"
    )
    run_v1lab(cell, times[:10], target[:10], weight[:10], n_trains, 0.01)  # compile / load cache
    rows = []
    v_counts = None
    for threads in sorted({1, args.threads}):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        v_times = []
        for _ in range(args.repeats):
            t, v_counts = run_v1lab(cell, times, target, weight, n_trains, duration_s)
            v_times.append(t)
        rows.append([f"v1lab (numba), {threads} thread(s)", f"{median(v_times) / cell_s * 1e3:.3f}",
                     f"{median(v_times):.2f}", "-", f"{v_counts.sum()}", load_note()])  # fmt: skip
    ok = True
    if not args.no_brian2:
        try:
            import brian2  # noqa: F401
        except Exception as err:
            print(f"Brian2 not available ({type(err).__name__}: {err}); v1lab only")
        else:
            work = tempfile.mkdtemp(prefix="v1lab_b2_")
            try:
                build_s, run, counts = build_brian2(
                    cell, times, source, target, weight, n_trains, n_sources, duration_s,
                    args.brian_threads, work,
                )  # fmt: skip
                b_times = [run() for _ in range(args.repeats)]
                b_counts = counts()
            finally:
                shutil.rmtree(work, ignore_errors=True)
            rows.append([f"Brian2 cpp_standalone, openmp_threads={args.brian_threads}",
                         f"{median(b_times) / cell_s * 1e3:.3f}", f"{median(b_times):.2f}",
                         f"{build_s:.1f}", f"{b_counts.sum()}", load_note()])  # fmt: skip
            diff = abs(int(b_counts.sum()) - int(v_counts.sum())) / max(1, int(v_counts.sum()))
            ok = diff <= 0.03
            print(
                f"spike counts: v1lab {v_counts.sum()}, Brian2 {b_counts.sum()} ({100 * diff:.1f} % apart)"
            )
    header = ["simulator", "ms per cell-s", "run s (median)", "build s", "spikes", "load"]
    print(table(header, rows))
    print(
        f"numba {numba.__version__}, NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, cpus {os.cpu_count()}"
    )
    if not ok:
        print("spike counts differ by more than 3 %: the comparison does not count")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The same spiking workload in v1lab and in Brian2, alternating, with a statistics check.

Workload (issue 5): N cells (default 1,000 and 10,000), each driven by its own trace
sampled every 1 ms, 16 orientations × 10 trials × 2 s, every spike recorded:

* ``poisson`` — inhomogeneous Poisson with a 2-ms dead time. v1lab:
  :func:`v1lab.cells.poisson.sim_poisson_dead_time` per orientation (10 trials each).
  Brian2, a ``NeuronGroup`` of N × 10 neurons, the 16 orientations one after another
  (32 s), dt = 0.1 ms, in two formulations (issue 14):
  - ``idiomatic``: rate read from a 2-D ``TimedArray`` at every step,
    ``threshold='rand() < rate*dt'``, ``refractory=2*ms``;
  - ``best``: time rescaling, v1lab's own algorithm — ``dL/dt = rate : 1 (unless
    refractory)``, threshold ``L > E``, reset ``L = 0; E = -log(rand())``,
    ``refractory=2*ms``, the rate refreshed from the trace by ``run_regularly(dt=1*ms)``
    (one ``rand()`` per spike instead of one per neuron and step).
  Both sides get the dead-time-compensated drive ``r / (1 - r d)``, so both fire at the
  target rate ``r``.
* ``lif`` — leaky integrate-and-fire with white input noise, τ = 20 ms, 2-ms refractory,
  σ = 0.3, dt = 0.1 ms. v1lab: :func:`v1lab.cells.lif.sim_lif` on the target rates (it
  inverts the transfer function itself, inside the timed call). Brian2: the mean input
  ``μ(t)`` that v1lab computes, ``dv/dt = (μ - v)/τ' + σ' ξ / √τ'`` (Euler–Maruyama, with
  τ', σ' chosen so that its step is exactly v1lab's exact Ornstein–Uhlenbeck step),
  threshold 1, reset 0, with μ read from a ``TimedArray`` at every step (``idiomatic``)
  or refreshed once per input sample by ``run_regularly(dt=1*ms)`` into a parameter
  (``best``). v1lab's LIF also fires on threshold crossings *between* steps
  (Brownian-bridge test); without it a 0.1-ms grid misses ~4 % of the spikes at these
  rates and the statistics check fails, so the Brian2 model carries the same test
  (``v_prev`` kept by a ``run_regularly``, one ``rand()`` only for neurons near
  threshold): the same model on both sides.

Threads (``--threads``, default 1 and 2): the same count on both sides — Brian2
``cpp_standalone`` with ``openmp_threads`` (0, i.e. no OpenMP, for one thread); v1lab's
kernels split the cells over ``numba.set_num_threads(n)`` threads. ``--omp-wait-policy
passive`` sets ``OMP_WAIT_POLICY`` for Brian2's binaries: on shared cores, OpenMP's
default spinning at its per-step barriers made a 2-thread run ~40x slower than a
1-thread one here.

Brian2 runs on ``cpp_standalone`` (build once — code generation, writing the TimedArray
to disk as float64, compilation — timed separately, then the binary run per repeat; the
time compared is the binary's own simulation time, ``device._last_run_time``, which
leaves out loading the inputs and writing results) and, with ``--runtime``, on a runtime
target (the idiomatic model, one thread). Each Brian2 build runs ``--repeats`` times,
each run right after a v1lab run at the same thread count. Beside wall times the script
prints CPU times (v1lab: the process's CPU time; Brian2: the simulation time times the
binary's CPU/wall ratio), which stay meaningful when other jobs share the cores; the
closing speedups are against the faster Brian2 formulation at each thread count.

Read-the-input floor (Poisson): one streaming pass over the rates (numpy's sum, the same
orientation blocks) plus one numpy exponential per spike — what any generator that reads
its input must spend — and v1lab's distance to it.

Statistics (must agree before a ratio counts), on every v1lab–Brian2 pair: mean rate
within 2 %, mean Fano factor (spike count over the 2-s window, across trials, per cell
and orientation) and mean ISI CV (per train with >= 5 spikes) within 0.05. The script
exits 1 if they disagree.

    python benchmarks/vs_brian2.py                 # full workload (hours on 2 shared cores)
    python benchmarks/vs_brian2.py --models poisson --n-cells 10000 --formulations best
    python benchmarks/vs_brian2.py --n-cells 1000 --repeats 3 --threads 1

One job in one file (over 800 lines): a self-contained script that builds one workload,
runs it on both simulators and checks and prints the comparison; the Brian2 models sit
beside the v1lab calls they are compared with.

Brian2 is optional (``pip install '.[bench]'``); without a working Brian2 the script says
so and exits 0. Brian2 >= 2.10 is needed with numpy >= 2.4 (older releases fail to
import: ``ndarray.ptp`` was removed), and Brian2 2.10 needs Python >= 3.12.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np
from _util import blas_report, load_note, median, table, timed, use_checkout

use_checkout()

from v1lab.cells import _common, lif, sim_lif, sim_poisson_dead_time  # noqa: E402

FS = 1000.0  # input traces: one sample per ms
DT_S = 1e-4
DEAD_S = 0.002
TAU_S = 0.02
REFRACTORY_S = 0.002
SIGMA = 0.3


# --------------------------------------------------------------------------------------
# Workload
# --------------------------------------------------------------------------------------


def make_rates(n_cells: int, n_orient: int, duration_s: float, seed: int) -> np.ndarray:
    """Target rates (n_orient · n_samples, n_cells), orientations one after another.

    Each cell is an orientation-tuned V1 cell (von Mises tuning, spontaneous 1–5 and peak
    30–70 spikes/s) answering a bar swept through its RF: a Gaussian bump of 0.25 s at
    an RF-dependent time, modulated at 4 Hz by a cell-specific depth (simple-like cells
    modulate, complex-like do not).
    """
    rng = np.random.default_rng(seed)
    n_samples = round(duration_s * FS)
    t = np.arange(n_samples) / FS
    pref = rng.uniform(0.0, 180.0, n_cells)
    spont = rng.uniform(1.0, 5.0, n_cells)
    peak = rng.uniform(30.0, 70.0, n_cells)
    onset = rng.uniform(0.35, 0.65, n_cells) * duration_s
    depth = rng.uniform(0.0, 1.0, n_cells)
    phase = rng.uniform(0.0, 2 * np.pi, n_cells)
    out = np.empty((n_orient * n_samples, n_cells))
    for o in range(n_orient):
        theta = np.deg2rad(o * 180.0 / n_orient - pref)
        tuning = np.exp((np.cos(2 * theta) - 1.0) / 0.25)
        bump = np.exp(-0.5 * ((t[:, None] - onset[None, :]) / 0.25) ** 2)
        wobble = (1 + depth * np.sin(2 * np.pi * 4.0 * t[:, None] + phase)) / (1 + depth)
        out[o * n_samples : (o + 1) * n_samples] = spont + peak * tuning * bump * wobble
    return out


@dataclass
class Spikes:
    """Every spike of a run as (train id, time within its 2-s window)."""

    train: np.ndarray  # (orientation · n_trials + trial) · n_cells + cell
    time_s: np.ndarray
    n_orient: int
    n_trials: int
    n_cells: int
    duration_s: float


def compute_stats(sp: Spikes) -> dict[str, float]:
    """Mean rate, mean Fano factor, mean ISI CV (the three quantities compared)."""
    n_trains = sp.n_orient * sp.n_trials * sp.n_cells
    order = np.lexsort((sp.time_s, sp.train))
    train, t = sp.train[order], sp.time_s[order]
    counts = np.bincount(train, minlength=n_trains).reshape(sp.n_orient, sp.n_trials, sp.n_cells)
    mean = counts.mean(axis=1)
    var = counts.var(axis=1, ddof=1)
    ok = mean >= 1.0
    same = train[1:] == train[:-1]
    isi = np.diff(t)[same]
    owner = train[1:][same]
    n_isi = np.bincount(owner, minlength=n_trains)
    s1 = np.bincount(owner, isi, minlength=n_trains)
    s2 = np.bincount(owner, isi * isi, minlength=n_trains)
    good = n_isi >= 4  # >= 5 spikes
    m = s1[good] / n_isi[good]
    sd = np.sqrt(np.maximum(s2[good] / n_isi[good] - m * m, 0.0))
    return {
        "rate_hz": counts.sum() / (n_trains * sp.duration_s),
        "fano": float((var[ok] / mean[ok]).mean()),
        "cv_isi": float((sd / m).mean()),
        "spikes": int(counts.sum()),
    }


# --------------------------------------------------------------------------------------
# v1lab side
# --------------------------------------------------------------------------------------


def run_v1lab(
    model: str, rates: np.ndarray, n_orient: int, n_trials: int, seed: int, threads: int = 1
):
    """Simulate all orientations with ``threads`` numba threads.

    Returns (wall s, CPU s of this process, Spikes); the CPU time is what the simulation
    would take alone on idle cores (times the thread count when it runs in parallel).
    """
    import numba

    numba.set_num_threads(threads)
    n_samples = rates.shape[0] // n_orient
    n_cells = rates.shape[1]
    rng = np.random.default_rng(seed)
    elapsed = 0.0
    cpu = 0.0
    trains, times = [], []
    for o in range(n_orient):
        block = rates[o * n_samples : (o + 1) * n_samples]  # a C-contiguous view
        cpu0 = time.process_time()  # the simulation's CPU time only, not the bookkeeping
        if model == "poisson":
            dt, st = timed(
                lambda b=block: sim_poisson_dead_time(
                    b, FS, n_trials=n_trials, dead_time_s=DEAD_S, rng=rng
                )
            )
        else:
            dt, st = timed(
                lambda b=block: sim_lif(
                    b,
                    FS,
                    n_trials=n_trials,
                    tau_m_s=TAU_S,
                    refractory_s=REFRACTORY_S,
                    noise_sigma=SIGMA,
                    dt_s=DT_S,
                    rng=rng,
                )
            )
        elapsed += dt
        cpu += time.process_time() - cpu0
        local = np.repeat(np.arange(st.n_trains, dtype=np.int64), np.diff(st.indptr))
        trains.append(o * n_trials * n_cells + local)
        times.append(np.asarray(st.times_s))
    sp = Spikes(
        np.concatenate(trains),
        np.concatenate(times),
        n_orient,
        n_trials,
        n_cells,
        n_samples / FS,
    )
    return elapsed, cpu, sp


def read_the_input_floor(rates: np.ndarray, n_orient: int, n_events: int) -> tuple[float, float]:
    """(wall s, CPU s) of one streaming pass over the rates plus one exponential per spike.

    What any generator that reads its input must at least do: the rates are summed
    orientation block by orientation block (numpy's vectorised sum, the same blocks v1lab
    reads), and ``n_events`` standard exponentials are drawn with numpy's ziggurat.
    """
    n_samples = rates.shape[0] // n_orient
    rng = np.random.default_rng(0)
    cpu0 = time.process_time()
    tic = time.perf_counter()
    total = 0.0
    for o in range(n_orient):
        total += float(rates[o * n_samples : (o + 1) * n_samples].sum())
    rng.standard_exponential(n_events)
    return time.perf_counter() - tic, time.process_time() - cpu0


# --------------------------------------------------------------------------------------
# Brian2 side
# --------------------------------------------------------------------------------------


def import_brian2():
    """Brian2 module, or None with the reason printed."""
    try:
        import brian2
    except Exception as err:  # ImportError, or AttributeError from an old Brian2
        print(f"Brian2 is not available here ({type(err).__name__}: {err}).")
        print(
            "Install the benchmark extra: pip install '.[bench]' (Brian2 >= 2.10 with "
            "numpy >= 2.4, which needs Python >= 3.12). Nothing to compare; exiting 0."
        )
        return None
    return brian2


def build_brian2(
    b2,
    model: str,
    formulation: str,
    values: np.ndarray,
    n_cells: int,
    n_trials: int,
    window_s: float,
):
    """Create the network in the current device; return (Network, SpikeMonitor).

    ``formulation`` is ``'idiomatic'`` (the input read from a 2-D TimedArray at every
    step; Poisson by ``rand() < rate*dt``) or ``'best'`` (the input refreshed once per
    input sample by ``run_regularly``; Poisson by time rescaling), see the module notes.
    """
    b2.defaultclock.dt = DT_S * b2.second
    n = n_cells * n_trials
    if model == "poisson":
        drive = b2.TimedArray(values * b2.Hz, dt=1 * b2.ms)
        if formulation == "idiomatic":
            group = b2.NeuronGroup(
                n,
                "rate = drive(t, cell) : Hz\ncell : integer (constant)",
                threshold="rand() < rate*dt",
                refractory=REFRACTORY_S * b2.second,
                name="poisson",
                namespace={"drive": drive},
            )
        else:
            # Time rescaling (Brown et al. 2002): L integrates the rate, a spike when it
            # passes an Exp(1) level; L is frozen during the dead time. One rand() per
            # spike instead of one per neuron and step.
            group = b2.NeuronGroup(
                n,
                "dL/dt = rate : 1 (unless refractory)\nrate : Hz\nE : 1\ncell : integer (constant)",
                threshold="L > E",
                reset="L = 0\nE = -log(rand())",
                refractory=REFRACTORY_S * b2.second,
                method="euler",
                name="poisson",
                namespace={"drive": drive},
            )
            group.E = "-log(rand())"
            group.run_regularly("rate = drive(t, cell)", dt=1 * b2.ms, when="start")
    else:
        current = b2.TimedArray(values, dt=1 * b2.ms)
        # Euler–Maruyama with these effective constants *is* v1lab's exact OU step:
        # 1 - dt/τ_eff = e^(-dt/τ), and σ_eff √(dt/τ_eff) = σ √((1 - e^(-2dt/τ))/2).
        tau_eff = DT_S / -math.expm1(-DT_S / TAU_S)
        sigma_eff = SIGMA * math.sqrt(-math.expm1(-2 * DT_S / TAU_S) / 2 * tau_eff / DT_S)
        bridge_var = SIGMA**2 * DT_S / TAU_S
        near = 1.0 - math.sqrt(20.0 * bridge_var)
        if formulation == "idiomatic":
            eqs = (
                "dv/dt = (current(t, cell) - v)/tau + sigma*xi*tau**-0.5 : 1 (unless refractory)\n"
                "v_prev : 1\ncell : integer (constant)"
            )
        else:
            eqs = (
                "dv/dt = (mu - v)/tau + sigma*xi*tau**-0.5 : 1 (unless refractory)\n"
                "mu : 1\nv_prev : 1\ncell : integer (constant)"
            )
        # Crossings between steps (Brownian bridge), as in v1lab.cells.lif.sim_lif; `or` and
        # `and` short-circuit in the generated C++, so rand() runs only near threshold.
        threshold = (
            f"v >= 1 or ((v > {near!r} or v_prev > {near!r}) and "
            f"rand() < exp(-2*(1 - v_prev)*(1 - v)/{bridge_var!r}))"
        )
        group = b2.NeuronGroup(
            n,
            eqs,
            threshold=threshold,
            reset="v = 0",
            refractory=REFRACTORY_S * b2.second,
            method="euler",
            name="lif",
            namespace={"current": current, "tau": tau_eff * b2.second, "sigma": sigma_eff},
        )
        if formulation == "best":
            group.run_regularly("mu = current(t, cell)", dt=1 * b2.ms, when="start")
        group.run_regularly("v_prev = v", when="before_groups")
        # v1lab starts every presentation at reset; so does Brian2 at each 2-s window
        # (otherwise Brian2 skips v1lab's ~20-ms rise from reset: ~1 % more spikes).
        group.run_regularly("v = 0", dt=window_s * b2.second, when="start")
    group.cell = np.arange(n) % n_cells
    mon = b2.SpikeMonitor(group)
    net = b2.Network(group, mon)
    return net, mon


def brian2_spikes(mon, n_orient: int, n_trials: int, n_cells: int, duration_s: float) -> Spikes:
    i = np.asarray(mon.i[:], dtype=np.int64)
    t = np.asarray(mon.t_[:], dtype=np.float64)
    o = np.minimum((t / duration_s).astype(np.int64), n_orient - 1)
    trial, cell = i // n_cells, i % n_cells
    return Spikes(
        (o * n_trials + trial) * n_cells + cell,
        t - o * duration_s,
        n_orient,
        n_trials,
        n_cells,
        duration_s,
    )


class Brian2Standalone:
    """One cpp_standalone build (a formulation, a thread count), run as many times as asked."""

    def __init__(
        self, b2, model, formulation, threads, values, n_orient, n_trials, n_cells, duration_s
    ):
        self.b2 = b2
        self.shape = (n_orient, n_trials, n_cells, duration_s)
        self.dir = tempfile.mkdtemp(prefix=f"v1lab_b2_{model}_{formulation}_{threads}_")
        b2.set_device("cpp_standalone", directory=self.dir, build_on_run=False)
        b2.device.reinit()
        b2.device.activate(directory=self.dir, build_on_run=False)
        # 0 = no OpenMP (one thread); 2 = OpenMP with two threads.
        b2.prefs.devices.cpp_standalone.openmp_threads = 0 if threads == 1 else threads
        net, self.mon = build_brian2(b2, model, formulation, values, n_cells, n_trials, duration_s)
        net.run(n_orient * duration_s * b2.second)
        tic = time.perf_counter()
        b2.device.build(directory=self.dir, compile=False, run=False)
        self.write_s = time.perf_counter() - tic
        tic = time.perf_counter()
        b2.device.compile_source(self.dir, b2.prefs.codegen.cpp.compiler, False, False)
        self.compile_s = time.perf_counter() - tic

    def run(self) -> tuple[float, float, float, Spikes]:
        """(simulation s, binary wall s, simulation CPU s, spikes).

        The binary's simulation CPU time is estimated as its simulation (wall) time times
        the binary's CPU / wall ratio (``getrusage`` of the child process): the share of
        the cores it got while other jobs ran, taken as uniform over its run.
        """
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        tic = time.perf_counter()
        self.b2.device.run(directory=self.dir, with_output=False)
        wall = time.perf_counter() - tic
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        sim = float(self.b2.device._last_run_time)
        return sim, wall, sim * cpu / wall, brian2_spikes(self.mon, *self.shape)

    def close(self) -> None:
        self.b2.device.reinit()
        self.b2.set_device("runtime")
        shutil.rmtree(self.dir, ignore_errors=True)


def run_brian2_runtime(b2, model, values, n_orient, n_trials, n_cells, duration_s):
    """One run on the default runtime target; return (seconds, Spikes)."""
    b2.start_scope()
    net, mon = build_brian2(b2, model, "idiomatic", values, n_cells, n_trials, duration_s)
    dt, _ = timed(lambda: net.run(n_orient * duration_s * b2.second))
    return dt, brian2_spikes(mon, n_orient, n_trials, n_cells, duration_s)


def warm_up_runtime(b2, model, values, n_cells, n_trials):
    """Compile the runtime target's code objects (cached on disk) before timing."""
    b2.start_scope()
    net, _ = build_brian2(b2, model, "idiomatic", values[:20], n_cells, n_trials, 0.002)
    net.run(2 * b2.ms)


# --------------------------------------------------------------------------------------


def agree(a: dict[str, float], b: dict[str, float]) -> tuple[bool, str]:
    d_rate = abs(a["rate_hz"] / b["rate_hz"] - 1)
    d_ff = abs(a["fano"] - b["fano"])
    d_cv = abs(a["cv_isi"] - b["cv_isi"])
    ok = d_rate <= 0.02 and d_ff <= 0.05 and d_cv <= 0.05
    return ok, f"rate {100 * d_rate:.2f} % (<= 2), FF {d_ff:.3f} (<= 0.05), CV {d_cv:.3f} (<= 0.05)"


def brian2_configs(formulations: list[str], threads: list[int]) -> list[tuple[str, int]]:
    return [(f, t) for t in threads for f in formulations]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-cells", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--orientations", type=int, default=16)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--duration-s", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side (>= 3)")
    parser.add_argument(
        "--models", nargs="+", default=["poisson", "lif"], choices=["poisson", "lif"]
    )
    parser.add_argument(
        "--formulations",
        nargs="+",
        default=["idiomatic", "best"],
        choices=["idiomatic", "best"],
        help="Brian2 models to run (speedups are against the faster one)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="thread counts, the same on both sides (Brian2: OpenMP in cpp_standalone)",
    )
    parser.add_argument(
        "--runtime",
        default="none",
        help="Brian2 runtime target for the idiomatic model, one thread: auto (its "
        "default), cython, numpy, none",
    )
    parser.add_argument(
        "--runtime-max-n",
        type=int,
        default=1000,
        help="run the runtime target only up to this N (at 10,000 it adds ~40 min)",
    )
    parser.add_argument(
        "--omp-wait-policy",
        choices=["default", "passive", "active"],
        default="default",
        help="OMP_WAIT_POLICY for Brian2's OpenMP binaries (passive: threads sleep at the "
        "per-step barriers instead of spinning, which is what pays on shared cores)",
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.omp_wait_policy != "default":
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()  # the binary inherits it

    print("v1lab vs Brian2: the same spiking workload, alternating runs")
    for line in blas_report():
        print("  " + line)
    b2 = import_brian2()
    if b2 is None:
        return 0
    kernels = "numba " + __import__("numba").__version__ if _common.compiled_kernels() else "numpy"
    print(f"  Brian2 {b2.__version__}; v1lab spike kernels: {kernels}")
    print(f"  {load_note()}")
    print(f"  OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset: the runtime default)')}")
    print(
        f"  workload: {args.orientations} orientations x {args.trials} trials x "
        f"{args.duration_s:g} s, traces at 1 kHz, dt = 0.1 ms, repeats = {args.repeats}"
    )
    rows, stats_rows, floor_rows, speed_rows = [], [], [], []
    failed = False
    for model in args.models:
        for n_cells in args.n_cells:
            result = bench_one(b2, model, n_cells, args)
            failed |= result["failed"]
            rows += result["rows"]
            stats_rows += result["stats_rows"]
            floor_rows += result["floor_rows"]
            speed_rows += result["speed_rows"]

    print()
    print(
        "Times: medians of",
        args.repeats,
        "alternating runs; ns/nstep = per neuron per 0.1-ms step (wall); CPU s = the "
        "process's CPU time (Brian2: simulation time x the binary's CPU/wall); load = 1-min "
        "load average at the end of each configuration's runs",
    )
    print(
        table(
            [
                "model",
                "N",
                "threads",
                "simulator",
                "s",
                "ns/nstep",
                "CPU s",
                "B2 binary wall s",
                "B2 write+compile s",
                "B2/v1lab",
                "CPU B2/v1lab",
                "load",
            ],
            rows,
        )
    )
    print()
    print(
        table(
            ["model", "N", "simulator", "threads", "rate Hz", "Fano", "ISI CV", "spikes", "check"],
            stats_rows,
        )
    )
    if floor_rows:
        print()
        print("Read-the-input floor: one streaming pass over the rates + one exponential per spike")
        print(
            table(
                [
                    "N",
                    "threads",
                    "v1lab s",
                    "v1lab CPU s",
                    "floor s",
                    "floor CPU s",
                    "v1lab/floor",
                    "CPU v1lab/floor",
                    "spikes",
                    "load",
                ],
                floor_rows,
            )
        )
    print()
    print("Speedup against the faster Brian2 model, same thread count on both sides:")
    print(
        table(
            [
                "model",
                "N",
                "threads",
                "faster Brian2",
                "B2 s",
                "v1lab s",
                "speedup",
                "CPU speedup",
                "stats",
            ],
            speed_rows,
        )
    )
    print()
    print(f"statistics: {'DISAGREE — ratios do not count' if failed else 'agree'}")
    for model, n_cells, threads, _, _, _, speedup, cpu_speedup, ok in speed_rows:
        if n_cells == max(args.n_cells):
            value = f"{speedup} (CPU {cpu_speedup})" if ok == "agree" else "n/a"
            print(f"{model}_speedup_vs_brian2_best_{threads}thread: {value}")
    return 1 if failed else 0


def bench_one(b2, model: str, n_cells: int, args) -> dict:
    """All runs of one model at one N: v1lab and every Brian2 configuration, alternating."""
    rates = make_rates(n_cells, args.orientations, args.duration_s, args.seed)
    if model == "poisson":
        values = rates / (1.0 - rates * DEAD_S)  # compensated drive, both sides
    else:
        values = lif._mu_for_rates(rates, TAU_S, REFRACTORY_S + DT_S / 2, SIGMA, "rates")
    neuron_steps = n_cells * args.trials * args.orientations * args.duration_s / DT_S
    tag = f"[{model} N={n_cells}"
    # Warm-up (compiles/loads v1lab's kernels) on one orientation, untimed.
    # (all trials: a single trial would fall below the compiled kernels' work threshold).
    for threads in args.threads:
        run_v1lab(model, rates[: round(args.duration_s * FS)], 1, args.trials, 0, threads)
    t_v1: dict[int, list[float]] = {t: [] for t in args.threads}
    cpu_v1: dict[int, list[float]] = {t: [] for t in args.threads}
    st_v1: dict[int, dict] = {}
    t_floor: list[tuple[float, float]] = []
    n_spikes = 0
    b2_times: dict[tuple[str, int], tuple[list, list, list, float, float, dict, float]] = {}
    rep_seed = iter(range(args.seed + 1, args.seed + 10_000))

    def v1lab_once(threads: int) -> None:
        nonlocal n_spikes
        dt, cpu, sp = run_v1lab(
            model, rates, args.orientations, args.trials, next(rep_seed), threads
        )
        t_v1[threads].append(dt)
        cpu_v1[threads].append(cpu)
        if threads not in st_v1:
            st_v1[threads] = compute_stats(sp)
        n_spikes = sp.time_s.size
        print(f"  {tag} {threads} thr] v1lab {dt:8.3f} s (CPU {cpu:.3f} s)", flush=True)
        if model == "poisson" and threads == 1:
            t_floor.append(read_the_input_floor(rates, args.orientations, n_spikes))

    for formulation, threads in brian2_configs(args.formulations, args.threads):
        sa = Brian2Standalone(
            b2,
            model,
            formulation,
            threads,
            values,
            args.orientations,
            args.trials,
            n_cells,
            args.duration_s,
        )
        b2.set_device("runtime")
        sims, walls, cpus, st = [], [], [], None
        for _ in range(args.repeats):
            v1lab_once(threads)
            b2.set_device("cpp_standalone", directory=sa.dir, build_on_run=False)
            sim, wall, cpu, sp = sa.run()
            b2.set_device("runtime")
            sims.append(sim)
            walls.append(wall)
            cpus.append(cpu)
            if st is None:
                st = compute_stats(sp)
            del sp
            print(
                f"  {tag} {threads} thr] Brian2 {formulation} cpp_standalone {sim:8.2f} s "
                f"(binary wall {wall:.2f} s, simulation CPU ~{cpu:.2f} s)",
                flush=True,
            )
        sa.close()
        b2_times[(formulation, threads)] = (
            sims,
            cpus,
            walls,
            sa.write_s,
            sa.compile_s,
            st,
            os.getloadavg()[0],
        )

    runtime_row = None
    if args.runtime != "none" and n_cells <= args.runtime_max_n:
        b2.prefs.codegen.target = args.runtime
        warm_up_runtime(b2, model, values, n_cells, args.trials)
        t_rt, st_rt = [], None
        for _ in range(args.repeats):
            v1lab_once(1)
            dt_rt, sp = run_brian2_runtime(
                b2, model, values, args.orientations, args.trials, n_cells, args.duration_s
            )
            t_rt.append(dt_rt)
            st_rt = st_rt or compute_stats(sp)
            del sp
            print(f"  {tag} 1 thr] Brian2 runtime ({args.runtime}) {dt_rt:8.2f} s", flush=True)
        runtime_row = (median(t_rt), st_rt, os.getloadavg()[0])

    out = {"rows": [], "stats_rows": [], "floor_rows": [], "speed_rows": [], "failed": False}
    load = f"{os.getloadavg()[0]:.1f}"
    med_v1 = {t: median(v) for t, v in t_v1.items()}
    cpu_v1_med = {t: median(v) for t, v in cpu_v1.items()}

    def stats_row(name: str, threads: int, st: dict, check: str) -> list:
        return [
            model,
            n_cells,
            name,
            threads,
            f"{st['rate_hz']:.3f}",
            f"{st['fano']:.3f}",
            f"{st['cv_isi']:.3f}",
            st["spikes"],
            check,
        ]

    for threads in args.threads:
        m = med_v1[threads]
        out["rows"].append(
            [
                model,
                n_cells,
                threads,
                "v1lab",
                f"{m:.3f}",
                f"{1000000000.0 * m / neuron_steps:.3f}",
                f"{cpu_v1_med[threads]:.3f}",
                "-",
                "-",
                "-",
                "-",
                load,
            ]
        )
        out["stats_rows"].append(stats_row("v1lab", threads, st_v1[threads], "-"))
    for (formulation, threads), (sims, cpus, walls, w_s, c_s, st, b2_load) in b2_times.items():
        m, m_cpu = median(sims), median(cpus)
        ok, how = agree(st_v1[threads], st)
        out["failed"] |= not ok
        print(
            f"  {tag} {threads} thr] statistics v1lab vs Brian2 {formulation}: "
            f"{'AGREE' if ok else 'DISAGREE'} — {how}"
        )
        out["rows"].append(
            [
                model,
                n_cells,
                threads,
                f"Brian2 {formulation} cpp",
                f"{m:.2f}",
                f"{1000000000.0 * m / neuron_steps:.2f}",
                f"{m_cpu:.2f}",
                f"{median(walls):.2f}",
                f"{w_s:.1f}+{c_s:.1f}",
                f"{m / med_v1[threads]:.1f}",
                f"{m_cpu / cpu_v1_med[threads]:.1f}",
                f"{b2_load:.1f}",
            ]
        )
        name = f"Brian2 {formulation} cpp"
        out["stats_rows"].append(stats_row(name, threads, st, "agree" if ok else "DISAGREE"))
    if runtime_row is not None:
        m, st, rt_load = runtime_row
        ok, how = agree(st_v1[1], st)
        out["failed"] |= not ok
        print(
            f"  {tag} 1 thr] statistics v1lab vs Brian2 runtime: "
            f"{'AGREE' if ok else 'DISAGREE'} — {how}"
        )
        name = f"Brian2 idiomatic {args.runtime}"
        out["rows"].append(
            [
                model,
                n_cells,
                1,
                name,
                f"{m:.2f}",
                f"{1000000000.0 * m / neuron_steps:.2f}",
                "-",
                "-",
                "-",
                f"{m / med_v1[1]:.1f}",
                "-",
                f"{rt_load:.1f}",
            ]
        )
        out["stats_rows"].append(stats_row(name, 1, st, "agree" if ok else "DISAGREE"))
    if t_floor:
        floor_s = median([w for w, _ in t_floor])
        floor_cpu = median([c for _, c in t_floor])
        for threads in args.threads:
            m, m_cpu = med_v1[threads], cpu_v1_med[threads]
            out["floor_rows"].append(
                [
                    n_cells,
                    threads,
                    f"{m:.3f}",
                    f"{m_cpu:.3f}",
                    f"{floor_s:.3f}",
                    f"{floor_cpu:.3f}",
                    f"{m / floor_s:.2f}",
                    f"{m_cpu / floor_cpu:.2f}",
                    n_spikes,
                    load,
                ]
            )
    for threads in args.threads:
        mine = {f: v for (f, t), v in b2_times.items() if t == threads}
        if not mine:
            continue
        best_f = min(mine, key=lambda f: median(mine[f][0]))
        m_b2, cpu_b2 = median(mine[best_f][0]), median(mine[best_f][1])
        ok = agree(st_v1[threads], mine[best_f][5])[0]
        out["speed_rows"].append(
            [
                model,
                n_cells,
                threads,
                best_f,
                f"{m_b2:.2f}",
                f"{med_v1[threads]:.3f}",
                f"{m_b2 / med_v1[threads]:.1f}",
                f"{cpu_b2 / cpu_v1_med[threads]:.1f}",
                "agree" if ok else "DISAGREE",
            ]
        )
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())

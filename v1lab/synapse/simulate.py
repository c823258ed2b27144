"""Simulate compartments driven by synaptic events: membrane potential, conductances, spikes.

:func:`sim_synaptic_cell` runs many independent trains (trials, conditions, N) of one
:class:`~v1lab.synapse.cell.CellParameters` at once in the compiled integrator of
:mod:`v1lab.synapse._kernel` (see there for the scheme). The inputs are
:class:`SynapticEvents`: presynaptic spike times, each with a train, a receptor and a
weight (the event's peak conductance, nS, as NEURON's ``Exp2Syn``). A train can be held
at a potential by a constant current (:func:`sim_synaptic_cell`'s ``holding_mv``), as an
experimenter does with the current-clamp amplifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.cells.trains import SpikeTrains
from v1lab.synapse import _kernel
from v1lab.synapse.cell import (
    TABLE_LO_MV,
    TABLE_STEP_MV,
    CellParameters,
    compute_rest_mv,
    make_gate_table,
    steady_current_pa,
    steady_gates,
)
from v1lab.synapse.receptors import JS_MG_HALF_MM, JS_SLOPE_PER_MV, Receptor

__all__ = [
    "SynapticEvents",
    "SynapticTrace",
    "compute_noise_sd_pa",
    "make_events",
    "sim_synaptic_cell",
]

#: Default integration step (ms): 25 µs, as the project's HH membrane.
DT_MS = 0.025
#: Spike detection level (mV): far above any EPSP, below every spike peak of the models.
DETECT_MV = -20.0


@dataclass(frozen=True, eq=False)
class SynapticEvents:
    """Presynaptic spikes arriving at ``n_trains`` trains, sorted by train then time.

    Attributes
    ----------
    n_trains : int
    ptr : ndarray of int64 (n_trains + 1,)
        Train k's events are ``[ptr[k], ptr[k + 1])``.
    time_s : ndarray of float64
        Arrival times (s).
    receptor : ndarray of int64
        Index of each event's receptor in the list given to :func:`sim_synaptic_cell`.
    weight_ns : ndarray of float64
        Peak conductance of each event (nS); 0 for a release failure.
    """

    n_trains: int
    ptr: np.ndarray
    time_s: np.ndarray
    receptor: np.ndarray
    weight_ns: np.ndarray

    @property
    def n_events(self) -> int:
        return int(self.time_s.size)


def make_events(
    train: Any, time_s: Any, weight_ns: Any, *, receptor: Any = 0, n_trains: int
) -> SynapticEvents:
    """Collect events given as flat arrays (any order) into :class:`SynapticEvents`.

    Parameters
    ----------
    train : array_like of int
        Train of each event, in ``[0, n_trains)``.
    time_s : array_like of float
        Arrival time of each event (s, >= 0).
    weight_ns : array_like of float or float
        Peak conductance of each event (nS, >= 0).
    receptor : array_like of int or int, default 0
        Receptor index of each event.
    n_trains : int

    Examples
    --------
    >>> ev = make_events([1, 0, 1], [0.02, 0.01, 0.0], 1.0, n_trains=2)
    >>> ev.ptr.tolist(), ev.time_s.tolist()
    ([0, 1, 3], [0.01, 0.0, 0.02])
    """
    n_trains = check_int("n_trains", n_trains, lo=1)
    try:
        tr = np.asarray(train, dtype=np.int64).ravel()
        t = np.asarray(time_s, dtype=np.float64).ravel()
        w = np.broadcast_to(np.asarray(weight_ns, dtype=np.float64), t.shape)
        rc = np.broadcast_to(np.asarray(receptor, dtype=np.int64), t.shape)
    except (TypeError, ValueError):
        raise ParameterError(
            "events", "arrays", "expected equal-length numeric arrays of trains, times, weights"
        ) from None
    if tr.shape != t.shape:
        raise ParameterError("train", f"{tr.size} values", f"expected {t.size}, one per event")
    if t.size:
        if tr.min() < 0 or tr.max() >= n_trains:
            raise ParameterError("train", int(tr.max()), f"expected trains in [0, {n_trains - 1}]")
        if not np.isfinite(t).all() or t.min() < 0:
            raise ParameterError("time_s", float(t.min()), "expected finite times >= 0 (s)")
        if not np.isfinite(w).all() or w.min() < 0:
            raise ParameterError("weight_ns", float(w.min()), "expected finite weights >= 0 (nS)")
        if rc.min() < 0:
            raise ParameterError("receptor", int(rc.min()), "expected receptor indices >= 0")
    order = np.lexsort((t, tr))
    ptr = np.zeros(n_trains + 1, np.int64)
    np.cumsum(np.bincount(tr, minlength=n_trains), out=ptr[1:])
    return SynapticEvents(n_trains, ptr, t[order], rc[order].copy(), w[order].copy())


@dataclass(frozen=True, eq=False)
class SynapticTrace:
    """What :func:`sim_synaptic_cell` returns.

    Attributes
    ----------
    spikes : SpikeTrains
        Spike times (s) of every train (``n_trials = n_trains``, ``n_cells = 1``).
    t_s : ndarray (n_samples,)
        Times of the recorded samples (s).
    trains : ndarray of int (n_rec,)
        Recorded trains, one row each.
    v_mv : ndarray (n_rec, n_samples)
        Membrane potential (mV).
    g_ns : ndarray (n_rec, n_receptors, n_samples)
        Conductance of each receptor (nS; NMDA before its Mg²⁺ block).
    rest_mv : float
        The cell's resting potential.
    """

    spikes: SpikeTrains
    t_s: np.ndarray
    trains: np.ndarray
    v_mv: np.ndarray
    g_ns: np.ndarray
    rest_mv: float


def _receptor_arrays(receptors: Sequence[Any], dt: float) -> dict[str, np.ndarray]:
    if isinstance(receptors, Receptor):
        receptors = [receptors]
    if not receptors or not all(isinstance(r, Receptor) for r in receptors):
        raise ParameterError("receptors", receptors, "expected a non-empty list of Receptor")
    tr = np.array([r.tau_rise_ms for r in receptors])
    td = np.array([r.tau_decay_ms for r in receptors])
    return {
        "syn_f": np.array([r.peak_factor for r in receptors]),
        "syn_d1": np.exp(-dt / tr),
        "syn_d2": np.exp(-dt / td),
        "syn_q1": tr * -np.expm1(-dt / tr) / dt,
        "syn_q2": td * -np.expm1(-dt / td) / dt,
        "syn_e": np.array([r.e_rev_mv for r in receptors]),
    }


def _check_drive(drive_ns: Any, drive_dt_ms: Any, dt: float, n_trains: int):
    """The drive conductance as a C-contiguous 2-D array, and the steps per sample."""
    if drive_ns is None:
        return np.zeros((1, 0)), 1
    try:
        drive = np.ascontiguousarray(np.asarray(drive_ns, dtype=np.float64))
    except (TypeError, ValueError):
        raise ParameterError("drive_ns", drive_ns, "expected a numeric 2-D array (nS)") from None
    if drive.ndim != 2 or drive.shape[0] not in (1, n_trains) or drive.shape[1] < 1:
        raise ParameterError(
            "drive_ns",
            f"array of shape {drive.shape}",
            f"expected shape (1 or {n_trains}, n_samples)",
        )
    if not np.isfinite(drive).all() or drive.min() < 0:
        raise ParameterError(
            "drive_ns", float(np.nanmin(drive)), "expected finite conductances >= 0 (nS)"
        )
    step = check_number("drive_dt_ms", drive_dt_ms, lo=dt, hi=1000, unit="ms")
    every = round(step / dt)
    if abs(every * dt - step) > 1e-9 * step:
        raise ParameterError("drive_dt_ms", drive_dt_ms, f"expected a multiple of {dt:g} ms")
    return drive, every


def sim_synaptic_cell(
    cell: CellParameters,
    receptors: Sequence[Receptor] | Receptor,
    events: SynapticEvents,
    duration_s: float,
    *,
    dt_ms: float = DT_MS,
    record: Any = None,
    record_dt_ms: float | None = None,
    holding_mv: Any = None,
    mg_mm: float = 1.0,
    current_based: Any = None,
    drive_ns: Any = None,
    drive_dt_ms: float | None = None,
    drive_e_rev_mv: float = 0.0,
    noise_sd_pa: float = 0.0,
    noise_tau_ms: float = 5.0,
    noise_seed: int = 0,
) -> SynapticTrace:
    """Simulate ``events.n_trains`` independent copies of ``cell`` driven by ``events``.

    Parameters
    ----------
    cell : CellParameters
    receptors : sequence of Receptor
        The receptors that ``events.receptor`` indexes.
    events : SynapticEvents
    duration_s : float
        Simulated time (s); every train starts at rest (or at ``holding_mv``).
    dt_ms : float, default 0.025
        Integration step (ms), 0.001–0.1.
    record : sequence of int, 'all' or None
        Trains whose V and conductances to keep.
    record_dt_ms : float, optional
        Sampling interval of the record (ms), a multiple of ``dt_ms``; default ``dt_ms``.
    holding_mv : float or array_like (n_trains,), optional
        Hold each train at this potential with a constant current (the current that makes
        it a fixed point; below threshold it is a stable one).
    mg_mm : float, default 1.0
        Extracellular Mg²⁺ (mM) for receptors with ``mg_block``.
    current_based : sequence of bool, optional
        Per receptor: inject ``g(t) (E_rev − V_rest)`` instead of ``g(t) (E_rev − V)`` —
        the same waveform with a fixed driving force, which sums exactly linearly.
    drive_ns : array_like (n_trains or 1, n_samples), optional
        A given conductance (nS, >= 0) — a receptor gated by something other than the
        membrane potential (stretch) — held constant over samples of ``drive_dt_ms``
        (a multiple of ``dt_ms``), reversing at ``drive_e_rev_mv``; 0 after its end.
    noise_sd_pa, noise_tau_ms : float, default 0, 5
        Background noise: an Ornstein–Uhlenbeck current of this SD (pA) and correlation
        time (ms), standing for the synaptic bombardment from the rest of the cortex
        (see :func:`compute_noise_sd_pa`); 0 = none.
    noise_seed : int, default 0
        Seed of the noise; train k's noise depends only on (seed, k).

    Returns
    -------
    SynapticTrace

    Examples
    --------
    >>> from v1lab.synapse import AMPA, make_cell
    >>> ev = make_events([0], [0.005], 5.0, n_trains=1)
    >>> tr = sim_synaptic_cell(make_cell("passive"), [AMPA], ev, 0.05, record=[0])
    >>> round(float(tr.v_mv.max() - tr.rest_mv), 3)     # a 5-nS AMPA EPSP (mV)
    3.382
    """
    if not isinstance(cell, CellParameters):
        raise ParameterError("cell", cell, "expected a CellParameters (see make_cell)")
    if not isinstance(events, SynapticEvents):
        raise ParameterError("events", events, "expected SynapticEvents (see make_events)")
    duration_s = check_number("duration_s", duration_s, lo=0, lo_open=True, hi=3600, unit="s")
    dt = check_number("dt_ms", dt_ms, lo=0.001, hi=0.1, unit="ms")
    mg = check_number("mg_mm", mg_mm, lo=0, hi=20, unit="mM")
    syn = _receptor_arrays(receptors, dt)
    n_syn = syn["syn_f"].size
    if events.n_events and int(events.receptor.max()) >= n_syn:
        raise ParameterError(
            "events.receptor", int(events.receptor.max()), f"expected indices < {n_syn}"
        )
    modes = np.array([1 if r.mg_block else 0 for r in np.atleast_1d(receptors)], np.int64)
    if current_based is not None:
        flags = np.asarray(current_based, dtype=bool).ravel()
        if flags.size != n_syn:
            raise ParameterError("current_based", current_based, f"expected {n_syn} booleans")
        modes = np.where(flags, 2, modes)
    n_trains = events.n_trains
    every = 1
    if record_dt_ms is not None:
        check_number("record_dt_ms", record_dt_ms, lo=dt, unit="ms")
        every = round(record_dt_ms / dt)
        if abs(every * dt - record_dt_ms) > 1e-9 * record_dt_ms:
            raise ParameterError("record_dt_ms", record_dt_ms, f"expected a multiple of {dt:g} ms")
    if record is None:
        rec = np.zeros(0, np.int64)
    elif isinstance(record, str) and record == "all":
        rec = np.arange(n_trains)
    else:
        rec = np.unique(np.asarray(record, dtype=np.int64).ravel())
        if rec.size and (rec.min() < 0 or rec.max() >= n_trains):
            raise ParameterError("record", record, f"expected trains in [0, {n_trains - 1}]")
    rest = compute_rest_mv(cell)
    n_steps = round(duration_s * 1e3 / dt)
    drive, drive_every = _check_drive(drive_ns, drive_dt_ms, dt, n_trains)
    check_number("drive_e_rev_mv", drive_e_rev_mv, lo=-120, hi=80, unit="mV")
    noise_sd = check_number("noise_sd_pa", noise_sd_pa, lo=0, hi=10_000, unit="pA")
    noise_tau = check_number("noise_tau_ms", noise_tau_ms, lo=0.1, hi=1000, unit="ms")
    seed = np.uint64(check_int("noise_seed", noise_seed, lo=0, hi=2**64 - 1))
    if holding_mv is None:
        v0 = np.full(n_trains, rest)
        inject = np.zeros(n_trains)
    else:
        hold = np.broadcast_to(np.asarray(holding_mv, dtype=np.float64), (n_trains,))
        if not np.isfinite(hold).all() or hold.min() < -120 or hold.max() > 40:
            raise ParameterError("holding_mv", holding_mv, "expected potentials in [-120, 40] mV")
        v0 = hold.copy()
    # The starting states, computed once per distinct starting potential.
    starts, which = np.unique(v0, return_inverse=True)
    gates0 = np.array([steady_gates(float(v), cell) for v in starts])[which]
    if holding_mv is not None:
        inject = np.array([steady_current_pa(float(v), cell) for v in starts])[which]
    rec_row = np.full(n_trains, -1, np.int64)
    rec_row[rec] = np.arange(rec.size)
    n_cols = (n_steps + every - 1) // every
    max_spikes = int(duration_s * 1e3) + 2  # spikes are > 1 ms apart in every model here
    v_rec, g_rec, spike_t, spike_n = _kernel.empty_outputs(
        n_trains, rec.size, n_syn, n_cols, max_spikes
    )
    ev_step = np.floor(events.time_s * 1e3 / dt + 1e-9).astype(np.int64)
    _kernel.run_trains(
        n_steps,
        dt,
        v0,
        np.ascontiguousarray(gates0),
        make_gate_table(cell, dt),
        TABLE_LO_MV,
        TABLE_STEP_MV,
        np.array(cell.conductances_ns),
        np.array(cell.reversals_mv),
        cell.capacitance_pf,
        syn["syn_f"],
        syn["syn_d1"],
        syn["syn_d2"],
        syn["syn_q1"],
        syn["syn_q2"],
        syn["syn_e"],
        modes,
        mg / JS_MG_HALF_MM,
        JS_SLOPE_PER_MV,
        rest,
        events.ptr,
        ev_step,
        events.receptor,
        events.weight_ns,
        inject,
        noise_sd,
        noise_tau,
        seed,
        drive,
        drive_every,
        float(drive_e_rev_mv),
        rec_row,
        every,
        v_rec,
        g_rec,
        DETECT_MV,
        cell.active,
        spike_t,
        spike_n,
    )
    counts = np.minimum(spike_n, max_spikes)
    indptr = np.zeros(n_trains + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    keep = np.arange(max_spikes)[None, :] < counts[:, None]
    times = spike_t[keep] * 1e-3
    spikes = SpikeTrains(times, indptr, n_trains, 1, duration_s)
    return SynapticTrace(
        spikes=spikes,
        t_s=np.arange(n_cols) * every * dt * 1e-3,
        trains=rec,
        v_mv=v_rec[: rec.size],
        g_ns=g_rec[: rec.size],
        rest_mv=rest,
    )


def compute_noise_sd_pa(cell: CellParameters, vm_sd_mv: float, tau_ms: float) -> float:
    """The SD (pA) of an OU current of correlation time ``tau_ms`` that makes the membrane
    potential fluctuate with SD ``vm_sd_mv`` at rest.

    Filtered by the membrane (resting conductance G, τm = C/G), OU current noise gives
    ``Var V = σ_I² τn / (G² (τn + τm))`` (the RC filter of an exponentially correlated
    current), so ``σ_I = σ_V G √((τn + τm)/τn)``. G is the chord conductance at rest
    (leak plus the channels open there), so the relation is exact for the passive cell
    and, below threshold, close for the spiking ones.

    Examples
    --------
    >>> from v1lab.synapse import make_cell
    >>> round(compute_noise_sd_pa(make_cell("passive"), 1.0, 5.0), 2)   # G = 10.05 nS
    22.47
    """
    sd = check_number("vm_noise_sd_mv", vm_sd_mv, lo=0, hi=20, unit="mV")
    tau = check_number("noise_tau_ms", tau_ms, lo=0.1, hi=1000, unit="ms")
    rest = compute_rest_mv(cell)
    g_na, g_k, g_m, g_l = cell.conductances_ns
    m, h, n, p = steady_gates(rest, cell)
    g = g_l + (g_na * m**3 * h + g_k * n**4 + g_m * p if cell.active else 0.0)
    tau_m = cell.capacitance_pf / g  # pF / nS = ms
    return float(sd * g * np.sqrt((tau + tau_m) / tau))

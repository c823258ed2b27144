"""Simulate a cable: a current pulse at one end, electrodes anywhere, the spike's passage.

:func:`sim_cable` integrates a :class:`~v1lab.axon.geometry.Cable` from rest with the
implicit step of :mod:`v1lab.axon._kernel` (backward Euler with the tridiagonal solve,
gates one step behind — NEURON's default fixed step) and returns a :class:`CableRun`:
the electrode voltages at every step, V(x) snapshots for the space–time picture, and per
compartment the first upward crossing of the detection threshold (interpolated within
the step), the peak and the steepest rise. Velocities and block are measured from those
by :mod:`v1lab.axon.measure`.

The time step
-------------
Two integrators (``method``): backward Euler, NEURON's default fixed step, and
Crank–Nicolson, NEURON's ``secondorder = 2`` (:mod:`v1lab.axon._kernel`). Backward Euler
is L-stable and Crank–Nicolson A-stable: neither blows up at any ``dt``, so the bound
refused is the one past which the scheme stops being the model: the gates lag ``V`` by a
step (half a step, staggered, for Crank–Nicolson), and the spike's rise lasts
~0.3 ms / φ, where φ is how much faster the rates are than HH 1952's at 6.3 °C
(:attr:`~v1lab.axon.geometry.Cable.speed`). ``dt_us · φ`` is limited to 100 µs for both
methods (HH: φ = 3^((T − 6.3)/10), 26 µs at 18.5 °C, 7.4 µs at 30 °C; the mammalian
CRRSS node: φ = 50 × 3^((T − 37)/10), 2 µs at 37 °C). At the limit backward Euler's
velocity is a few per cent off and Crank–Nicolson's under 1 % (HH 1952's axon on the
250-µm grid at 25 µs: 18.31 and 18.58 m/s against 18.73; the nerve study's CRRSS fibre
at 2 µs: 57.27 and 60.11 against 60.38 m/s; ``tests/axon/test_cable.py``). What
Crank–Nicolson costs: it damps the fastest modes of the grid weakly (module notes of
:mod:`v1lab.axon._kernel`), so a compartment whose own time constant is far below
``dt`` rings from step to step after the stimulus's onset; backward Euler does not.

Units: µs and µm at the interface, mV, ms, nF, µS, nA inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.axon import _kernel
from v1lab.axon.geometry import Cable
from v1lab.axon.nodes import membrane_state
from v1lab.cells import hh_backend

__all__ = [
    "MAX_DT_PHI_US",
    "METHODS",
    "CableRun",
    "axial_conductance_us",
    "check_run_settings",
    "default_stim_na",
    "sim_cable",
]

#: Limit on ``dt_us · φ`` (see the module notes).
MAX_DT_PHI_US = 100.0
#: The integrators: NEURON's default fixed step and its ``secondorder = 2``.
METHODS = ("backward_euler", "crank_nicolson")


@dataclass(frozen=True, eq=False)
class CableRun:
    """What :func:`sim_cable` recorded.

    Attributes
    ----------
    cable : Cable
    t_ms : ndarray (n_steps + 1,)
        Sample times of the electrode traces (ms), from 0.
    electrodes_um : ndarray (k,)
        Requested electrode positions; ``electrode_index`` the compartments they sit in.
    v_mv : ndarray (k, n_steps + 1)
        Electrode voltages.
    snap_t_ms : ndarray (n_snap,), snap_v_mv : ndarray (n_snap, n)
        V(x) at every compartment, every ``snap_every`` steps.
    cross_ms : ndarray (n,)
        First upward crossing of ``threshold_mv`` at each compartment (NaN: never).
    peak_mv, max_dvdt_mv_ms : ndarray (n,)
        Highest voltage and steepest rise at each compartment.
    dt_us : float
    threshold_mv : float
    stim_na : float
        Amplitude of the stimulus pulse (nA).
    method : str
        ``"backward_euler"`` or ``"crank_nicolson"``.
    """

    cable: Cable
    t_ms: np.ndarray
    electrodes_um: np.ndarray
    electrode_index: np.ndarray
    v_mv: np.ndarray
    snap_t_ms: np.ndarray
    snap_v_mv: np.ndarray
    cross_ms: np.ndarray
    peak_mv: np.ndarray
    max_dvdt_mv_ms: np.ndarray
    dt_us: float
    threshold_mv: float
    stim_na: float
    method: str = "backward_euler"


def axial_conductance_us(cable: Cable) -> np.ndarray:
    """Conductance (µS) between neighbouring compartment centres: two half-lengths.

    ``R = ρ (L_i/2) / (π d_i²/4) + ρ (L_{i+1}/2) / (π d_{i+1}²/4)``, as NEURON joins
    segment centres.
    """
    half = (
        cable.ra_ohm_cm
        * (0.5 * cable.length_um * 1e-4)
        / (np.pi * (0.5 * cable.diameter_um * 1e-4) ** 2)
    )
    return 1e6 / (half[:-1] + half[1:])


def _membrane_arrays(cable: Cable) -> tuple[np.ndarray, ...]:
    area_cm2 = np.pi * cable.diameter_um * cable.length_um * 1e-8
    to_nano = area_cm2 * 1e3  # µF→nF and mS→µS per cm² of membrane
    return (
        cable.cm_uf_cm2 * to_nano,
        cable.g_na_ms_cm2 * to_nano,
        cable.g_k_ms_cm2 * to_nano,
        cable.g_l_ms_cm2 * to_nano,
        np.ascontiguousarray(cable.e_l_mv, dtype=np.float64),
    )


def default_stim_na(cable: Cable, stim_ms: float = 0.1) -> float:
    """The default pulse (nA): 10 × :func:`_end_charge_pc` delivered in ``stim_ms``."""
    return 10.0 * _end_charge_pc(cable, _membrane_arrays(cable)[0]) / stim_ms


def _end_charge_pc(cable: Cable, c_nf: np.ndarray) -> float:
    """Charge (pC) that moves the membrane within one length constant of x = 0 by 50 mV.

    The DC length constant ``λ = √(R_m d / 4ρ)`` of the first compartment's membrane;
    for a myelinated fibre, the first node and internode (up to the second node).
    """
    if cable.kind == "myelinated" and cable.node_index.size > 1:
        return float(c_nf[: cable.node_index[1]].sum()) * 50.0  # nF · mV = pC
    rm_ohm_cm2 = 1e3 / cable.g_l_ms_cm2[0]
    lam_um = 1e4 * np.sqrt(rm_ohm_cm2 * cable.diameter_um[0] * 1e-4 / (4.0 * cable.ra_ohm_cm))
    near = cable.x_um - 0.5 * cable.length_um <= lam_um
    near[0] = True
    return float(c_nf[near].sum()) * 50.0  # nF · mV = pC


def _check_electrodes(cable: Cable, electrodes_um: Any) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(electrodes_um, dtype=np.float64))
    except (TypeError, ValueError):
        raise ParameterError(
            "electrodes_um", electrodes_um, "expected positions along the axon (µm)"
        ) from None
    if arr.ndim != 1 or arr.size < 1 or arr.size > 64:
        raise ParameterError("electrodes_um", electrodes_um, "expected 1 to 64 positions (µm)")
    for x in arr:
        cable.index_at(float(x), name="electrodes_um")
    return arr


def check_run_settings(
    cable: Cable,
    *,
    duration_ms: Any = 10.0,
    dt_us: Any = 25.0,
    stim_ms: Any = 0.1,
    electrodes_um: Any = (),
    snap_every: Any = 0,
    method: Any = "backward_euler",
) -> tuple[float, float, float, np.ndarray, int]:
    """Check a run's settings against ``cable`` before any work (see :func:`sim_cable`).

    Returns ``(duration_ms, dt_us, stim_ms, electrodes_um, snap_every)``.
    """
    if not isinstance(cable, Cable):
        raise ParameterError("cable", cable, "expected a Cable (make_unmyelinated_axon, ...)")
    check_choice("method", method, METHODS)
    duration = check_number("duration_ms", duration_ms, lo=0, lo_open=True, hi=10_000.0, unit="ms")
    dt_max = MAX_DT_PHI_US / max(cable.speed, 1e-9)
    dt_us = check_number(
        "dt_us",
        dt_us,
        lo=0.01,
        hi=dt_max,
        unit=f"µs; backward Euler with lagging gates is the model only for dt·φ <= "
        f"{MAX_DT_PHI_US:g} µs (φ = {cable.speed:.3g} at {cable.temperature_c:g} °C)",
    )
    dt = dt_us * 1e-3
    n_steps = round(duration / dt)
    if n_steps < 1 or n_steps > 50_000_000:
        raise ParameterError(
            "duration_ms", duration_ms, f"expected 1 to 50 million steps of {dt_us:g} µs"
        )
    if n_steps * cable.n > 2e10:
        raise ParameterError(
            "duration_ms",
            duration_ms,
            f"{n_steps} steps × {cable.n} compartments is too long a run",
        )
    stim_dur = check_number("stim_ms", stim_ms, lo=dt, hi=duration, unit="ms")
    snap_every = check_int("snap_every", snap_every, lo=0)
    if snap_every and (n_steps // snap_every) * cable.n > 5e7:
        raise ParameterError(
            "snap_every",
            snap_every,
            "too many V(x) snapshots (over 50 million values); snap less often",
        )
    has = electrodes_um is not None and len(list(np.atleast_1d(electrodes_um))) > 0
    electrodes = _check_electrodes(cable, electrodes_um) if has else np.zeros(0)
    return duration, dt_us, stim_dur, electrodes, snap_every


def sim_cable(
    cable: Cable,
    *,
    duration_ms: float = 10.0,
    dt_us: float = 25.0,
    stim_na: float | None = None,
    stim_ms: float = 0.1,
    electrodes_um: Sequence[float] = (),
    snap_every: int = 0,
    backend: str = "auto",
    method: str = "backward_euler",
) -> CableRun:
    """Inject a current pulse into the first compartment and integrate the cable.

    Parameters
    ----------
    cable : Cable
    duration_ms : float, default 10
    dt_us : float, default 25
        Time step; ``dt_us · φ`` at most 100 µs (module notes).
    stim_na : float, optional
        Pulse amplitude (nA). Default: 10 × the charge that depolarises by 50 mV the
        membrane within one DC length constant of the stimulated end (myelinated: the
        first node and internode), delivered in
        ``stim_ms`` — well above threshold for every axon built here; a weak pulse fails
        to start a spike, which the run reports (no crossing times).
    stim_ms : float, default 0.1
        Pulse duration (from t = 0), rounded to whole steps.
    electrodes_um : sequence of float
        Recording positions (µm from the stimulated end).
    snap_every : int, default 0
        Keep V(x) every this many steps (0: none).
    backend : {'auto', 'numba', 'numpy'}
    method : {'backward_euler', 'crank_nicolson'}, default 'backward_euler'
        NEURON's default fixed step, or its ``secondorder = 2`` (module notes of
        :mod:`v1lab.axon._kernel`).

    Returns
    -------
    CableRun

    Examples
    --------
    >>> from v1lab.axon import make_unmyelinated_axon
    >>> run = sim_cable(make_unmyelinated_axon(length_mm=20), duration_ms=3,
    ...                 electrodes_um=[5000, 15000])
    >>> bool(np.isfinite(run.cross_ms).all())
    True
    """
    duration, dt_us, stim_dur, electrodes, snap_every = check_run_settings(
        cable,
        duration_ms=duration_ms,
        dt_us=dt_us,
        stim_ms=stim_ms,
        electrodes_um=electrodes_um,
        snap_every=snap_every,
        method=method,
    )
    dt = dt_us * 1e-3
    n_steps = round(duration / dt)
    c_nf, gna, gk, gl, el = _membrane_arrays(cable)
    if stim_na is None:
        stim_na = default_stim_na(cable, stim_dur)
    amp = check_number("stim_na", stim_na, lo=-1e7, hi=1e7, unit="nA")
    rec_idx = np.array([cable.index_at(float(x)) for x in electrodes], dtype=np.int64)
    backend = hh_backend(backend)

    state = membrane_state(cable.membrane)
    rest = state.rest_mv
    m0, h0, n0 = state.gates
    nc = cable.n
    v = np.full(nc, rest)
    m, h, n = np.full(nc, m0), np.full(nc, h0), np.full(nc, n0)
    ga = axial_conductance_us(cable) if nc > 1 else np.zeros(0)
    stim = np.zeros(n_steps)
    stim[: max(1, round(stim_dur / dt))] = amp
    rec = np.empty((rec_idx.size, n_steps + 1))
    n_snap = n_steps // snap_every if snap_every else 0
    snaps = np.empty((n_snap, nc))
    cross = np.full(nc, np.nan)
    peak = v.copy()
    dvdt = np.full(nc, -np.inf)
    thr = state.detect_mv
    run = _kernel.run_numba if backend == "numba" else _kernel.run_numpy
    run(v, m, h, n, c_nf, gna, gk, gl, el, ga, state.e_na_mv, state.e_k_mv,
        state.rate_reference_mv, cable.phi, dt, 0, stim, rec_idx, rec, snap_every, snaps, thr,
        cross, peak, dvdt, state.model_id, int(method == "crank_nicolson"))  # fmt: skip
    return CableRun(
        cable=cable,
        t_ms=np.arange(n_steps + 1) * dt,
        electrodes_um=electrodes,
        electrode_index=rec_idx,
        v_mv=rec,
        snap_t_ms=(np.arange(n_snap) + 1) * snap_every * dt,
        snap_v_mv=snaps,
        cross_ms=cross,
        peak_mv=peak,
        max_dvdt_mv_ms=dvdt,
        dt_us=dt_us,
        threshold_mv=thr,
        stim_na=amp,
        method=method,
    )

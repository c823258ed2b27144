"""The classical measurements of the Hodgkin–Huxley membrane.

* :func:`compute_fi_curve`, :func:`find_rheobase`, :func:`compute_hopf_current` — the
  f–I curve, the current threshold for firing and the loss of stability of rest: the
  numbers of type II excitability (Rinzel & Ermentrout 1989).
* :func:`sim_action_potential`, :func:`compute_spike_features`,
  :func:`compute_absolute_refractory_period` — one action potential: its shape, its six
  phases (:data:`SPIKE_PHASES`) and the refractoriness after it.

References
----------
Bean BP (2007). The action potential in mammalian central neurons. Nat Rev Neurosci
8:451–465.
Hassard B (1978). Bifurcation of periodic solutions of the Hodgkin–Huxley model for the
squid giant axon. J Theor Biol 71:401–420.
Hodgkin AL, Huxley AF (1952). A quantitative description of membrane current and its
application to conduction and excitation in nerve. J Physiol 117:500–544.
Izhikevich EM (2007). Dynamical Systems in Neuroscience. MIT Press.
Rinzel J, Ermentrout GB (1989). Analysis of neural excitability and oscillations. In
Koch C, Segev I (eds), Methods in Neuronal Modeling. MIT Press.
Rinzel J, Miller RN (1980). Numerical calculation of stable and unstable periodic
solutions to the Hodgkin–Huxley equations. Math Biosci 49:27–59.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize

from v1lab._validate import ParameterError, check_choice, check_number
from v1lab.cells._hh_common import MAX_DT_S, NOISE_TAU_S
from v1lab.cells.hh_kinetics import (
    HHParameters,
    alpha_beta,
    check_params,
    compute_resting_potential,
    steady_current,
    steady_gates,
)
from v1lab.cells.hh_membrane import MembraneTrace, sim_membrane

__all__ = [
    "FI_STARTS",
    "RHEOBASE_KINDS",
    "SPIKE_PHASES",
    "compute_absolute_refractory_period",
    "compute_fi_curve",
    "compute_hopf_current",
    "compute_spike_features",
    "find_rheobase",
    "sim_action_potential",
]

#: The six phases of an action potential, bounded by :func:`compute_spike_features`
#: (the membrane figure labels them).
SPIKE_PHASES = (
    "resting potential",
    "depolarisation to threshold",
    "overshoot",
    "repolarisation",
    "after-hyperpolarisation",
    "return to rest",
)


# --------------------------------------------------------------------------------------
# Classical measurements: f–I curve, rheobase, Hopf point
# --------------------------------------------------------------------------------------

#: Starting conditions of :func:`compute_fi_curve`.
FI_STARTS = ("rest", "firing")


def compute_fi_curve(
    currents_ua_cm2: Any,
    *,
    params: HHParameters | None = None,
    start: str = "rest",
    duration_s: float = 1.0,
    settle_s: float = 0.3,
    noise_ua_cm2: float = 0.0,
    noise_tau_s: float = NOISE_TAU_S,
    n_trials: int = 1,
    dt_s: float = MAX_DT_S,
    rng: np.random.Generator | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Steady firing rate (spikes/s) for constant input currents: the f–I curve.

    Parameters
    ----------
    currents_ua_cm2 : array_like (n_currents,)
        Constant input currents (µA/cm²).
    params : HHParameters, optional
    start : {'rest', 'firing'}, default 'rest'
        ``'rest'``: the current is switched on at t = 0 in a resting cell (a current step,
        the experimental protocol). ``'firing'``: the cell is first made to fire (a step
        from rest to 1.5 × the Hopf current for 50 ms) and the current is then eased down
        to its value over ``settle_s / 2``: the *upper* branch of a bistable (type II) membrane,
        which keeps firing down to the fold of its periodic orbits.
    duration_s : float, default 1.0
        Counting window (s), after ``settle_s``.
    settle_s : float, default 0.3
        Time allowed for the transient (s); spikes in it are not counted.
    noise_ua_cm2, noise_tau_s : float
        Input noise (default none: the deterministic f–I curve).
    n_trials : int, default 1
        Trials per current; the rate is their mean.
    dt_s : float, default 2.5e-5
    rng : numpy.random.Generator, optional
        Needed when ``noise_ua_cm2 > 0``.
    backend : {'auto', 'numba', 'numpy'}

    Returns
    -------
    numpy.ndarray (n_currents,)

    Examples
    --------
    >>> squid = HHParameters(temperature_c=6.3)
    >>> f = compute_fi_curve([5.0, 8.0, 20.0], params=squid, duration_s=0.5)
    >>> bool(f[0] == 0 and f[2] > f[1] > 50)             # silent, then ≥ 50 spikes/s
    True
    """
    cur = np.atleast_1d(np.asarray(currents_ua_cm2, dtype=np.float64))
    if cur.ndim != 1 or cur.size == 0 or not np.isfinite(cur).all():
        raise ParameterError(
            "currents_ua_cm2", currents_ua_cm2, "expected a 1-D array of finite currents"
        )
    params = check_params(params)
    start = check_choice("start", start, FI_STARTS)
    duration_s = check_number("duration_s", duration_s, lo=0, lo_open=True, unit="s")
    settle_s = check_number("settle_s", settle_s, lo=0, unit="s")
    fs = 1.0 / 1e-3  # the protocol is described at 1 kHz
    n_settle = round(settle_s * fs)
    n_total = n_settle + max(1, round(duration_s * fs))
    drive = np.broadcast_to(cur, (n_total, cur.size)).copy()
    if start == "firing":
        top = 1.5 * compute_hopf_current(params)
        n_kick = round(0.05 * fs)
        n_ramp = max(1, n_settle // 2)
        if n_kick + n_ramp > n_settle:
            raise ParameterError("settle_s", settle_s, "expected at least 0.1 s for start='firing'")
        # Ease out (cubic): the current approaches its value with zero slope, so the
        # trajectory does not lag behind the slowly deforming periodic orbit and fall off
        # it near the fold, where the orbit's basin is thin.
        w = 1.0 - (1.0 - np.linspace(0.0, 1.0, n_ramp, endpoint=False)[:, None]) ** 3
        drive[:n_kick] = top
        drive[n_kick : n_kick + n_ramp] = top + (cur - top) * w
    trains = sim_membrane(
        drive,
        fs,
        n_trials=n_trials,
        params=params,
        noise_ua_cm2=noise_ua_cm2,
        noise_tau_s=noise_tau_s,
        dt_s=dt_s,
        rng=rng,
        initial_current_ua_cm2=0.0,
        backend=backend,
    )
    t0 = n_settle / fs
    counts = np.array(
        [
            np.count_nonzero(trains.times_s[trains.indptr[k] : trains.indptr[k + 1]] >= t0)
            for k in range(trains.n_trains)
        ]
    ).reshape(n_trials, cur.size)
    return counts.mean(axis=0) / (trains.duration_s - t0)


#: What :func:`find_rheobase` looks for.
RHEOBASE_KINDS = ("repetitive", "step")


def find_rheobase(
    params: HHParameters | None = None,
    *,
    kind: str = "repetitive",
    lo_ua_cm2: float = 0.0,
    hi_ua_cm2: float | None = None,
    tol_ua_cm2: float = 0.01,
    dt_s: float = MAX_DT_S,
    backend: str = "auto",
) -> float:
    """Current threshold (µA/cm²) for firing, by vectorised bisection.

    Parameters
    ----------
    params : HHParameters, optional
    kind : {'repetitive', 'step'}, default 'repetitive'
        ``'repetitive'``: the lowest constant current that sustains repetitive firing
        (on the upper branch, :func:`compute_fi_curve` with ``start='firing'``) — the fold
        of the periodic orbits, ≈ 6.26 µA/cm² for the standard model at 6.3 °C (Hassard
        1978; Rinzel & Miller 1980). ``'step'``: the lowest current step applied at rest
        that makes the cell fire repetitively (at least 3 spikes/s in the counting window).
    lo_ua_cm2, hi_ua_cm2 : float
        Bracket; ``hi`` defaults to 1.5 × the Hopf current, where firing is certain.
    tol_ua_cm2 : float, default 0.01
        Width of the final bracket; the midpoint is returned.
    dt_s : float, default 2.5e-5
    backend : {'auto', 'numba', 'numpy'}

    Returns
    -------
    float

    Examples
    --------
    >>> round(find_rheobase(HHParameters(temperature_c=6.3), tol_ua_cm2=0.05), 1)
    6.3
    """
    params = check_params(params)
    kind = check_choice("kind", kind, RHEOBASE_KINDS)
    lo = check_number("lo_ua_cm2", lo_ua_cm2, unit="µA/cm²")
    hi = 1.5 * compute_hopf_current(params) if hi_ua_cm2 is None else hi_ua_cm2
    hi = check_number("hi_ua_cm2", hi, lo=lo, lo_open=True, unit="µA/cm²")
    tol = check_number("tol_ua_cm2", tol_ua_cm2, lo=1e-4, unit="µA/cm²")
    start = "firing" if kind == "repetitive" else "rest"
    # Time scales of the membrane shrink as 1/φ; give slow passages near the fold time.
    scale = max(1.0, 1.0 / params.phi)
    while hi - lo > tol:
        grid = np.linspace(lo, hi, 17)
        rates = compute_fi_curve(
            grid,
            params=params,
            start=start,
            duration_s=0.5 * scale,
            settle_s=0.5 * scale,
            dt_s=dt_s,
            backend=backend,
        )
        firing = rates >= 3.0
        if not firing[-1]:
            raise ParameterError(
                "hi_ua_cm2", hi, "expected a current at which the cell fires repetitively"
            )
        if firing[0]:
            raise ParameterError("lo_ua_cm2", lo, "expected a current at which the cell is silent")
        j = int(np.argmax(firing))
        lo, hi = float(grid[j - 1]), float(grid[j])
    return 0.5 * (lo + hi)


def _jacobian_max_real(v_mv: float, params: HHParameters) -> float:
    """Largest real part of the eigenvalues of the HH Jacobian at the fixed point ``v``."""
    e_na, e_k, _ = params.reversal_mv
    c = params.c_m_uf_cm2
    phi = params.phi
    v = np.array([v_mv])
    m, h, n = (x[0] for x in steady_gates(v, params))
    eps = 1e-4
    up = alpha_beta(v + eps, params)
    dn = alpha_beta(v - eps, params)
    ab = alpha_beta(v, params)
    d = [(u[0] - w[0]) / (2 * eps) for u, w in zip(up, dn, strict=True)]
    g_na, g_k, g_l = params.g_na_ms_cm2, params.g_k_ms_cm2, params.g_l_ms_cm2
    jac = np.zeros((4, 4))
    jac[0, 0] = -(g_na * m**3 * h + g_k * n**4 + g_l) / c
    jac[0, 1] = -3 * g_na * m**2 * h * (v_mv - e_na) / c
    jac[0, 2] = -g_na * m**3 * (v_mv - e_na) / c
    jac[0, 3] = -4 * g_k * n**3 * (v_mv - e_k) / c
    for row, (x, ia) in enumerate(((m, 0), (h, 2), (n, 4)), start=1):
        a, b = ab[ia][0], ab[ia + 1][0]
        jac[row, 0] = phi * (d[ia] * (1 - x) - d[ia + 1] * x)
        jac[row, row] = -phi * (a + b)
    return float(np.linalg.eigvals(jac).real.max())


def compute_hopf_current(params: HHParameters | None = None) -> float:
    """Current (µA/cm²) at which the resting state loses stability (Hopf bifurcation).

    The fixed point of the HH equations for a constant current ``I`` is where the
    steady-state current equals ``I``; it loses stability where a pair of eigenvalues of
    the Jacobian crosses the imaginary axis. For the standard model at 6.3 °C this is
    the subcritical Hopf bifurcation at I ≈ 9.78 µA/cm² (Hassard 1978; Rinzel & Miller
    1980; Izhikevich 2007, ch. 7), above the fold of the periodic orbits (≈ 6.26), so
    between the two the cell is bistable and its f–I curve starts abruptly (type II).

    Examples
    --------
    >>> round(compute_hopf_current(HHParameters(temperature_c=6.3)), 2)
    9.78
    """
    params = check_params(params)
    rest = compute_resting_potential(params)
    v = rest + np.arange(0.0, 40.0, 0.05)
    unstable = np.array([_jacobian_max_real(float(x), params) > 0 for x in v])
    if not unstable.any():
        raise ParameterError(
            "params", params, "expected a membrane whose rest loses stability within 40 mV"
        )
    k = int(np.argmax(unstable))
    v_c = optimize.brentq(lambda x: _jacobian_max_real(x, params), v[k - 1], v[k], xtol=1e-9)
    return float(steady_current(np.array(v_c), params))


# --------------------------------------------------------------------------------------
# One action potential: shape, phases, refractoriness
# --------------------------------------------------------------------------------------


def sim_action_potential(
    params: HHParameters | None = None,
    *,
    dt_s: float = 1e-6,
    duration_s: float = 0.03,
    onset_s: float = 0.002,
    pulse_ua_cm2: float = 200.0,
    pulse_s: float = 1e-4,
) -> MembraneTrace:
    """One noise-free action potential evoked from rest by a brief current pulse.

    The default pulse (200 µA/cm² for 0.1 ms, i.e. 20 mV of charge) is well above
    threshold at every allowed temperature and ends before the upstroke, so the spike is
    the membrane's own.

    Examples
    --------
    >>> tr = sim_action_potential()
    >>> len(tr.spike_times_s[0]), round(float(tr.v_mv.max()))
    (1, 36)
    """
    params = check_params(params)
    dt_s = check_number("dt_s", dt_s, lo=1e-7, hi=MAX_DT_S, unit="s")
    duration_s = check_number("duration_s", duration_s, lo=1e-3, hi=1.0, unit="s")
    onset_s = check_number("onset_s", onset_s, lo=0, hi=duration_s, unit="s")
    pulse_ua_cm2 = check_number("pulse_ua_cm2", pulse_ua_cm2, unit="µA/cm²")
    pulse_s = check_number("pulse_s", pulse_s, lo=dt_s, hi=duration_s, unit="s")
    n = round(duration_s / dt_s)
    drive = np.zeros((n, 1))
    k0 = round(onset_s / dt_s)
    drive[k0 : k0 + round(pulse_s / dt_s)] = pulse_ua_cm2
    _, trace = sim_membrane(drive, 1.0 / dt_s, params=params, dt_s=dt_s, record=[0])
    return trace


def _crossings(v: np.ndarray, level: float, up: bool = True) -> np.ndarray:
    """Sub-sample indices where ``v`` crosses ``level`` (upward or downward)."""
    a, b = v[:-1], v[1:]
    hit = (
        np.flatnonzero((a < level) & (b >= level))
        if up
        else np.flatnonzero((a >= level) & (b < level))
    )
    return hit + (level - a[hit]) / (b[hit] - a[hit])


def compute_spike_features(
    v_mv: Any,
    dt_s: float,
    *,
    baseline_mv: float | None = None,
    threshold_mv_ms: float = 10.0,
) -> dict[str, float]:
    """Features and phase boundaries of the first action potential in a voltage trace.

    Parameters
    ----------
    v_mv : array_like (n_samples,)
        Membrane potential (mV), sampled every ``dt_s``, with one spike (the first upward
        crossing of 0 mV … is analysed; the trace should start before it).
    dt_s : float
        Sampling interval (s).
    baseline_mv : float, optional
        Potential the spike starts from and returns to; default: the median of the trace
        before the spike's threshold (the resting potential for a spike evoked at rest).
    threshold_mv_ms : float, default 10
        Threshold criterion: the first point before the peak where dV/dt exceeds this
        (mV/ms = V/s; the usual 10–20 V/s criterion, e.g. Bean 2007).

    Returns
    -------
    dict
        ``baseline_mv``, ``threshold_mv``, ``peak_mv`` (the overshoot is the part above
        0 mV), ``amplitude_mv`` (peak − baseline), ``half_width_s`` (at half amplitude),
        ``max_rise_mv_ms``, ``max_fall_mv_ms``, ``ahp_mv`` (most negative point after the
        peak), ``ahp_depth_mv`` (baseline − ahp), and the times (s from the trace start)
        bounding the six :data:`SPIKE_PHASES`: ``t_depolarisation_s`` (end of rest),
        ``t_threshold_s``, ``t_peak_s``, ``t_repolarised_s`` (back through the baseline),
        ``t_ahp_s``, ``t_return_s`` (90 % recovered from the AHP, or the trace end).

    Examples
    --------
    >>> tr = sim_action_potential()
    >>> f = compute_spike_features(tr.v_mv[0], tr.dt_s)
    >>> round(f["amplitude_mv"]), round(f["half_width_s"] * 1e3, 1)
    (101, 0.5)
    """
    v = np.asarray(v_mv, dtype=np.float64).ravel()
    dt_s = check_number("dt_s", dt_s, lo=0, lo_open=True, unit="s")
    if v.size < 5 or not np.isfinite(v).all():
        raise ParameterError("v_mv", v_mv, "expected a finite 1-D voltage trace")
    dvdt = np.gradient(v, dt_s * 1e3)  # mV/ms
    up0 = _crossings(v, 0.0)
    if up0.size == 0:
        raise ParameterError("v_mv", "trace", "expected an action potential (V above 0 mV)")
    i0 = int(up0[0])
    # Peak: the maximum before V falls back below 0 mV.
    down0 = _crossings(v[i0:], 0.0, up=False)
    i_end = i0 + (int(down0[0]) + 1 if down0.size else v.size - i0 - 1)
    i_peak = i0 + int(np.argmax(v[i0 : i_end + 1]))
    # Threshold: last point before the upstroke where dV/dt was still below criterion.
    below = np.flatnonzero(dvdt[: i0 + 1] < threshold_mv_ms)
    i_thr = int(below[-1]) + 1 if below.size else 0
    base = float(np.median(v[: max(1, i_thr)])) if baseline_mv is None else float(baseline_mv)
    peak = float(v[i_peak])
    amp = peak - base
    half = base + 0.5 * amp
    hw_up = _crossings(v[: i_peak + 1], half)
    hw_dn = _crossings(v[i_peak:], half, up=False)
    half_width = (i_peak + hw_dn[0] - hw_up[-1]) * dt_s if hw_up.size and hw_dn.size else math.nan
    # Depolarisation starts at the last point before threshold near the baseline.
    near = np.flatnonzero(v[:i_thr] <= base + 0.1 * (v[i_thr] - base)) if i_thr else np.array([])
    i_dep = int(near[-1]) if near.size else 0
    rep = _crossings(v[i_peak:], base, up=False)
    i_rep = i_peak + (math.ceil(rep[0]) if rep.size else v.size - 1 - i_peak)
    i_ahp = i_rep + int(np.argmin(v[i_rep:])) if i_rep < v.size else v.size - 1
    ahp = float(v[i_ahp])
    depth = base - ahp
    rec = np.flatnonzero(v[i_ahp:] >= base - 0.1 * depth)
    i_ret = i_ahp + int(rec[0]) if rec.size else v.size - 1
    return {
        "baseline_mv": base,
        "threshold_mv": float(v[i_thr]),
        "peak_mv": peak,
        "amplitude_mv": amp,
        "half_width_s": float(half_width),
        "max_rise_mv_ms": float(dvdt[: i_peak + 1].max()),
        "max_fall_mv_ms": float(-dvdt[i_peak:].min()),
        "ahp_mv": ahp,
        "ahp_depth_mv": depth,
        "t_depolarisation_s": i_dep * dt_s,
        "t_threshold_s": i_thr * dt_s,
        "t_peak_s": i_peak * dt_s,
        "t_repolarised_s": i_rep * dt_s,
        "t_ahp_s": i_ahp * dt_s,
        "t_return_s": i_ret * dt_s,
    }


def compute_absolute_refractory_period(
    params: HHParameters | None = None,
    *,
    strength: float = 4.0,
    pulse_s: float = 1e-4,
    dt_s: float = 5e-6,
    resolution_s: float = 2e-5,
) -> float:
    """Absolute refractory period (s): no second pulse of ``strength`` × threshold fires.

    Protocol (as in the paired-pulse experiments of Hodgkin & Huxley 1952, part V): a
    first pulse evokes a spike; a second pulse of ``strength`` times the single-pulse
    threshold follows after a delay. The absolute refractory period is the shortest
    interval, from the first spike (its upward crossing of −20 mV) to the second pulse,
    at which the second pulse evokes an action potential — a regenerative response that
    after the pulse rises by more than 20 mV and overshoots 0 mV (a strong pulse can
    charge the membrane passively; that is not a spike).

    Parameters
    ----------
    params : HHParameters, optional
    strength : float, default 4
        Second-pulse amplitude in multiples of the single-pulse threshold (> 1).
    pulse_s : float, default 1e-4
        Pulse width (s).
    dt_s : float, default 5e-6
    resolution_s : float, default 2e-5
        Spacing of the delays tried (s).

    Returns
    -------
    float

    Examples
    --------
    >>> round(compute_absolute_refractory_period() * 1e3, 1) > 1.0
    True
    """
    params = check_params(params)
    strength = check_number("strength", strength, lo=1, lo_open=True, hi=100)
    pulse_s = check_number("pulse_s", pulse_s, lo=1e-6, hi=1e-3, unit="s")
    dt_s = check_number("dt_s", dt_s, lo=1e-7, hi=MAX_DT_S, unit="s")
    resolution_s = check_number("resolution_s", resolution_s, lo=dt_s, hi=1e-3, unit="s")
    fs = 1.0 / dt_s
    n_pulse = max(1, round(pulse_s * fs))
    t_on = 0.001
    k_on = round(t_on * fs)
    scale = 1.0 / params.phi**0.5  # kinetics slow down at low temperature
    # 1. Single-pulse threshold, by bisection on a vector of amplitudes.
    lo, hi = 0.0, 2000.0
    n1 = round(0.02 * scale * fs) + k_on
    while hi - lo > 0.002 * hi:
        amps = np.linspace(lo, hi, 17)
        drive = np.zeros((n1, amps.size))
        drive[k_on : k_on + n_pulse] = amps
        st = sim_membrane(drive, fs, params=params, dt_s=dt_s, initial_current_ua_cm2=0.0)
        fired = st.counts()[0] > 0
        if not fired[-1]:
            raise ParameterError("pulse_s", pulse_s, "expected a pulse that can evoke a spike")
        j = int(np.argmax(fired))
        lo, hi = float(amps[max(j - 1, 0)]), float(amps[j])
    threshold = hi
    # 2. Paired pulses: the first at 2 × threshold, the second at strength × threshold.
    max_delay = 0.02 * scale
    delays = np.arange(0.0, max_delay, resolution_s)
    n2 = k_on + round((max_delay + 0.01 * scale) * fs)
    drive = np.zeros((n2, delays.size))
    drive[k_on : k_on + n_pulse] = 2.0 * threshold
    k2 = k_on + np.round(delays * fs).astype(np.int64)
    for c, k in enumerate(k2.tolist()):
        drive[k : k + n_pulse, c] += strength * threshold
    st, tr = sim_membrane(
        drive,
        fs,
        params=params,
        dt_s=dt_s,
        initial_current_ua_cm2=0.0,
        record=range(delays.size),
    )
    t_first = np.array(
        [st.train(0, c)[0] if st.counts()[0, c] else np.nan for c in range(delays.size)]
    )
    zero = params.v_shift_mv
    fired2 = np.zeros(delays.size, dtype=bool)
    for c, k in enumerate(k2.tolist()):
        off = k + n_pulse
        after = tr.v_mv[c, off:]
        if after.size and st.counts()[0, c] >= 2:
            peak = float(after[: round(0.005 * scale * fs)].max())
            fired2[c] = peak > zero and peak - tr.v_mv[c, off] > 20.0
    if not fired2.any() or not np.isfinite(t_first).all():
        raise ParameterError("strength", strength, "no second spike within the delays tried")
    c = int(np.argmax(fired2))
    return float(t_on + delays[c] - t_first[c])

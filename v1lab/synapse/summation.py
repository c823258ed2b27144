"""Measurements of synaptic integration: EPSPs, their summation, and the road to threshold.

Each function builds the events of one textbook experiment, runs every condition and
trial as one call of :func:`~v1lab.synapse.simulate.sim_synaptic_cell`, and returns
numbers:

* :func:`calibrate_weight_ns` — the peak conductance that makes a unitary EPSP of a
  given size (1 mV: Markram et al. 1997 measured 1.3 ± 1.1 mV).
* :func:`compute_synchronous_peaks`, :func:`compute_pair_peaks` — spatial summation
  (N synchronous inputs) and temporal summation (two inputs Δt apart). With
  conductances the sum is *sublinear*: each input's current is ``g (E_rev − V)`` and the
  depolarisation the others cause shrinks that driving force. The same conductance
  waveforms with a fixed driving force (``current_based``) sum exactly linearly, which
  isolates the cause.
* :func:`compute_spike_probability` and :func:`fit_sigmoid` — P(spike) against N with
  stochastic release (Markram et al. 1997), synchronous or jittered, and the logistic
  fitted to it by maximum likelihood: midpoint ``N50`` and width ``N75 − N25``.
* :func:`compute_nmda_vs_holding` — NMDA and AMPA EPSPs at holding potentials.
* :func:`compute_inhibition` — an EPSP alone, with shunting and with hyperpolarising
  GABA-A inhibition arriving with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import optimize

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.synapse.cell import CellParameters
from v1lab.synapse.receptors import AMPA, GABA_A, NMDA, Receptor, Release
from v1lab.synapse.simulate import make_events, sim_synaptic_cell

__all__ = [
    "calibrate_weight_ns",
    "compute_inhibition",
    "compute_nmda_vs_holding",
    "compute_pair_peaks",
    "compute_spike_probability",
    "compute_synchronous_peaks",
    "fit_sigmoid",
]

#: When the test inputs arrive (s after the start, at rest).
ONSET_S = 0.005


def _peaks(cell: CellParameters, receptors: list[Receptor], ev: Any, dur: float, **kw: Any):
    tr = sim_synaptic_cell(cell, receptors, ev, dur, record="all", **kw)
    return tr.v_mv.max(axis=1) - tr.rest_mv, tr


def calibrate_weight_ns(
    cell: CellParameters,
    receptor: Receptor = AMPA,
    *,
    target_mv: float = 1.0,
    duration_s: float = 0.1,
) -> float:
    """Peak conductance (nS) of one event whose EPSP peaks ``target_mv`` above rest.

    Examples
    --------
    >>> from v1lab.synapse import make_cell
    >>> w = calibrate_weight_ns(make_cell("passive"))
    >>> 1.0 < w < 2.0
    True
    """
    target = check_number("target_mv", target_mv, lo=0.01, hi=10, unit="mV")

    def excess(w: float) -> float:
        ev = make_events([0], [ONSET_S], w, n_trains=1)
        return float(_peaks(cell, [receptor], ev, duration_s)[0][0]) - target

    hi = 1.0
    while excess(hi) < 0:
        hi *= 2.0
        if hi > 1e4:
            raise ParameterError("target_mv", target_mv, "expected an EPSP this cell can reach")
    return float(optimize.brentq(excess, 0.0, hi, xtol=1e-12, rtol=1e-12))


def compute_synchronous_peaks(
    cell: CellParameters,
    weight_ns: float,
    n_inputs: Sequence[int],
    *,
    receptor: Receptor = AMPA,
    duration_s: float = 0.12,
    current_based: bool = False,
) -> np.ndarray:
    """Peak depolarisation (mV) for each N of ``n_inputs`` inputs arriving together."""
    n = np.asarray([check_int("n_inputs", int(k), lo=1) for k in n_inputs])
    ev = make_events(np.arange(n.size), np.full(n.size, ONSET_S), n * weight_ns, n_trains=n.size)
    return _peaks(cell, [receptor], ev, duration_s, current_based=[current_based])[0]


def compute_pair_peaks(
    cell: CellParameters,
    weight_ns: float,
    intervals_ms: Sequence[float],
    *,
    receptor: Receptor = AMPA,
    duration_s: float = 0.12,
) -> np.ndarray:
    """Peak depolarisation (mV) of two EPSPs ``Δt`` apart, for each Δt of ``intervals_ms``."""
    d = np.asarray([check_number("intervals_ms", x, lo=0, hi=1000) for x in intervals_ms])
    k = np.arange(d.size)
    ev = make_events(
        np.concatenate([k, k]),
        np.concatenate([np.full(d.size, ONSET_S), ONSET_S + d * 1e-3]),
        weight_ns,
        n_trains=d.size,
    )
    return _peaks(cell, [receptor], ev, duration_s)[0]


def compute_spike_probability(
    cell: CellParameters,
    weight_ns: float,
    n_inputs: Sequence[int],
    *,
    n_trials: int,
    rng: np.random.Generator,
    release: Release | None = None,
    jitter_ms: float = 0.0,
    receptor: Receptor = AMPA,
    duration_s: float = 0.1,
) -> np.ndarray:
    """Fraction of trials with a spike, for each N of ``n_inputs`` inputs.

    Each of the N inputs fires once, at ``ONSET_S + 3 jitter`` plus a Gaussian jitter of
    SD ``jitter_ms`` (0 = synchronous), releasing as ``release`` draws.
    """
    n = np.asarray([check_int("n_inputs", int(k), lo=1) for k in n_inputs])
    n_trials = check_int("n_trials", n_trials, lo=1)
    jitter = check_number("jitter_ms", jitter_ms, lo=0, hi=50, unit="ms")
    release = release or Release()
    per_train = np.repeat(n, n_trials)  # train = condition * n_trials + trial
    train = np.repeat(np.arange(per_train.size), per_train)
    t = np.full(train.size, ONSET_S + 3 * jitter * 1e-3)
    if jitter > 0:
        t = t + rng.normal(0.0, jitter * 1e-3, size=t.size)
    w = release.draw(np.full(train.size, weight_ns), rng)
    ev = make_events(train, np.maximum(t, 0.0), w, n_trains=per_train.size)
    tr = sim_synaptic_cell(cell, [receptor], ev, duration_s + 6 * jitter * 1e-3)
    fired = tr.spikes.counts().reshape(-1) > 0
    return fired.reshape(n.size, n_trials).mean(axis=1)


def fit_sigmoid(n_inputs: Any, p_spike: Any, n_trials: int) -> dict[str, float]:
    """Logistic ``P(N) = 1 / (1 + e^{−(N − N50)/s})`` fitted by binomial maximum likelihood.

    Returns
    -------
    dict
        ``midpoint`` (N50), ``scale`` (s), ``width`` (``N75 − N25 = 2 s ln 3``) and
        ``deviance`` (twice the negative log-likelihood ratio against the saturated model).

    Examples
    --------
    >>> n = np.arange(1, 21)
    >>> p = 1 / (1 + np.exp(-(n - 10.0) / 1.5))
    >>> {k: round(v, 3) for k, v in fit_sigmoid(n, p, 1000).items() if k != "deviance"}
    {'midpoint': 10.0, 'scale': 1.5, 'width': 3.296}
    """
    x = np.asarray(n_inputs, dtype=float)
    p = np.asarray(p_spike, dtype=float)
    k = p * n_trials
    if not (p.min() < 0.5 < p.max()):
        raise ParameterError(
            "p_spike", f"{p.min():.3g}–{p.max():.3g}", "expected values on both sides of 0.5"
        )

    def nll(theta: np.ndarray) -> float:
        mid, log_s = theta
        z = (x - mid) / math.exp(log_s)
        # log P = −log(1 + e^{−z}); log (1 − P) = −log(1 + e^{z})
        return float(np.sum(k * np.logaddexp(0, -z) + (n_trials - k) * np.logaddexp(0, z)))

    # Start at the first N where P reaches 1/2, with a slope spanning a tenth of the range.
    start = np.array([float(x[np.argmax(p >= 0.5)]), math.log(max(np.ptp(x), 1.0) / 10)])
    res = optimize.minimize(
        nll, start, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10}
    )
    mid, scale = float(res.x[0]), math.exp(res.x[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where(k > 0, k * np.log(p), 0) + np.where(
            k < n_trials, (n_trials - k) * np.log1p(-p), 0
        )
    return {
        "midpoint": mid,
        "scale": scale,
        "width": 2 * scale * math.log(3.0),
        "deviance": 2 * (res.fun + float(np.sum(sat))),
    }


def compute_nmda_vs_holding(
    cell: CellParameters,
    holding_mv: Sequence[float],
    *,
    nmda_weight_ns: float,
    ampa_weight_ns: float,
    mg_mm: float = 1.0,
    duration_s: float = 0.3,
) -> dict[str, np.ndarray]:
    """NMDA and AMPA EPSP amplitudes (mV, signed: the largest deviation from the holding
    potential) for a cell held at each of ``holding_mv``."""
    hold = np.asarray(holding_mv, dtype=float)
    out = {}
    for name, receptor, w in (("nmda", NMDA, nmda_weight_ns), ("ampa", AMPA, ampa_weight_ns)):
        ev = make_events(np.arange(hold.size), np.full(hold.size, ONSET_S), w, n_trains=hold.size)
        tr = sim_synaptic_cell(
            cell, [receptor], ev, duration_s, record="all", holding_mv=hold, mg_mm=mg_mm
        )
        dev = tr.v_mv - hold[:, None]
        idx = np.abs(dev).argmax(axis=1)
        out[name] = dev[np.arange(hold.size), idx]
    return out


def compute_inhibition(
    cell: CellParameters,
    *,
    excitatory_ns: float,
    inhibitory_ns: float,
    e_shunt_mv: float | None = None,
    e_hyper_mv: float = -80.0,
    duration_s: float = 0.12,
    record_dt_ms: float = 0.1,
) -> dict[str, Any]:
    """EPSP alone, with shunting inhibition (GABA-A reversing at rest) and with
    hyperpolarising inhibition (reversing at ``e_hyper_mv``), arriving together.

    Returns the peak depolarisations (mV), and the three traces with their time axis.
    """
    check_number("e_hyper_mv", e_hyper_mv, lo=-120, hi=0, unit="mV")
    from v1lab.synapse.cell import compute_rest_mv

    rest = compute_rest_mv(cell)
    shunt = replace(GABA_A, e_rev_mv=rest if e_shunt_mv is None else e_shunt_mv)
    hyper = replace(GABA_A, e_rev_mv=e_hyper_mv)
    train = np.array([0, 1, 1, 2, 2])
    receptor = np.array([0, 0, 1, 0, 2])
    w = np.array([excitatory_ns, excitatory_ns, inhibitory_ns, excitatory_ns, inhibitory_ns])
    ev = make_events(train, np.full(5, ONSET_S), w, receptor=receptor, n_trains=3)
    tr = sim_synaptic_cell(
        cell, [AMPA, shunt, hyper], ev, duration_s, record="all", record_dt_ms=record_dt_ms
    )
    peak = tr.v_mv.max(axis=1) - tr.rest_mv
    trough = tr.v_mv.min(axis=1) - tr.rest_mv
    return {
        "labels": (
            "excitation alone",
            "with shunting inhibition",
            "with hyperpolarising inhibition",
        ),
        "peak_mv": peak,
        "trough_mv": trough,
        "t_s": tr.t_s,
        "v_mv": tr.v_mv,
        "e_shunt_mv": shunt.e_rev_mv,
        "e_hyper_mv": hyper.e_rev_mv,
    }

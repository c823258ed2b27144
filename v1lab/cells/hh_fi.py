"""Hodgkin–Huxley cells that fire at requested rates, through the membrane's own f–I curve.

Each V1 cell becomes one Hodgkin–Huxley membrane, driven by an input current derived
from its firing rate in the V1 stage plus a fluctuating (Ornstein–Uhlenbeck) input
current, so that it fires at about the rate the model asks for, with spikes that come
from channels opening and closing.

* :func:`sim_hodgkin_huxley` — spike trains from target-rate traces, with the signature of
  :func:`v1lab.cells.lif.sim_lif`; optionally records ``V, m, h, n, I_Na, I_K`` of
  chosen trains (:class:`~v1lab.cells.hh_membrane.MembraneTrace`).
* :func:`hh_current_for_rates` — the rate → current map: the inverse of this model's own
  noisy f–I curve, measured once by simulation and cached (the idea of ``sim_lif``,
  which inverts the LIF's transfer function).

References
----------
Destexhe A, Rudolph M, Fellous J-M, Sejnowski TJ (2001). Fluctuating synaptic
conductances recreate in vivo-like activity in neocortical neurons. Neuroscience
107:13–24.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.cells._hh_common import (
    MAX_DT_S,
    NOISE_TAU_S,
    NOISE_UA_CM2,
    check_array2d,
    check_dt,
    check_noise,
    check_rng,
)
from v1lab.cells._hh_integrate import hh_backend, integrate
from v1lab.cells.hh_kinetics import HHParameters, check_params
from v1lab.cells.hh_membrane import MembraneTrace, sim_membrane
from v1lab.cells.trains import SpikeTrains

__all__ = ["hh_current_for_rates", "sim_hodgkin_huxley"]

# The noisy f–I table: version of the algorithm (part of the disk-cache key).
_TABLE_VERSION = 1


def _with_temperature(params: Any, temperature_c: float | None) -> HHParameters:
    params = check_params(params)
    if temperature_c is not None:
        check_number("temperature_c", temperature_c, lo=0, hi=30, unit="°C")
        params = replace(params, temperature_c=float(temperature_c))
    return params


# --------------------------------------------------------------------------------------
# The noisy f–I curve and its inverse
# --------------------------------------------------------------------------------------

# Grid of mean input currents for the noisy f–I table (µA/cm²): fine where the rate
# grows from silence to ~200 spikes/s, coarse above.
_FI_GRID = np.concatenate(
    [np.arange(-16.0, 24.0, 0.5), np.arange(24.0, 64.0, 2.0), np.arange(64.0, 101.0, 4.0)]
)
_FI_SETTLE_S = 0.1
_FI_RUN_S = 2.0
_FI_TRIALS = 4
# Low-rate points get more trials, up to this many neuron-seconds, aiming at this count.
_FI_MAX_NEURON_S = 120.0
_FI_TARGET_COUNT = 2000.0
_FI_SMOOTH_UA_CM2 = 1.5


def _cache_dir() -> Path:
    env = os.environ.get("V1LAB_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "v1lab"


def _table_key(params: HHParameters, noise_sd: float, noise_tau_s: float, dt_s: float) -> str:
    """Identity of an f–I table. The back-end is not part of it: both compute one model
    (their spike times agree to rounding; see the tests)."""
    text = repr((_TABLE_VERSION, sorted(asdict(params).items()), noise_sd, noise_tau_s, dt_s))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _measure_counts(
    currents: np.ndarray,
    params: HHParameters,
    noise_sd: float,
    noise_tau_s: float,
    dt_s: float,
    backend: str,
    rng: np.random.Generator,
    run_s: float,
) -> np.ndarray:
    """Spike count of one train per entry of ``currents`` (constant input), after settling."""
    duration_s = _FI_SETTLE_S + run_s
    _, indptr, _ = integrate(
        currents[None, :],
        1.0 / duration_s,
        1,
        params,
        dt_s,
        noise_sd,
        noise_tau_s,
        rng,
        duration_s,
        backend,
        t_skip_s=_FI_SETTLE_S,
    )
    return np.diff(indptr)


def _build_fi_table(
    params: HHParameters, noise_sd: float, noise_tau_s: float, dt_s: float, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """Measure the noisy f–I curve on _FI_GRID; return (currents, rates) for inversion.

    Two passes of 2-s trains: every current for 4 trains, then each current again for as
    many trains as give ~2000 spikes in all (at most 120 neuron-seconds per current;
    counting error ~3 % before smoothing, ~10 % at 1 spike/s). The log-rates are
    smoothed (:func:`_smooth_log_rate`) and made monotone by weighted
    isotonic regression (the true curve is increasing; the scatter is counting noise);
    currents with fewer than 20 spikes are dropped. A fixed seed makes the table a
    deterministic function of its parameters.
    """
    seed = int(_table_key(params, noise_sd, noise_tau_s, dt_s)[:12], 16)
    rng = np.random.default_rng(seed)
    grid = _FI_GRID
    first = np.repeat(grid, _FI_TRIALS)
    counts = (
        _measure_counts(first, params, noise_sd, noise_tau_s, dt_s, backend, rng, _FI_RUN_S)
        .reshape(grid.size, _FI_TRIALS)
        .sum(axis=1)
        .astype(np.float64)
    )
    # Strong currents end in depolarisation block (the rate falls back to 0 above ~90
    # µA/cm² at 16.3 °C); the usable branch ends at the highest rate.
    top = int(np.argmax(counts)) + 1
    grid, counts = grid[:top], counts[:top]
    exposure = np.full(grid.size, _FI_TRIALS * _FI_RUN_S)
    rate0 = counts / exposure
    # Second pass: more trains where the count is low (but not hopelessly so).
    want = np.minimum(_FI_MAX_NEURON_S, _FI_TARGET_COUNT / np.maximum(rate0, 1e-3))
    extra = np.maximum(0, np.ceil((want - exposure) / _FI_RUN_S)).astype(np.int64)
    extra[rate0 * _FI_MAX_NEURON_S < 5.0] = 0
    if extra.any():
        idx = np.repeat(np.arange(grid.size), extra)
        more = _measure_counts(
            grid[idx], params, noise_sd, noise_tau_s, dt_s, backend, rng, _FI_RUN_S
        )
        counts += np.bincount(idx, weights=more, minlength=grid.size)
        exposure += extra * _FI_RUN_S
    ok = counts >= 20.0
    cur, count, expo = grid[ok], counts[ok], exposure[ok]
    log_rate = _smooth_log_rate(cur, np.log(count / expo), count)
    rate = np.exp(_isotonic(log_rate, count))
    # Strictly increasing for the inverse: keep the first current of each tied block.
    keep = np.concatenate([[True], np.diff(rate) > 0])
    return cur[keep], rate[keep]


def _smooth_log_rate(cur: np.ndarray, log_rate: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Local cubic regression of log-rate on current within ±1.5 µA/cm².

    Weights are the spike counts (the variance of a log Poisson rate is 1 / count). The
    log f–I curve is smooth on this scale (checked against a 400-neuron-second reference:
    rms bias < 2 %), so this halves the counting noise.
    """
    out = log_rate.copy()
    for i in range(cur.size):
        near = np.abs(cur - cur[i]) <= _FI_SMOOTH_UA_CM2 + 1e-9
        if near.sum() >= 5:
            x = cur[near] - cur[i]
            coef = np.polyfit(x, log_rate[near], 3, w=np.sqrt(count[near]))
            out[i] = coef[-1]
    return out


def _isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    vals: list[float] = []
    wts: list[float] = []
    sizes: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist(), strict=True):
        vals.append(yi)
        wts.append(wi)
        sizes.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            wsum = wts[-2] + wts[-1]
            merged = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / wsum
            size = sizes[-2] + sizes[-1]
            del vals[-1], wts[-1], sizes[-1]
            vals[-1], wts[-1], sizes[-1] = merged, wsum, size
    return np.repeat(vals, sizes)


# The table for the default membrane and noise, measured by _build_fi_table (numba,
# this _TABLE_VERSION) and shipped so that a first run needs no measurement. It is used
# only when the key matches; regenerate it with
#   python -c "from v1lab.cells.hh_fi import _print_default_table; _print_default_table()"
# fmt: off
_DEFAULT_TABLE_KEY = "2e55f65a432dc19aa137"
_DEFAULT_TABLE: tuple[tuple[float, ...], tuple[float, ...]] = (
    (  # mean input current (µA/cm²)
        -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
        5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0,
        13.5, 14.0, 14.5, 15.0, 15.5, 16.0, 16.5, 17.0, 17.5, 18.0, 18.5, 19.0, 19.5, 20.0, 20.5,
        21.0, 21.5, 22.0, 22.5, 23.0, 23.5, 24.0, 26.0, 28.0, 30.0, 32.0, 34.0, 36.0, 38.0, 40.0,
        42.0, 44.0, 46.0, 48.0, 50.0, 52.0, 54.0, 56.0, 58.0, 60.0, 62.0, 64.0, 68.0, 72.0, 76.0,
        80.0, 84.0,
    ),
    (  # rate (spikes/s)
        0.175, 0.317716, 0.384158, 0.484389, 0.608544, 0.821696, 1.05253, 1.24454, 1.46158,
        1.66259, 1.97536, 2.37901, 2.8394, 3.39066, 4.03021, 4.91925, 6.18593, 7.85902, 10.2098,
        13.2434, 16.7553, 21.9036, 27.9434, 36.3748, 47.604, 61.1301, 75.8913, 95.392, 112.434,
        129.897, 145.566, 157.02, 165.903, 174.787, 180.324, 184.121, 188.455, 191.489, 195.201,
        197.771, 200.022, 201.988, 203.992, 206.393, 208.789, 210.789, 212.7, 214.665, 216.619,
        218.63, 220.47, 222.162, 223.985, 225.981, 227.7, 234.3, 240.7, 246.2, 252.0, 257.25,
        262.75, 268.0, 272.5, 277.0, 281.75, 286.0, 290.125, 294.375, 298.0, 301.875, 305.625,
        309.25, 312.5, 316.0, 319.125, 325.625, 331.75, 337.375, 342.625, 347.75,
    ),
)
# fmt: on


def _print_default_table() -> None:  # pragma: no cover - maintenance helper
    """Measure the default f–I table and print it as the constants above."""
    import textwrap

    p = HHParameters()
    args = (p, NOISE_UA_CM2, NOISE_TAU_S, MAX_DT_S)
    cur, rate = _build_fi_table(*args, hh_backend())
    cur_text = ", ".join(repr(round(float(c), 4)) for c in cur)
    rate_text = ", ".join(repr(float(f"{r:.6g}")) for r in rate)
    print(f'_DEFAULT_TABLE_KEY = "{_table_key(*args)}"')
    print("_DEFAULT_TABLE: tuple[tuple[float, ...], tuple[float, ...]] = (")
    for comment, text in (
        ("mean input current (µA/cm²)", cur_text),
        ("rate (spikes/s)", rate_text),
    ):
        print(f"    (  # {comment}")
        print(textwrap.indent(textwrap.fill(text, 90), " " * 8) + ",")
        print("    ),")
    print(")")


@lru_cache(maxsize=16)
def _fi_table(
    params: HHParameters, noise_sd: float, noise_tau_s: float, dt_s: float, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """The noisy f–I table: shipped (defaults), from the disk cache, or measured now."""
    key = _table_key(params, noise_sd, noise_tau_s, dt_s)
    if key == _DEFAULT_TABLE_KEY:
        cur, rate = (np.array(x, dtype=np.float64) for x in _DEFAULT_TABLE)
    else:
        cur, rate = _cached_table(key, params, noise_sd, noise_tau_s, dt_s, backend)
    cur.flags.writeable = False
    rate.flags.writeable = False
    return cur, rate


def _cached_table(
    key: str,
    params: HHParameters,
    noise_sd: float,
    noise_tau_s: float,
    dt_s: float,
    backend: str,
) -> tuple[np.ndarray, np.ndarray]:
    path = _cache_dir() / f"hh_fi_{key}.npz"
    try:
        with np.load(path) as data:
            return data["currents"], data["rates"]
    except (OSError, KeyError, ValueError):
        pass
    cur, rate = _build_fi_table(params, noise_sd, noise_tau_s, dt_s, backend)
    try:  # atomic write; a read-only home only costs a rebuild next time
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, currents=cur, rates=rate)
        os.replace(tmp, path)
    except OSError:
        pass
    return cur, rate


def hh_current_for_rates(
    rates_hz: np.ndarray,
    *,
    params: HHParameters | None = None,
    noise_ua_cm2: float = NOISE_UA_CM2,
    noise_tau_s: float = NOISE_TAU_S,
    dt_s: float = MAX_DT_S,
    backend: str = "auto",
) -> np.ndarray:
    """Mean input current (µA/cm²) at which the noisy HH membrane fires at ``rates_hz``.

    The inverse of the membrane's own stationary f–I curve under the given input noise,
    measured by simulation (:func:`_build_fi_table`; ~2000 spikes per current, accurate
    to ~2 % above 2 spikes/s), and inverted by monotone (PCHIP) interpolation in
    log-rate. The table of the default membrane and noise ships with v1lab; others are
    measured on first use (a few seconds with numba) and cached in memory and on disk
    (``$V1LAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/v1lab`` or ``~/.cache/v1lab``). Below
    the lowest measured rate (~0.2 spikes/s) the log-rate is extrapolated linearly in the
    current (the noise-driven tail); a rate of 0 gets −16 µA/cm² (silent).

    Raises
    ------
    ParameterError
        For a rate above the highest rate of the table (≈ 350 spikes/s by default).

    Examples
    --------
    >>> i = hh_current_for_rates(np.array([[1.0, 20.0, 80.0]]))
    >>> bool(np.all(np.diff(i) > 0))
    True
    """
    rates = check_array2d("rates_hz", rates_hz, nonneg=True, unit="spikes/s")
    params = check_params(params)
    sd, tau = check_noise(noise_ua_cm2, noise_tau_s)
    dt_s = check_dt(dt_s)
    backend = hh_backend(backend)
    if sd == 0:
        raise ParameterError(
            "noise_ua_cm2",
            noise_ua_cm2,
            "expected > 0: without noise a type II membrane cannot fire below its minimum "
            "repetitive rate, so low rates have no input current",
        )
    cur, rate = _fi_table(params, sd, tau, dt_s, backend)
    highest = float(rates.max())
    if highest > rate[-1]:
        raise ParameterError(
            "rates_hz",
            highest,
            f"expected rates <= {rate[-1]:.4g} spikes/s, the highest rate this Hodgkin–Huxley "
            "membrane reaches in the table (temperature_c, noise_ua_cm2)",
        )
    log_r = np.log(rate)
    inverse = PchipInterpolator(log_r, cur, extrapolate=False)
    out = np.full(rates.shape, _FI_GRID[0])
    above = rates >= rate[0]
    out[above] = inverse(np.log(rates[above]))
    tail = (rates > 0) & ~above
    if tail.any():
        n_fit = min(4, cur.size)
        slope = np.polyfit(cur[:n_fit], log_r[:n_fit], 1)[0]  # d log r / dI at the bottom
        out[tail] = np.maximum(_FI_GRID[0], cur[0] + (np.log(rates[tail]) - log_r[0]) / slope)
    return out


def sim_hodgkin_huxley(
    rates_hz: np.ndarray,
    fs: float,
    *,
    n_trials: int = 1,
    rng: np.random.Generator,
    temperature_c: float | None = None,
    noise_ua_cm2: float = NOISE_UA_CM2,
    noise_tau_s: float = NOISE_TAU_S,
    dt_s: float = MAX_DT_S,
    params: HHParameters | None = None,
    record: Sequence[int] | None = None,
    backend: str = "auto",
) -> SpikeTrains | tuple[SpikeTrains, MembraneTrace]:
    """Spike trains of Hodgkin–Huxley cells that fire at requested rates.

    Each cell is a Hodgkin & Huxley (1952) membrane (:class:`HHParameters`) driven by an
    input current ``I(t) = μ(t) + η(t)``: ``μ(t)``, the current from the V1 stage, is the
    mean input at which this membrane fires at the requested rate (the inverse of its
    own noisy f–I curve, :func:`hh_current_for_rates`, as :func:`v1lab.cells.lif.sim_lif`
    inverts the LIF's transfer function); ``η(t)`` is Ornstein–Uhlenbeck noise, the
    fluctuating synaptic background of a cortical cell in vivo (Destexhe et al. 2001),
    with SD ``noise_ua_cm2`` and correlation time ``noise_tau_s``. The default noise
    (2 µA/cm², 5 ms) makes the membrane potential fluctuate with an SD of about 2 mV
    around rest, as in cortical cells in vivo (2–4 mV; Destexhe et al. 2001), and a cell
    with no net drive fire irregularly (ISI CV ≈ 1) at about 1 spike/s, the spontaneous
    rate of a V1 cell. Below the membrane's minimum repetitive rate (type II: about 130
    spikes/s at 16.3 °C, 52 at 6.3 °C) firing is fluctuation-driven, as in cortex.

    For slowly varying rates (slow compared with ~10 ms) each cell fires at its requested
    rate to within a few per cent; spikes are real action potentials, with the membrane's
    own refractoriness and spike-timing statistics. A sudden step up in the rate gives an
    onset transient (a resonant, type II membrane answers a current step with a burst),
    so a trace of abrupt steps yields up to ~20 % more spikes than requested.

    Parameters
    ----------
    rates_hz : array_like, shape (n_samples, n_cells)
        Target rate (spikes/s), piecewise constant over samples of width ``1 / fs``.
    fs : float
        Sampling rate of ``rates_hz`` (Hz).
    n_trials : int, default 1
        Independent trials.
    rng : numpy.random.Generator
        Source of the noise.
    temperature_c : float, optional
        Shorthand for ``params.temperature_c`` (default 16.3 °C; see the module notes).
    noise_ua_cm2 : float, default 2.0
        SD of the input-current noise (µA/cm²), > 0.
    noise_tau_s : float, default 0.005
        Its correlation time (s).
    dt_s : float, default 2.5e-5
        Integration step (s), at most 25 µs.
    params : HHParameters, optional
        Full membrane parameters.
    record : sequence of int, optional
        Trains (``trial * n_cells + cell``) to record; then a :class:`MembraneTrace`
        is returned too.
    backend : {'auto', 'numba', 'numpy'}, default 'auto'

    Returns
    -------
    SpikeTrains or (SpikeTrains, MembraneTrace)
        ``n_trials × n_cells`` trains with spike times in ``[0, duration_s)``.

    Raises
    ------
    ParameterError
        For a negative or non-finite rate, a rate above the membrane's reach, or another
        argument out of range.

    Notes
    -----
    The first call for a parameter set measures the f–I table (about 2 s with numba,
    much longer with the numpy back-end), then it is read from memory or disk. The table
    is measured with a fixed seed, so results depend only on the arguments and ``rng``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> st = sim_hodgkin_huxley(np.full((400, 2), 20.0), 200.0, n_trials=2, rng=rng)
    >>> st.counts().shape
    (2, 2)
    """
    rates = check_array2d("rates_hz", rates_hz, nonneg=True, unit="spikes/s")
    fs = check_number("fs", fs, lo=0, lo_open=True, unit="Hz")
    n_trials = check_int("n_trials", n_trials, lo=1)
    rng = check_rng(rng, required=True)
    params = _with_temperature(params, temperature_c)
    sd, tau = check_noise(noise_ua_cm2, noise_tau_s)
    dt_s = check_dt(dt_s, fs)
    backend = hh_backend(backend)
    current = hh_current_for_rates(
        rates, params=params, noise_ua_cm2=sd, noise_tau_s=tau, dt_s=dt_s, backend=backend
    )
    # Trains start at the fixed point for their first input (no onset transient).
    return sim_membrane(
        current,
        fs,
        n_trials=n_trials,
        params=params,
        initial_current_ua_cm2=current[0],
        noise_ua_cm2=sd,
        noise_tau_s=tau,
        dt_s=dt_s,
        rng=rng,
        record=record,
        backend=backend,
    )

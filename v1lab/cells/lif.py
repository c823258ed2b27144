"""Spikes from rates by a noisy leaky integrate-and-fire neuron.

:func:`sim_lif` — a leaky integrate-and-fire neuron driven by white noise whose mean
input is chosen, through the Siegert (1951) / Ricciardi (1977) transfer function in
the form of Brunel (2000), so that it fires at the requested rate.

References
----------
Brunel N (2000). Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons. J Comput Neurosci 8:183–208.

Ricciardi LM (1977). Diffusion Processes and Related Topics in Biology. Springer.

Siegert AJF (1951). On the first passage time probability problem. Phys Rev 81:617–623.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import integrate, special
from scipy.interpolate import PchipInterpolator

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.cells._common import check_rates, check_rng, compiled_kernels
from v1lab.cells.trains import SpikeTrains

__all__ = ["sim_lif"]

# Units of the LIF: reset = rest = 0, threshold = 1.
_THETA = 1.0
_V_RESET = 0.0
# The transfer-function table spans mean inputs from THETA - 6σ (rate ~1e-13 spikes/s,
# i.e. silent) up to THETA + max(20, 8σ) (deterministic interval ≈ τ/20).
_Z_SILENT = 6.0
_MU_TOP = 20.0
# Compiled path: a thread is worth starting for this many trains × input samples
# (~50 ms of integration at 0.1-ms steps).
_MIN_WORK_PER_THREAD = 200_000


def _siegert_rate_hz(mu: float, tau_m_s: float, t_ref_s: float, sigma: float) -> float:
    """Stationary rate of the noisy LIF (Siegert 1951; Ricciardi 1977; Brunel 2000 eq. 21).

    ``1/r = t_ref + τ √π ∫_{(V_r-μ)/σ}^{(θ-μ)/σ} e^{u²}(1 + erf u) du``, with the integrand
    written as ``erfcx(-u)`` so that it neither overflows nor loses precision.
    """
    lo = (_V_RESET - mu) / sigma
    hi = (_THETA - mu) / sigma
    value, _ = integrate.quad(
        lambda u: special.erfcx(-u), lo, hi, epsabs=0.0, epsrel=1e-10, limit=200
    )
    return 1.0 / (t_ref_s + tau_m_s * math.sqrt(math.pi) * value)


@lru_cache(maxsize=32)
def _siegert_table(tau_m_s: float, t_ref_s: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Tabulate r(μ) once per parameter set; return (mu, rate_hz), both increasing."""
    near = _THETA - sigma * np.linspace(_Z_SILENT, -4.0, 401)
    top = _THETA + max(_MU_TOP, 8.0 * sigma)
    far = _THETA + np.geomspace(4.0 * sigma, top - _THETA, 161)[1:]
    mu = np.concatenate([near, far[far > near[-1]]])
    rate = np.array([_siegert_rate_hz(float(m), tau_m_s, t_ref_s, sigma) for m in mu])
    # r(μ) is strictly increasing; drop any point where quadrature noise says otherwise.
    ok = np.concatenate([[True], np.diff(rate) > 0])
    mu, rate = mu[ok], rate[ok]
    mu.flags.writeable = False
    rate.flags.writeable = False
    return mu, rate


def _inverse_siegert(
    rates_hz: np.ndarray, tau_m_s: float, t_ref_s: float, sigma: float, name: str
) -> tuple[PchipInterpolator, float, float]:
    """μ as a function of log-rate, plus the table's lowest rate and silent-end μ."""
    mu_grid, rate_grid = _siegert_table(tau_m_s, t_ref_s, sigma)
    highest = float(rates_hz.max())
    if highest > rate_grid[-1]:
        raise ParameterError(
            name,
            highest,
            f"expected rates <= {rate_grid[-1]:.4g} spikes/s, the highest rate this LIF "
            "(tau_m_s, refractory_s, dt_s) reaches",
        )
    # Monotone cubic in log-rate: smooth over the exponential low-rate tail.
    inverse = PchipInterpolator(np.log(rate_grid), mu_grid, extrapolate=False)
    return inverse, float(rate_grid[0]), float(mu_grid[0])


def _mu_for_rates(
    rates_hz: np.ndarray, tau_m_s: float, t_ref_s: float, sigma: float, name: str
) -> np.ndarray:
    """Mean input μ at which the noisy LIF fires at ``rates_hz`` (inverse Siegert)."""
    inverse, rate_lo, mu_silent = _inverse_siegert(rates_hz, tau_m_s, t_ref_s, sigma, name)
    mu = np.full(rates_hz.shape, mu_silent)
    above = rates_hz > rate_lo  # slower targets get the silent end of the table
    mu[above] = inverse(np.log(rates_hz[above]))
    return mu


def sim_lif(
    drive_rates_hz: np.ndarray,
    fs: float,
    *,
    n_trials: int = 1,
    tau_m_s: float = 0.02,
    refractory_s: float = 0.002,
    noise_sigma: float = 0.3,
    dt_s: float = 1e-4,
    rng: np.random.Generator,
) -> SpikeTrains:
    """Simulate leaky integrate-and-fire neurons that fire at requested rates.

    The membrane potential, in units where rest = reset = 0 and threshold = 1, follows
    the form of Brunel (2000)::

        τ dV = (μ(t) − V) dt + σ √τ dW

    (``W`` a Wiener process; the free membrane potential has SD ``σ / √2``). When ``V``
    reaches 1 the neuron spikes, ``V`` is reset to 0 and clamped there for the absolute
    refractory period.

    The input is a *target rate* trace. It is converted to the mean input ``μ(t)`` by
    inverting the stationary transfer function of this neuron (Siegert 1951; Ricciardi
    1977; Brunel 2000)::

        1 / r = t_ref + τ √π ∫_{(0 − μ)/σ}^{(1 − μ)/σ} e^{u²} (1 + erf u) du

    tabulated once (with ``scipy.special.erfcx``) and inverted by monotone interpolation,
    so for slowly varying input (slow compared to ``τ`` and the interval) the neuron fires
    at the requested rate, with realistic, irregular (noise-driven at low rates)
    interspike intervals.

    Parameters
    ----------
    drive_rates_hz : array_like, shape (n_samples, n_cells)
        Target firing rate (spikes/s), piecewise constant over samples of width
        ``1 / fs``; finite and ``>= 0``. The highest allowed rate is the table's top
        (about 330 spikes/s with the defaults).
    fs : float
        Sampling rate of ``drive_rates_hz`` (Hz).
    n_trials : int, default 1
        Number of independent trials.
    tau_m_s : float, default 0.02
        Membrane time constant (s).
    refractory_s : float, default 0.002
        Absolute refractory period (s), ``>= 0``.
    noise_sigma : float, default 0.3
        Input noise ``σ``, in units of the reset-to-threshold distance, ``> 0``.
    dt_s : float, default 1e-4
        Integration step (s); at most ``1 / fs`` and ``tau_m_s / 10``.
    rng : numpy.random.Generator
        Source of all randomness.

    Returns
    -------
    SpikeTrains
        ``n_trials × n_cells`` trains with continuous spike times in
        ``[0, duration_s)``; interspike intervals are ``>= refractory_s``.

    Raises
    ------
    ParameterError
        For a rate that is negative, non-finite or above the reachable maximum, a
        ``drive_rates_hz`` that is not 2-D, or another argument out of range.

    Notes
    -----
    * Integration is exact for the leak: over one step with constant ``μ``,
      ``V ← μ + (V − μ) e^{−dt/τ} + ξ`` with ``ξ`` Gaussian of the exact OU variance
      ``(σ²/2)(1 − e^{−2dt/τ})``. The loop runs over time steps; each step is one set of
      array operations over all ``n_trials × n_cells`` neurons.
    * The input is upsampled from ``fs`` to ``1 / dt_s`` by sample-and-hold (each step
      uses the sample holding its midpoint).
    * A spike time is the linear interpolation of the threshold crossing within the step.
      Crossings that happen and undo themselves between two steps are caught with the
      Brownian-bridge crossing probability ``exp(−2 (1 − V₀)(1 − V₁) / (σ² dt / τ))``
      (e.g. Mannella 1999) and timed at the middle of the step; without this, discrete
      sampling misses crossings and the rate falls several percent below the target at
      low rates.
    * After a spike the neuron is clamped at reset until the first step boundary at least
      ``refractory_s`` later, so the effective refractory period is
      ``refractory_s + dt_s / 2`` on average; the transfer function uses that value.
    * Every trial starts at the reset potential, as if a spike had just occurred.
      Targets below the table's silent end (~1e-13 spikes/s) get its lowest ``μ``.
    * With numba, each neuron runs its whole trial in a compiled kernel
      (:func:`v1lab.cells._kernels.lif_trains`) that jumps over steps far from threshold;
      each cell draws from its own xoshiro256++ stream, all seeded from one integer drawn
      from ``rng``, so the cells are split over ``numba.get_num_threads()`` threads
      without changing the spikes. Its draws differ from the numpy path's: the two agree
      in distribution, not spike for spike.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> st = sim_lif(np.full((500, 4), 20.0), 1000.0, n_trials=2, rng=rng)
    >>> st.counts().shape
    (2, 4)
    """
    rates = check_rates("drive_rates_hz", drive_rates_hz)
    fs = check_number("fs", fs, lo=0, lo_open=True, unit="Hz")
    n_trials = check_int("n_trials", n_trials, lo=1)
    tau_m_s = check_number("tau_m_s", tau_m_s, lo=0, lo_open=True, unit="s")
    refractory_s = check_number("refractory_s", refractory_s, lo=0, unit="s")
    noise_sigma = check_number("noise_sigma", noise_sigma, lo=0, lo_open=True)
    dt_s = check_number(
        "dt_s",
        dt_s,
        lo=0,
        hi=min(1.0 / fs, tau_m_s / 10.0),
        lo_open=True,
        unit="s, at most 1/fs and tau_m_s/10",
    )
    rng = check_rng(rng)

    n_samples, n_cells = rates.shape
    duration_s = n_samples / fs
    t_ref_s = refractory_s + dt_s / 2.0
    # The numpy path loops over time steps, and a step costs a Python iteration, about
    # what 64 trains of vector work cost, however few the trains: so the work that decides
    # is steps × max(trains, 64), not trains × input samples. Counted as samples, a
    # default-protocol LIF run (one call per presentation, since each has its own gains)
    # took the per-step loop: 217 s a point at load ~3, against seconds compiled.
    n_steps = math.ceil(duration_s / dt_s)
    if compiled_kernels(n_steps * max(n_trials * n_cells, 64)) is not None:
        # The kernel inverts the transfer function itself, a block of cells at a time
        # (evaluating the same monotone cubic), which saves a full-size μ array.
        inverse = _inverse_siegert(rates, tau_m_s, t_ref_s, noise_sigma, "drive_rates_hz")
        times, indptr = _lif_run_compiled(
            rates,
            inverse,
            fs,
            n_trials,
            tau_m_s,
            refractory_s,
            noise_sigma,
            dt_s,
            rng,
            duration_s,
        )
        return SpikeTrains(times, indptr, n_trials, n_cells, duration_s)
    mu_samples = _mu_for_rates(rates, tau_m_s, t_ref_s, noise_sigma, "drive_rates_hz")
    times, indptr = _lif_run(
        mu_samples, fs, n_trials, tau_m_s, refractory_s, noise_sigma, dt_s, rng, duration_s
    )
    return SpikeTrains(times, indptr, n_trials, n_cells, duration_s)


def _lif_constants(
    n_samples: int, fs: float, tau_m_s: float, sigma: float, dt_s: float, duration_s: float
) -> tuple[np.ndarray, float, float, float, float]:
    """Step → sample map, leak factor, noise SD per step, bridge variance, near level."""
    # Tolerance so that an exact multiple (1 s / 1e-4 s) is not rounded up a step.
    n_steps = max(1, math.ceil(duration_s / dt_s - 1e-9))
    sample_of_step = np.minimum(
        ((np.arange(n_steps) + 0.5) * dt_s * fs).astype(np.int64), n_samples - 1
    )
    decay = math.exp(-dt_s / tau_m_s)
    step_sd = sigma * math.sqrt(-math.expm1(-2.0 * dt_s / tau_m_s) / 2.0)
    # Variance of the Wiener increment of V over one step, for the bridge probability.
    bridge_var = sigma * sigma * dt_s / tau_m_s
    # If both endpoints are at least this far below threshold, the bridge probability is
    # below e^-40: only neurons with an endpoint above this level need the exp.
    near_level = _THETA - math.sqrt(20.0 * bridge_var)
    return sample_of_step, decay, step_sd, bridge_var, near_level


def _lif_run_compiled(
    rates: np.ndarray,
    inverse: tuple[PchipInterpolator, float, float],
    fs: float,
    n_trials: int,
    tau_m_s: float,
    refractory_s: float,
    sigma: float,
    dt_s: float,
    rng: np.random.Generator,
    duration_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The compiled path of :func:`_lif_run`: the same model, neuron by neuron."""
    kernels = compiled_kernels()
    n_samples = rates.shape[0]
    sample_of_step, decay, step_sd, bridge_var, near_level = _lif_constants(
        n_samples, fs, tau_m_s, sigma, dt_s, duration_s
    )
    # run_end[i]: first step after step i that reads another input sample (μ changes).
    change = np.flatnonzero(np.diff(sample_of_step)) + 1
    run_end = np.repeat(
        np.append(change, sample_of_step.size),
        np.diff(np.concatenate([[0], change, [sample_of_step.size]])),
    )
    pchip, rate_lo, mu_silent = inverse
    tables = kernels.lif_jump_tables(decay, step_sd, bridge_var, kernels.MACRO_STEPS)
    inverse_arrays = (
        np.ascontiguousarray(pchip.x),
        np.ascontiguousarray(pchip.c),
        rate_lo,
        mu_silent,
    )
    # One 64-bit seed from rng; the kernel gives each cell its own stream from it, so
    # the spikes do not depend on the number of threads the cells are split over.
    seed = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
    n_cells = rates.shape[1]

    model = (n_trials, dt_s, decay, step_sd, bridge_var, near_level, _THETA, _V_RESET)
    model += (refractory_s, duration_s)

    def part(c_lo: int, c_hi: int) -> tuple[np.ndarray, np.ndarray]:
        return kernels.lif_trains(
            rates, inverse_arrays, sample_of_step, run_end, model, tables, seed, c_lo, c_hi
        )

    n_threads = kernels.thread_count(n_cells, n_trials * rates.size, _MIN_WORK_PER_THREAD, 2)
    parts = kernels.run_over_cells(part, n_cells, n_threads)
    counts = np.concatenate([c for _, c in parts], axis=1)  # (n_trials, n_cells)
    indptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    times = np.empty(int(indptr[-1]))
    bounds = np.cumsum([0] + [c.shape[1] for _, c in parts])
    for c_lo, (t, c) in zip(bounds[:-1].tolist(), parts, strict=True):
        kernels.merge_cell_major(times, indptr, c_lo, t, c)
    return times, indptr


def _lif_run(
    mu_samples: np.ndarray,
    fs: float,
    n_trials: int,
    tau_m_s: float,
    refractory_s: float,
    sigma: float,
    dt_s: float,
    rng: np.random.Generator,
    duration_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate the LIF for all trials × cells; return (times, indptr)."""
    n_samples, n_cells = mu_samples.shape
    n_neurons = n_trials * n_cells
    sample_of_step, decay, step_sd, bridge_var, near_level = _lif_constants(
        n_samples, fs, tau_m_s, sigma, dt_s, duration_s
    )
    n_steps = sample_of_step.size

    v = np.zeros((n_trials, n_cells))
    v_new = np.empty_like(v)
    free_until_s = np.zeros((n_trials, n_cells))  # clamped at reset while t < this
    v_flat = v.reshape(-1)
    v_new_flat = v_new.reshape(-1)
    free_flat = free_until_s.reshape(-1)
    spike_ids: list[np.ndarray] = []
    spike_times: list[np.ndarray] = []

    block = max(1, min(n_steps, (1 << 20) // n_neurons))  # ~8 MB of noise per draw
    noise = np.empty(0)
    for step in range(n_steps):
        j = step % block
        if j == 0:
            noise = rng.standard_normal((min(block, n_steps - step), n_trials, n_cells))
            noise *= step_sd
        t0 = step * dt_s
        mu = mu_samples[sample_of_step[step]]
        # Exact OU update over the step.
        np.subtract(v, mu, out=v_new)
        v_new *= decay
        v_new += mu
        v_new += noise[j]
        # Neurons still refractory stay at reset for the whole step.
        v_new[free_until_s > t0] = _V_RESET

        crossed = np.flatnonzero(v_new_flat >= _THETA)
        frac = (_THETA - v_flat[crossed]) / (v_new_flat[crossed] - v_flat[crossed])
        t_cross = t0 + frac * dt_s
        # Excursions above threshold between the two samples (Brownian bridge).
        near = np.flatnonzero((np.maximum(v_new_flat, v_flat) > near_level) & (v_new_flat < _THETA))
        if near.size:
            p = np.exp(-2.0 * (_THETA - v_flat[near]) * (_THETA - v_new_flat[near]) / bridge_var)
            hit = near[rng.random(near.size) < p]
            if hit.size:
                crossed = np.concatenate([crossed, hit])
                t_cross = np.concatenate([t_cross, np.full(hit.size, t0 + 0.5 * dt_s)])
        if crossed.size:
            v_new_flat[crossed] = _V_RESET
            free_flat[crossed] = t_cross + refractory_s
            spike_ids.append(crossed)
            spike_times.append(t_cross)
        v, v_new = v_new, v
        v_flat, v_new_flat = v_new_flat, v_flat

    indptr = np.zeros(n_neurons + 1, dtype=np.int64)
    if not spike_ids:
        return np.empty(0), indptr
    ids = np.concatenate(spike_ids)
    times = np.concatenate(spike_times)
    inside = times < duration_s  # the last step may run past the window
    ids, times = ids[inside], times[inside]
    # Steps were recorded in time order; a stable sort by train keeps times sorted.
    order = np.argsort(ids, kind="stable")
    np.cumsum(np.bincount(ids, minlength=n_neurons), out=indptr[1:])
    return times[order], indptr

"""Spike generation: turn firing-rate traces into spike trains.

Two models turn the rate a cortical cell should have into the spikes it fires:

* :func:`sim_poisson_dead_time` — an inhomogeneous Poisson process with an absolute
  refractory period (a *dead-time-modified* Poisson process). Spike counts of V1 cells
  are roughly Poisson, with a Fano factor near 1 (Tolhurst, Movshon & Dean 1983; Softky &
  Koch 1993), and no cell fires twice within its absolute refractory period of about
  1–2 ms. This is the default model: cost is per spike, not per time step.
* :func:`sim_lif` — a leaky integrate-and-fire neuron driven by white noise whose mean
  input is chosen, through the Siegert (1951) / Ricciardi (1977) transfer function in
  the form of Brunel (2000), so that it fires at the requested rate.

:func:`sim_spikes` dispatches on a model name (what a protocol file names).

Rates come as ``rates_hz``, an array ``(n_samples, n_cells)`` that is piecewise constant
over samples of width ``1 / fs``: sample ``i`` covers ``[i / fs, (i + 1) / fs)``. One call
draws ``n_trials`` independent trials of the same rates and returns :class:`SpikeTrains`,
a compressed (CSR) store of all trains with train index ``trial * n_cells + cell``.

References
----------
Brown EN, Barbieri R, Ventura V, Kass RE, Frank LM (2002). The time-rescaling theorem and
its application to neural spike train data analysis. Neural Comput 14:325–346.

Brunel N (2000). Dynamics of sparsely connected networks of excitatory and inhibitory
spiking neurons. J Comput Neurosci 8:183–208.

Johnson DH (1996). Point process models of single-neuron discharges. J Comput Neurosci
3:275–299.

Ricciardi LM (1977). Diffusion Processes and Related Topics in Biology. Springer.

Siegert AJF (1951). On the first passage time probability problem. Phys Rev 81:617–623.

Softky WR, Koch C (1993). The highly irregular firing of cortical cells is inconsistent
with temporal integration of random EPSPs. J Neurosci 13:334–350.

Tolhurst DJ, Movshon JA, Dean AF (1983). The statistical reliability of signals in single
neurons in cat and monkey visual cortex. Vision Res 23:775–785.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import integrate, special
from scipy.interpolate import PchipInterpolator

from v1lab._validate import ParameterError, check_choice, check_int, check_number

__all__ = [
    "SPIKE_MODELS",
    "SpikeTrains",
    "apply_dead_time",
    "sim_lif",
    "sim_poisson_dead_time",
    "sim_spikes",
]

#: Model names accepted by :func:`sim_spikes`.
SPIKE_MODELS = ("poisson", "lif", "hodgkin_huxley")

# Largest float below 1: keeps a within-sample fraction strictly inside [0, 1).
_BELOW_ONE = float(np.nextafter(1.0, 0.0))
# Dead time: chain-walk passes before switching to pointer doubling.
_MAX_CHAIN_WALK = 64
# Events per chunk of trains in the Poisson generator (arrays of a few MB).
_CHUNK_SPIKES = 1 << 19

#: Use the compiled (numba) kernels when numba is installed. ``False`` (or the
#: environment variable ``V1LAB_NUMBA=0``) selects the pure-numpy path, which draws the
#: same distributions; tests compare the two.
USE_NUMBA = os.environ.get("V1LAB_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off")
# Below this many trains × input samples the numpy path takes a few tens of ms, less than
# importing numba and loading its cached machine code, so small runs (the default
# protocol's 16 cells) never pay for it.
_NUMBA_MIN_WORK = 1_000_000


def _compiled_kernels(work: float = math.inf) -> Any:
    """The numba kernel module for ``work`` trains × samples, or None for the numpy path.

    None when numba is missing, switched off (:data:`USE_NUMBA`), or the work is small.
    """
    if not USE_NUMBA or work < _NUMBA_MIN_WORK:
        return None
    return _load_kernels()


@lru_cache(maxsize=1)
def _load_kernels() -> Any:
    try:
        from v1lab.cells import _kernels as _spikes_numba
    except ImportError:  # numba not installed: the numpy path is the fallback
        return None
    return _spikes_numba


# --------------------------------------------------------------------------------------
# Container
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SpikeTrains:
    """Spike trains of ``n_trials × n_cells`` trains in compressed (CSR) layout.

    Parameters
    ----------
    times_s : ndarray of float64
        All spike times (s), train after train; sorted within each train. Times of a
        freshly simulated set lie in ``[0, duration_s)``.
    indptr : ndarray of int64, shape (n_trials * n_cells + 1,)
        Train ``k`` is ``times_s[indptr[k]:indptr[k + 1]]``, where
        ``k = trial * n_cells + cell``.
    n_trials : int
        Number of trials.
    n_cells : int
        Number of cells.
    duration_s : float
        Length of the simulated window (s).

    Notes
    -----
    The arrays are stored as read-only views, so a ``SpikeTrains`` cannot be changed
    after it is made; build a new one instead (see :meth:`shifted`). Two sets compare
    equal when every field, and every spike time, is bitwise equal.

    Examples
    --------
    >>> import numpy as np
    >>> st = SpikeTrains(times_s=np.array([0.1, 0.5, 0.2]), indptr=np.array([0, 2, 3]),
    ...                  n_trials=1, n_cells=2, duration_s=1.0)
    >>> st.train(0, 0)
    array([0.1, 0.5])
    >>> st.counts()
    array([[2, 1]])
    """

    times_s: np.ndarray
    indptr: np.ndarray
    n_trials: int
    n_cells: int
    duration_s: float

    def __post_init__(self) -> None:
        n_trials = check_int("n_trials", self.n_trials, lo=0)
        n_cells = check_int("n_cells", self.n_cells, lo=0)
        duration_s = check_number("duration_s", self.duration_s, lo=0, unit="s")
        times = np.asarray(self.times_s, dtype=np.float64)
        indptr = np.asarray(self.indptr)
        if times.ndim != 1:
            raise ParameterError("times_s", f"array of shape {times.shape}", "expected a 1-D array")
        if indptr.shape != (n_trials * n_cells + 1,) or not np.issubdtype(indptr.dtype, np.integer):
            raise ParameterError(
                "indptr",
                f"{indptr.dtype} array of shape {indptr.shape}",
                f"expected an integer array of shape ({n_trials * n_cells + 1},) "
                "= n_trials * n_cells + 1",
            )
        indptr = indptr.astype(np.int64, copy=False)
        if indptr[0] != 0 or indptr[-1] != times.size or np.any(np.diff(indptr) < 0):
            raise ParameterError(
                "indptr",
                f"array from {indptr[0]} to {indptr[-1]}",
                f"expected non-decreasing offsets from 0 to len(times_s) = {times.size}",
            )
        # Read-only *views*: freezes this object without touching the caller's arrays.
        times = times.view()
        times.flags.writeable = False
        indptr = indptr.view()
        indptr.flags.writeable = False
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "n_trials", n_trials)
        object.__setattr__(self, "n_cells", n_cells)
        object.__setattr__(self, "duration_s", duration_s)

    @property
    def n_trains(self) -> int:
        """Number of trains, ``n_trials * n_cells``."""
        return self.n_trials * self.n_cells

    @property
    def n_spikes(self) -> int:
        """Total number of spikes over all trains."""
        return int(self.times_s.size)

    def train(self, trial: int, cell: int) -> np.ndarray:
        """Return the spike times (s) of one cell in one trial (a read-only view).

        Examples
        --------
        >>> import numpy as np
        >>> st = SpikeTrains(np.array([0.25]), np.array([0, 0, 1]), 2, 1, 1.0)
        >>> st.train(1, 0)
        array([0.25])
        """
        trial = check_int("trial", trial, lo=0, hi=self.n_trials - 1)
        cell = check_int("cell", cell, lo=0, hi=self.n_cells - 1)
        k = trial * self.n_cells + cell
        return self.times_s[self.indptr[k] : self.indptr[k + 1]]

    def counts(self) -> np.ndarray:
        """Return spike counts as an int64 array of shape ``(n_trials, n_cells)``.

        Examples
        --------
        >>> import numpy as np
        >>> SpikeTrains(np.array([0.1, 0.2]), np.array([0, 2, 2]), 1, 2, 1.0).counts()
        array([[2, 0]])
        """
        return np.diff(self.indptr).reshape(self.n_trials, self.n_cells)

    def shifted(self, offset_s: float) -> SpikeTrains:
        """Return a copy with every spike time moved by ``offset_s`` seconds.

        Used to place a trial's spikes on a session clock; ``duration_s`` (the window
        length) is unchanged, so shifted times lie in
        ``[offset_s, offset_s + duration_s)``.

        Examples
        --------
        >>> import numpy as np
        >>> st = SpikeTrains(np.array([0.1]), np.array([0, 1]), 1, 1, 1.0)
        >>> st.shifted(10.0).times_s
        array([10.1])
        """
        offset_s = check_number("offset_s", offset_s, unit="s")
        return SpikeTrains(
            self.times_s + offset_s,
            self.indptr.copy(),
            self.n_trials,
            self.n_cells,
            self.duration_s,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpikeTrains):
            return NotImplemented
        return (
            self.n_trials == other.n_trials
            and self.n_cells == other.n_cells
            and self.duration_s == other.duration_s
            and np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.times_s, other.times_s)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking arrays: not hashable

    def __repr__(self) -> str:
        return (
            f"SpikeTrains(n_trials={self.n_trials}, n_cells={self.n_cells}, "
            f"duration_s={self.duration_s:g}, n_spikes={self.n_spikes})"
        )


# --------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------


def _check_rates(name: str, rates: Any) -> np.ndarray:
    """Return ``rates`` as a C-contiguous float64 (n_samples, n_cells) array of rates >= 0."""
    try:
        arr = np.asarray(rates, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            name, rates, "expected a 2-D array of rates (spikes/s), shape (n_samples, n_cells)"
        ) from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(
            name,
            f"array of shape {arr.shape}",
            "expected a 2-D array (n_samples, n_cells) with at least one sample and one cell",
        )
    # min and max propagate NaN and see ±inf: two reductions instead of a boolean mask
    # (the checks of a large population's rates otherwise cost as much as its spikes).
    lowest, highest = float(arr.min()), float(arr.max())
    if not (math.isfinite(lowest) and math.isfinite(highest)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ParameterError(name, float(bad), "expected finite rates (spikes/s), no NaN or inf")
    if lowest < 0:
        raise ParameterError(name, lowest, "expected rates >= 0 spikes/s")
    return np.ascontiguousarray(arr)


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(
            "rng", rng, "expected a numpy.random.Generator, e.g. np.random.default_rng(seed)"
        )
    return rng


# --------------------------------------------------------------------------------------
# Poisson with dead time
# --------------------------------------------------------------------------------------


def sim_poisson_dead_time(
    rates_hz: np.ndarray,
    fs: float,
    *,
    n_trials: int = 1,
    dead_time_s: float = 0.002,
    rng: np.random.Generator,
) -> SpikeTrains:
    """Simulate inhomogeneous Poisson spike trains with an absolute dead time.

    Each train is a dead-time-modified Poisson process (Johnson 1996): the hazard is
    ``λ(t)`` except during ``dead_time_s`` after each spike, where it is 0 — the absolute
    refractory period of cortical cells, about 1–2 ms. With ``dead_time_s = 0`` this is
    a plain inhomogeneous Poisson process, whose spike counts have a Fano factor of 1, as
    V1 counts roughly do (Tolhurst, Movshon & Dean 1983; Softky & Koch 1993).

    Parameters
    ----------
    rates_hz : array_like, shape (n_samples, n_cells)
        Requested firing rate (spikes/s) of each cell, constant within each sample of
        width ``1 / fs``. Must be finite, ``>= 0`` and ``< 1 / dead_time_s``.
    fs : float
        Sampling rate of ``rates_hz`` (Hz). The simulated window is
        ``duration_s = n_samples / fs``.
    n_trials : int, default 1
        Number of independent trials drawn from the same rates.
    dead_time_s : float, default 0.002
        Absolute dead time (s), ``>= 0``.
    rng : numpy.random.Generator
        Source of all randomness.

    Returns
    -------
    SpikeTrains
        ``n_trials × n_cells`` trains; spike times are continuous (not on sample
        edges), sorted within each train, lie in ``[0, duration_s)``, and no two spikes
        of a train are closer than ``dead_time_s``.

    Raises
    ------
    ParameterError
        If a rate is negative, non-finite or ``>= 1 / dead_time_s``, if ``rates_hz`` is
        not 2-D, or if another argument is out of range.

    Notes
    -----
    **Algorithm (cost per spike, vectorised over all trains).**

    1. Drive rate. A dead-time process driven at ``λ`` fires at ``λ / (1 + λ d)``
       (mean interval ``d + 1/λ``), so each cell is driven at
       ``λ = r / (1 - r d)``, which makes the output rate exactly the requested ``r``
       for a constant rate (in the stationary regime: a trial starts with no dead
       period, which adds about ``(r d)² / 2`` spikes per trial). For a time-varying
       rate the compensation is exact to the extent that ``r`` changes little within
       ``d``.
    2. Time rescaling (Brown et al. 2002). With the cumulative intensity
       ``Λ(t) = ∫₀ᵗ λ``, piecewise linear, a Poisson process of rate ``λ(t)`` is the
       image under ``Λ⁻¹`` of a unit-rate process on ``[0, Λ(T)]``. Each train draws
       ``N ~ Poisson(Λ(T))`` sorted uniform points on ``[0, Λ(T)]`` (as normalised
       partial sums of ``N + 1`` exponentials, so no sort is needed) and maps them back
       with one ``searchsorted`` on the concatenation of all cells' ``Λ`` (offset so the
       whole array is monotone); trials of a cell share its ``Λ``. Within a sample,
       ``Λ⁻¹`` is linear, so times are continuous and uniform inside the sample.
    3. Dead time. Because the Poisson process is memoryless, deleting every event that
       falls within ``d`` of the previous *kept* event of its train gives a hazard of
       exactly ``λ(t)`` outside dead periods and 0 inside. Only events in *clusters*
       (runs whose successive gaps are ``< d``) can be deleted; within each cluster the
       kept events are the chain ``first, next(first), …`` where ``next(i)`` is the first
       later event at least ``d`` after ``i``. All chains are followed together, one
       vectorised pass per kept event of the longest chain (1–3 at cortical rates);
       very long chains are finished by pointer doubling in ``log2(cluster length)``
       passes.

    The cost is proportional to the number of drive events, ``r T / (1 - r d)`` per
    train, so rates close to ``1 / d`` cost more per output spike.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> rates_hz = np.full((1000, 3), 20.0)          # 1 s at fs = 1 kHz, 3 cells
    >>> st = sim_poisson_dead_time(rates_hz, 1000.0, n_trials=5, rng=rng)
    >>> st.counts().shape
    (5, 3)
    >>> isi_s = np.diff(st.train(0, 0))
    >>> bool((isi_s >= 0.002).all())
    True
    """
    rates = _check_rates("rates_hz", rates_hz)
    fs = check_number("fs", fs, lo=0, lo_open=True, unit="Hz")
    n_trials = check_int("n_trials", n_trials, lo=1)
    dead_time_s = check_number("dead_time_s", dead_time_s, lo=0, unit="s")
    rng = _check_rng(rng)
    if dead_time_s > 0:
        max_hz = 1.0 / dead_time_s
        highest = float(rates.max())
        if highest >= max_hz:
            raise ParameterError(
                "rates_hz",
                highest,
                f"expected rates < 1 / dead_time_s = {max_hz:g} spikes/s "
                f"(a cell with a {dead_time_s:g} s dead time cannot fire faster)",
            )
    n_samples, n_cells = rates.shape
    duration_s = n_samples / fs
    kernels = _compiled_kernels(n_trials * rates.size)
    if kernels is not None:
        times, indptr = _poisson_trains_compiled(
            kernels, rates, fs, n_trials, dead_time_s, rng, duration_s
        )
        return SpikeTrains(times, indptr, n_trials, n_cells, duration_s)
    # Dead-time compensation: output rate λ/(1+λd) equals the requested r.
    drive_hz = rates / (1.0 - rates * dead_time_s) if dead_time_s > 0 else rates
    times, indptr = _poisson_trains(drive_hz, fs, n_trials, dead_time_s, rng, duration_s)
    return SpikeTrains(times, indptr, n_trials, n_cells, duration_s)


def _poisson_trains_compiled(
    kernels: Any,
    rates: np.ndarray,
    fs: float,
    n_trials: int,
    dead_time_s: float,
    rng: np.random.Generator,
    duration_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The compiled path: same draws from ``rng`` as :func:`_poisson_trains`, in order."""
    total = kernels.poisson_totals(rates, fs, dead_time_s)
    counts = rng.poisson(np.tile(total, n_trials))
    exps = rng.standard_exponential(int(counts.sum()) + counts.size)
    return kernels.poisson_trains(
        rates, fs, dead_time_s, n_trials, counts, exps, float(np.nextafter(duration_s, 0.0))
    )


def _poisson_trains(
    drive_hz: np.ndarray,
    fs: float,
    n_trials: int,
    dead_time_s: float,
    rng: np.random.Generator,
    duration_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw all trains, in chunks of whole trains; return (times, indptr)."""
    lam = _CumulativeIntensity(drive_hz, fs, duration_s)
    n_trains = n_trials * lam.n_cells
    # Spike counts per train (trial-major: train = trial * n_cells + cell).
    counts = rng.poisson(np.tile(lam.total, n_trials))
    # Chunks of about _CHUNK_SPIKES events keep every temporary array small enough to be
    # recycled by the allocator and to stay in cache; fresh large allocations (page
    # faults) otherwise cost more than the arithmetic.
    first_event = np.cumsum(counts) - counts
    chunk_of_train = first_event // _CHUNK_SPIKES
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(chunk_of_train)) + 1, [n_trains]])
    pieces = []
    kept_counts = np.empty(n_trains, dtype=np.int64)
    for j0, j1 in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        times, indptr = lam.sample(j0, counts[j0:j1], rng)
        if dead_time_s > 0:
            times, indptr = apply_dead_time(times, indptr, dead_time_s)
        pieces.append(times)
        kept_counts[j0:j1] = np.diff(indptr)
    indptr = np.zeros(n_trains + 1, dtype=np.int64)
    np.cumsum(kept_counts, out=indptr[1:])
    return np.concatenate(pieces), indptr


class _CumulativeIntensity:
    """Λ(t) of every cell, concatenated cell after cell into one increasing array."""

    def __init__(self, drive_hz: np.ndarray, fs: float, duration_s: float) -> None:
        n_samples, n_cells = drive_hz.shape
        self.n_samples, self.n_cells, self.fs = n_samples, n_cells, fs
        # Cell-major so that one cell's samples are contiguous; the running sum over all
        # cells is monotone, so one searchsorted serves every cell (offset by cell_lo).
        width = np.ascontiguousarray(drive_hz.T) / fs  # integrated intensity per sample
        self.total = width.sum(axis=1)  # Λ(T) per cell (pairwise sum: accurate)
        self.edges = np.empty(n_cells * n_samples + 1)
        self.edges[0] = 0.0
        np.cumsum(width.ravel(), out=self.edges[1:])
        self.cell_lo = self.edges[:-1:n_samples].copy()  # Λ offset of each cell
        self.span = self.edges[n_samples::n_samples] - self.cell_lo  # Λ(T) in `edges`
        # First and last sample of positive rate (global index): rounding can push a
        # point onto a neighbouring cell's edge, and it is clipped back to these.
        positive = width > 0
        start = np.arange(n_cells, dtype=np.int64) * n_samples
        self.first = start + np.argmax(positive, axis=1)
        self.last = start + n_samples - 1 - np.argmax(positive[:, ::-1], axis=1)
        self.start = start
        self.t_max = float(np.nextafter(duration_s, 0.0))

    def sample(
        self, j0: int, counts: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Poisson event times of trains ``j0, j0 + 1, …`` with the given counts."""
        n_trains = counts.size
        indptr = np.zeros(n_trains + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        n_events = int(indptr[-1])
        if n_events == 0:
            return np.empty(0), indptr
        cell = np.arange(j0, j0 + n_trains, dtype=np.int64) % self.n_cells
        train = np.repeat(np.arange(n_trains, dtype=np.int64), counts)

        # Sorted uniforms per train without a sort: the partial sums of N + 1
        # exponentials, divided by their total, are the order statistics of N uniforms.
        csum = np.empty(n_events + n_trains + 1)
        csum[0] = 0.0
        rng.standard_exponential(out=csum[1:])
        np.cumsum(csum[1:], out=csum[1:])
        seg = np.arange(n_trains, dtype=np.int64)
        base = csum[indptr[:-1] + seg]
        scale = self.span[cell] / (csum[indptr[1:] + seg + 1] - base)
        pos = np.arange(1, n_events + 1, dtype=np.int64)
        pos += train
        v = csum[pos]
        v -= base[train]
        v *= scale[train]
        # Time rescaling: v = Λ_cell(t) offset into `edges`; t = Λ⁻¹(v).
        v += self.cell_lo[cell][train]
        k = np.searchsorted(self.edges, v, side="right")
        k -= 1
        np.clip(k, self.first[cell][train], self.last[cell][train], out=k)
        lo = self.edges[k]
        den = self.edges[k + 1]
        den -= lo
        # den > 0 except for rates so small that they vanish in the cumulative sum.
        np.maximum(den, np.finfo(np.float64).tiny, out=den)
        v -= lo
        frac = np.divide(v, den, out=v)  # position within the sample, uniform
        np.clip(frac, 0.0, _BELOW_ONE, out=frac)
        k -= self.start[cell][train]
        frac += k
        times = np.divide(frac, self.fs, out=frac)
        # (n - 1 + frac) / fs may round up to exactly duration_s; keep the window half-open.
        np.minimum(times, self.t_max, out=times)
        return times, indptr


def apply_dead_time(
    times: np.ndarray, indptr: np.ndarray, dead_time_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Delete every spike within ``dead_time_s`` of the previous kept spike of its train.

    Parameters
    ----------
    times : ndarray
        Spike times, sorted within each train (CSR layout with ``indptr``).
    indptr : ndarray
        Train ``k`` owns ``times[indptr[k]:indptr[k + 1]]``.
    dead_time_s : float

    Returns
    -------
    times, indptr : ndarray
        The kept spikes, same layout.
    """
    n_spikes = times.size
    if n_spikes < 2:
        return times, indptr
    counts = np.diff(indptr)
    is_first = np.zeros(n_spikes, dtype=bool)
    is_first[indptr[:-1][counts > 0]] = True
    # close[i]: spike i is within d of the spike before it in the same train.
    close = np.zeros(n_spikes, dtype=bool)
    np.less(np.diff(times), dead_time_s, out=close[1:])
    close &= ~is_first
    if not close.any():
        return times, indptr

    # Clusters: a head (gap >= d before it, hence always kept) and its close followers.
    member = close.copy()
    member[:-1] |= close[1:]
    idx = np.flatnonzero(member)
    tc = times[idx]
    n_c = idx.size
    head = ~close[idx]
    heads = np.flatnonzero(head)
    cluster_size = np.diff(np.append(heads, n_c))
    cluster_end = np.repeat(heads + cluster_size, cluster_size)  # exclusive end

    # next(i): first later spike of the cluster at least d after i (n_c if none). Each
    # pass advances the still-too-close candidates by one, so the number of passes is
    # the largest number of spikes within d of a spike — small.
    nxt = np.arange(1, n_c + 1, dtype=np.int64)
    active = np.arange(n_c, dtype=np.int64)
    while active.size:
        cand = nxt[active]
        inside = cand < cluster_end[active]
        active, cand = active[inside], cand[inside]
        active = active[tc[cand] - tc[active] < dead_time_s]
        nxt[active] += 1
    nxt[nxt >= cluster_end] = n_c

    # Kept spikes = {next^m(head)}: walk all chains in step, one vectorised pass per kept
    # spike of the longest chain (1–3 at cortical rates) ...
    jump = np.append(nxt, n_c)  # index n_c is an absorbing sentinel
    keep = np.zeros(n_c + 1, dtype=bool)
    keep[heads] = True
    front = jump[heads]
    for _ in range(_MAX_CHAIN_WALK):
        front = front[front < n_c]
        if not front.size:
            break
        keep[front] = True
        front = jump[front]
    else:
        # ... and if chains are very long (rates near 1/d, long trials), finish by pointer
        # doubling: the marked part of each chain is a prefix head, …, next^m(head); the
        # pass with jump = next^(2^p) extends it to m + 2^p, so log2(longest cluster)
        # passes reach every chain's end.
        keep[front] = True
        reach = 1
        longest = int(cluster_size.max())
        while reach < longest:
            keep[jump[np.flatnonzero(keep)]] = True
            jump = jump[jump]
            reach *= 2

    kept = np.ones(n_spikes, dtype=bool)
    kept[idx] = keep[:n_c]
    n_kept = np.zeros(n_spikes + 1, dtype=np.int64)
    np.cumsum(kept, out=n_kept[1:])
    return times[kept], n_kept[indptr]


# --------------------------------------------------------------------------------------
# Leaky integrate-and-fire
# --------------------------------------------------------------------------------------

# Units of the LIF: reset = rest = 0, threshold = 1.
_THETA = 1.0
_V_RESET = 0.0
# The transfer-function table spans mean inputs from THETA - 6σ (rate ~1e-13 spikes/s,
# i.e. silent) up to THETA + max(20, 8σ) (deterministic interval ≈ τ/20).
_Z_SILENT = 6.0
_MU_TOP = 20.0


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

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> st = sim_lif(np.full((500, 4), 20.0), 1000.0, n_trials=2, rng=rng)
    >>> st.counts().shape
    (2, 4)
    """
    rates = _check_rates("drive_rates_hz", drive_rates_hz)
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
    rng = _check_rng(rng)

    n_samples, n_cells = rates.shape
    duration_s = n_samples / fs
    t_ref_s = refractory_s + dt_s / 2.0
    if _compiled_kernels(n_trials * rates.size) is not None:
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
    kernels = _compiled_kernels()
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
    return kernels.lif_trains(
        rates,
        (np.ascontiguousarray(pchip.x), np.ascontiguousarray(pchip.c), rate_lo, mu_silent),
        sample_of_step,
        run_end,
        n_trials,
        dt_s,
        decay,
        step_sd,
        bridge_var,
        near_level,
        _THETA,
        _V_RESET,
        refractory_s,
        duration_s,
        kernels.lif_jump_tables(decay, step_sd, bridge_var, kernels.MACRO_STEPS),
        kernels.seed_state(rng),
    )


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


# --------------------------------------------------------------------------------------
# Dispatcher
# --------------------------------------------------------------------------------------

_MODEL_PARAMS = {
    "poisson": ("dead_time_s",),
    "lif": ("tau_m_s", "refractory_s", "noise_sigma", "dt_s"),
    "hodgkin_huxley": ("temperature_c", "noise_ua_cm2", "noise_tau_s", "dt_s"),
}


def sim_spikes(
    rates_hz: np.ndarray,
    fs: float,
    *,
    model: str = "poisson",
    n_trials: int = 1,
    rng: np.random.Generator,
    **params: Any,
) -> SpikeTrains:
    """Simulate spike trains from rates with the named model.

    Parameters
    ----------
    rates_hz : array_like, shape (n_samples, n_cells)
        Requested rates (spikes/s), piecewise constant over samples of width ``1 / fs``.
    fs : float
        Sampling rate of ``rates_hz`` (Hz).
    model : {'poisson', 'lif'}, default 'poisson'
        ``'poisson'``: :func:`sim_poisson_dead_time`; ``'lif'``: :func:`sim_lif`.
    n_trials : int, default 1
        Number of independent trials.
    rng : numpy.random.Generator
        Source of all randomness.
    **params
        Model parameters: ``dead_time_s`` for ``'poisson'``; ``tau_m_s``,
        ``refractory_s``, ``noise_sigma``, ``dt_s`` for ``'lif'``.

    Returns
    -------
    SpikeTrains

    Raises
    ------
    ParameterError
        For an unknown model, a parameter the model does not take, or a bad value.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> st = sim_spikes(np.full((200, 2), 10.0), 1000.0, model="poisson", n_trials=3,
    ...                 rng=rng, dead_time_s=0.001)
    >>> st.n_trials, st.n_cells, st.duration_s
    (3, 2, 0.2)
    """
    model = check_choice("model", model, SPIKE_MODELS)
    allowed = _MODEL_PARAMS[model]
    for key, value in params.items():
        if key not in allowed:
            raise ParameterError(
                key,
                value,
                f"not a parameter of model {model!r}; expected one of " + ", ".join(allowed),
            )
    if model == "poisson":
        return sim_poisson_dead_time(rates_hz, fs, n_trials=n_trials, rng=rng, **params)
    if model == "hodgkin_huxley":
        # Imported here: the membrane model is large and only HH runs need it.
        from v1lab.cells.hodgkin_huxley import sim_hodgkin_huxley

        return sim_hodgkin_huxley(rates_hz, fs, n_trials=n_trials, rng=rng, **params)
    return sim_lif(rates_hz, fs, n_trials=n_trials, rng=rng, **params)

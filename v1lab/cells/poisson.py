"""Spikes from rates by an inhomogeneous Poisson process with an absolute dead time.

:func:`sim_poisson_dead_time` — an inhomogeneous Poisson process with an absolute
refractory period (a *dead-time-modified* Poisson process). Spike counts of V1 cells
are roughly Poisson, with a Fano factor near 1 (Tolhurst, Movshon & Dean 1983; Softky &
Koch 1993), and no cell fires twice within its absolute refractory period of about
1–2 ms. This is the default model: cost is per spike, not per time step.
:func:`apply_dead_time` is its dead-time step on its own (a train's spikes within the
dead time of the previous kept spike are deleted).

References
----------
Brown EN, Barbieri R, Ventura V, Kass RE, Frank LM (2002). The time-rescaling theorem and
its application to neural spike train data analysis. Neural Comput 14:325–346.

Kingman JFC (1993). Poisson Processes. Oxford University Press (superposition and
colouring theorems, ch. 2 and 5).

Johnson DH (1996). Point process models of single-neuron discharges. J Comput Neurosci
3:275–299.

Softky WR, Koch C (1993). The highly irregular firing of cortical cells is inconsistent
with temporal integration of random EPSPs. J Neurosci 13:334–350.

Tolhurst DJ, Movshon JA, Dean AF (1983). The statistical reliability of signals in single
neurons in cat and monkey visual cortex. Vision Res 23:775–785.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number
from v1lab.cells._common import check_rates, check_rng, compiled_kernels
from v1lab.cells.trains import SpikeTrains

__all__ = ["apply_dead_time", "sim_poisson_dead_time"]

# Largest float below 1: keeps a within-sample fraction strictly inside [0, 1).
_BELOW_ONE = float(np.nextafter(1.0, 0.0))
# Dead time: chain-walk passes before switching to pointer doubling.
_MAX_CHAIN_WALK = 64
# Events per chunk of trains in the Poisson generator (arrays of a few MB).
_CHUNK_SPIKES = 1 << 19
# Compiled generator: a thread is worth starting for this many trains × samples (~10 ms of
# work) and this many cells (a few blocks of the kernel's row sweep).
_MIN_WORK_PER_THREAD = 4_000_000
_MIN_CELLS_PER_THREAD = 256


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

    **Compiled path (numba; used above ~10⁶ trains × samples).** The same process in one
    pass over the rates (:func:`v1lab.cells._kernels.poisson_events`): each cell's
    ``n_trials`` drive processes are run together as their superposition, a Poisson
    process of rate ``n_trials · λ(t)`` whose events are dealt to trials uniformly at
    random (the thinning theorem makes the trials independent Poisson processes of rate
    ``λ``). Reading the samples in order, the integrated intensity of each is subtracted
    from the distance to the next event (an ``Exp(1)`` deviate, time rescaling as in 2.),
    so an event is placed by walking forward, within the sample, with no cumulative
    intensity stored and no search; the dead time (3.) is applied as each event is dealt.
    The rates are checked in the same pass. Superposition and thinning: Kingman (1993).
    Random numbers come from an xoshiro256++ stream per group of 256 cells (drawn in
    sweep order; exponentials by numpy's ziggurat), all seeded from one 64-bit
    integer drawn from ``rng``: the spikes depend on the seed only, not on the number of
    threads (cells are split between ``numba.get_num_threads()`` threads when the work is
    large). The two paths draw different numbers, so for a given seed their spikes
    differ; their statistics agree (``tests/cells/test_spikes_numba.py``).

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
    fs = check_number("fs", fs, lo=0, lo_open=True, unit="Hz")
    n_trials = check_int("n_trials", n_trials, lo=1)
    dead_time_s = check_number("dead_time_s", dead_time_s, lo=0, unit="s")
    rng = check_rng(rng)
    rates = _as_rate_array(rates_hz)
    kernels = None if rates is None else compiled_kernels(n_trials * rates.size)
    if kernels is not None:
        # The kernel checks the rates while it reads them (one pass instead of three);
        # only when it finds a bad one are they checked again here, for the message.
        n_samples, n_cells = rates.shape
        duration_s = n_samples / fs
        out = _poisson_trains_compiled(kernels, rates, fs, n_trials, dead_time_s, rng, duration_s)
        if out is None:
            _check_poisson_rates(rates_hz, dead_time_s)  # raises, naming the bad rate
            raise AssertionError("the Poisson kernel rejected rates that pass the checks")
        return SpikeTrains._built(*out, n_trials, n_cells, duration_s)
    rates = _check_poisson_rates(rates_hz, dead_time_s)
    n_samples, n_cells = rates.shape
    duration_s = n_samples / fs
    # Dead-time compensation: output rate λ/(1+λd) equals the requested r.
    drive_hz = rates / (1.0 - rates * dead_time_s) if dead_time_s > 0 else rates
    times, indptr = _poisson_trains(drive_hz, fs, n_trials, dead_time_s, rng, duration_s)
    return SpikeTrains(times, indptr, n_trials, n_cells, duration_s)


def _as_rate_array(rates_hz: Any) -> np.ndarray | None:
    """``rates_hz`` as a C-contiguous 2-D float64 array, values unchecked; None if it is not."""
    try:
        arr = np.asarray(rates_hz, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        return None
    return np.ascontiguousarray(arr)


def _check_poisson_rates(rates_hz: Any, dead_time_s: float) -> np.ndarray:
    """The checked rates: ``>= 0``, finite, and below ``1 / dead_time_s``."""
    rates = check_rates("rates_hz", rates_hz)
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
    return rates


def _poisson_trains_compiled(
    kernels: Any,
    rates: np.ndarray,
    fs: float,
    n_trials: int,
    dead_time_s: float,
    rng: np.random.Generator,
    duration_s: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The compiled path; None if a rate is out of range (the caller reports it).

    One 64-bit seed is drawn from ``rng``; the kernel expands it into an independent
    xoshiro256++ stream per group of ``kernels.POISSON_STREAM_CELLS`` cells, and threads
    split the cells on those groups, so the spikes depend on the seed only, not on the
    number of threads.
    """
    n_cells = rates.shape[1]
    seed = rng.integers(0, np.iinfo(np.uint64).max, dtype=np.uint64, endpoint=True)
    t_max = float(np.nextafter(duration_s, 0.0))
    n_threads = kernels.thread_count(
        n_cells, n_trials * rates.size, _MIN_WORK_PER_THREAD, _MIN_CELLS_PER_THREAD
    )

    def part(c_lo: int, c_hi: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        return kernels.poisson_events(rates, c_lo, c_hi, fs, dead_time_s, n_trials, t_max, seed)

    parts = kernels.run_over_cells(part, n_cells, n_threads, kernels.POISSON_STREAM_CELLS)
    if any(status for status, *_ in parts):
        return None
    # (n_trials, n_cells), trial-major like the trains; one part's counts as they are.
    counts = parts[0][3] if len(parts) == 1 else np.concatenate([c for *_, c in parts], axis=1)
    counts = counts.reshape(-1)
    # indptr[k + 1] starts as train k's first slot and serves as the scatter's cursor,
    # which leaves it at the train's end, i.e. the CSR offset: no separate cursor array
    # (one 8-byte word per train fewer to allocate, copy and fault in).
    indptr = np.empty(counts.size + 1, dtype=np.int64)
    indptr[:2] = 0
    np.cumsum(counts[:-1], out=indptr[2:])
    times = np.empty(int(indptr[-1] + counts[-1]))
    for _, t, train, _ in parts:
        kernels.scatter_events(times, indptr[1:], t, train)
    return times, indptr


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

"""Compiled (numba) kernels of the Poisson and LIF generators; imported only with numba.

The pure-numpy implementations in :mod:`v1lab.cells.poisson` and :mod:`v1lab.cells.lif`
are the reference and the fallback; these kernels compute the same processes with loops
that keep one train's state in registers, which numpy's whole-array passes cannot:

* Poisson with dead time: the numpy path maps every event through one ``searchsorted``
  on the concatenated cumulative intensity of *all* cells (hundreds of MB for a large
  population, so every lookup is a cache miss) and needs ~10 whole-array passes. Here
  the rates are read once, row by row for a block of cells (:func:`poisson_events`):
  each cell carries the distance to its next drive event (trials superposed), the
  sample's integrated intensity is subtracted from it in a vectorised loop that also
  checks the rates and marks the cells whose distance went negative as bits of 64-cell
  words (while the next row is prefetched), and only those cells are visited, bit by
  bit, to place events inside the sample, deal them to trials and apply the dead time.
  Exponentials come from numpy's 256-layer ziggurat on an inline xoshiro256++ stream
  per group of 256 cells (~3 ns each), seeded from one integer drawn from the caller's
  ``Generator``.
* Leaky integrate-and-fire: the numpy path is one Python-level iteration per 0.1-ms step,
  each a dozen array passes, and a normal deviate from numpy costs ~8 ns. Here each
  neuron runs its whole trial in registers; far below threshold it jumps up to
  :data:`MACRO_STEPS` steps with one exact Gaussian draw (refined into single steps by
  the exact bridge only where a crossing is possible); and normal deviates come from an
  inline xoshiro256++ generator (Blackman & Vigna 2021) feeding the 256-layer ziggurat
  (Marsaglia & Tsang 2000) that numpy itself uses — ~3 ns each on the 2-core development
  machine. Each cell has its own stream (SplitMix64 outputs of one integer drawn from
  the caller's ``Generator``), so a seed still fixes every spike and the cells can be
  split over threads (:func:`run_over_cells`) without changing them; the draws differ
  from the numpy path's, so the two paths agree in distribution, not spike for spike.

References
----------
Blackman D, Vigna S (2021). Scrambled linear pseudorandom number generators. ACM Trans
Math Softw 47:36.

Lemire D (2019). Fast random integer generation in an interval. ACM Trans Model Comput
Simul 29:3.

Marsaglia G, Tsang WW (2000). The ziggurat method for generating random variables.
J Stat Softw 5(8).

Steele GL, Lea D, Flood CH (2014). Fast splittable pseudorandom number generators.
OOPSLA 2014, 453–472 (SplitMix64).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

T = TypeVar("T")

_CACHE = True  # compiled machine code is kept in __pycache__ between processes


def thread_count(n_cells: int, work: float, min_work: float, min_cells: int) -> int:
    """Threads to split ``n_cells`` over: numba's thread count where the work pays for it.

    At least ``min_work`` units of work and ``min_cells`` cells per thread (below that,
    starting a thread costs more than it saves).
    """
    per_work = int(work // min_work)
    return max(1, min(numba.get_num_threads(), per_work, n_cells // min_cells))


def run_over_cells(
    kernel: Callable[[int, int], T], n_cells: int, n_threads: int, align: int = 1
) -> list[T]:
    """``kernel(c_lo, c_hi)`` over ``n_threads`` contiguous ranges of cells, in order.

    Every range but the last starts and ends on a multiple of ``align`` cells (a kernel
    whose random streams belong to groups of cells must not split a group). The kernels
    release the GIL (``nogil=True``), so Python threads run them in parallel.
    """
    cuts = np.linspace(0, n_cells, n_threads + 1) / align
    bounds = (cuts.round().astype(np.int64) * align).clip(0, n_cells)
    bounds[-1] = n_cells
    bounds = np.unique(bounds).tolist()  # fewer ranges when there are few groups
    if len(bounds) == 2:
        return [kernel(0, n_cells)]
    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        return list(pool.map(kernel, bounds[:-1], bounds[1:]))


# --------------------------------------------------------------------------------------
# Poisson with dead time
# --------------------------------------------------------------------------------------

# Cells swept together along the rows of the (n_samples, n_cells) rate array: each row's
# slice (8 KB) is read front to back while the next row's slice is prefetched, and the
# per-train state of the events (160 KB at 10 trials) stays in L2. Measured at
# N = 10,000 (2,000 samples, 10 trials, 1 thread, 2026-12-08): without the prefetch the
# row sweep costs 32 ms with blocks of 1,024 cells, 24 with 2,048, 19 with whole rows
# (the hardware prefetcher restarts at each row's slice); with it 21, 18 and 16 ms, and
# the whole generator is the same (within 1 ms) for blocks of 512 to 4,096 cells; 12 ms
# for numpy's sum of the array.
POISSON_CELL_BLOCK = 1024
# Cells that share one random stream (a multiple of 64, dividing POISSON_CELL_BLOCK):
# the stream's state is then 4 words per 256 cells, in L1 and in step from one event to
# the next, instead of 4 words per cell fetched from L2 at every event (4 ms of 45).
# Threads split the cells on multiples of it, so the spikes do not depend on them.
POISSON_STREAM_CELLS = 256
# Events ahead whose output slot the scatter prefetches: 48 rather than 16 keeps more
# writes in flight (scatter alone 5.3 -> 4.3 ms min at N = 10,000, load 4.4; 64 no better).
_SCATTER_AHEAD = 48
# Largest float below 1: keeps a within-sample fraction strictly inside [0, 1).
_BELOW_ONE = float(np.nextafter(1.0, 0.0))
# SplitMix64 (Steele, Lea & Flood 2014): expands one 64-bit seed into xoshiro states.
_SPLITMIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_SPLITMIX_M1 = np.uint64(0xBF58476D1CE4E5B9)
_SPLITMIX_M2 = np.uint64(0x94D049BB133111EB)


@numba.njit(inline="always")
def _splitmix64(x):  # pragma: no cover - compiled
    """The ``x``-th output of SplitMix64 (a bijection of the counter ``x``)."""
    z = x * _SPLITMIX_GAMMA + _SPLITMIX_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _SPLITMIX_M1
    z = (z ^ (z >> np.uint64(27))) * _SPLITMIX_M2
    return z ^ (z >> np.uint64(31))


@numba.njit(inline="always")
def _cell_state(seed, cell):  # pragma: no cover - compiled
    """xoshiro256++ state of ``cell``: outputs 4·cell … 4·cell + 3 of SplitMix64(seed).

    Every cell has its own stream, so the spikes do not depend on how the cells are
    split into blocks or threads. The four outputs are distinct (SplitMix64's output
    function is a bijection), so the state is never all zero.
    """
    base = seed + np.uint64(4) * np.uint64(cell)
    return (
        _splitmix64(base),
        _splitmix64(base + np.uint64(1)),
        _splitmix64(base + np.uint64(2)),
        _splitmix64(base + np.uint64(3)),
    )


def poisson_events(
    rates: np.ndarray,
    c_lo: int,
    c_hi: int,
    fs: float,
    dead_time_s: float,
    n_trials: int,
    t_max: float,
    seed: np.uint64,
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Dead-time Poisson spikes of cells ``c_lo … c_hi - 1``, all trials, in one pass.

    The rates are read once, row by row (a block of cells at a time), and checked on
    the way. Each cell runs the superposition of its ``n_trials`` drive processes, a
    Poisson process of intensity ``n_trials · λ(t)`` with ``λ = r / (1 - r d)``, by time
    rescaling: the integrated intensity of each sample is subtracted from the distance to
    the next event, an ``Exp(1)`` deviate; when it goes negative the event lies inside the
    sample, at the fraction where the linear integral reaches it, and the next distance is
    drawn. Each event belongs to a trial drawn uniformly (the thinning of a Poisson
    process into independent ones), and is kept if it is at least ``dead_time_s`` after
    the trial's last kept spike. The cells of each group of :data:`POISSON_STREAM_CELLS`
    share one xoshiro256++ stream, drawn from in sweep order (sample by sample, cell by
    cell), so ``c_lo`` must be a multiple of it; the spikes then depend on ``seed`` only.

    Returns
    -------
    status : int
        0, or 1 if a rate is not in ``[0, 1 / dead_time_s)`` (or not finite); the other
        outputs are then incomplete.
    times, trains : ndarray
        Kept spikes, cell block by cell block and in time order within a block, and their
        train ``trial * n_cells + cell`` (int32 when every train id fits).
    counts : ndarray, shape (n_trials, c_hi - c_lo)
        Kept spikes per train.
    """
    # Room for the expected number of spikes (the output rate is the requested rate),
    # estimated from every 64th sample, plus a margin. The kernel writes into fixed
    # buffers (growing them inside its loop would slow every iteration ~2x); a block of
    # cells that overflows them is only counted, and the kernel stops there: the buffers
    # grow, keeping what is written, and the kernel goes on from that block (its streams
    # start afresh at each block, so it draws the same spikes again). The buffers are
    # numpy's (it asks for transparent huge pages for large arrays, so fewer first-touch
    # page faults than numba's allocator), with int32 train ids when they fit: 12 bytes
    # per spike instead of 16.
    if c_lo % POISSON_STREAM_CELLS:
        raise ValueError(f"c_lo = {c_lo} splits a group of {POISSON_STREAM_CELLS} cells")
    expected = float(rates[::64, c_lo:c_hi].sum())
    cap = int(min(1.25 * 64.0 * expected * n_trials / fs, 1e12)) + 4096
    train_dtype = np.int32 if n_trials * rates.shape[1] <= np.iinfo(np.int32).max else np.int64
    times = np.empty(cap)
    trains = np.empty(cap, train_dtype)
    counts = np.zeros((n_trials, c_hi - c_lo), np.int64)
    c_start, n_ev = c_lo, 0
    model = (fs, dead_time_s, n_trials, t_max, seed)
    while True:
        status, n_ev, c_start, n_needed = _poisson_events_into(
            rates, c_lo, c_start, c_hi, *model, times, trains, counts, n_ev
        )
        if status != 0 or c_start == c_hi:
            return status, times[:n_ev], trains[:n_ev], counts
        cap = max(2 * cap, n_needed + n_needed // 4)
        times = np.concatenate([times[:n_ev], np.empty(cap - n_ev)])
        trains = np.concatenate([trains[:n_ev], np.empty(cap - n_ev, train_dtype)])


@numba.njit(cache=_CACHE, nogil=True, error_model="numpy")
def _poisson_events_into(
    rates, c_lo, c_start, c_hi, fs, dead_time_s, n_trials, t_max, seed, times, trains, counts, n_ev
):  # pragma: no cover - compiled
    """:func:`poisson_events` for cells ``c_start …`` into the given buffers.

    ``c_start`` is ``c_lo`` or the first cell of one of its blocks; the buffers hold
    ``n_ev`` spikes of the cells before it, and ``counts`` has a column per cell from
    ``c_lo``. Returns ``(status, n_ev, c_next, n_needed)``: the spikes written so far and
    the first cell not done, ``c_hi`` unless the block starting there did not fit (it
    needs ``n_needed`` slots in all; its spikes were only counted). ``error_model='numpy'``:
    no ZeroDivisionError check on the division, which lets LLVM vectorise the row loop.
    """
    n_samples, n_cells = rates.shape
    inv_fs = 1.0 / fs
    scale = n_trials * inv_fs
    r_limit = 1.0 / dead_time_s if dead_time_s > 0.0 else np.inf
    trials_u64 = np.uint64(n_trials)
    cap = times.size
    rem = np.empty(POISSON_CELL_BLOCK)  # distance to each cell's next drive event
    # Bit j of hit_words[w]: cell 64 w + j has an event in this sample.
    hit_words = np.empty(POISSON_CELL_BLOCK // 64 + 1, np.uint64)
    # One xoshiro256++ state per stream group; a group's events draw in sweep order.
    state = np.empty((POISSON_CELL_BLOCK // POISSON_STREAM_CELLS + 1, 4), np.uint64)
    # Per train: its last kept spike and its spike count (a float, exact below 2**53),
    # side by side so that the dead-time test and the count touch one cache line.
    trains_state = np.empty((POISSON_CELL_BLOCK, n_trials, 2))
    for c0 in range(c_start, c_hi, POISSON_CELL_BLOCK):
        nb = min(POISSON_CELL_BLOCK, c_hi - c0)
        n_before = n_ev
        n_words = nb // 64
        for b in range(nb):
            if b % POISSON_STREAM_CELLS == 0:
                s0, s1, s2, s3 = _cell_state(seed, (c0 + b) // POISSON_STREAM_CELLS)
            rem[b], s0, s1, s2, s3 = _exponential(s0, s1, s2, s3)
            g = b // POISSON_STREAM_CELLS
            state[g, 0], state[g, 1], state[g, 2], state[g, 3] = s0, s1, s2, s3
            for k in range(n_trials):
                trains_state[b, k, 0] = -np.inf
                trains_state[b, k, 1] = 0.0
        for s in range(n_samples):
            row = rates[s, c0 : c0 + nb]
            # Branch-free (vectorised): check, integrate, and mark the cells whose next
            # event falls inside this sample (~5 % of them at cortical rates) as bits of
            # 64-cell words; the events are then found word by word, bit by bit.
            good = 0
            # The same cells' rates one sample later: prefetched while this row is swept,
            # since the hardware prefetcher restarts at each row's strided slice.
            ahead = rates[min(s + 1, n_samples - 1), c0 : c0 + nb]
            for w in range(n_words):
                for q in range(0, 64, 8):
                    _prefetch(ahead, 64 * w + q)
                word = np.uint64(0)
                for j in range(64):
                    b = 64 * w + j
                    r = row[b]
                    good += (r >= 0.0) & (r < r_limit)
                    x = rem[b] - r * scale / (1.0 - r * dead_time_s)
                    rem[b] = x
                    word |= np.uint64(x < 0.0) << np.uint64(j)
                hit_words[w] = word
            word = np.uint64(0)
            for b in range(64 * n_words, nb):
                r = row[b]
                good += (r >= 0.0) & (r < r_limit)
                x = rem[b] - r * scale / (1.0 - r * dead_time_s)
                rem[b] = x
                word |= np.uint64(x < 0.0) << np.uint64(b - 64 * n_words)
            hit_words[n_words] = word
            if good != nb:
                return 1, n_ev, c0, n_ev
            # A stream's state stays in registers while its cells' events are placed.
            g_held = -1
            for w in range(n_words + 1):
                word = hit_words[w]
                if word == 0:
                    continue
                g = 64 * w // POISSON_STREAM_CELLS
                if g != g_held:
                    if g_held >= 0:
                        state[g_held, 0], state[g_held, 1] = s0, s1
                        state[g_held, 2], state[g_held, 3] = s2, s3
                    s0, s1, s2, s3 = state[g, 0], state[g, 1], state[g, 2], state[g, 3]
                    g_held = g
                while word != 0:
                    b = 64 * w + _lowest_bit(word)
                    word &= word - np.uint64(1)
                    x = rem[b]
                    r = row[b]
                    width = r * scale / (1.0 - r * dead_time_s)
                    while x < 0.0:
                        frac = min(max(1.0 + x / width, 0.0), _BELOW_ONE)
                        t = min((s + frac) * inv_fs, t_max)
                        trial = 0
                        if n_trials > 1:
                            # Lemire's multiply-shift: uniform on 0 … n_trials - 1.
                            u, s0, s1, s2, s3 = _next_u64(s0, s1, s2, s3)
                            trial = np.int64(((u >> np.uint64(32)) * trials_u64) >> np.uint64(32))
                        # Branch-free dead time: the slot is written either way and
                        # kept only if the event is (no mispredicted branch per event).
                        last = trains_state[b, trial, 0]
                        keep = t - last >= dead_time_s
                        trains_state[b, trial, 0] = t if keep else last
                        trains_state[b, trial, 1] += keep
                        if n_ev < cap:
                            times[n_ev] = t
                            trains[n_ev] = trial * n_cells + c0 + b
                        n_ev += keep
                        e, s0, s1, s2, s3 = _exponential_fast(s0, s1, s2, s3)
                        x += e
                    rem[b] = x
            if g_held >= 0:
                state[g_held, 0], state[g_held, 1] = s0, s1
                state[g_held, 2], state[g_held, 3] = s2, s3
        if n_ev > cap:
            return 0, n_before, c0, n_ev
        for b in range(nb):
            for k in range(n_trials):
                counts[k, c0 + b - c_lo] = np.int64(trains_state[b, k, 1])
    return 0, n_ev, c_hi, n_ev


@numba.njit(cache=_CACHE, nogil=True)
def scatter_events(out, next_slot, times, trains):  # pragma: no cover - compiled
    """Write events (in time order per train) into the trains' CSR slots ``out``.

    ``next_slot[k]`` starts at train ``k``'s first slot (``indptr[k]``) and is advanced
    past each event written: one random access per event instead of two. The slot of
    the event :data:`_SCATTER_AHEAD` places ahead is prefetched, since the writes land
    all over ``out`` (~10 % faster).
    """
    n = times.size
    for i in range(n):
        if i + _SCATTER_AHEAD < n:
            _prefetch(out, next_slot[trains[i + _SCATTER_AHEAD]])
        k = trains[i]
        out[next_slot[k]] = times[i]
        next_slot[k] += 1


@intrinsic
def _prefetch(typingctx, arr, index):  # pragma: no cover - compiled
    """Ask for the cache line holding ``arr[index]`` (LLVM's ``prefetch``, read, keep)."""
    sig = types.void(arr, index)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(
            context, builder, array_type, array, [args[1]], wraparound=False
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        # (address, read = 0, locality = 3: keep in all levels, data cache = 1)
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        builder.call(fn, [builder.bitcast(ptr, i8p), *flags])
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _lowest_bit(typingctx, word):  # pragma: no cover - compiled
    """Index of the lowest set bit of a nonzero uint64 (LLVM's ``cttz``: one instruction)."""
    sig = types.int64(types.uint64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fnty = ir.FunctionType(i64, [i64, ir.IntType(1)])
        fn = builder.module.declare_intrinsic("llvm.cttz", [i64], fnty)
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])

    return sig, codegen


# --------------------------------------------------------------------------------------
# Random numbers: xoshiro256++ and numpy's 256-layer ziggurat
# --------------------------------------------------------------------------------------


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Marsaglia–Tsang tables for 256 layers on 52-bit integers (numpy's layout)."""
    m1 = 2.0**52
    dn = 3.6541528853610088  # start of the tail
    tn = dn
    vn = 0.00492867323399  # area of each layer
    ki = np.zeros(256, np.int64)
    wi = np.zeros(256)
    fi = np.zeros(256)
    q = vn / math.exp(-0.5 * dn * dn)
    ki[0] = math.floor((dn / q) * m1)
    ki[1] = 0
    wi[0] = q / m1
    wi[255] = dn / m1
    fi[0] = 1.0
    fi[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        ki[i + 1] = math.floor((dn / tn) * m1)
        tn = dn
        fi[i] = math.exp(-0.5 * dn * dn)
        wi[i] = dn / m1
    return ki, wi, fi, 3.6541528853610088


_KI, _WI, _FI, _ZIG_R = _ziggurat_tables()
_ZIG_INV_R = 1.0 / _ZIG_R
_TWO_M53 = 2.0**-53


@numba.njit(inline="always")
def _rotl(x, k):  # pragma: no cover - compiled
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


# The generator's state travels as four uint64 values returned with every draw, not as
# an array: LLVM then keeps it in registers (an array state costs ~3x per draw).


@numba.njit(inline="always")
def _next_u64(s0, s1, s2, s3):  # pragma: no cover - compiled
    """xoshiro256++ (Blackman & Vigna): return (output, new state)."""
    result = _rotl(s0 + s3, 23) + s0
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@numba.njit(inline="always")
def _uniform(s0, s1, s2, s3):  # pragma: no cover - compiled
    """Uniform on [0, 1) with 53 random bits; returns (u, new state)."""
    r, s0, s1, s2, s3 = _next_u64(s0, s1, s2, s3)
    return (r >> np.uint64(11)) * _TWO_M53, s0, s1, s2, s3


@numba.njit(inline="always")
def _normal(s0, s1, s2, s3):  # pragma: no cover - compiled
    """Standard normal deviate by numpy's ziggurat; returns (x, new state)."""
    while True:
        r, s0, s1, s2, s3 = _next_u64(s0, s1, s2, s3)
        idx = np.int64(r & np.uint64(0xFF))
        r >>= np.uint64(8)
        negative = (r & np.uint64(1)) != 0
        # < 2**52, so a signed integer: its conversion to float is one instruction.
        rabs = np.int64((r >> np.uint64(1)) & np.uint64(0x000FFFFFFFFFFFFF))
        x = rabs * _WI[idx]
        if negative:
            x = -x
        if rabs < _KI[idx]:
            return x, s0, s1, s2, s3  # inside the layer's rectangle: ~99 % of draws
        if idx == 0:
            # The tail beyond _ZIG_R (Marsaglia 1964).
            while True:
                u1, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
                u2, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
                xx = -_ZIG_INV_R * math.log1p(-u1)
                yy = -math.log1p(-u2)
                if yy + yy > xx * xx:
                    if (rabs >> 8) & 1:
                        return -(_ZIG_R + xx), s0, s1, s2, s3
                    return _ZIG_R + xx, s0, s1, s2, s3
        else:
            u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
            if (_FI[idx - 1] - _FI[idx]) * u + _FI[idx] < math.exp(-0.5 * x * x):
                return x, s0, s1, s2, s3


def _ziggurat_exp_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Marsaglia–Tsang tables of the exponential on 53-bit integers (numpy's layout)."""
    m2 = 2.0**53
    de = 7.697117470131487  # start of the tail
    te = de
    ve = 3.949659822581572e-3  # area of each layer
    ke = np.zeros(256, np.int64)
    we = np.zeros(256)
    fe = np.zeros(256)
    q = ve / math.exp(-de)
    ke[0] = math.floor((de / q) * m2)
    ke[1] = 0
    we[0] = q / m2
    we[255] = de / m2
    fe[0] = 1.0
    fe[255] = math.exp(-de)
    for i in range(254, 0, -1):
        de = -math.log(ve / de + math.exp(-de))
        ke[i + 1] = math.floor((de / te) * m2)
        te = de
        fe[i] = math.exp(-de)
        we[i] = de / m2
    return ke, we, fe, 7.697117470131487


_KE, _WE, _FE, _ZIG_EXP_R = _ziggurat_exp_tables()


@numba.njit(inline="always")
def _exponential_wedge(idx, x, s0, s1, s2, s3):  # pragma: no cover - compiled
    """The ziggurat's step outside a layer's rectangle: (accepted, deviate, new state).
    The tail beyond ``_ZIG_EXP_R`` is the same exponential, shifted (memoryless)."""
    u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
    if idx == 0:
        return True, _ZIG_EXP_R - math.log1p(-u), s0, s1, s2, s3
    accepted = (_FE[idx - 1] - _FE[idx]) * u + _FE[idx] < math.exp(-x)
    return accepted, x, s0, s1, s2, s3


@numba.njit(inline="always")
def _exponential(s0, s1, s2, s3):  # pragma: no cover - compiled
    """Standard exponential deviate by numpy's ziggurat; returns (e, new state)."""
    while True:
        r, s0, s1, s2, s3 = _next_u64(s0, s1, s2, s3)
        r >>= np.uint64(3)
        idx = np.int64(r & np.uint64(0xFF))
        ri = np.int64(r >> np.uint64(8))  # 53 bits: a signed integer converts in one step
        x = ri * _WE[idx]
        if ri < _KE[idx]:
            return x, s0, s1, s2, s3  # inside the layer's rectangle: ~99 % of draws
        accepted, e, s0, s1, s2, s3 = _exponential_wedge(idx, x, s0, s1, s2, s3)
        if accepted:
            return e, s0, s1, s2, s3


@numba.njit(inline="always")
def _exponential_fast(s0, s1, s2, s3):  # pragma: no cover - compiled
    """:func:`_exponential`, same draws, with its rare branches in a call of their own.

    Inlined whole into a hot loop, the wedge and tail branches (~1 % of draws) spill
    registers of the loop around them; kept out of line, the common path is a few
    instructions.
    """
    r, s0, s1, s2, s3 = _next_u64(s0, s1, s2, s3)
    r >>= np.uint64(3)
    idx = np.int64(r & np.uint64(0xFF))
    ri = np.int64(r >> np.uint64(8))
    x = ri * _WE[idx]
    if ri < _KE[idx]:
        return x, s0, s1, s2, s3
    return _exponential_rare(idx, x, s0, s1, s2, s3)


@numba.njit(nogil=True)
def _exponential_rare(idx, x, s0, s1, s2, s3):  # pragma: no cover - compiled
    """The rest of :func:`_exponential` once a draw falls outside its layer's rectangle."""
    accepted, e, s0, s1, s2, s3 = _exponential_wedge(idx, x, s0, s1, s2, s3)
    return (e, s0, s1, s2, s3) if accepted else _exponential(s0, s1, s2, s3)


@numba.njit(cache=_CACHE)
def fill_deviates(state, out, exponential):  # pragma: no cover - compiled
    """Fill ``out`` with standard exponential (or normal) deviates, for tests."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    for i in range(out.size):
        if exponential:
            out[i], s0, s1, s2, s3 = _exponential(s0, s1, s2, s3)
        else:
            out[i], s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3


def seed_state(rng: np.random.Generator) -> np.ndarray:
    """A xoshiro256++ state drawn from ``rng`` (never all zero)."""
    state = rng.integers(0, np.iinfo(np.uint64).max, size=4, dtype=np.uint64, endpoint=True)
    if not state.any():
        state[0] = 1
    return state


# --------------------------------------------------------------------------------------
# Leaky integrate-and-fire
# --------------------------------------------------------------------------------------


#: Fine steps jumped at once while a neuron is far below threshold.
MACRO_STEPS = 10
# A jump is taken as it stands when the Brownian-bridge probability of a threshold
# crossing between its ends is below e^-50; the per-step test of the model ignores
# probabilities below e^-40, so a skipped jump hides no spike the model would fire.
_SKIP_EXPONENT = 50.0


def lif_jump_tables(
    decay: float, step_sd: float, bridge_var: float, k_max: int
) -> tuple[np.ndarray, ...]:
    """Coefficients of K-step jumps and of the bridge that refines them.

    With ``Y = V - μ`` (μ constant over the jump) one step is ``Y' = a Y + s ξ``, so
    after ``K`` steps ``Y_K = a^K Y_0 + S_K ζ`` with ``S_K² = s² (1 - a^2K) / (1 - a²)``.
    Given ``Y_j`` and ``Y_K``, ``r = K - j`` steps apart, ``Y_{j+1}`` is Gaussian with
    mean ``α_r Y_j + β_r Y_K`` and SD ``γ_r``, so a jump can be refined step by step
    into exactly the path the single-step recursion would have drawn.
    """
    a, s2 = decay, step_sd * step_sd
    k = np.arange(k_max + 1)
    var = s2 * (1.0 - a ** (2.0 * k)) / (1.0 - a * a)  # variance of Y_K given Y_0
    jump_decay = a**k
    jump_sd = np.sqrt(var)
    # Skip the refinement when (θ - V_0)(θ - V_K) > this (both ends below θ).
    skip_product = 0.5 * _SKIP_EXPONENT * bridge_var * np.maximum(k, 1)
    alpha = np.zeros(k_max + 1)
    beta = np.zeros(k_max + 1)
    gamma = np.zeros(k_max + 1)
    beta[1] = 1.0  # one step left: the next value is the end itself
    for r in range(2, k_max + 1):
        precision = 1.0 / s2 + a ** (2.0 * (r - 1)) / var[r - 1]
        alpha[r] = (a / s2) / precision
        beta[r] = (a ** (r - 1) / var[r - 1]) / precision
        gamma[r] = math.sqrt(1.0 / precision)
    return jump_decay, jump_sd, skip_product, alpha, beta, gamma


# Cells whose input traces are converted to μ together: 8 float64 = one cache line of
# each row of the (n_samples, n_cells) rate array.
_LIF_CELL_BLOCK = 8


@numba.njit(cache=_CACHE, nogil=True)
def _mu_block(rates, c0, nb, inverse, out):  # pragma: no cover - compiled
    """μ of cells ``c0 … c0 + nb - 1`` for every sample (rows of ``out``).

    Evaluates the monotone cubic of :func:`v1lab.cells.lif._inverse_siegert` (breakpoints
    ``x`` in log-rate, coefficients ``c`` highest power first, as in scipy's PPoly).
    """
    x, c, rate_lo, mu_silent = inverse
    n_pieces = x.size - 1
    n_samples = rates.shape[0]
    for s in range(n_samples):
        for b in range(nb):
            r = rates[s, c0 + b]
            if r <= rate_lo:
                out[b, s] = mu_silent
                continue
            lr = math.log(r)
            lo = 0
            hi = n_pieces - 1
            while lo < hi:  # last piece whose left breakpoint is <= lr
                mid = (lo + hi + 1) >> 1
                if x[mid] <= lr:
                    lo = mid
                else:
                    hi = mid - 1
            d = lr - x[lo]
            out[b, s] = ((c[0, lo] * d + c[1, lo]) * d + c[2, lo]) * d + c[3, lo]


@numba.njit(cache=_CACHE, nogil=True)
def lif_trains(
    rates, inverse, sample_of_step, run_end, model, tables, seed, c_lo, c_hi
):  # pragma: no cover - compiled
    """Integrate every trial of cells ``c_lo … c_hi - 1``; return (times, counts).

    ``times`` holds the spikes cell after cell, trial after trial within a cell;
    ``counts[trial, cell - c_lo]`` how many each train has (:func:`merge_cell_major`
    puts them into trial-major CSR). Each cell draws from its own xoshiro256++ stream
    (:func:`_cell_state`), so the spikes do not depend on how cells are split.
    ``model`` is ``(n_trials, dt_s, decay, step_sd, bridge_var, near_level, theta,
    v_reset, refractory_s, duration_s)``.

    The update, spike timing, Brownian-bridge crossing test and refractory clamp are
    those of :func:`v1lab.cells.lif._lif_run`, neuron by neuron instead of step by step. A
    free neuron jumps up to :data:`MACRO_STEPS` steps (within one input sample, where μ
    is constant) with one normal deviate; only when the jump's ends come close enough
    to threshold for a crossing to be possible is it refined into its single steps by
    sampling the exact Gaussian bridge, and the per-step model run on them; the
    refinement stops as soon as the rest of the bridge passes the same test as a whole
    jump (a crossing in it has probability < e^-50), so only the steps near threshold
    are drawn one by one (12–21 % less time at N = 1,000 on the benchmark's drive). Far
    below threshold most jumps are taken whole, so a neuron costs a fraction of a normal
    deviate per step.
    """
    n_trials, dt_s, decay, step_sd, bridge_var, near_level, theta, v_reset = model[:8]
    refractory_s, duration_s = model[8], model[9]
    jump_decay, jump_sd, skip_product, alpha, beta, gamma = tables
    k_max = jump_decay.size - 1
    n_samples = rates.shape[0]
    n_steps = sample_of_step.size
    counts = np.zeros((n_trials, c_hi - c_lo), np.int64)
    cap = 1 << 16
    buf = np.empty(cap)
    n_buf = 0
    mu_rows = np.empty((_LIF_CELL_BLOCK, n_samples))
    for cell in range(c_lo, c_hi):
        b = (cell - c_lo) % _LIF_CELL_BLOCK
        if b == 0:
            _mu_block(rates, cell, min(_LIF_CELL_BLOCK, c_hi - cell), inverse, mu_rows)
        mu_row = mu_rows[b]
        s0, s1, s2, s3 = _cell_state(seed, cell)
        for trial in range(n_trials):
            v = v_reset
            free_until = 0.0
            m = 0
            step = 0
            while step < n_steps:
                if free_until > step * dt_s:
                    # Clamped at reset until the first step that starts at or after the
                    # end of the refractory period.
                    v = v_reset
                    step += 1
                    continue
                mu = mu_row[sample_of_step[step]]
                n_jump = min(k_max, run_end[step] - step)
                y0 = v - mu
                y_end = y0
                if n_jump > 1:
                    z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
                    y_end = jump_decay[n_jump] * y0 + jump_sd[n_jump] * z
                    gap0 = theta - v
                    gap1 = theta - (mu + y_end)
                    if gap0 > 0.0 and gap1 > 0.0 and gap0 * gap1 > skip_product[n_jump]:
                        v = mu + y_end
                        step += n_jump
                        continue
                # Refine: the single steps of the model, drawn from the bridge to y_end
                # (or, for a jump of one step, from the one-step recursion).
                y = y0
                for r in range(n_jump, 0, -1):
                    if n_jump == 1:
                        z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
                        y_new = decay * y + step_sd * z
                    elif r == 1:
                        y_new = y_end
                    else:
                        z, s0, s1, s2, s3 = _normal(s0, s1, s2, s3)
                        y_new = alpha[r] * y + beta[r] * y_end + gamma[r] * z
                    v_old = mu + y
                    v_new = mu + y_new
                    t0 = step * dt_s
                    t_spike = -1.0
                    if v_new >= theta:
                        t_spike = t0 + (theta - v_old) / (v_new - v_old) * dt_s
                    elif v_new > near_level or v_old > near_level:
                        # An excursion above threshold between the two samples.
                        p = math.exp(-2.0 * (theta - v_old) * (theta - v_new) / bridge_var)
                        u, s0, s1, s2, s3 = _uniform(s0, s1, s2, s3)
                        if u < p:
                            t_spike = t0 + 0.5 * dt_s
                    step += 1
                    if t_spike >= 0.0:
                        # The rest of the jump is discarded: after the reset the path
                        # continues with fresh noise.
                        y = v_reset - mu
                        free_until = t_spike + refractory_s
                        if t_spike < duration_s:
                            if n_buf == cap:
                                grown = np.empty(2 * cap)
                                grown[:cap] = buf
                                buf = grown
                                cap *= 2
                            buf[n_buf] = t_spike
                            n_buf += 1
                            m += 1
                        break
                    y = y_new
                    # The rest of the jump is a bridge from y to y_end over r - 1 steps:
                    # taken whole by the same rule as a whole jump (a crossing in it
                    # has probability < e^-50), so only the steps near threshold are
                    # drawn one by one.
                    if r > 1:
                        gap0 = theta - (mu + y)
                        gap1 = theta - (mu + y_end)
                        if gap0 > 0.0 and gap1 > 0.0 and gap0 * gap1 > skip_product[r - 1]:
                            y = y_end
                            step += r - 1
                            break
                v = mu + y
            counts[trial, cell - c_lo] = m
    return buf[:n_buf], counts


@numba.njit(cache=_CACHE, nogil=True)
def merge_cell_major(out, indptr, c_lo, times, counts):  # pragma: no cover - compiled
    """Copy cell-major spikes of cells ``c_lo …`` (see :func:`lif_trains`) into CSR ``out``."""
    n_trials, n_c = counts.shape
    n_cells = (indptr.size - 1) // n_trials
    src = 0
    for c in range(n_c):
        for trial in range(n_trials):
            dst = indptr[trial * n_cells + c_lo + c]
            for i in range(counts[trial, c]):
                out[dst + i] = times[src + i]
            src += counts[trial, c]

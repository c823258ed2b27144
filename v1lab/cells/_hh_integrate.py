"""The integration engine of the Hodgkin–Huxley membrane (see :mod:`v1lab.cells.hh_membrane`).

Gate tables and kernel constants, the two back-ends that advance every train by a block
of time steps (numpy, and the same arithmetic compiled by numba), the back-end choice
(:func:`hh_backend`), and :func:`integrate`, the loop over blocks that
:func:`~v1lab.cells.hh_membrane.sim_membrane` and the f–I measurements of
:mod:`v1lab.cells.hh_fi` run.
"""

from __future__ import annotations

import math
import os
import warnings
from functools import lru_cache
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice
from v1lab.cells.hh_kinetics import (
    HHParameters,
    alpha_beta,
    compute_resting_potential,
    steady_current,
    steady_gates,
)

#: Integration back-ends: ``"auto"`` uses numba when it imports, else numpy.
BACKENDS = ("auto", "numba", "numpy")

# Gate tables: potentials (relative to the shifted reference) from -120 to +80 mV at
# 0.05 mV; the kinetics are saturated outside (V is clamped to the table there).
_TABLE_LO_MV = -120.0
_TABLE_HI_MV = 80.0
_TABLE_STEP_MV = 0.05
# Spike detection: an upward crossing of -20 mV (45 mV above rest, far above any
# subthreshold excursion and below every peak the allowed temperatures give), re-armed
# once V falls 10 mV below it, so one spike is counted once.
_DETECT_MV = -20.0
_REARM_MV = -30.0
# Noise normals per block (float32): bounds memory whatever the number of trains.
_BLOCK_NORMALS = 1 << 21
# Interval at which the OU input noise is advanced (s); see integrate.
_NOISE_DT_S = 1e-4


@lru_cache(maxsize=16)
def _gate_table(params: HHParameters, dt_ms: float) -> np.ndarray:
    """Rush–Larsen update coefficients over V: columns A_m, E_m, A_h, E_h, A_n, E_n.

    One step with V held is ``x ← A(V) + E(V) x``, ``E = e^{−dt φ (α+β)}``,
    ``A = x∞ (1 − E)``. Row k is at ``V = lo + shift + k * step``.
    """
    v = params.v_shift_mv + np.arange(
        _TABLE_LO_MV, _TABLE_HI_MV + 0.5 * _TABLE_STEP_MV, _TABLE_STEP_MV
    )
    a_m, b_m, a_h, b_h, a_n, b_n = alpha_beta(v, params)
    cols = []
    for a, b in ((a_m, b_m), (a_h, b_h), (a_n, b_n)):
        decay = np.exp(-dt_ms * params.phi * (a + b))
        cols += [a / (a + b) * (1.0 - decay), decay]
    table = np.ascontiguousarray(np.stack(cols, axis=1))
    table.flags.writeable = False
    return table


def _consts(params: HHParameters, dt_ms: float, noise_a: float, noise_b: float) -> np.ndarray:
    """Scalar constants of the kernels, in the order the kernels unpack them."""
    e_na, e_k, e_l = params.reversal_mv
    s = params.v_shift_mv
    # The kernels' exponential e^{-dt g / C} is (e^{-x/64})^64 with a degree-6 Taylor
    # polynomial inside (_exp_neg): accurate to < 1e-6 while x/64 <= 1/4.
    x_max = dt_ms / params.c_m_uf_cm2 * (params.g_na_ms_cm2 + params.g_k_ms_cm2 + params.g_l_ms_cm2)
    if x_max > 16.0:
        raise ParameterError(
            "dt_s",
            dt_ms * 1e-3,
            f"expected dt_s * (g_na + g_k + g_l) / c_m <= 16 ms·mS/µF; lower dt_s to "
            f"{16.0 / x_max * dt_ms * 1e-3:.3g} s or below for these conductances",
        )
    return np.array(
        [
            params.c_m_uf_cm2,
            params.g_na_ms_cm2,
            params.g_k_ms_cm2,
            params.g_l_ms_cm2,
            e_na,
            e_k,
            e_l,
            dt_ms,
            noise_a,
            noise_b,
            _TABLE_LO_MV + s,
            1.0 / _TABLE_STEP_MV,
            _DETECT_MV + s,
            _REARM_MV + s,
        ]
    )


# --------------------------------------------------------------------------------------
# Kernels: one block of time steps for every train
# --------------------------------------------------------------------------------------
# state[j] = (V, m, h, n, eta) of train j; drive[c, k] = mean input current of cell c in
# rate sample k; sample_idx[s] = the rate sample of step s; normals[j, s] ~ N(0, 1) for
# the OU noise; spikes go to spk_t[j, :spk_n[j]] (ms, absolute); rec[slot] receives
# (V, m, h, n, I_Na, I_K, I_input) of the recorded trains at the start of every step.

REC_FIELDS = ("v_mv", "m", "h", "n", "i_na", "i_k", "i_input")


def _exp_neg(x: np.ndarray) -> np.ndarray:
    """``e^{-x}`` for ``0 <= x <= 16`` as the numba kernel computes it (see there)."""
    y = x * (1.0 / 64.0)
    e = 1.0 - y * (
        1.0 - y * (0.5 - y * (1.0 / 6.0 - y * (1.0 / 24.0 - y * (1.0 / 120.0 - y * (1.0 / 720.0)))))
    )
    for _ in range(6):
        e = e * e
    return e


def _block_numpy(
    state: np.ndarray,
    armed: np.ndarray,
    drive: np.ndarray,
    sample_idx: np.ndarray,
    cell_of: np.ndarray,
    normals: np.ndarray,
    noise_every: int,
    chunk: int,
    consts: np.ndarray,
    table: np.ndarray,
    t0_ms: float,
    spk_t: np.ndarray,
    spk_n: np.ndarray,
    rec_slot: np.ndarray,
    rec: np.ndarray,
) -> None:
    """Numpy back-end: one vectorised update over all trains per step."""
    c_m, g_na, g_k, g_l, e_na, e_k, e_l, dt, noise_a, noise_b, v_lo, inv_dv, thr, rearm = consts
    n_tab = table.shape[0]
    v = state[:, 0].copy()
    m = state[:, 1].copy()
    h = state[:, 2].copy()
    n = state[:, 3].copy()
    eta = state[:, 4].copy()
    drive_of_train = drive[cell_of]  # (n_trains, n_samples)
    rows = np.arange(v.size)
    rec_rows = np.flatnonzero(rec_slot >= 0)
    rec_to = rec_slot[rec_rows]
    noisy = noise_b > 0.0
    for s in range(sample_idx.size):
        if noisy and s % noise_every == 0:
            eta *= noise_a
            eta += noise_b * normals[:, s // noise_every]
        current = drive_of_train[:, sample_idx[s]] + eta
        if rec_rows.size:
            vr, mr, hr, nr = v[rec_rows], m[rec_rows], h[rec_rows], n[rec_rows]
            rec[rec_to, 0, s] = vr
            rec[rec_to, 1, s] = mr
            rec[rec_to, 2, s] = hr
            rec[rec_to, 3, s] = nr
            rec[rec_to, 4, s] = g_na * mr**3 * hr * (vr - e_na)
            rec[rec_to, 5, s] = g_k * nr**4 * (vr - e_k)
            rec[rec_to, 6, s] = current[rec_rows]
        u = np.clip((v - v_lo) * inv_dv, 0.0, n_tab - 1.0)
        k = np.minimum(u.astype(np.int64), n_tab - 2)
        f = (u - k)[:, None]
        coef = table[k] + f * (table[k + 1] - table[k])
        m = coef[:, 0] + coef[:, 1] * m
        h = coef[:, 2] + coef[:, 3] * h
        n = coef[:, 4] + coef[:, 5] * n
        gna = g_na * m * m * m * h
        n2 = n * n
        gk = g_k * n2 * n2
        g = gna + gk + g_l
        e_inf = (gna * e_na + gk * e_k + g_l * e_l + current) / g
        v_new = e_inf + (v - e_inf) * _exp_neg(dt / c_m * g)
        up = armed & (v_new >= thr) & (v < thr)
        if up.any():
            j = rows[up]
            spk_t[j, spk_n[j]] = t0_ms + (s + (thr - v[j]) / (v_new[j] - v[j])) * dt
            spk_n[j] += 1
            armed[j] = False
        armed |= v_new < rearm
        v = v_new
    state[:, 0], state[:, 1], state[:, 2], state[:, 3], state[:, 4] = v, m, h, n, eta


def _block_numba_py(
    state,
    armed,
    drive,
    sample_idx,
    cell_of,
    normals,
    noise_every,
    chunk,
    consts,
    table,
    t0_ms,
    spk_t,
    spk_n,
    rec_slot,
    rec,
):  # pragma: no cover - compiled by numba; the same arithmetic as _block_numpy
    c_m = consts[0]
    g_na = consts[1]
    g_k = consts[2]
    g_l = consts[3]
    e_na = consts[4]
    e_k = consts[5]
    e_l = consts[6]
    dt = consts[7]
    noise_a = consts[8]
    noise_b = consts[9]
    v_lo = consts[10]
    inv_dv = consts[11]
    thr = consts[12]
    rearm = consts[13]
    n_tab = table.shape[0]
    u_max = n_tab - 1.0
    k_max = n_tab - 2
    n_steps = sample_idx.shape[0]
    n_trains = state.shape[0]
    dt_c = dt / c_m
    noisy = noise_b > 0.0
    n_chunks = (n_trains + chunk - 1) // chunk
    # Parallel over chunks of trains; within a chunk, time outside and trains inside, with
    # the arithmetic in a branch-free loop the compiler turns into SIMD code (one train's
    # step alone is a latency-bound chain of table loads, an exponential and a division).
    for ci in _prange(n_chunks):
        j0 = ci * chunk
        nj = min(chunk, n_trains - j0)
        v = state[j0 : j0 + nj, 0].copy()
        m = state[j0 : j0 + nj, 1].copy()
        h = state[j0 : j0 + nj, 2].copy()
        n = state[j0 : j0 + nj, 3].copy()
        eta = state[j0 : j0 + nj, 4].copy()
        arm = armed[j0 : j0 + nj].copy()
        cnt = spk_n[j0 : j0 + nj].copy()
        v_old = np.empty(nj)
        base = np.empty(nj)
        slots = rec_slot[j0 : j0 + nj]
        any_rec = slots.max() >= 0
        col = -1
        for s in range(n_steps):
            if sample_idx[s] != col:
                col = sample_idx[s]
                for i in range(nj):
                    base[i] = drive[cell_of[j0 + i], col]
            if noisy and s % noise_every == 0:
                q = s // noise_every
                for i in range(nj):
                    eta[i] = eta[i] * noise_a + noise_b * normals[j0 + i, q]
            if any_rec:
                for i in range(nj):
                    slot = slots[i]
                    if slot >= 0:
                        vi = v[i]
                        mi = m[i]
                        hi = h[i]
                        ni = n[i]
                        rec[slot, 0, s] = vi
                        rec[slot, 1, s] = mi
                        rec[slot, 2, s] = hi
                        rec[slot, 3, s] = ni
                        rec[slot, 4, s] = g_na * mi * mi * mi * hi * (vi - e_na)
                        rec[slot, 5, s] = g_k * ni * ni * ni * ni * (vi - e_k)
                        rec[slot, 6, s] = base[i] + eta[i]
            for i in range(nj):
                vi = v[i]
                u = min(max((vi - v_lo) * inv_dv, 0.0), u_max)
                k = min(int(u), k_max)
                f = u - k
                mi = (table[k, 0] + f * (table[k + 1, 0] - table[k, 0])) + (
                    table[k, 1] + f * (table[k + 1, 1] - table[k, 1])
                ) * m[i]
                hi = (table[k, 2] + f * (table[k + 1, 2] - table[k, 2])) + (
                    table[k, 3] + f * (table[k + 1, 3] - table[k, 3])
                ) * h[i]
                ni = (table[k, 4] + f * (table[k + 1, 4] - table[k, 4])) + (
                    table[k, 5] + f * (table[k + 1, 5] - table[k, 5])
                ) * n[i]
                gna = g_na * mi * mi * mi * hi
                n2 = ni * ni
                gk = g_k * n2 * n2
                g = gna + gk + g_l
                e_inf = (gna * e_na + gk * e_k + g_l * e_l + base[i] + eta[i]) / g
                v_old[i] = vi
                # e^{-x} by scaling and squaring: (e^{-x/64})^64, the inner exponential a
                # degree-6 Taylor polynomial (x/64 <= 1/4, so relative error < 1e-6; at
                # the standard conductances and dt, x/64 < 0.07 and the error < 1e-11).
                # Unlike a libm call, this vectorises.
                y = dt_c * g * (1.0 / 64.0)
                e = 1.0 - y * (
                    1.0
                    - y
                    * (
                        0.5
                        - y * (1.0 / 6.0 - y * (1.0 / 24.0 - y * (1.0 / 120.0 - y * (1.0 / 720.0))))
                    )
                )
                e = e * e
                e = e * e
                e = e * e
                e = e * e
                e = e * e
                e = e * e
                v[i] = e_inf + (vi - e_inf) * e
                m[i] = mi
                h[i] = hi
                n[i] = ni
            for i in range(nj):
                vn = v[i]
                if arm[i]:
                    if vn >= thr:
                        vo = v_old[i]
                        if vo < thr:
                            spk_t[j0 + i, cnt[i]] = t0_ms + (s + (thr - vo) / (vn - vo)) * dt
                            cnt[i] += 1
                            arm[i] = False
                elif vn < rearm:
                    arm[i] = True
        for i in range(nj):
            j = j0 + i
            state[j, 0] = v[i]
            state[j, 1] = m[i]
            state[j, 2] = h[i]
            state[j, 3] = n[i]
            state[j, 4] = eta[i]
            armed[j] = arm[i]
            spk_n[j] = cnt[i]


_prange = range  # replaced by numba.prange inside the compiled kernel
_NUMBA_KERNEL: Any = None
_NUMBA_ERROR: str | None = None


def _numba_kernel() -> Any:
    """Compile (once; cached on disk by numba) the numba kernel, or return None."""
    global _NUMBA_KERNEL, _NUMBA_ERROR, _prange
    if _NUMBA_KERNEL is not None or _NUMBA_ERROR is not None:
        return _NUMBA_KERNEL
    try:
        import numba
    except Exception as err:  # ImportError, or a numba that does not support this numpy
        _NUMBA_ERROR = f"numba is not available ({type(err).__name__}: {err})"
        return None
    _prange = numba.prange
    with warnings.catch_warnings():
        # An unwritable cache directory only costs a recompile next time.
        warnings.simplefilter("ignore", numba.NumbaWarning)
        _NUMBA_KERNEL = numba.njit(parallel=True, cache=True, nogil=True)(_block_numba_py)
    return _NUMBA_KERNEL


def _numba_switched_off() -> bool:
    """``V1LAB_NUMBA=0`` selects the numpy paths everywhere (as in :mod:`v1lab.cells._common`)."""
    return os.environ.get("V1LAB_NUMBA", "1").strip().lower() in ("0", "false", "no", "off")


def hh_backend(backend: str = "auto") -> str:
    """Name of the back-end that ``backend`` resolves to: ``"numba"`` or ``"numpy"``.

    ``"auto"`` is numba when it imports, unless the environment variable ``V1LAB_NUMBA``
    is ``0`` (the switch the spike generators use too, :mod:`v1lab.cells._common`).

    Examples
    --------
    >>> hh_backend("numpy")
    'numpy'
    >>> hh_backend() in ("numba", "numpy")
    True
    """
    backend = check_choice("backend", backend, BACKENDS)
    if backend == "numpy":
        return "numpy"
    if backend == "auto" and _numba_switched_off():
        return "numpy"
    if _numba_kernel() is None:
        if backend == "numba":
            raise ParameterError(
                "backend",
                backend,
                f"{_NUMBA_ERROR}; install numba (pip install numba) or use 'numpy' or 'auto'",
            )
        return "numpy"
    return "numba"


# --------------------------------------------------------------------------------------
# The integration loop
# --------------------------------------------------------------------------------------


def _initial_state(
    drive0: np.ndarray,
    cell_of: np.ndarray,
    params: HHParameters,
    noise_sd: float,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """Each train starts at the fixed point for its initial mean current (no onset spike).

    The steady-state I–V curve of the HH membrane is monotone, so the fixed point for a
    constant current I is unique: it is found by interpolating the inverted curve. Above
    the Hopf current it is unstable and the train starts firing at once, as it should.
    """
    v_grid = params.v_shift_mv + np.linspace(-100.0, 20.0, 2401)
    i_grid = steady_current(v_grid, params)
    if np.all(np.diff(i_grid) > 0):
        v0 = np.interp(drive0[cell_of], i_grid, v_grid)
    else:  # non-standard parameters with an N-shaped I–V: start at rest
        v0 = np.full(cell_of.size, compute_resting_potential(params))
    m0, h0, n0 = steady_gates(v0, params)
    state = np.empty((cell_of.size, 5))
    state[:, 0], state[:, 1], state[:, 2], state[:, 3] = v0, m0, h0, n0
    # The OU noise starts in its stationary distribution.
    state[:, 4] = (
        0.0 if rng is None or noise_sd == 0 else noise_sd * rng.standard_normal(cell_of.size)
    )
    return state


def integrate(
    drive: np.ndarray,
    fs: float,
    n_trials: int,
    params: HHParameters,
    dt_s: float,
    noise_sd: float,
    noise_tau_s: float,
    rng: np.random.Generator | None,
    duration_s: float,
    backend: str,
    record: np.ndarray | None = None,
    t_skip_s: float = 0.0,
    initial_current: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Integrate all trains; return (times_s, indptr, rec or None).

    ``drive`` is (n_samples, n_cells) in µA/cm² at ``fs``; spikes before ``t_skip_s`` are
    dropped (used by the f–I measurements to skip the transient). Trains start at the
    fixed point for ``initial_current`` (per cell; default: the first drive sample).
    """
    n_samples, n_cells = drive.shape
    n_trains = n_trials * n_cells
    dt_ms = dt_s * 1e3
    n_steps = max(1, math.ceil(duration_s / dt_s - 1e-9))
    sample_of_step = np.minimum(
        ((np.arange(n_steps) + 0.5) * dt_s * fs).astype(np.int64), n_samples - 1
    )
    cell_of = np.tile(np.arange(n_cells, dtype=np.int64), n_trials)
    drive_t = np.ascontiguousarray(drive.T, dtype=np.float64)  # (n_cells, n_samples)
    # The OU noise is advanced exactly every `noise_every` steps (~0.1 ms) and held in
    # between: its correlation time (ms) is 50x longer, so holding changes nothing the
    # membrane (time constant ~1.5 ms) can see, and it saves 3/4 of the random numbers.
    noise_every = max(1, round(_NOISE_DT_S / dt_s))
    noise_dt_s = noise_every * dt_s
    noise_a = math.exp(-noise_dt_s / noise_tau_s)
    noise_b = (
        noise_sd * math.sqrt(-math.expm1(-2.0 * noise_dt_s / noise_tau_s)) if noise_sd > 0 else 0.0
    )
    consts = _consts(params, dt_ms, noise_a, noise_b)
    table = _gate_table(params, dt_ms)
    start_current = drive[0] if initial_current is None else np.asarray(initial_current, float)
    state = _initial_state(start_current, cell_of, params, noise_sd, rng)
    armed = np.ones(n_trains, dtype=np.bool_)
    kernel = _numba_kernel() if backend == "numba" else _block_numpy

    rec_slot = np.full(n_trains, -1, dtype=np.int64)
    n_rec = 0 if record is None else record.size
    if n_rec:
        rec_slot[record] = np.arange(n_rec)
    rec_all = np.empty((n_rec, len(REC_FIELDS), n_steps)) if n_rec else None

    block = max(16, min(n_steps, noise_every * _BLOCK_NORMALS // max(1, n_trains)))
    block = noise_every * math.ceil(block / noise_every)  # noise draws align with blocks
    if backend == "numba":
        import numba

        # Enough chunks for every thread, few enough trains per chunk to stay in L1.
        chunk = int(np.clip(math.ceil(n_trains / numba.get_num_threads()), 4, 64))
    else:
        chunk = n_trains
    # Each spike needs at least two steps (a crossing, then a step below the re-arm
    # level), so a block can hold at most block // 2 + 1 spikes per train.
    spk_t = np.empty((n_trains, block // 2 + 2))
    spk_n = np.zeros(n_trains, dtype=np.int64)
    dummy_normals = np.zeros((n_trains, 1), dtype=np.float32)
    ids_parts: list[np.ndarray] = []
    t_parts: list[np.ndarray] = []
    for s0 in range(0, n_steps, block):
        nb = min(block, n_steps - s0)
        if noise_b > 0:
            normals = rng.standard_normal((n_trains, -(-nb // noise_every)), dtype=np.float32)
        else:
            normals = dummy_normals
        rec = rec_all[:, :, s0 : s0 + nb] if rec_all is not None else np.empty((0, 7, 0))
        if rec_all is not None:
            rec = np.ascontiguousarray(rec)
        spk_n[:] = 0
        kernel(
            state,
            armed,
            drive_t,
            sample_of_step[s0 : s0 + nb],
            cell_of,
            normals,
            noise_every,
            chunk,
            consts,
            table,
            s0 * dt_ms,
            spk_t,
            spk_n,
            rec_slot,
            rec,
        )
        if rec_all is not None:
            rec_all[:, :, s0 : s0 + nb] = rec
        if spk_n.any():
            ids = np.repeat(np.arange(n_trains, dtype=np.int64), spk_n)
            cols = np.arange(ids.size) - np.repeat(np.cumsum(spk_n) - spk_n, spk_n)
            ids_parts.append(ids)
            t_parts.append(spk_t[ids, cols] * 1e-3)
    indptr = np.zeros(n_trains + 1, dtype=np.int64)
    if not ids_parts:
        return np.empty(0), indptr, rec_all
    ids = np.concatenate(ids_parts)
    times = np.concatenate(t_parts)
    keep = (times < duration_s) & (times >= t_skip_s)
    ids, times = ids[keep], times[keep]
    # Blocks were recorded in time order; a stable sort by train keeps times sorted.
    order = np.argsort(ids, kind="stable")
    np.cumsum(np.bincount(ids, minlength=n_trains), out=indptr[1:])
    return times[order], indptr, rec_all

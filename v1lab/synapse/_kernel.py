"""The compiled (numba) integrator of conductance-driven compartments; see :mod:`.simulate`.

One call advances every train (``trial × cell``) over the whole simulation, in parallel
over trains, each train's state kept in registers; there is no Python loop per step,
per spike or per train. Per step of ``dt``:

1. the synaptic events of the step (their times rounded down to the step, as NEURON's
   fixed-step method delivers them) add ``w · f`` to both exponentials of their
   receptor (the ``Exp2Syn`` scheme: ``g = B − A``, ``A`` decaying with τ_rise and
   ``B`` with τ_decay);
2. each receptor's conductance is averaged *exactly* over the step
   (``∫ B e^{−t/τ} dt = B τ (1 − e^{−dt/τ})``), then both exponentials decay exactly;
3. the gates take one Rush–Larsen step at the step's starting V (table lookup,
   linear interpolation);
4. V takes one exponential-Euler step with all conductances held at those values:
   ``V ← V∞ + (V − V∞) e^{−dt G / C}`` — exact for the passive membrane given the
   step-averaged conductance, and second order in ``dt`` for the synaptic waveform;
5. an upward crossing of the detection level is a spike (time interpolated within the
   step), re-armed 10 mV below it.

Optional background noise: an Ornstein–Uhlenbeck current (SD ``noise_sd_pa``,
correlation time ``noise_tau_ms``) added to the holding current, advanced by its exact
update each step. Its normal deviates come from a counter-based generator (SplitMix64
of seed, train and step; Box–Muller), so a train's noise depends only on the seed and
its index — the same whatever the number of threads.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)


@numba.njit(cache=True, inline="always")
def _mix64(z):  # pragma: no cover - compiled
    """SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective 64-bit hash."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _normal(key):  # pragma: no cover - compiled
    """One standard normal deviate from a 64-bit counter (Box–Muller on two 32-bit halves)."""
    z = _mix64(key)
    u1 = (float(z >> np.uint64(32)) + 0.5) * 2.3283064365386963e-10
    u2 = (float(z & _LOW32) + 0.5) * 2.3283064365386963e-10
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def normal_deviates(seed: int, train: int, n: int) -> np.ndarray:
    """The first ``n`` noise deviates of ``train`` (for tests: the kernel's own stream)."""
    return _stream(np.uint64(seed), np.uint64(train), n)


@numba.njit(cache=True)
def _stream(seed, train, n):  # pragma: no cover - compiled
    out = np.empty(n)
    key = _mix64(seed ^ _mix64(train + np.uint64(1)))
    for s in range(n):
        key += _GOLDEN
        out[s] = _normal(key)
    return out


@numba.njit(parallel=True, cache=True, nogil=True)
def run_trains(
    n_steps,
    dt,
    v0,
    gates0,
    table,
    table_lo,
    table_step,
    chan_g,
    chan_e,
    c_pf,
    syn_f,
    syn_d1,
    syn_d2,
    syn_q1,
    syn_q2,
    syn_e,
    syn_mode,
    mg_over_half,
    mg_slope,
    v_fixed,
    ev_ptr,
    ev_step,
    ev_kind,
    ev_w,
    i_inject,
    noise_sd_pa,
    noise_tau_ms,
    noise_seed,
    drive_g,
    drive_every,
    drive_e,
    rec_row,
    rec_every,
    v_rec,
    g_rec,
    detect_mv,
    active,
    spike_t,
    spike_n,
):  # pragma: no cover - compiled
    """Integrate all trains; fills ``v_rec``, ``g_rec``, ``spike_t`` and ``spike_n`` in place.

    ``syn_mode``: 0 conductance, 1 conductance with the Mg²⁺ block, 2 current-based
    (driving force fixed at ``v_fixed``). ``i_inject`` (pA, per train) is a constant
    holding current; ``noise_sd_pa`` > 0 adds the OU noise current (seed ``noise_seed``,
    a uint64). ``drive_g`` (nS; shape (n_trains or 1, n_samples)) is a given
    conductance reversing at ``drive_e``, held for ``drive_every`` steps per sample.
    ``rec_row[k] >= 0`` records train k's V (and each receptor's conductance) every
    ``rec_every`` steps into that row.
    """
    n_trains = v0.shape[0]
    n_syn = syn_f.shape[0]
    n_tab = table.shape[0]
    max_spikes = spike_t.shape[1]
    g_na, g_k, g_m, g_l = chan_g[0], chan_g[1], chan_g[2], chan_g[3]
    e_na, e_k, e_l = chan_e[0], chan_e[1], chan_e[2]
    rearm = detect_mv - 10.0
    noisy = noise_sd_pa > 0.0
    n_decay = math.exp(-dt / noise_tau_ms) if noisy else 0.0
    n_amp = noise_sd_pa * math.sqrt(1.0 - n_decay * n_decay)
    for k in numba.prange(n_trains):
        key = _mix64(noise_seed ^ _mix64(np.uint64(k) + np.uint64(1)))
        i_noise = 0.0
        if noisy:  # start from the stationary distribution
            key += _GOLDEN
            i_noise = noise_sd_pa * _normal(key)
        a = np.zeros(n_syn)
        b = np.zeros(n_syn)
        v = v0[k]
        x = gates0[k].copy()  # m, h, n, p
        armed = v < detect_mv
        ptr = ev_ptr[k]
        end = ev_ptr[k + 1]
        n_spk = 0
        row = rec_row[k]
        inj = i_inject[k]
        d_row = int(k) * int(drive_g.shape[0] > 1)  # one row for all trains, or one each
        n_drive = drive_g.shape[1]
        for s in range(n_steps):
            while ptr < end and ev_step[ptr] <= s:
                j = ev_kind[ptr]
                inc = ev_w[ptr] * syn_f[j]
                a[j] += inc
                b[j] += inc
                ptr += 1
            if row >= 0 and s % rec_every == 0:
                col = s // rec_every
                v_rec[row, col] = v
                for j in range(n_syn):
                    g_rec[row, j, col] = b[j] - a[j]
            g_tot = g_l
            ge = g_l * e_l + inj + i_noise
            if noisy:
                key += _GOLDEN
                i_noise = i_noise * n_decay + n_amp * _normal(key)
            if n_drive > 0:
                di = s // drive_every
                if di < n_drive:
                    gd = drive_g[d_row, di]
                    g_tot += gd
                    ge += gd * drive_e
            for j in range(n_syn):
                g_avg = b[j] * syn_q2[j] - a[j] * syn_q1[j]
                a[j] *= syn_d1[j]
                b[j] *= syn_d2[j]
                mode = syn_mode[j]
                if mode == 2:
                    ge += g_avg * (syn_e[j] - v_fixed)
                else:
                    if mode == 1:
                        g_avg = g_avg / (1.0 + mg_over_half * math.exp(-mg_slope * v))
                    g_tot += g_avg
                    ge += g_avg * syn_e[j]
            if active:
                u = (v - table_lo) / table_step
                if u < 0.0:
                    u = 0.0
                elif u > n_tab - 1.000001:
                    u = n_tab - 1.000001
                i = int(u)
                fr = u - i
                for q in range(4):
                    lo = table[i, 2 * q] + table[i, 2 * q + 1] * x[q]
                    hi = table[i + 1, 2 * q] + table[i + 1, 2 * q + 1] * x[q]
                    x[q] = lo + fr * (hi - lo)
                m, h, n, p = x[0], x[1], x[2], x[3]
                gna = g_na * m * m * m * h
                n2 = n * n
                gk = g_k * n2 * n2 + g_m * p
                g_tot += gna + gk
                ge += gna * e_na + gk * e_k
            v_inf = ge / g_tot
            v_new = v_inf + (v - v_inf) * math.exp(-dt * g_tot / c_pf)
            if armed and v_new >= detect_mv:
                if n_spk < max_spikes:
                    spike_t[k, n_spk] = (s + (detect_mv - v) / (v_new - v)) * dt
                n_spk += 1
                armed = False
            elif not armed and v_new < rearm:
                armed = True
            v = v_new
        spike_n[k] = n_spk
    return 0


def empty_outputs(
    n_trains: int, n_rec: int, n_syn: int, n_cols: int, max_spikes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Preallocated ``v_rec, g_rec, spike_t, spike_n`` for :func:`run_trains`."""
    return (
        np.zeros((max(n_rec, 1), n_cols)),
        np.zeros((max(n_rec, 1), n_syn, n_cols)),
        np.zeros((n_trains, max_spikes)),
        np.zeros(n_trains, np.int64),
    )

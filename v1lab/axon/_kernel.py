"""The implicit cable step: Hodgkin–Huxley membrane, tridiagonal solve, gate update.

One step (backward Euler in ``V``, the gates one step behind, as NEURON's default fixed
step; Hines 1984; Hines & Carnevale 1997; or Crank–Nicolson, ``cn = 1``, as NEURON's
``secondorder = 2``, below):

1. With the gates held, the ionic current is linear in ``V``:
   ``I_ion = G (V − E*)``, ``G = ḡNa m³h + ḡK n⁴ + g_L``. Backward Euler for
   ``C dV/dt = −I_ion − Σ g_ax (V_i − V_j) + I_inj`` is the tridiagonal system
   ``(C/dt + G + Σg_ax) V' − Σ g_ax V'_j = C/dt V + G E* + I_inj``, solved by the Thomas
   algorithm (Hines's elimination for an unbranched cable): O(n), unconditionally stable,
   so ``dt`` is not bound to ``dx²``.
2. The gates advance exactly for ``V'`` held over the step (exponential Euler,
   ``x ← x∞ + (x − x∞) e^{−dt φ(α+β)}``, NEURON's ``cnexp``).

Crank–Nicolson (Crank & Nicolson 1947; NEURON's ``secondorder``, Hines 1984): the same
system with ``C/dt`` doubled is backward Euler over half a step, giving ``V`` at
``t + dt/2``; ``V' = 2 V(t + dt/2) − V`` completes the step. The gates, updated with
``V'`` as above, are then read as living at the half steps (staggered), which makes the
whole step second order in ``dt``. Crank–Nicolson is A-stable but not L-stable: a
compartment whose own time constant ``τ`` is much shorter than ``dt`` is multiplied by
``(1 − dt/2τ)/(1 + dt/2τ) ≈ −1`` per step, so a sharp change (the stimulus's onset)
leaves a slowly decaying step-to-step ringing that backward Euler damps at once.

Units: mV, ms, nF, µS, nA. The same arithmetic runs compiled (:func:`run_numba`) or in
numpy with LAPACK's tridiagonal solver (:func:`run_numpy`; a Python loop over time steps
only, the reference the compiled one is tested against).

References
----------
Hines M (1984). Efficient computation of branched nerve equations. Int J Biomed Comput
15:69–76.
Crank J, Nicolson P (1947). A practical method for numerical evaluation of solutions of
partial differential equations of the heat-conduction type. Proc Camb Phil Soc
43:50–67.
Hines ML, Carnevale NT (1997). The NEURON simulation environment. Neural Comput
9:1179–1209.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import lapack

from v1lab.axon.nodes import crrss_rates

try:  # numba is a dependency; the numpy path stays for V1LAB_NUMBA=0
    import numba
except ImportError:  # pragma: no cover
    numba = None


def _rates_np(u: np.ndarray) -> tuple[np.ndarray, ...]:
    """HH 1952 rates (1/ms at 6.3 °C) at ``u = V − shift`` (modern convention)."""
    xm = -(u + 40.0) / 10.0
    xn = -(u + 55.0) / 10.0
    small_m = np.abs(xm) < 1e-6
    small_n = np.abs(xn) < 1e-6
    a_m = np.where(small_m, 1.0 - 0.5 * xm, xm / np.expm1(np.where(small_m, 1.0, xm)))
    a_n = 0.1 * np.where(small_n, 1.0 - 0.5 * xn, xn / np.expm1(np.where(small_n, 1.0, xn)))
    b_m = 4.0 * np.exp(-(u + 65.0) / 18.0)
    a_h = 0.07 * np.exp(-(u + 65.0) / 20.0)
    b_h = 1.0 / (1.0 + np.exp(-(u + 35.0) / 10.0))
    b_n = 0.125 * np.exp(-(u + 65.0) / 80.0)
    return a_m, b_m, a_h, b_h, a_n, b_n


# fmt: off
def run_numpy(v, m, h, n, c, gna, gk, gl, el, ga, ena, ek, shift, phi, dt, stim_i, stim,
              rec_idx, rec, snap_every, snaps, thr_mv, cross, peak, dvdt, model=0,
              cn=0) -> None:
    # fmt: on
    """Advance ``len(stim)`` steps in numpy (same arguments and arithmetic as run_numba)."""
    stim_i = int(stim_i)
    c_dt = c / dt * (2.0 if cn else 1.0)
    off = -ga
    k = 0
    rec[:, 0] = v[rec_idx]
    for step in range(stim.size):
        m3h = m * m * h if model else m * m * m * h
        n4 = n * n * n * n
        g = gna * m3h + gk * n4 + gl
        diag = c_dt + g
        diag[:-1] += ga
        diag[1:] += ga
        rhs = c_dt * v + gna * m3h * ena + gk * n4 * ek + gl * el
        rhs[stim_i] += stim[step]
        _, _, _, v_new, info = lapack.dgtsv(off, diag, off, rhs)
        if info != 0:  # pragma: no cover - the matrix is diagonally dominant
            raise FloatingPointError(f"LAPACK dgtsv failed (info={info})")
        if cn:  # the solve gave V at t + dt/2; Crank–Nicolson extrapolates to t + dt
            v_new = 2.0 * v_new - v
        t1 = (step + 1) * dt
        _track(v, v_new, t1, dt, thr_mv, cross, peak, dvdt)
        v[:] = v_new
        u = v - shift
        # CRRSS has no n gate: α = 0, β = 1 keep it at 0 (it multiplies ḡK = 0 anyway).
        rates = _rates_np(u) if model == 0 else (*crrss_rates(u), u * 0.0, u * 0.0 + 1.0)
        for x, (a, b) in zip((m, h, n), _pairs(rates), strict=True):
            tot = a + b
            x[:] = a / tot + (x - a / tot) * np.exp(-dt * phi * tot)
        rec[:, step + 1] = v[rec_idx]
        if snap_every and (step + 1) % snap_every == 0 and k < snaps.shape[0]:
            snaps[k] = v
            k += 1


def _pairs(r: tuple[np.ndarray, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(r[0], r[1]), (r[2], r[3]), (r[4], r[5])]


def _track(v, v_new, t1, dt, thr_mv, cross, peak, dvdt) -> None:
    up = (v < thr_mv) & (v_new >= thr_mv) & np.isnan(cross)
    if up.any():
        frac = (thr_mv - v[up]) / (v_new[up] - v[up])
        cross[up] = t1 - dt + frac * dt
    np.maximum(peak, v_new, out=peak)
    np.maximum(dvdt, (v_new - v) / dt, out=dvdt)


if numba is not None:

    @numba.njit(cache=True, nogil=True)
    def _crrss_gates(m, h, i, u, dt_phi):  # pragma: no cover
        """Exponential-Euler step of the CRRSS gates (rates as nodes.crrss_rates)."""
        a_m = (97.0 + 0.363 * u) / (1.0 + math.exp((31.0 - u) / 5.3))
        b_m = a_m / math.exp((u - 23.8) / 4.17)
        b_h = 15.6 / (1.0 + math.exp((24.0 - u) / 10.0))
        a_h = b_h / math.exp((u - 5.5) / 5.0)
        tot = a_m + b_m
        m[i] = a_m / tot + (m[i] - a_m / tot) * math.exp(-dt_phi * tot)
        tot = a_h + b_h
        h[i] = a_h / tot + (h[i] - a_h / tot) * math.exp(-dt_phi * tot)

    @numba.njit(cache=True, nogil=True, fastmath=False)
    def _x_expm1(x: float) -> float:
        if abs(x) < 1e-6:
            return 1.0 - 0.5 * x
        return x / math.expm1(x)

    # fmt: off
    @numba.njit(cache=True, nogil=True)
    def run_numba(v, m, h, n, c, gna, gk, gl, el, ga, ena, ek, shift, phi, dt, stim_i, stim,
                  rec_idx, rec, snap_every, snaps, thr_mv, cross, peak, dvdt,
                  model, cn):  # pragma: no cover
        # fmt: on
        nc = v.size
        c_fac = 2.0 if cn else 1.0
        cp = np.empty(nc)
        dp = np.empty(nc)
        v_new = np.empty(nc)
        active = (gna > 0.0) | (gk > 0.0)
        k = 0
        for r in range(rec_idx.size):
            rec[r, 0] = v[rec_idx[r]]
        for step in range(stim.size):
            # forward elimination
            for i in range(nc):
                m3h = m[i] * m[i] * h[i] if model else m[i] * m[i] * m[i] * h[i]
                n4 = n[i] * n[i] * n[i] * n[i]
                g = gna[i] * m3h + gk[i] * n4 + gl[i]
                c_dt = c_fac * c[i] / dt
                b = c_dt + g
                rhs = c_dt * v[i] + gna[i] * m3h * ena + gk[i] * n4 * ek + gl[i] * el[i]
                if i == stim_i:
                    rhs += stim[step]
                if i > 0:
                    b += ga[i - 1]
                if i < nc - 1:
                    b += ga[i]
                if i == 0:
                    denom = b
                    dp[i] = rhs / denom
                else:
                    denom = b + ga[i - 1] * cp[i - 1]
                    dp[i] = (rhs + ga[i - 1] * dp[i - 1]) / denom
                cp[i] = -ga[i] / denom if i < nc - 1 else 0.0
            # back substitution
            v_new[nc - 1] = dp[nc - 1]
            for i in range(nc - 2, -1, -1):
                v_new[i] = dp[i] - cp[i] * v_new[i + 1]
            if cn:  # V at t + dt/2 → t + dt
                for i in range(nc):
                    v_new[i] = 2.0 * v_new[i] - v[i]
            t1 = (step + 1) * dt
            for i in range(nc):
                vo = v[i]
                vn = v_new[i]
                if vo < thr_mv <= vn and math.isnan(cross[i]):
                    cross[i] = t1 - dt + (thr_mv - vo) / (vn - vo) * dt
                if vn > peak[i]:
                    peak[i] = vn
                s = (vn - vo) / dt
                if s > dvdt[i]:
                    dvdt[i] = s
                v[i] = vn
                if active[i] and model == 1:
                    _crrss_gates(m, h, i, vn - shift, dt * phi)
                elif active[i]:
                    u = vn - shift
                    a_m = _x_expm1(-(u + 40.0) / 10.0)
                    b_m = 4.0 * math.exp(-(u + 65.0) / 18.0)
                    a_h = 0.07 * math.exp(-(u + 65.0) / 20.0)
                    b_h = 1.0 / (1.0 + math.exp(-(u + 35.0) / 10.0))
                    a_n = 0.1 * _x_expm1(-(u + 55.0) / 10.0)
                    b_n = 0.125 * math.exp(-(u + 65.0) / 80.0)
                    tot = a_m + b_m
                    x_inf = a_m / tot
                    m[i] = x_inf + (m[i] - x_inf) * math.exp(-dt * phi * tot)
                    tot = a_h + b_h
                    x_inf = a_h / tot
                    h[i] = x_inf + (h[i] - x_inf) * math.exp(-dt * phi * tot)
                    tot = a_n + b_n
                    x_inf = a_n / tot
                    n[i] = x_inf + (n[i] - x_inf) * math.exp(-dt * phi * tot)
            for r in range(rec_idx.size):
                rec[r, step + 1] = v[rec_idx[r]]
            if snap_every > 0 and (step + 1) % snap_every == 0 and k < snaps.shape[0]:
                for i in range(nc):
                    snaps[k, i] = v[i]
                k += 1

else:  # pragma: no cover
    run_numba = None

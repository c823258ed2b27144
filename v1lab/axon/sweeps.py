"""Velocity curves: against diameter, internode length and temperature; log–log slopes.

Each function builds one axon per value, runs it and measures the velocity over the
middle half (:func:`v1lab.axon.measure.compute_velocity`); NaN marks a value at which the
spike failed to cross (block). The grids are the callers' (the lab protocols name them).

* :func:`compute_velocity_vs_diameter` — unmyelinated (cable length and stimulus
  scaled with √d so the spike is steady in the measured span) or myelinated (geometry in
  proportion to the diameter when ``scale_geometry``: internode length and myelin
  thickness — the lamellae, hence the insulation factor — ∝ d, the node's length fixed
  (nodes are about as long in fibres of every size): Rushton 1951's similarity, under
  which every internode is crossed in the same time, so velocity ∝ d).
* :func:`compute_velocity_vs_internode` — Brill et al. (1977): a flat optimum and block
  at long internodes.
* :func:`compute_velocity_vs_temperature` — a maximum, then heat block (Hodgkin & Katz
  1949 for squid; the kinetics outrun the sodium current).
* :func:`fit_loglog_slope` — least-squares slope of log v on log x.

References
----------
Brill MH, Waxman SG, Moore JW, Joyner RW (1977). J Neurol Neurosurg Psychiatry 40:769–774.
Hodgkin AL, Katz B (1949). J Physiol 109:240–249.
Rushton WAH (1951). A theory of the effects of fibre size in medullated nerve. J Physiol
115:101–122.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from v1lab._validate import ParameterError
from v1lab.axon.cable import sim_cable
from v1lab.axon.geometry import (
    HH1952_AXON,
    MOORE_1978,
    make_myelinated_axon,
    make_unmyelinated_axon,
)
from v1lab.axon.measure import compute_velocity

__all__ = [
    "compute_velocity_vs_diameter",
    "compute_velocity_vs_internode",
    "compute_velocity_vs_temperature",
    "fit_loglog_slope",
]


def fit_loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Slope of ``log y`` against ``log x`` (finite points only; needs two)."""
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(xa) & np.isfinite(ya) & (xa > 0) & (ya > 0)
    if ok.sum() < 2:
        raise ParameterError("y", list(ya), "expected at least two finite positive values")
    return float(np.polyfit(np.log(xa[ok]), np.log(ya[ok]), 1)[0])


def _myelinated_duration_ms(fib: Any) -> float:
    return 3.0 + fib.total_length_um * 1e-3 / 2.0  # ≥ 2 m/s over the fibre, + margin


def compute_velocity_vs_diameter(
    diameters_um: Sequence[float],
    *,
    kind: str = "unmyelinated",
    dx_um: float = 50.0,
    dt_us: float = 5.0,
    ra_ohm_cm: float | None = None,
    temperature_c: float | None = None,
    scale_geometry: bool = True,
    **fibre: Any,
) -> np.ndarray:
    """Velocity (m/s) at each diameter; see the module notes for the two kinds.

    ``ra_ohm_cm`` and ``temperature_c`` default to HH 1952's axon (unmyelinated) or
    :data:`~v1lab.axon.geometry.MOORE_1978` (myelinated).
    """
    base = HH1952_AXON if kind == "unmyelinated" else MOORE_1978
    ra_ohm_cm = base["ra_ohm_cm"] if ra_ohm_cm is None else ra_ohm_cm
    temperature_c = base["temperature_c"] if temperature_c is None else temperature_c
    out = []
    for d in diameters_um:
        if kind == "unmyelinated":
            length_mm = 60.0 * np.sqrt(d / 476.0 * 35.4 / ra_ohm_cm)
            cab = make_unmyelinated_axon(
                diameter_um=d,
                length_mm=length_mm,
                dx_um=dx_um,
                ra_ohm_cm=ra_ohm_cm,
                temperature_c=temperature_c,
            )
            dur = 1.5 + length_mm / (18.7 * np.sqrt(d / 476.0 * 35.4 / ra_ohm_cm)) * 1.3
            run = sim_cable(cab, duration_ms=dur, dt_us=dt_us)
            out.append(compute_velocity(run, cab.total_length_um / 3, 2 * cab.total_length_um / 3))
        else:
            kw = dict(fibre)
            if scale_geometry:
                s = d / MOORE_1978["diameter_um"]
                kw.setdefault("internode_length_um", MOORE_1978["internode_length_um"] * s)
                kw.setdefault("myelin_insulation", MOORE_1978["myelin_insulation"] * s)
            fib = make_myelinated_axon(
                diameter_um=d, ra_ohm_cm=ra_ohm_cm, temperature_c=temperature_c, **kw
            )
            run = sim_cable(fib, duration_ms=_myelinated_duration_ms(fib), dt_us=dt_us)
            out.append(compute_velocity(run))
    return np.array(out)


def compute_velocity_vs_internode(
    internode_lengths_um: Sequence[float], *, dt_us: float = 5.0, **fibre: Any
) -> np.ndarray:
    """Velocity (m/s) of a myelinated fibre at each internode length (NaN: block)."""
    out = []
    for length in internode_lengths_um:
        kw = dict(fibre)
        kw.setdefault("n_nodes", max(21, int(np.ceil(20_000.0 / length)) + 1))
        fib = make_myelinated_axon(internode_length_um=length, **kw)
        run = sim_cable(fib, duration_ms=_myelinated_duration_ms(fib), dt_us=dt_us)
        out.append(compute_velocity(run))
    return np.array(out)


def compute_velocity_vs_temperature(
    temperatures_c: Sequence[float],
    *,
    kind: str = "myelinated",
    dt_phi_us: float = 5.0,
    **geometry: Any,
) -> np.ndarray:
    """Velocity (m/s) at each temperature; the step is ``dt_phi_us / φ`` (φ: Cable.speed)."""
    out = []
    for t in temperatures_c:
        if kind == "myelinated":
            cab = make_myelinated_axon(temperature_c=t, **geometry)
            dur = _myelinated_duration_ms(cab)
        else:
            cab = make_unmyelinated_axon(temperature_c=t, **geometry)
            dur = 1.5 + cab.total_length_um * 1e-3 / 5.0
        run = sim_cable(cab, duration_ms=dur, dt_us=dt_phi_us / cab.speed)
        out.append(compute_velocity(run))
    return np.array(out)

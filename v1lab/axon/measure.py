"""Measurements on a simulated cable: conduction velocity, delay, block, spike shape.

* :func:`compute_velocity` — velocity from the threshold-crossing times (interpolated
  within the step) of the compartments between two positions: the least-squares slope of
  position on time, at the nodes only for a myelinated fibre (a spike jumps node to
  node; inside an internode the crossing time is not a wave's). NaN when the spike did
  not cross the whole stretch.
* :func:`compute_electrode_velocity` — the two-electrode measurement a physiologist makes:
  distance over the difference of the crossing times at the two electrodes.
* :func:`compute_delay_ms` — the crossing-time difference between two positions.
* :func:`conducts` — whether the spike reached a position.

Threshold-crossing times of a travelling wave differ from place to place by exactly the
travel time whatever the threshold, so the velocity does not depend on the threshold
chosen (``-20 mV``, :data:`v1lab.axon.cable.DETECT_MV`), only on the spike being
steady between the electrodes: electrodes are placed away from the stimulated end (the
spike forms there) and the sealed far end (it speeds up there, the end being unloaded).
"""

from __future__ import annotations

import numpy as np

from v1lab._validate import ParameterError
from v1lab.axon.cable import CableRun

__all__ = ["compute_delay_ms", "compute_electrode_velocity", "compute_velocity", "conducts"]


def _span(run: CableRun, start_um: float | None, stop_um: float | None) -> np.ndarray:
    cab = run.cable
    total = cab.total_length_um
    lo = 0.25 * total if start_um is None else float(start_um)
    hi = 0.75 * total if stop_um is None else float(stop_um)
    if not 0 <= lo < hi <= total:
        raise ParameterError(
            "stop_um",
            hi,
            f"expected 0 <= start_um ({lo:g}) < stop_um <= the axon's length ({total:g} µm)",
        )
    pick = (cab.x_um >= lo) & (cab.x_um <= hi)
    if cab.kind == "myelinated":
        pick &= cab.is_node
    idx = np.flatnonzero(pick)
    if idx.size < 2:
        what = "nodes" if cab.kind == "myelinated" else "compartments"
        raise ParameterError(
            "stop_um", hi, f"expected at least two {what} between {lo:g} and {hi:g} µm"
        )
    return idx


def compute_velocity(
    run: CableRun, start_um: float | None = None, stop_um: float | None = None
) -> float:
    """Conduction velocity (m/s) between two positions (default: the middle half).

    Examples
    --------
    >>> from v1lab.axon import make_unmyelinated_axon, sim_cable
    >>> run = sim_cable(make_unmyelinated_axon(length_mm=30), duration_ms=4)
    >>> 17.5 < compute_velocity(run) < 19.0          # HH 1952: 18.7 m/s at a fine grid
    True
    """
    idx = _span(run, start_um, stop_um)
    t = run.cross_ms[idx]
    if not np.isfinite(t).all():
        return float("nan")
    x = run.cable.x_um[idx]
    slope = np.polyfit(t, x, 1)[0]  # µm/ms
    return float(slope * 1e-3)


def compute_delay_ms(run: CableRun, x1_um: float, x2_um: float) -> float:
    """Crossing time at ``x2_um`` minus that at ``x1_um`` (ms; NaN if either never crossed)."""
    i = run.cable.index_at(x1_um, name="x1_um")
    j = run.cable.index_at(x2_um, name="x2_um")
    return float(run.cross_ms[j] - run.cross_ms[i])


def compute_electrode_velocity(run: CableRun, first: int = 0, second: int = 1) -> float:
    """Velocity (m/s) between two of the run's electrodes: distance ÷ crossing-time gap."""
    k = run.electrode_index.size
    for name, e in (("first", first), ("second", second)):
        if not 0 <= e < k:
            raise ParameterError(name, e, f"expected an electrode index in [0, {k - 1}]")
    i, j = run.electrode_index[first], run.electrode_index[second]
    dx = run.cable.x_um[j] - run.cable.x_um[i]
    return float(dx / (run.cross_ms[j] - run.cross_ms[i]) * 1e-3)


def conducts(run: CableRun, x_um: float | None = None) -> bool:
    """Whether the spike reached ``x_um`` (default: the far end) at full height.

    Reached means its crossing time is finite there; a spike that decays past a block
    may still push a passive bump over the threshold just beyond it, so for a
    myelinated fibre the last *node* at or before ``x_um`` must have crossed.
    """
    cab = run.cable
    x = cab.total_length_um if x_um is None else float(x_um)
    i = cab.index_at(x, name="x_um")
    if cab.kind == "myelinated":
        nodes = cab.node_index[cab.node_index <= i]
        i = int(nodes[-1]) if nodes.size else 0
    return bool(np.isfinite(run.cross_ms[i]))

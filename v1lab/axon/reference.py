"""The same cable in NEURON, the field's reference simulator (optional: ``pip install neuron``).

:func:`sim_neuron_cable` builds a :class:`~v1lab.axon.geometry.Cable` in NEURON through
its Python API (no hoc files; Hines & Carnevale 1997; Carnevale & Hines 2006) and runs it
with the same grid and integrator as :func:`v1lab.axon.sim_cable`: one section of
``nseg = 1`` per compartment (NEURON joins the centres of neighbouring sections through
their two half-lengths, as :func:`~v1lab.axon.cable.axial_conductance_us` does), the
built-in ``hh`` at excitable compartments (``el_hh`` set to the project's −54.387 mV,
its rate tables switched off so both compute the rates exactly), ``pas`` elsewhere, the
same resting potential, an ``IClamp`` in the first compartment, and NEURON's default fixed
step (backward Euler, gates updated after ``V`` — the scheme of :mod:`v1lab.axon._kernel`).
:func:`sim_neuron_uniform_axon` builds an unmyelinated cable the way a NEURON user would,
one section with ``nseg`` segments, for the benchmark (the same equations).

It returns a :class:`~v1lab.axon.cable.CableRun`, so the measurements of
:mod:`v1lab.axon.measure` apply to both.

References
----------
Carnevale NT, Hines ML (2006). The NEURON Book. Cambridge UP.
Hines ML, Carnevale NT (1997). The NEURON simulation environment. Neural Comput
9:1179–1209.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from v1lab._validate import ParameterError
from v1lab.axon.cable import CableRun
from v1lab.axon.geometry import Cable
from v1lab.axon.nodes import CRRSSParameters, membrane_state
from v1lab.cells import compute_resting_potential

__all__ = ["load_neuron", "sim_neuron_cable"]


def load_neuron() -> Any:
    """NEURON's ``h`` with the standard run library, or a one-line error if not installed."""
    try:
        from neuron import h
    except ImportError:
        raise ParameterError(
            "reference", "neuron", "NEURON is not installed: pip install 'v1lab[neuron]'"
        ) from None
    h.load_file("stdrun.hoc")
    return h


def _crossings(v: np.ndarray, t: np.ndarray, thr: float) -> np.ndarray:
    """First upward crossing of ``thr`` in each row of ``v`` (interpolated; NaN if none)."""
    above = v >= thr
    up = (~above[:, :-1]) & above[:, 1:]
    has = up.any(axis=1)
    k = np.argmax(up, axis=1)
    rows = np.arange(v.shape[0])
    v0, v1 = v[rows, k], v[rows, k + 1]
    t0, t1 = t[k], t[k + 1]
    out = t0 + (thr - v0) / np.where(v1 != v0, v1 - v0, 1.0) * (t1 - t0)
    return np.where(has, out, np.nan)


def _prepare(cable: Cable) -> tuple[Any, float]:
    """NEURON's ``h`` set for ``cable``: temperature, exact rates; and the resting potential."""
    if isinstance(cable.membrane, CRRSSParameters):
        raise ParameterError("node_model", "crrss", "NEURON has no built-in CRRSS node; use 'hh'")
    h = load_neuron()
    h.celsius = cable.temperature_c
    h.usetable_hh = 0
    return h, compute_resting_potential(cable.membrane)


def _insert_hh(sec: Any, cable: Cable, i: int) -> None:
    """The built-in ``hh`` in every segment of ``sec`` with compartment ``i``'s densities."""
    sec.insert("hh")
    for seg in sec:
        seg.hh.gnabar = cable.g_na_ms_cm2[i] * 1e-3  # mS/cm² → S/cm²
        seg.hh.gkbar = cable.g_k_ms_cm2[i] * 1e-3
        seg.hh.gl = cable.g_l_ms_cm2[i] * 1e-3
        seg.hh.el = float(cable.e_l_mv[i])
    sec.ena, sec.ek, _ = cable.membrane.reversal_mv


def _make_section(h: Any, name: str, length_um: float, cable: Cable, i: int) -> Any:
    sec = h.Section(name=name)
    sec.L = float(length_um)
    sec.diam = float(cable.diameter_um[i])
    sec.Ra = cable.ra_ohm_cm
    sec.cm = float(cable.cm_uf_cm2[i])
    return sec


def sim_neuron_cable(
    cable: Cable,
    *,
    duration_ms: float,
    dt_us: float,
    stim_na: float,
    stim_ms: float = 0.1,
    electrodes_um: Sequence[float] = (),
) -> CableRun:
    """Run ``cable`` in NEURON (same grid and integrator as :func:`v1lab.axon.sim_cable`).

    ``stim_na`` is required (pass the ``stim_na`` of the v1lab run being compared).
    Every compartment's voltage is recorded to find its crossing time; the run keeps no
    V(x) snapshots.
    """
    h, rest = _prepare(cable)
    secs = []
    for i in range(cable.n):
        sec = _make_section(h, f"c{i}", cable.length_um[i], cable, i)
        if cable.g_na_ms_cm2[i] > 0 or cable.g_k_ms_cm2[i] > 0:
            _insert_hh(sec, cable, i)
        else:
            sec.insert("pas")
            sec(0.5).pas.g = cable.g_l_ms_cm2[i] * 1e-3
            sec(0.5).pas.e = float(cable.e_l_mv[i])
        if secs:
            sec.connect(secs[-1](1.0), 0.0)
        secs.append(sec)
    setup = {"rest": rest, "segs": [s(0.5) for s in secs], "stim_seg": secs[0](0.5)}
    return _run(h, cable, duration_ms=duration_ms, dt_us=dt_us, stim_na=stim_na,
                stim_ms=stim_ms, electrodes_um=electrodes_um, setup=setup)  # fmt: skip


def sim_neuron_uniform_axon(
    cable: Cable,
    *,
    record_all: bool = True,
    timing: dict[str, float] | None = None,
    **run: Any,
) -> CableRun:
    """An unmyelinated ``cable`` as NEURON users build it: one section, ``nseg`` segments.

    ``run`` are :func:`sim_neuron_cable`'s ``duration_ms``, ``dt_us``, ``stim_na``,
    ``stim_ms`` and ``electrodes_um``. ``timing``, if given, receives ``run_s``: the wall
    time of ``finitialize`` and ``continuerun`` alone (the benchmark's figure; building
    the model is excluded).
    """
    if cable.kind != "unmyelinated":
        raise ParameterError("cable", cable.kind, "expected an unmyelinated cable")
    h, rest = _prepare(cable)
    sec = _make_section(h, "axon", cable.total_length_um, cable, 0)
    sec.nseg = cable.n
    _insert_hh(sec, cable, 0)
    setup = {"rest": rest, "segs": list(sec) if record_all else [], "section": sec,
             "stim_seg": sec(0.5 / cable.n), "timing": timing}  # fmt: skip
    return _run(h, cable, setup=setup, **run)


def _run(h, cable, *, duration_ms, dt_us, stim_na, stim_ms=0.1, electrodes_um=(), setup):
    rest, segs, timing = setup["rest"], setup["segs"], setup.get("timing")
    stim = h.IClamp(setup["stim_seg"])
    stim.delay = 0.0
    stim.dur = stim_ms
    stim.amp = stim_na
    electrodes = np.asarray(list(electrodes_um), dtype=np.float64)
    rec_idx = np.array([cable.index_at(float(x)) for x in electrodes], dtype=np.int64)
    dt = dt_us * 1e-3
    n_steps = round(duration_ms / dt)
    vecs = [h.Vector(n_steps + 1).record(s._ref_v) for s in segs]
    if not segs:  # record only the electrodes (the one-section axon)
        sec = setup["section"]
        vecs = [h.Vector(n_steps + 1).record(sec((i + 0.5) / cable.n)._ref_v) for i in rec_idx]
    h.dt = dt
    h.steps_per_ms = 1.0 / dt
    h.secondorder = 0
    tic = time.perf_counter()
    h.finitialize(rest)
    h.continuerun(n_steps * dt)
    if timing is not None:
        timing["run_s"] = time.perf_counter() - tic
    v = np.array([np.asarray(vec)[: n_steps + 1] for vec in vecs])
    t = np.arange(n_steps + 1) * dt
    thr = membrane_state(cable.membrane).detect_mv
    if segs:
        cross = _crossings(v, t, thr)
        rec = v[rec_idx] if rec_idx.size else np.zeros((0, n_steps + 1))
        peak = v.max(axis=1)
        dvdt = (np.diff(v, axis=1) / dt).max(axis=1)
    else:
        cross = np.full(cable.n, np.nan)
        cross[rec_idx] = _crossings(v, t, thr)
        peak = dvdt = np.full(cable.n, np.nan)
        rec = v
    return CableRun(
        cable=cable,
        t_ms=t,
        electrodes_um=electrodes,
        electrode_index=rec_idx,
        v_mv=rec,
        snap_t_ms=np.zeros(0),
        snap_v_mv=np.zeros((0, cable.n)),
        cross_ms=cross,
        peak_mv=peak,
        max_dvdt_mv_ms=dvdt,
        dt_us=float(dt_us),
        threshold_mv=thr,
        stim_na=float(stim_na),
    )

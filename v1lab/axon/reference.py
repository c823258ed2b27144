"""The same cable in NEURON, the field's reference simulator (optional: ``pip install neuron``).

:func:`sim_neuron_cable` builds a :class:`~v1lab.axon.geometry.Cable` in NEURON through
its Python API (no hoc files; Hines & Carnevale 1997; Carnevale & Hines 2006) and runs it
with the same grid and integrator as :func:`v1lab.axon.sim_cable`: one section of
``nseg = 1`` per compartment (NEURON joins the centres of neighbouring sections through
their two half-lengths, as :func:`~v1lab.axon.cable.axial_conductance_us` does), the
built-in ``hh`` at excitable compartments (``el_hh`` set to the project's −54.387 mV,
its rate tables switched off so both compute the rates exactly; for the mammalian node,
the mechanism ``crrss`` of :data:`CRRSS_MOD`, compiled by ``nrnivmodl`` in a temporary
folder on first use), ``pas`` elsewhere, the
same resting potential, an ``IClamp`` in the first compartment, and NEURON's default fixed
step (backward Euler, gates updated after ``V`` — the scheme of :mod:`v1lab.axon._kernel`)
or, with ``method="crank_nicolson"``, its ``secondorder = 2``.
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

import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice
from v1lab.axon.cable import METHODS, CableRun
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


#: The CRRSS node (:mod:`v1lab.axon.nodes`) in NMODL: sodium m²h and leak, both as one
#: nonspecific current (no ion bookkeeping), rates at 37 °C × q10^((celsius − 37)/10).
CRRSS_MOD = """
TITLE CRRSS mammalian node (Chiu et al. 1979; Sweeney et al. 1987), for v1lab.axon
NEURON {
    SUFFIX crrss
    NONSPECIFIC_CURRENT i
    RANGE gnabar, gl, ena, el, vrest
    GLOBAL q10, tref
}
UNITS { (mV) = (millivolt) (mA) = (milliamp) (S) = (siemens) }
PARAMETER {
    gnabar = 1.445 (S/cm2)
    gl = 0.128 (S/cm2)
    ena = 35 (mV)
    el = -80.01 (mV)
    vrest = -80 (mV)
    q10 = 3
    tref = 37 (degC)
}
ASSIGNED { v (mV) celsius (degC) i (mA/cm2) minf hinf mtau (ms) htau (ms) }
STATE { m h }
BREAKPOINT {
    SOLVE states METHOD cnexp
    i = gnabar*m*m*h*(v - ena) + gl*(v - el)
}
INITIAL { rates(v) m = minf h = hinf }
DERIVATIVE states {
    rates(v)
    m' = (minf - m)/mtau
    h' = (hinf - h)/htau
}
PROCEDURE rates(v (mV)) { LOCAL u, am, bm, ah, bh, k
    UNITSOFF
    u = v - vrest
    k = q10^((celsius - tref)/10)
    am = (97 + 0.363*u)/(1 + exp((31 - u)/5.3))
    bm = am/exp((u - 23.8)/4.17)
    bh = 15.6/(1 + exp((24 - u)/10))
    ah = bh/exp((u - 5.5)/5)
    mtau = 1/(k*(am + bm))
    minf = am/(am + bm)
    htau = 1/(k*(ah + bh))
    hinf = ah/(ah + bh)
    UNITSON
}
"""


def load_crrss(h: Any) -> None:
    """Compile :data:`CRRSS_MOD` with ``nrnivmodl`` in a temporary folder and load it.

    Once per process; the build files stay in the temporary folder (removed at exit).
    Raises ParameterError in one line if ``nrnivmodl`` is missing or fails.
    """
    if hasattr(h, "crrss"):  # already loaded (NEURON keeps mechanisms for the process)
        return
    import atexit
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    exe = shutil.which("nrnivmodl") or str(Path(sys.executable).with_name("nrnivmodl"))
    if not Path(exe).exists():
        raise ParameterError("node_model", "crrss", "nrnivmodl (NEURON's compiler) not found")
    tmp = Path(tempfile.mkdtemp(prefix="v1lab_crrss_"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    (tmp / "crrss.mod").write_text(CRRSS_MOD)
    done = subprocess.run([exe], cwd=tmp, capture_output=True, text=True, check=False)
    libs = sorted(tmp.glob("*/.libs/libnrnmech.so")) + sorted(tmp.glob("*/libnrnmech.so"))
    if done.returncode != 0 or not libs:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no library"]
        raise ParameterError("node_model", "crrss", f"nrnivmodl failed: {last[0]}")
    h.nrn_load_dll(str(libs[0]))


def _prepare(cable: Cable) -> tuple[Any, float]:
    """NEURON's ``h`` set for ``cable``: temperature, exact rates; and the resting potential."""
    h = load_neuron()
    h.celsius = cable.temperature_c
    h.usetable_hh = 0
    if isinstance(cable.membrane, CRRSSParameters):
        load_crrss(h)
        return h, membrane_state(cable.membrane).rest_mv
    return h, compute_resting_potential(cable.membrane)


def _insert_hh(sec: Any, cable: Cable, i: int) -> None:
    """The node membrane in every segment of ``sec`` with compartment ``i``'s densities."""
    if isinstance(cable.membrane, CRRSSParameters):
        sec.insert("crrss")
        e_na, _, _ = cable.membrane.reversal_mv
        for seg in sec:
            seg.crrss.gnabar = cable.g_na_ms_cm2[i] * 1e-3
            seg.crrss.gl = cable.g_l_ms_cm2[i] * 1e-3
            seg.crrss.el = float(cable.e_l_mv[i])
            seg.crrss.ena = e_na
            seg.crrss.vrest = cable.membrane.v_rest_mv
        h = load_neuron()
        h.q10_crrss = cable.membrane.q10
        h.tref_crrss = cable.membrane.reference_c
        return
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
    method: str = "backward_euler",
) -> CableRun:
    """Run ``cable`` in NEURON (same grid and integrator as :func:`v1lab.axon.sim_cable`).

    ``stim_na`` is required (pass the ``stim_na`` of the v1lab run being compared).
    ``method`` ``"crank_nicolson"`` sets NEURON's ``secondorder = 2``.
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
                stim_ms=stim_ms, electrodes_um=electrodes_um, setup=setup,
                method=method)  # fmt: skip


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


def _run(h, cable, *, duration_ms, dt_us, stim_na, stim_ms=0.1, electrodes_um=(), setup,
         method="backward_euler"):  # fmt: skip
    check_choice("method", method, METHODS)
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
    h.secondorder = 2 if method == "crank_nicolson" else 0
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
        method=method,
    )

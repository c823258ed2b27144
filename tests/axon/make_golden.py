"""Write tests/axon/golden/neuron.json: the reference runs made in NEURON.

Run with NEURON installed (``pip install 'v1lab[neuron]'``), from the checkout's root:
``PYTHONPATH=$PWD python tests/axon/make_golden.py``. The tests compare v1lab with these
numbers (so they run without NEURON) and, where NEURON is installed, check that NEURON
still gives them.

``--modeldb DIR`` also writes golden/moore1978_modeldb.json: the velocity of the standard
fibre of Moore et al. (1978) as ModelDB entry 9851 builds it (DIR holds that entry's
``cable.hoc``, https://github.com/ModelDBRepository/9851, not copied into this
repository), run with the entry's own ``init.hoc`` settings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from v1lab.axon import make_myelinated_axon, make_unmyelinated_axon
from v1lab.axon.cable import default_stim_na
from v1lab.axon.lesions import compute_lesion_delay, find_block_threshold
from v1lab.axon.measure import compute_velocity
from v1lab.axon.reference import sim_neuron_cable

OUT = Path(__file__).parent / "golden" / "neuron.json"
OUT_MODELDB = Path(__file__).parent / "golden" / "moore1978_modeldb.json"
# The runs (shared with the tests, which import these settings).
HH = {
    "length_mm": 60.0,
    "dx_um": 250.0,
    "dt_us": 25.0,
    "duration_ms": 4.5,
    "electrodes_um": [20_000.0, 40_000.0],
}
# Moore et al.'s fibre (41 nodes, 2-mm internodes) and the nerve study's mammalian fibre
# (41 nodes of it): electrodes at nodes 10 and 30.
MOORE = {"dt_us": 5.0, "duration_ms": 6.0, "nodes": (10, 30)}
CRRSS_FIBRE = {
    "node_model": "crrss",
    "diameter_um": 8.4,
    "n_nodes": 41,
    "node_length_um": 1.0,
    "internode_length_um": 1200.0,
    "myelin_insulation": 10_000.0,
    "ra_ohm_cm": 110.0,
    "temperature_c": 37.0,
}
CRRSS = {"dt_us": 2.0, "duration_ms": 3.0, "nodes": (10, 30)}
TRACE_STRIDE = {"hh": 1, "hh_cn": 1, "moore": 5, "moore_cn": 5, "crrss": 5, "crrss_cn": 5}
# ModelDB 9851's init.hoc: Crank–Nicolson, dt 5 µs, 5 ms, 10 nA for 0.1 ms at node 0,
# velocity between nodes 10 and 11 from their crossings of −15 mV (50 mV above rest).
MODELDB = {"n_nodes": 20, "segments_per_internode": 10, "dt_us": 5.0, "duration_ms": 5.0,
           "stim_na": 10.0, "stim_ms": 0.1, "nodes": (10, 11), "threshold_mv": -15.0}  # fmt: skip
# fig3.hoc's temperatures, up to 30 °C (above, its 5-µs step exceeds v1lab's bound).
MODELDB_TEMPERATURES_C = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0]


def _myelinated(simulate, fib, settings, method):
    a, b = settings["nodes"]
    return simulate(
        fib,
        duration_ms=settings["duration_ms"],
        dt_us=settings["dt_us"],
        stim_na=default_stim_na(fib),
        electrodes_um=[fib.x_um[fib.node_index[a]], fib.x_um[fib.node_index[b]]],
        method=method,
    )


def hh_run_settings(cab):
    """The HH reference run's settings on ``cab`` (also the benchmark cable's test)."""
    return {
        "duration_ms": HH["duration_ms"],
        "dt_us": HH["dt_us"],
        "stim_na": default_stim_na(cab),
        "electrodes_um": HH["electrodes_um"],
    }


def make_runs(simulate, *, crrss: bool = True):
    """The reference runs, through ``simulate`` (sim_cable-like, stim_na given).

    ``crrss=False`` leaves out the two runs on the CRRSS fibre (NEURON needs to compile
    its mechanism for them)."""
    cab = make_unmyelinated_axon(length_mm=HH["length_mm"], dx_um=HH["dx_um"])
    out = {}
    for name, method in (("hh", "backward_euler"), ("hh_cn", "crank_nicolson")):
        out[name] = simulate(cab, **hh_run_settings(cab), method=method)
    fib = make_myelinated_axon()
    out["moore"] = _myelinated(simulate, fib, MOORE, "backward_euler")
    out["moore_cn"] = _myelinated(simulate, fib, MOORE, "crank_nicolson")
    if crrss:
        mam = make_myelinated_axon(**CRRSS_FIBRE)
        out["crrss"] = _myelinated(simulate, mam, CRRSS, "backward_euler")
        out["crrss_cn"] = _myelinated(simulate, mam, CRRSS, "crank_nicolson")
    return out


def mid_internodes(fib):
    """Compartment mid-way along each internode (odd ``segments_per_internode``)."""
    return fib.node_index[:-1] + (fib.info["segments_per_internode"] + 1) // 2


def compute_saltation(run, first=10, last=30):
    """Max dV/dt at nodes ``first..last-1`` over that mid-internode after each; peaks."""
    fib = run.cable
    nodes, mids = fib.node_index[first:last], mid_internodes(fib)[first:last]
    ratio = run.max_dvdt_mv_ms[nodes] / run.max_dvdt_mv_ms[mids]
    return {
        "rise_ratio_median": float(np.median(ratio)),
        "rise_ratio_min": float(ratio.min()),
        "node_max_dvdt_mv_ms": float(np.median(run.max_dvdt_mv_ms[nodes])),
        "mid_max_dvdt_mv_ms": float(np.median(run.max_dvdt_mv_ms[mids])),
        "peak_difference_max_mv": float(np.abs(run.peak_mv[nodes] - run.peak_mv[mids]).max()),
    }


def crossing_ms(v: np.ndarray, t: np.ndarray, thr: float) -> float:
    """First upward crossing of ``thr`` (linear interpolation; ModelDB's ``where()``)."""
    i = int(np.argmax(v >= thr))
    return float(t[i - 1] + (thr - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1]))


def modeldb_velocity(cable_hoc: Path, usetable: int, celsius: float = 18.5) -> float:
    """Moore et al.'s standard velocity (m/s) from ModelDB 9851's ``cable.hoc``, run as
    its ``init.hoc`` runs it (``usetable``: NEURON's hh rate tables on or off; ``celsius``:
    the rates' temperature, as its ``fig3.hoc`` sets it for the "rates only" curve)."""
    from neuron import h

    h.load_file("stdrun.hoc")
    h.load_file(str(cable_hoc))
    h.usetable_hh = usetable
    h.celsius = celsius
    stim = h.IClamp(h.node[0](0.5))
    stim.delay, stim.dur, stim.amp = 0.0, MODELDB["stim_ms"], MODELDB["stim_na"]
    h.v_init, h.tstop, h.dt, h.steps_per_ms, h.secondorder = -65.0, 5.0, 0.005, 40, 2
    a, b = MODELDB["nodes"]
    va, vb = (h.Vector().record(h.node[i](0.5)._ref_v) for i in (a, b))
    tv = h.Vector().record(h._ref_t)
    h.run()
    t = np.asarray(tv)
    thr = MODELDB["threshold_mv"]
    dt_ms = crossing_ms(np.asarray(vb), t, thr) - crossing_ms(np.asarray(va), t, thr)
    return float((h.myelin[a].L + h.node[a].L) / dt_ms * 1e-3)


def main() -> None:
    import neuron

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modeldb", type=Path, help="folder with ModelDB 9851's cable.hoc")
    args = parser.parse_args()
    if args.modeldb is not None:
        out = {
            "neuron_version": neuron.__version__,
            "source": "https://github.com/ModelDBRepository/9851 (cable.hoc, init.hoc)",
            "settings": MODELDB,
            "velocity_m_s": modeldb_velocity(args.modeldb / "cable.hoc", usetable=1),
        }
        # the same, with hh's rate tables off (v1lab computes the rates exactly)
        out["velocity_exact_rates_m_s"] = modeldb_velocity(args.modeldb / "cable.hoc", 0)
        # fig3.hoc's first curve: only the rates follow temperature (Q10 3)
        out["fig3_rates_only"] = {
            "temperature_c": MODELDB_TEMPERATURES_C,
            "velocity_m_s": [
                modeldb_velocity(args.modeldb / "cable.hoc", 1, celsius=t)
                for t in MODELDB_TEMPERATURES_C
            ],
        }
        OUT_MODELDB.write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {OUT_MODELDB}")
        return
    runs = make_runs(sim_neuron_cable)
    out = {"neuron_version": neuron.__version__}
    for name, run in runs.items():
        out[name] = {
            "velocity_m_s": compute_velocity(run, *run.electrodes_um),
            "stride": TRACE_STRIDE[name],
            "v_mv": [[round(float(x), 6) for x in row[:: TRACE_STRIDE[name]]] for row in run.v_mv],
        }
    out["saltation"] = {name: compute_saltation(runs[name]) for name in ("moore", "moore_cn")}
    out["lesions"] = {
        "block_myelin_divisor": find_block_threshold("myelin", simulate=sim_neuron_cable),
        "block_dead_nodes": find_block_threshold("dead_nodes", simulate=sim_neuron_cable),
        "block_sodium_fraction": find_block_threshold("sodium", simulate=sim_neuron_cable),
        "delay_myelin_10x_ms": compute_lesion_delay("myelin", 10.0, simulate=sim_neuron_cable),
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""Write tests/axon/golden/neuron.json: the reference runs made in NEURON.

Run with NEURON installed (``pip install 'v1lab[neuron]'``), from the checkout's root:
``PYTHONPATH=$PWD python tests/axon/make_golden.py``. The tests compare v1lab with these
numbers (so they run without NEURON) and, where NEURON is installed, check that NEURON
still gives them.
"""

from __future__ import annotations

import json
from pathlib import Path

from v1lab.axon import make_myelinated_axon, make_unmyelinated_axon
from v1lab.axon.cable import default_stim_na
from v1lab.axon.lesions import compute_lesion_delay, find_block_threshold
from v1lab.axon.measure import compute_velocity
from v1lab.axon.reference import sim_neuron_cable

OUT = Path(__file__).parent / "golden" / "neuron.json"
# The runs (shared with the tests, which import these settings).
HH = {
    "length_mm": 60.0,
    "dx_um": 250.0,
    "dt_us": 25.0,
    "duration_ms": 4.5,
    "electrodes_um": [20_000.0, 40_000.0],
}
MOORE = {"dt_us": 5.0, "duration_ms": 6.0, "electrodes_um": [10_000.0, 30_000.0]}
TRACE_STRIDE = {"hh": 1, "moore": 5}


def make_runs(simulate):
    """The two reference runs, through ``simulate`` (sim_cable-like, stim_na given)."""
    cab = make_unmyelinated_axon(length_mm=HH["length_mm"], dx_um=HH["dx_um"])
    hh = simulate(
        cab,
        duration_ms=HH["duration_ms"],
        dt_us=HH["dt_us"],
        stim_na=default_stim_na(cab),
        electrodes_um=HH["electrodes_um"],
    )
    fib = make_myelinated_axon()
    moore = simulate(
        fib,
        duration_ms=MOORE["duration_ms"],
        dt_us=MOORE["dt_us"],
        stim_na=default_stim_na(fib),
        electrodes_um=MOORE["electrodes_um"],
    )
    return {"hh": hh, "moore": moore}


def main() -> None:
    import neuron

    runs = make_runs(sim_neuron_cable)
    out = {"neuron_version": neuron.__version__}
    for name, run in runs.items():
        out[name] = {
            "velocity_m_s": compute_velocity(run, *run.electrodes_um),
            "stride": TRACE_STRIDE[name],
            "v_mv": [[round(float(x), 6) for x in row[:: TRACE_STRIDE[name]]] for row in run.v_mv],
        }
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

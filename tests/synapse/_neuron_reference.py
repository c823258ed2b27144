"""The field's reference: the same synapses on the same passive cell in NEURON.

One ``Section`` (L = diam = 80 µm, nseg = 1, cm = 1 µF/cm², ``pas`` with g = 5e-5 S/cm²,
e = −70 mV: τm = 20 ms) receives ``Exp2Syn`` synapses (τ1 = 0.2 ms, τ2 = 2 ms, e = 0 mV:
v1lab's AMPA) driven by ``NetStim`` → ``NetCon`` events with the weight in µS. NEURON
integrates with CVODE at tight tolerances (its events exact in time), so it is the
reference the fixed-step v1lab kernel is compared with.

``python tests/synapse/_neuron_reference.py`` rewrites ``neuron_golden.json`` (needs the
``neuron`` package); the tests read that file, so they run without NEURON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).with_name("neuron_golden.json")
DURATION_MS = 120.0
RECORD_DT_MS = 0.025
ONSET_MS = 5.0
SYNCHRONOUS_N = (1, 5, 10, 20)
PAIR_DT_MS = (0.0, 5.0, 10.0, 20.0, 40.0)
TRACE_EVERY = 20  # samples of the stored traces: every 0.5 ms


def cases() -> dict[str, list[tuple[float, int]]]:
    """Each case: a list of (event time in ms, number of synapses fired then)."""
    out = {f"sync_{n}": [(ONSET_MS, n)] for n in SYNCHRONOUS_N}
    for d in PAIR_DT_MS:
        out[f"pair_{d:g}ms"] = [(ONSET_MS, 1), (ONSET_MS + d, 1)]
    return out


def run_neuron(weight_ns: float, events: list[tuple[float, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Times (ms) and V (mV), sampled every 0.025 ms from 0 to DURATION_MS, for one case."""
    from neuron import h

    h.load_file("stdrun.hoc")
    soma = h.Section(name="soma")
    soma.L = soma.diam = 80.0
    soma.nseg = 1
    soma.cm = 1.0
    soma.insert("pas")
    for seg in soma:
        seg.pas.g = 5e-5
        seg.pas.e = -70.0
    keep = []
    for t_ms, n in events:
        for _ in range(n):
            syn = h.Exp2Syn(soma(0.5))
            syn.tau1, syn.tau2, syn.e = 0.2, 2.0, 0.0
            stim = h.NetStim()
            stim.number, stim.start, stim.noise, stim.interval = 1, t_ms, 0, 1e9
            nc = h.NetCon(stim, syn, 0, 0, weight_ns * 1e-3)
            keep += [syn, stim, nc]
    v, t = h.Vector(), h.Vector()
    v.record(soma(0.5)._ref_v, RECORD_DT_MS)
    t.record(h._ref_t, RECORD_DT_MS)
    cvode = h.CVode()
    cvode.active(1)
    cvode.rtol(1e-10)
    cvode.atol(1e-10)
    h.finitialize(-70.0)
    h.continuerun(DURATION_MS)
    out = np.array(t), np.array(v)
    cvode.active(0)
    del keep
    return out


def main() -> int:
    import neuron

    from v1lab.synapse import AMPA, make_cell
    from v1lab.synapse.summation import calibrate_weight_ns

    w1 = calibrate_weight_ns(make_cell("passive"), AMPA, target_mv=1.0)
    golden = {
        "neuron_version": neuron.__version__,
        "weight_ns": w1,
        "record_dt_ms": RECORD_DT_MS,
        "trace_dt_ms": RECORD_DT_MS * TRACE_EVERY,
        "cases": {},
    }
    for name, events in cases().items():
        t, v = run_neuron(w1, events)
        golden["cases"][name] = {
            "events": events,
            "peak_mv": float(v.max() + 70.0),
            "trace_t_ms": [round(float(x), 9) for x in t[::TRACE_EVERY]],
            "trace_mv": [round(float(x) + 70.0, 9) for x in v[::TRACE_EVERY]],
        }
        print(f"{name}: peak {v.max() + 70.0:.6f} mV")
    GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The myelinated fibre: speed, scaling, the internode and temperature curves, saltation.

The fibre is Moore et al.'s (1978) standard one as ModelDB 9851 builds it
(:data:`v1lab.axon.MOORE_1978`). Every velocity here is measured over the middle half of
the fibre at the nodes; the grids are the sweeps' defaults (dt 5 µs, 9 compartments per
internode).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from make_golden import MODELDB, compute_saltation, crossing_ms, mid_internodes

from v1lab.axon import make_myelinated_axon, make_unmyelinated_axon, sim_cable
from v1lab.axon.measure import compute_velocity
from v1lab.axon.sweeps import (
    compute_velocity_vs_diameter,
    compute_velocity_vs_internode,
    compute_velocity_vs_temperature,
    fit_loglog_slope,
)

GOLDEN = json.loads((Path(__file__).parent / "golden" / "neuron.json").read_text())
MODELDB_GOLDEN = json.loads(
    (Path(__file__).parent / "golden" / "moore1978_modeldb.json").read_text()
)


def _modeldb_velocity(temperature_c: float = 18.5) -> float:
    """This module's fibre run and measured as ModelDB 9851's init.hoc runs its own."""
    g = MODELDB
    fib = make_myelinated_axon(
        n_nodes=g["n_nodes"],
        segments_per_internode=g["segments_per_internode"],
        temperature_c=temperature_c,
    )
    a, b = (fib.node_index[i] for i in g["nodes"])
    run = sim_cable(
        fib,
        duration_ms=g["duration_ms"],
        dt_us=g["dt_us"],
        stim_na=g["stim_na"],
        stim_ms=g["stim_ms"],
        electrodes_um=[fib.x_um[a], fib.x_um[b]],
        method="crank_nicolson",
    )
    t1, t2 = (crossing_ms(v, run.t_ms, g["threshold_mv"]) for v in run.v_mv)
    return float((fib.x_um[b] - fib.x_um[a]) / (t2 - t1) * 1e-3)


def test_moore_fibre_conducts_as_modeldb_9851():
    # The published model run verbatim in NEURON (ModelDB 9851's cable.hoc and init.hoc
    # settings, golden/moore1978_modeldb.json) against this module's fibre built from the
    # same numbers, same integrator (Crank–Nicolson), grid and measurement. What still
    # differs: NEURON's el_hh (−54.3 mV, rest −64.98) against the project's −54.387
    # (rest −65.00), and NEURON's hh rate tables (0.018 % on the velocity). Measured
    # difference 0.08 %; tolerance 0.3 %, the NEURON-agreement bound of the issue.
    assert _modeldb_velocity() == pytest.approx(MODELDB_GOLDEN["velocity_m_s"], rel=0.003)


def test_moore_temperature_curve_as_modeldb_9851():
    # ModelDB's fig3.hoc, first curve (only the rates follow temperature, Q10 3), 0–30 °C:
    # the same tolerance as above (measured: 0.04 % at 30 °C to 0.21 % at 0 °C, ours
    # slower; the leak reversal's 0.087-mV difference weighs more on the slower spike).
    ref = MODELDB_GOLDEN["fig3_rates_only"]
    got = [_modeldb_velocity(t) for t in ref["temperature_c"]]
    np.testing.assert_allclose(got, ref["velocity_m_s"], rtol=0.003)


@pytest.fixture(scope="module")
def fibre_run():
    fib = make_myelinated_axon()
    return sim_cable(fib, duration_ms=6.0, dt_us=5.0, snap_every=4)


def test_myelinated_is_many_times_faster_than_bare_axon_of_same_diameter(fibre_run):
    v_myel = compute_velocity(fibre_run)
    bare = make_unmyelinated_axon(
        diameter_um=10, length_mm=6, dx_um=10, ra_ohm_cm=100, temperature_c=18.5
    )
    v_bare = compute_velocity(sim_cable(bare, duration_ms=8, dt_us=5))
    # measured 22.52 against 1.61 m/s: 14.0 times
    assert v_myel / v_bare > 10, (v_myel, v_bare)


def test_unmyelinated_velocity_scales_as_sqrt_d_over_ra():
    d = [60.0, 120.0, 240.0, 476.0, 960.0]
    assert fit_loglog_slope(d, compute_velocity_vs_diameter(d)) == pytest.approx(0.5, abs=0.02)
    ra = [17.7, 35.4, 70.8, 141.6]
    v = [compute_velocity_vs_diameter([476.0], ra_ohm_cm=r)[0] for r in ra]
    assert fit_loglog_slope(ra, v) == pytest.approx(-0.5, abs=0.02)


def test_myelinated_velocity_proportional_to_diameter_with_scaled_geometry():
    d = [5.0, 10.0, 20.0]
    v = compute_velocity_vs_diameter(d, kind="myelinated")
    assert fit_loglog_slope(d, v) == pytest.approx(1.0, abs=0.01)
    np.testing.assert_allclose(v / np.asarray(d), v[1] / d[1], rtol=0.01)


def test_internode_curve_has_an_optimum_and_a_block():
    # measured: optimum 22.52 m/s at 2 mm, 11.83 m/s at 11 mm, block at 12 mm
    lengths = [250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 11000.0, 12000.0]
    v = compute_velocity_vs_internode(lengths)
    finite = np.isfinite(v)
    best = int(np.nanargmax(v))
    assert 0 < best < finite.sum() - 1  # an interior optimum
    assert np.isnan(v[-1]) and finite[: best + 1].all()


def test_temperature_curve_has_a_maximum_and_heat_block():
    # measured: maximum 33.9 m/s at 35 °C, 31.6 at 40 °C, block at 41 °C
    temps = [0.0, 6.3, 18.5, 30.0, 35.0, 40.0, 41.0]
    v = compute_velocity_vs_temperature(temps)
    best = int(np.nanargmax(v))
    assert 0 < best < len(temps) - 1
    assert np.isnan(v[-1]) and np.isfinite(v[: best + 1]).all()


def test_saltatory_signature_rise_and_peak(fibre_run):
    # FitzHugh (1962): "a marked difference in steepness of the rising phase, but little
    # difference in peak height" between nodes and internodes. Measured as the largest
    # dV/dt at nodes 10-29 over that at the middle of the internode after each: 1.486
    # (nodes 782, mid-internode 526 mV/ms), peaks within 3.2 mV of each other on a 99-mV
    # spike — NEURON gives the same on the same fibre and grid (golden, rel 1e-9). The
    # middle of an internode is nearly a resistive divider between its two nodes (the
    # myelin's capacitance is 1/200 of the membrane's), so its rise is the average of two
    # node rises 89 µs apart, each ~100 µs long: flatter, but almost as high.
    got = compute_saltation(fibre_run)
    ref = GOLDEN["saltation"]["moore"]
    for key in ("rise_ratio_median", "rise_ratio_min", "peak_difference_max_mv"):
        assert got[key] == pytest.approx(ref[key], rel=1e-9), key
    assert got["rise_ratio_min"] > 1.4
    assert got["peak_difference_max_mv"] < 4.0


def test_saltatory_signature_slope_kinks_at_nodes(fibre_run):
    # V(x) while the spike crosses node 20: the slope jumps at the nodes (the nodal action
    # current) and is continuous mid-internode (no membrane current worth the name).
    fib = fibre_run.cable
    t = fibre_run.cross_ms[fib.node_index[20]]
    v = fibre_run.snap_v_mv[int(np.argmin(np.abs(fibre_run.snap_t_ms - t)))]
    x = fib.x_um

    def slope_jump(i):
        return (v[i + 1] - v[i]) / (x[i + 1] - x[i]) - (v[i] - v[i - 1]) / (x[i] - x[i - 1])

    nodes, mids = fib.node_index[15:22], mid_internodes(fib)[15:22]
    at_nodes = np.abs([slope_jump(i) for i in nodes])
    at_mids = np.abs([slope_jump(i) for i in mids])
    assert np.median(at_nodes) > 5 * np.median(at_mids), (at_nodes, at_mids)

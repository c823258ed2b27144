"""The myelinated fibre: speed, scaling, the internode and temperature curves, saltation.

Every velocity here is measured over the middle half of the fibre at the nodes; the
grids are the sweeps' defaults (dt 5 µs, 9 compartments per internode).
"""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.axon import make_myelinated_axon, make_unmyelinated_axon, sim_cable
from v1lab.axon.measure import compute_velocity
from v1lab.axon.sweeps import (
    compute_velocity_vs_diameter,
    compute_velocity_vs_internode,
    compute_velocity_vs_temperature,
    fit_loglog_slope,
)


@pytest.fixture(scope="module")
def fibre_run():
    fib = make_myelinated_axon()
    return sim_cable(fib, duration_ms=6.0, dt_us=5.0, snap_every=4)


def test_myelinated_is_many_times_faster_than_bare_axon_of_same_diameter(fibre_run):
    v_myel = compute_velocity(fibre_run)
    bare = make_unmyelinated_axon(
        diameter_um=10, length_mm=6, dx_um=10, ra_ohm_cm=100, temperature_c=6.3
    )
    v_bare = compute_velocity(sim_cable(bare, duration_ms=8, dt_us=5))
    assert v_myel / v_bare > 5, (v_myel, v_bare)


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
    lengths = [100.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 6000.0]
    v = compute_velocity_vs_internode(lengths)
    finite = np.isfinite(v)
    best = int(np.nanargmax(v))
    assert 0 < best < finite.sum() - 1  # an interior optimum
    assert np.isnan(v[-1]) and finite[: best + 1].all()


def test_temperature_curve_has_a_maximum_and_heat_block():
    temps = [0.0, 6.3, 12.0, 15.0, 18.0, 21.0, 25.0]
    v = compute_velocity_vs_temperature(temps)
    best = int(np.nanargmax(v))
    assert 0 < best < len(temps) - 1
    assert np.isnan(v[-1]) and np.isfinite(v[: best + 1]).all()


def _mid_internodes(fib):
    k = fib.info["segments_per_internode"]
    return fib.node_index[:-1] + (k + 1) // 2


def test_saltatory_signature_rise_and_peak(fibre_run):
    # FitzHugh (1962): the rising phase is steeper at the nodes than mid-internode, peak
    # heights differ little. Nodes 10-30 (away from both ends).
    fib = fibre_run.cable
    nodes, mids = fib.node_index[10:30], _mid_internodes(fib)[10:30]
    rise_ratio = fibre_run.max_dvdt_mv_ms[nodes] / fibre_run.max_dvdt_mv_ms[mids]
    assert (rise_ratio > 1.0).all()
    assert np.abs(fibre_run.peak_mv[nodes] - fibre_run.peak_mv[mids]).max() < 2.0


def test_saltatory_signature_slope_kinks_at_nodes(fibre_run):
    # V(x) while the spike crosses node 20: the slope jumps at the nodes (the nodal action
    # current) and is continuous mid-internode (no membrane current worth the name).
    fib = fibre_run.cable
    t = fibre_run.cross_ms[fib.node_index[20]]
    v = fibre_run.snap_v_mv[int(np.argmin(np.abs(fibre_run.snap_t_ms - t)))]
    x = fib.x_um

    def slope_jump(i):
        return (v[i + 1] - v[i]) / (x[i + 1] - x[i]) - (v[i] - v[i - 1]) / (x[i] - x[i - 1])

    nodes, mids = fib.node_index[15:22], _mid_internodes(fib)[15:22]
    at_nodes = np.abs([slope_jump(i) for i in nodes])
    at_mids = np.abs([slope_jump(i) for i in mids])
    assert np.median(at_nodes) > 5 * np.median(at_mids), (at_nodes, at_mids)

"""The mammalian node (CRRSS) and the clinic's reading of a nerve conduction velocity."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.axon import make_myelinated_axon, sim_cable
from v1lab.axon.clinic import classify_velocity
from v1lab.axon.measure import compute_velocity
from v1lab.axon.nodes import CRRSSParameters, membrane_state

# The nerve_conduction preset's fibre, 41 nodes long.
NERVE = {
    "node_model": "crrss",
    "diameter_um": 8.4,
    "node_length_um": 1.0,
    "internode_length_um": 1200.0,
    "ra_ohm_cm": 110.0,
    "myelin_insulation": 1e4,
    "temperature_c": 37.0,
    "n_nodes": 41,
}


def test_crrss_rests_at_minus_80_mv():
    state = membrane_state(CRRSSParameters())
    assert state.rest_mv == pytest.approx(-80.0, abs=0.01)
    assert state.model_id == 1 and state.gates[2] == 0.0


def test_human_motor_fibre_conducts_in_the_normal_median_range():
    # 12-µm fibre at 37 °C: 50–65 m/s (normal median motor velocities, Buschbacher 1999:
    # 57 ± 5 m/s; LLN 47 m/s).
    v = compute_velocity(sim_cable(make_myelinated_axon(**NERVE), duration_ms=3, dt_us=1))
    assert 50.0 < v < 65.0, v
    assert classify_velocity(v) == "normal"


def test_thinning_the_myelin_slows_then_blocks():
    v = []
    for ins in (1e4, 300.0, 30.0):
        fib = make_myelinated_axon(**{**NERVE, "myelin_insulation": ins})
        v.append(compute_velocity(sim_cable(fib, duration_ms=12, dt_us=2)))
    assert v[0] > v[1] > 0 and np.isnan(v[2]), v
    assert [classify_velocity(x) for x in v] == [
        "normal",
        "demyelinating range",
        "conduction block",
    ]


def test_crrss_step_converges():
    # dt 2 µs (the bound at 37 °C) is within 4 % of dt 0.5 µs.
    fib = make_myelinated_axon(**NERVE)
    coarse = compute_velocity(sim_cable(fib, duration_ms=3, dt_us=2.0))
    fine = compute_velocity(sim_cable(fib, duration_ms=3, dt_us=0.5))
    assert abs(coarse / fine - 1) < 0.04
    with pytest.raises(ParameterError, match=r"^dt_us = "):
        sim_cable(fib, duration_ms=3, dt_us=3.0)


def test_crrss_backends_agree():
    fib = make_myelinated_axon(**{**NERVE, "n_nodes": 11})
    a = sim_cable(fib, duration_ms=0.5, dt_us=2, electrodes_um=[5000], backend="numpy")
    b = sim_cable(fib, duration_ms=0.5, dt_us=2, electrodes_um=[5000], backend="numba")
    np.testing.assert_allclose(a.v_mv, b.v_mv, atol=1e-8)


def test_crrss_takes_no_hh_membrane():
    from v1lab.cells import HHParameters

    with pytest.raises(ParameterError, match=r"^membrane = "):
        make_myelinated_axon(node_model="crrss", membrane=HHParameters())
    with pytest.raises(ParameterError, match=r"^node_model = "):
        make_myelinated_axon(node_model="frog")


@pytest.mark.parametrize(
    ("v", "reading"),
    [
        (47.0, "normal"),
        (46.9, "slowed"),
        (33.0, "slowed"),
        (32.9, "demyelinating range"),
        (float("nan"), "conduction block"),
    ],
)
def test_clinical_reading_thresholds(v, reading):
    # LLN 47 m/s; the EFNS/PNS criterion is 30 % below it: 32.9 m/s.
    assert classify_velocity(v) == reading

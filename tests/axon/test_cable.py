"""The cable solver against Hodgkin & Huxley's (1952) propagated action potential.

The exact travelling-wave velocity of HH's equations at 18.5 °C (radius 238 µm,
35.4 Ω·cm, 1 µF/cm²) is 18.73 m/s (HH's hand computation with K = 10.47 ms⁻¹ printed
18.8 m/s; the fibre itself conducted at 21.2 m/s), 12.31 m/s at 6.3 °C. Backward Euler
is first order in dt and the compartment grid second order in dx, so the error falls
with the grid; the tolerances are the ones the issue states, and each test names its grid.
"""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.axon import make_myelinated_axon, make_unmyelinated_axon, sim_cable
from v1lab.axon.measure import compute_electrode_velocity, compute_velocity

HH_EXACT_M_S = 18.73
HH_EXACT_6_3_M_S = 12.31
# A 60-mm axon, velocity between 20 and 40 mm: the spike (≈ 37 mm from foot to end of
# its fall at 18.7 m/s) is steady there, away from the stimulus and the sealed end.
LENGTH_MM = 60.0
SPAN_UM = (20_000.0, 40_000.0)


def _velocity(
    dx_um: float, dt_us: float, temperature_c: float = 18.5, backend: str = "auto"
) -> float:
    cab = make_unmyelinated_axon(length_mm=LENGTH_MM, dx_um=dx_um, temperature_c=temperature_c)
    run = sim_cable(
        cab, duration_ms=4.5 if temperature_c > 10 else 6.5, dt_us=dt_us, backend=backend
    )
    return compute_velocity(run, *SPAN_UM)


@pytest.mark.slow
def test_hh1952_velocity_converges_within_half_percent():
    # Grid: dx = 25 µm (λ/420), dt = 1 µs. Tolerance 0.5 % (the issue's).
    fine = _velocity(25.0, 1.0)
    assert abs(fine / HH_EXACT_M_S - 1) < 0.005, fine


def test_hh1952_velocity_error_shrinks_with_the_grid():
    # Coarse to finer grids: the error must fall monotonically (dx, dt halved together
    # and more); the default grid (250 µm, 25 µs) is within 3 %.
    v = [_velocity(dx, dt) for dx, dt in ((250.0, 25.0), (100.0, 10.0), (50.0, 5.0))]
    err = [abs(x / HH_EXACT_M_S - 1) for x in v]
    assert err[0] < 0.03, v
    assert err[0] > err[1] > err[2], v


@pytest.mark.slow
def test_hh1952_velocity_at_6_3_c():
    # Grid dx = 25 µm, dt = 1 µs; tolerance 0.5 %.
    v = _velocity(25.0, 1.0, temperature_c=6.3)
    assert abs(v / HH_EXACT_6_3_M_S - 1) < 0.005, v


def test_numpy_and_numba_backends_agree():
    cab = make_unmyelinated_axon(length_mm=20, dx_um=250)
    a = sim_cable(cab, duration_ms=2, electrodes_um=[5000, 15000], backend="numpy")
    b = sim_cable(cab, duration_ms=2, electrodes_um=[5000, 15000], backend="numba")
    np.testing.assert_allclose(a.v_mv, b.v_mv, atol=1e-8)
    np.testing.assert_allclose(a.cross_ms, b.cross_ms, atol=1e-10)


def test_electrode_velocity_matches_fitted_velocity():
    cab = make_unmyelinated_axon(length_mm=LENGTH_MM, dx_um=250)
    run = sim_cable(cab, duration_ms=4.5, electrodes_um=list(SPAN_UM))
    assert compute_electrode_velocity(run) == pytest.approx(
        compute_velocity(run, *SPAN_UM), rel=2e-3
    )


def test_rest_is_kept_without_a_stimulus():
    cab = make_unmyelinated_axon(length_mm=5, dx_um=500)
    run = sim_cable(cab, duration_ms=2, stim_na=0.0, electrodes_um=[0, 4999])
    assert np.ptp(run.v_mv) < 1e-6
    assert np.isnan(run.cross_ms).all()


def test_velocity_is_independent_of_stimulus_strength():
    # The wave, once formed, is the same whatever started it.
    cab = make_unmyelinated_axon(length_mm=LENGTH_MM, dx_um=250)
    v1 = compute_velocity(sim_cable(cab, duration_ms=4.5), *SPAN_UM)
    v2 = compute_velocity(sim_cable(cab, duration_ms=4.5, stim_na=3e4), *SPAN_UM)
    assert v1 == pytest.approx(v2, rel=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"diameter_um": -1}, "diameter_um"),
        ({"diameter_um": 0}, "diameter_um"),
        ({"diameter_um": 5e4}, "diameter_um"),
        ({"length_mm": 0}, "length_mm"),
        ({"length_mm": 1e7}, "length_mm"),
        ({"ra_ohm_cm": 0}, "ra_ohm_cm"),
        ({"cm_uf_cm2": float("nan")}, "cm_uf_cm2"),
        ({"temperature_c": 80}, "temperature_c"),
        ({"dx_um": 0}, "dx_um"),
        ({"length_mm": 1000, "dx_um": 0.2}, "dx_um"),
    ],
)
def test_bad_unmyelinated_geometry_is_refused_in_one_line(kwargs, field):
    with pytest.raises(ParameterError) as err:
        make_unmyelinated_axon(**kwargs)
    assert str(err.value).startswith(field + " = ")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_nodes": 1}, "n_nodes"),
        ({"node_length_um": 0}, "node_length_um"),
        ({"internode_length_um": -5}, "internode_length_um"),
        ({"internode_length_um": [1000.0] * 3}, "internode_length_um"),
        ({"myelin_insulation": 0.5}, "myelin_insulation"),
        ({"node_na_scale": -1}, "node_na_scale"),
        ({"segments_per_internode": 0}, "segments_per_internode"),
        ({"node_density_scale": 0}, "node_density_scale"),
        ({"node_model": "crrss", "node_density_scale": 10}, "node_density_scale"),
    ],
)
def test_bad_myelinated_geometry_is_refused_in_one_line(kwargs, field):
    with pytest.raises(ParameterError) as err:
        make_myelinated_axon(**kwargs)
    assert str(err.value).startswith(field + " = ")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dt_us": 30.0}, "dt_us"),  # dt·φ > 100 µs at 18.5 °C (φ = 3.84)
        ({"dt_us": 0.0}, "dt_us"),
        ({"duration_ms": -1}, "duration_ms"),
        ({"electrodes_um": [70_000]}, "electrodes_um"),
        ({"stim_ms": 0.0}, "stim_ms"),
        ({"backend": "gpu"}, "backend"),
        ({"method": "rk4"}, "method"),
        ({"method": "crank_nicolson", "dt_us": 30.0}, "dt_us"),
    ],
)
def test_bad_run_settings_are_refused_in_one_line(kwargs, field):
    cab = make_unmyelinated_axon(length_mm=LENGTH_MM)
    with pytest.raises(ParameterError) as err:
        sim_cable(cab, **kwargs)
    assert str(err.value).startswith(field + " = ")


def test_dt_bound_follows_temperature():
    # At 6.3 °C (φ = 1) 60 µs is allowed; at 30 °C (φ = 13.5) 10 µs is not.
    sim_cable(make_unmyelinated_axon(length_mm=5, temperature_c=6.3), duration_ms=0.5, dt_us=60.0)
    with pytest.raises(ParameterError, match="dt_us"):
        sim_cable(
            make_unmyelinated_axon(length_mm=5, temperature_c=30), duration_ms=0.5, dt_us=10.0
        )


def test_crank_nicolson_backends_agree():
    cab = make_unmyelinated_axon(length_mm=20, dx_um=250)
    kw = {"duration_ms": 2, "electrodes_um": [5000, 15000], "method": "crank_nicolson"}
    a = sim_cable(cab, backend="numpy", **kw)
    b = sim_cable(cab, backend="numba", **kw)
    np.testing.assert_allclose(a.v_mv, b.v_mv, atol=1e-8)
    assert a.method == b.method == "crank_nicolson"


def test_crank_nicolson_is_second_order_in_dt():
    # The mammalian (CRRSS) fibre of the nerve study, 41 nodes, 37 °C: its dx is fixed by
    # the geometry, so only dt changes. Halving dt must cut Crank–Nicolson's error ~4×
    # (second order) and backward Euler's ~2× (first order); both tend to one velocity.
    # Errors are against the Richardson extrapolation of the two finest CN runs.
    fib = make_myelinated_axon(
        node_model="crrss", diameter_um=8.4, n_nodes=41, node_length_um=1.0,
        internode_length_um=1200.0, myelin_insulation=1e4, ra_ohm_cm=110.0,
        temperature_c=37.0,
    )  # fmt: skip
    span = (fib.x_um[fib.node_index[10]], fib.x_um[fib.node_index[30]])

    def vel(method, dt):
        return compute_velocity(sim_cable(fib, duration_ms=3, dt_us=dt, method=method), *span)

    cn = [vel("crank_nicolson", dt) for dt in (2.0, 1.0, 0.5)]
    be = [vel("backward_euler", dt) for dt in (2.0, 1.0, 0.5)]
    exact = cn[2] + (cn[2] - cn[1]) / 3.0
    e_cn = [abs(v - exact) for v in cn]
    e_be = [abs(v - exact) for v in be]
    assert 3.0 < e_cn[0] / e_cn[1] < 5.0, cn
    assert 1.6 < e_be[0] / e_be[1] < 2.4 and 1.6 < e_be[1] / e_be[2] < 2.4, be
    assert e_cn[0] < e_be[0] / 5, (cn, be)

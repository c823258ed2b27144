"""Mechanically gated channels: the stretch receptor and the touch_receptor lab."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.synapse import AMPA, make_cell, make_events, sim_synaptic_cell
from v1lab.synapse.lab import run_lab_protocol
from v1lab.synapse.spec import parse_lab_protocol
from v1lab.synapse.touch import StretchReceptor, compute_receptor_conductance, make_ramp_and_hold

SA = StretchReceptor(adapt_fraction=0.3, adapt_tau_ms=300.0)
RA = StretchReceptor(g_max_ns=20.0, adapt_fraction=1.0, adapt_tau_ms=40.0)
DT = 0.1


def test_open_probability_is_a_boltzmann_of_stretch():
    r = StretchReceptor(s_half_pct=8.0, slope_pct=1.5)
    assert r.open_probability(8.0) == pytest.approx(0.5)
    s = np.linspace(0, 20, 201)
    p = r.open_probability(s)
    assert np.all(np.diff(p) > 0)
    # far below the midpoint, e-fold per slope
    far = StretchReceptor(s_half_pct=15.0, slope_pct=1.5)
    assert far.open_probability(1.5) / far.open_probability(0.0) == pytest.approx(np.e, rel=1e-3)


def test_adaptation_shifts_the_curve_exactly():
    s = make_ramp_and_hold([12.0], ramp_ms=DT, hold_ms=500, pre_ms=10, post_ms=10, dt_ms=DT)
    g = compute_receptor_conductance(SA, s, DT)[0]
    t = np.arange(s.shape[1]) * DT
    t0 = 10.0 + DT  # the first sample at full stretch (the ramp is one sample long)
    on = (t >= t0 - 1e-9) & (t < 510)
    expected = SA.g_max_ns * SA.open_probability(
        12.0, 0.3 * 12.0 * (1 - np.exp(-(t[on] - t0) / 300.0))
    )
    np.testing.assert_allclose(g[on], expected, rtol=1e-9)


@pytest.fixture(scope="module")
def responses():
    amps = np.array([4.0, 8.0, 12.0, 16.0])
    s = make_ramp_and_hold(amps, ramp_ms=10, hold_ms=1000, pre_ms=100, post_ms=100, dt_ms=DT)
    dur = s.shape[1] * DT * 1e-3
    out = {}
    for name, rec in (("sa", SA), ("ra", RA)):
        g = compute_receptor_conductance(rec, s, DT)
        kw = {"drive_ns": g, "drive_dt_ms": DT}
        ev = make_events([], [], [], n_trains=amps.size)
        rp = sim_synaptic_cell(
            make_cell("passive"), [AMPA], ev, dur, record="all", record_dt_ms=1.0, **kw
        )
        sp = sim_synaptic_cell(make_cell("rs"), [AMPA], ev, dur, **kw)
        out[name] = rp.v_mv - rp.rest_mv, sp.spikes
    return amps, out


def test_receptor_potential_is_graded_and_adapts(responses):
    _, out = responses
    v_sa, v_ra = out["sa"][0], out["ra"][0]
    assert np.all(np.diff(v_sa.max(axis=1)) > 0) and np.all(np.diff(v_ra.max(axis=1)) > 0)
    end = 1100  # ms: the last sample of the hold (1 ms records)
    k = 2  # 12 % stretch
    assert v_sa[k, end] > 0.5 * v_sa[k].max()  # slowly adapting: sustained
    assert v_ra[k, end] < 0.1 * v_ra[k].max()  # rapidly adapting: back near rest


def test_spike_trains_follow_the_receptor_potential(responses):
    _, out = responses
    sa, ra = out["sa"][1], out["ra"][1]
    late = lambda st, k: int(np.sum((st.train(k, 0) > 0.6) & (st.train(k, 0) < 1.1)))  # noqa: E731
    assert sa.counts()[:, 0].tolist() == sorted(sa.counts()[:, 0].tolist())
    assert sa.counts()[0, 0] == 0 and late(sa, 3) > 10  # fires through the hold
    assert ra.counts()[3, 0] > 0 and late(ra, 3) == 0  # fires only at the onset


def test_touch_lab_runs_and_names_bad_fields(tmp_path):
    data = {
        "lab": "synapse",
        "experiment": "touch_receptor",
        "stretch": {"amplitudes_pct": [5, 15], "hold_ms": 600},
    }
    p = parse_lab_protocol(data, name="t")
    assert p.sections["rapidly_adapting"].adapt_fraction == 1.0  # its own defaults
    assert p.sections["slowly_adapting"].adapt_fraction == 0.3
    run_lab_protocol(data, tmp_path / "t", name="t", quiet=True)
    for f in (
        "stretch_responses.csv",
        "figures/receptor_potential.png",
        "audio/slowly_adapting.wav",
        "recording.nwb",
    ):
        assert (tmp_path / "t" / f).is_file(), f
    with pytest.raises(ParameterError) as err:
        parse_lab_protocol({**data, "rapidly_adapting": {"adapt_fraction": 2}}, name="t")
    assert err.value.field == "rapidly_adapting.adapt_fraction"
    with pytest.raises(ParameterError) as err:
        sim_synaptic_cell(
            make_cell("passive"),
            [AMPA],
            make_events([], [], [], n_trains=1),
            0.01,
            drive_ns=[[-1.0]],
            drive_dt_ms=0.1,
        )
    assert err.value.field == "drive_ns"

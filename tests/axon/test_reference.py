"""v1lab's cable against NEURON on the same cable, grid and integrator.

The NEURON numbers are in golden/neuron.json (written by make_golden.py with NEURON
9.0.2), so these tests run without NEURON; where NEURON is installed, the last tests
check it still gives them. The runs: HH 1952's axon, Moore et al.'s (1978) fibre and the
nerve study's mammalian fibre (CRRSS nodes; NEURON runs them through the ``crrss``
mechanism of :data:`v1lab.axon.reference.CRRSS_MOD`), each with backward Euler (NEURON's
default) and Crank–Nicolson (``secondorder = 2``). Tolerances are the issue's: velocity
within 0.3 % (myelinated: 2 %), electrode traces within 1 mV RMS, lesion thresholds
equal to the bisection's resolution. (Measured: equal to 1e-12.)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from make_golden import make_runs

from v1lab.axon import sim_cable
from v1lab.axon.lesions import compute_lesion_delay, find_block_threshold
from v1lab.axon.measure import compute_electrode_velocity as compute_velocity_from_electrodes
from v1lab.axon.measure import compute_velocity

GOLDEN = json.loads((Path(__file__).parent / "golden" / "neuron.json").read_text())


def _sim(cable, **kw):
    return sim_cable(cable, **kw)


@pytest.fixture(scope="module")
def runs():
    return make_runs(_sim)


RUNS = [("hh", 0.003), ("hh_cn", 0.003), ("moore", 0.02), ("moore_cn", 0.02),
        ("crrss", 0.02), ("crrss_cn", 0.02)]  # fmt: skip


@pytest.mark.parametrize(("name", "rel"), RUNS)
def test_velocity_matches_neuron(runs, name, rel):
    run = runs[name]
    v = compute_velocity(run, *run.electrodes_um)
    assert v == pytest.approx(GOLDEN[name]["velocity_m_s"], rel=rel)


@pytest.mark.parametrize("name", [name for name, _ in RUNS])
def test_electrode_traces_match_neuron_within_1_mv_rms(runs, name):
    g = GOLDEN[name]
    ours = runs[name].v_mv[:, :: g["stride"]]
    theirs = np.asarray(g["v_mv"])
    assert ours.shape == theirs.shape
    rms = np.sqrt(np.mean((ours - theirs) ** 2, axis=1))
    assert (rms < 1.0).all(), rms
    # and the spike is in the traces (a flat trace would match a flat trace)
    assert (theirs.max(axis=1) > 0).all()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "key", "rel"),
    [
        ("myelin", "block_myelin_divisor", 0.01),
        ("dead_nodes", "block_dead_nodes", 0.0),
        ("sodium", "block_sodium_fraction", 0.02),
    ],
)
def test_block_thresholds_match_neuron(kind, key, rel):
    assert find_block_threshold(kind) == pytest.approx(GOLDEN["lesions"][key], rel=rel)


def test_delay_across_thinned_myelin_matches_neuron():
    d = compute_lesion_delay("myelin", 10.0)
    assert d == pytest.approx(GOLDEN["lesions"]["delay_myelin_10x_ms"], rel=0.02)
    assert d > 0.1  # the lesion slows the spike


def test_neuron_still_gives_the_golden_numbers():
    pytest.importorskip("neuron")
    from make_golden import compute_saltation

    from v1lab.axon.reference import sim_neuron_cable

    runs = make_runs(sim_neuron_cable, crrss=False)
    for name, run in runs.items():
        v = compute_velocity(run, *run.electrodes_um)
        assert v == pytest.approx(GOLDEN[name]["velocity_m_s"], rel=1e-6)
    got = compute_saltation(runs["moore"])
    assert got == pytest.approx(GOLDEN["saltation"]["moore"], rel=1e-6)


def test_neuron_crrss_mechanism_still_gives_the_golden_numbers():
    # Needs NEURON and nrnivmodl with a C compiler to build the CRRSS mechanism.
    pytest.importorskip("neuron")
    from v1lab._validate import ParameterError
    from v1lab.axon.reference import load_crrss, load_neuron, sim_neuron_cable

    try:
        load_crrss(load_neuron())
    except ParameterError as err:
        pytest.skip(f"the CRRSS mechanism could not be built: {err}")
    runs = make_runs(sim_neuron_cable)
    for name in ("crrss", "crrss_cn"):
        v = compute_velocity(runs[name], *runs[name].electrodes_um)
        assert v == pytest.approx(GOLDEN[name]["velocity_m_s"], rel=1e-6)


def test_neuron_single_section_is_the_same_cable():
    # The benchmark's NEURON model (one section, nseg segments) is the cable of the tests.
    pytest.importorskip("neuron")
    from make_golden import HH, hh_run_settings

    from v1lab.axon import make_unmyelinated_axon
    from v1lab.axon.reference import sim_neuron_uniform_axon

    cab = make_unmyelinated_axon(length_mm=HH["length_mm"], dx_um=HH["dx_um"])
    run = sim_neuron_uniform_axon(cab, **hh_run_settings(cab), record_all=False)
    assert compute_velocity_from_electrodes(run) == pytest.approx(
        GOLDEN["hh"]["velocity_m_s"], rel=1e-3
    )
    np.testing.assert_allclose(run.v_mv, np.asarray(GOLDEN["hh"]["v_mv"]), atol=1e-3)

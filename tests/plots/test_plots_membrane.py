"""Figures of a Hodgkin–Huxley membrane (v1lab.plots.membrane): V(t), spike phases, gates."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import check_figure_has_data

import v1lab.plots
from v1lab import cells as hh
from v1lab.plots import membrane


@pytest.fixture(scope="module")
def sweeps():
    rng = np.random.default_rng(6)
    bump = np.concatenate([np.full(60, 1.0), np.full(60, 50.0), np.full(60, 1.0)])[:, None]
    _, pref = hh.sim_hodgkin_huxley(bump, 200.0, rng=rng, record=[0])
    _, orth = hh.sim_hodgkin_huxley(np.full((180, 1), 1.0), 200.0, rng=rng, record=[0])
    return pref, orth


def test_plot_functions_take_and_return_an_axes(sweeps):
    import matplotlib.pyplot as plt

    pref, _ = sweeps
    for fn in (
        membrane.plot_membrane,
        membrane.plot_spike_phases,
        membrane.plot_gates,
        membrane.plot_ionic_currents,
    ):
        fig, ax = plt.subplots()
        assert fn(pref, ax=ax) is ax
        check_figure_has_data(ax)
        plt.close(fig)


def test_membrane_figure_has_sweeps_phases_gates_and_currents(sweeps):
    import matplotlib.pyplot as plt

    pref, orth = sweeps
    fig = membrane.make_membrane_figure(pref, orth)
    assert len(fig.axes) == 6
    for ax in fig.axes:
        check_figure_has_data(ax)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert set(hh.SPIKE_PHASES) <= texts
    legends = " ".join(
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    )
    for name in ("m (", "h (", "n (", "I_Na", "I_K"):
        assert name in legends
    plt.close(fig)


def test_recording_membrane_figure_uses_preferred_and_orthogonal_sweeps():
    import matplotlib.pyplot as plt

    n = 200

    def bar(direction):
        return SimpleNamespace(trial_params=lambda: {"direction_deg": direction})

    rates = [np.full((n, 2), 1.0, np.float32) for _ in range(4)]
    rates[1][60:120, 1] = 60.0  # cell 1 prefers 90°
    recording = SimpleNamespace(
        condition_rates=rates,
        conditions=[bar(0.0), bar(90.0), bar(180.0), bar(270.0)],
        n_cells=2,
        protocol=SimpleNamespace(retina=SimpleNamespace(frame_rate_hz=200.0)),
        population=SimpleNamespace(cell_type=np.array(["simple", "complex"])),
    )
    fig = membrane.make_recording_membrane_figure(recording, rng=np.random.default_rng(8))
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("preferred sweep (90°)") for t in titles)
    assert any(t.startswith(("orthogonal sweep (0°)", "orthogonal sweep (180°)")) for t in titles)
    assert "cell 1 (complex)" in fig._suptitle.get_text()
    plt.close(fig)


def test_the_membrane_figures_are_plots_of_the_plots_stage():
    assert v1lab.plots.plot_membrane is membrane.plot_membrane
    assert v1lab.plots.make_membrane_figure is membrane.make_membrane_figure
    assert not hasattr(hh, "plot_membrane")  # cells draw nothing (layers: cells < plots)

"""The card's figure: model histogram over the published one."""

from __future__ import annotations

import numpy as np
from conftest import check_figure_has_data

from v1lab.card.figures import make_model_histogram, plot_card_histogram
from v1lab.card.published import MACAQUE
from v1lab.card.scores import EXTRA_PROPERTIES


def test_model_histogram_clips_and_normalises():
    h = make_model_histogram([-1.0, 0.2, 0.7, 5.0, np.nan], [0.0, 0.5, 1.0])
    assert h.tolist() == [0.5, 0.5]
    assert make_model_histogram([np.nan], [0.0, 1.0]).tolist() == [0.0]


def test_scored_and_unscored_figures_have_data_and_labels():
    gsf = next(d for d in MACAQUE if d.name == "grating_summation_field")
    ax = plot_card_histogram(np.array([0.3, 0.6, 1.2, np.nan]), gsf, score=0.5, alexnet=0.599)
    check_figure_has_data(ax)
    assert ax.get_xscale() == "log" and "AlexNet 0.599" in ax.get_title()
    assert len(ax.containers[0]) == 8  # one model bar per bin, the data drawn over them
    ax = plot_card_histogram(np.array([1.0, 1.2]), EXTRA_PROPERTIES[1])
    check_figure_has_data(ax)
    assert "score" not in ax.get_title()

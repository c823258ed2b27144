"""Figures. Every ``plot_*`` function takes ``ax=None`` and returns the axes it drew on.

The plots stage takes a :class:`v1lab.experiment.Recording` (and the metrics of
:mod:`v1lab.analysis`) and hands on figures: matplotlib objects, or the PNG/SVG files of
a run folder (:func:`save_run_figures`), which :mod:`v1lab.report` puts on its page.

Single-panel functions (``plot_tuning_curve``, ``plot_raster``, ``plot_psth``,
``plot_spot_map``, ``plot_sta``, ``plot_f1_f0_histogram``, ``plot_contrast_overlay``,
``plot_contrast_response``, ``plot_length_tuning``, ``plot_orientation_map``,
``plot_selectivity_map``, ``plot_membrane``, …) draw into the axes given (or a new one)
and return it. Figure builders (``plot_cell_tuning``, ``plot_population_tuning``,
``plot_population_summary``, ``plot_cell_*``, ``make_membrane_figure``) lay several
panels out and return the figure. :func:`save_run_figures` writes every figure a run of
a protocol should have.

matplotlib is imported inside the functions so that ``import v1lab`` stays fast, and
the Agg backend is used when no display backend has been chosen. Colours are the
Okabe–Ito colour-blind-safe palette; maps use perceptually uniform, colour-blind-safe
colour maps (``twilight`` for the cyclic orientation, ``RdBu_r`` centred on 0 for
signed maps, ``viridis`` for magnitudes).

Modules, from the bottom up:

- :mod:`~v1lab.plots.style` — the palette and matplotlib, loaded on first use;
- :mod:`~v1lab.plots.figure_data` — the analyses of a run the builders share, computed once;
- :mod:`~v1lab.plots.spike_trains` — raster and PSTH;
- :mod:`~v1lab.plots.tuning` — tuning curves, a cell's tuning card, the population's;
- :mod:`~v1lab.plots.summary` — population histograms with published ranges;
- :mod:`~v1lab.plots.contrast`, :mod:`~v1lab.plots.length` — contrast and length tuning;
- :mod:`~v1lab.plots.receptive_fields` — spot maps, STA and its Gabor fit;
- :mod:`~v1lab.plots.maps` — orientation and selectivity maps of a sheet;
- :mod:`~v1lab.plots.membrane` — a Hodgkin–Huxley cell's membrane, spike, gates, currents;
- :mod:`~v1lab.plots.run_figures` — which figures a run gets, drawn into file bytes;
- :mod:`~v1lab.plots.worker` — a helper process that draws part of them in parallel;
- :mod:`~v1lab.plots.save` — writing figures to files.
"""

from v1lab.plots.contrast import plot_cell_contrast, plot_contrast_overlay, plot_contrast_response
from v1lab.plots.length import plot_length_tuning, plot_population_length_tuning
from v1lab.plots.maps import plot_orientation_map, plot_selectivity_map, plot_sheet_maps
from v1lab.plots.membrane import (
    make_membrane_figure,
    make_recording_membrane_figure,
    plot_gates,
    plot_ionic_currents,
    plot_membrane,
    plot_spike_phases,
)
from v1lab.plots.receptive_fields import (
    plot_cell_spot_maps,
    plot_cell_sta,
    plot_spot_map,
    plot_sta,
)
from v1lab.plots.run_figures import MAX_CELL_FIGURES, choose_example_cells
from v1lab.plots.save import save_figure, save_run_figures, save_tuning_figures
from v1lab.plots.spike_trains import plot_psth, plot_raster
from v1lab.plots.style import OKABE_ITO, TYPE_COLOURS
from v1lab.plots.summary import (
    PUBLISHED_RANGES,
    plot_f1_f0_histogram,
    plot_population_summary,
    plot_summary_histogram,
)
from v1lab.plots.tuning import (
    plot_cell_tuning,
    plot_condition_responses,
    plot_population_tuning,
    plot_tuning_curve,
    plot_tuning_polar,
)

__all__ = [
    "MAX_CELL_FIGURES",
    "OKABE_ITO",
    "PUBLISHED_RANGES",
    "TYPE_COLOURS",
    "choose_example_cells",
    "make_membrane_figure",
    "make_recording_membrane_figure",
    "plot_cell_contrast",
    "plot_cell_spot_maps",
    "plot_cell_sta",
    "plot_cell_tuning",
    "plot_condition_responses",
    "plot_contrast_overlay",
    "plot_contrast_response",
    "plot_f1_f0_histogram",
    "plot_gates",
    "plot_ionic_currents",
    "plot_length_tuning",
    "plot_membrane",
    "plot_orientation_map",
    "plot_population_length_tuning",
    "plot_population_summary",
    "plot_population_tuning",
    "plot_psth",
    "plot_raster",
    "plot_selectivity_map",
    "plot_sheet_maps",
    "plot_spike_phases",
    "plot_spot_map",
    "plot_sta",
    "plot_summary_histogram",
    "plot_tuning_curve",
    "plot_tuning_polar",
    "save_figure",
    "save_run_figures",
    "save_tuning_figures",
]

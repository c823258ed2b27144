"""Analyses: responses, tuning curves, fits and receptive-field maps, as pure functions.

Everything here takes a :class:`~v1lab.experiment.Recording` or plain arrays and returns
arrays or small frozen result objects; nothing draws or writes. Names follow the field
(AllenSDK / pynapple): ``osi``, ``dsi``, ``g_osi``, ``g_dsi``, ``stimulus_condition_id``.
Angles are in degrees; a moving stimulus's orientation is its direction − 90°
(DESIGN.md). The stage hands its measurements to :mod:`v1lab.plots`, :mod:`v1lab.audio`,
:mod:`v1lab.report` and ``metrics.csv`` (:func:`compute_metrics`).

What is measured, and where
---------------------------
:mod:`~v1lab.analysis.responses`
    Spike counts and rates per presentation, in the window each stimulus kind is
    measured in (PSTH peak for swept bars, latency-shifted for flashes); the
    spontaneous rate; mean ± SEM per parameter value (:func:`compute_tuning`).
:mod:`~v1lab.analysis.conditions`
    The condition table, the protocol's :class:`Design`, mean responses per condition,
    tuning along one parameter of a factorial design through each cell's preferred
    condition, and the pair of conditions that lets someone hear a cell.
:mod:`~v1lab.analysis.tuning`
    Direction and orientation tuning; OSI and DSI as AllenSDK defines them; global
    OSI/DSI (Ringach, Shapley & Hawken 2002); von Mises fits (Swindale 1998) with HWHH
    and bandwidth.
:mod:`~v1lab.analysis.temporal`
    PSTH, raster, Fano factor (Tolhurst, Movshon & Dean 1983) and the F1/F0 modulation
    ratio of grating responses (Skottun et al. 1991).
:mod:`~v1lab.analysis.contrast`, :mod:`~v1lab.analysis.length`
    Naka–Rushton fit of the contrast response (Albrecht & Hamilton 1982); the length
    suppression index (DeAngelis, Freeman & Ohzawa 1994).
:mod:`~v1lab.analysis.receptive_fields`
    ON and OFF spot maps (Hubel & Wiesel 1959), their correlation and overlap index; the
    spike-triggered average of sparse noise and its 2-D Gabor fit (Jones & Palmer 1987).
:mod:`~v1lab.analysis.maps`
    A recorded orientation-map sheet: its measured and true maps, pinwheels, column
    spacing and pinwheel density (Kaschube et al. 2010).
:mod:`~v1lab.analysis.metrics`
    :func:`compute_metrics`, the per-cell table of every measurement the design allows.

Each module's docstring gives its references. Every public name is re-exported here, so
``from v1lab.analysis import compute_metrics`` works as well as the module path.
"""

from v1lab.analysis.conditions import (
    Design,
    compute_condition_responses,
    compute_condition_table,
    compute_demo_conditions,
    compute_design,
    compute_factorial_tuning,
)
from v1lab.analysis.contrast import NakaRushtonFit, compute_naka_rushton_fit, make_naka_rushton
from v1lab.analysis.length import compute_suppression_index
from v1lab.analysis.maps import (
    MapSummary,
    Pinwheels,
    compute_column_spacing,
    compute_map_summary,
    compute_orientation_map,
    compute_pinwheel_density,
    compute_pinwheels,
)
from v1lab.analysis.metrics import MAX_FIT_CELLS, compute_metrics
from v1lab.analysis.receptive_fields import (
    GaborFit,
    SpikeTriggeredAverage,
    SpotMaps,
    compute_gabor_fit,
    compute_on_off_correlation,
    compute_overlap_index,
    compute_spot_maps,
    compute_sta,
    make_gabor,
)
from v1lab.analysis.responses import (
    RESPONSE_LATENCY_S,
    compute_baseline_rates,
    compute_binned_counts,
    compute_peak_rates,
    compute_presentation_responses,
    compute_response_rates,
    compute_tuning,
)
from v1lab.analysis.temporal import (
    compute_condition_f1_f0,
    compute_f1_f0,
    compute_fano_factor,
    compute_psth,
    compute_raster,
)
from v1lab.analysis.tuning import (
    VonMisesFit,
    compute_direction_tuning,
    compute_dsi,
    compute_global_dsi,
    compute_global_osi,
    compute_orientation_tuning,
    compute_osi,
    compute_preferred_direction_deg,
    compute_preferred_orientation_deg,
    compute_von_mises_fit,
    compute_width_limit_deg,
    make_von_mises,
)

__all__ = [
    "MAX_FIT_CELLS",
    "RESPONSE_LATENCY_S",
    "Design",
    "GaborFit",
    "MapSummary",
    "NakaRushtonFit",
    "Pinwheels",
    "SpikeTriggeredAverage",
    "SpotMaps",
    "VonMisesFit",
    "compute_baseline_rates",
    "compute_binned_counts",
    "compute_column_spacing",
    "compute_condition_f1_f0",
    "compute_condition_responses",
    "compute_condition_table",
    "compute_demo_conditions",
    "compute_design",
    "compute_direction_tuning",
    "compute_dsi",
    "compute_f1_f0",
    "compute_factorial_tuning",
    "compute_fano_factor",
    "compute_gabor_fit",
    "compute_global_dsi",
    "compute_global_osi",
    "compute_map_summary",
    "compute_metrics",
    "compute_naka_rushton_fit",
    "compute_on_off_correlation",
    "compute_orientation_map",
    "compute_orientation_tuning",
    "compute_osi",
    "compute_overlap_index",
    "compute_peak_rates",
    "compute_pinwheel_density",
    "compute_pinwheels",
    "compute_preferred_direction_deg",
    "compute_preferred_orientation_deg",
    "compute_presentation_responses",
    "compute_psth",
    "compute_raster",
    "compute_response_rates",
    "compute_spot_maps",
    "compute_sta",
    "compute_suppression_index",
    "compute_tuning",
    "compute_von_mises_fit",
    "compute_width_limit_deg",
    "make_gabor",
    "make_naka_rushton",
    "make_von_mises",
]

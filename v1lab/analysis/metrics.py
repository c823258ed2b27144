"""The per-cell metrics table: every measurement the protocol's design allows, per cell.

:func:`compute_metrics` reads the design (:func:`~v1lab.analysis.conditions.compute_design`)
and runs the measurements of the other modules of :mod:`v1lab.analysis` that apply, one
row per cell beside the cell's ground truth; it is what ``metrics.csv`` holds. On an
orientation-map sheet it adds each cell's position on the cortex.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab.analysis._common import nan_argmax
from v1lab.analysis.conditions import (
    compute_condition_responses,
    compute_condition_table,
    compute_design,
    compute_factorial_tuning,
)
from v1lab.analysis.contrast import compute_naka_rushton_fit
from v1lab.analysis.length import compute_suppression_index
from v1lab.analysis.receptive_fields import (
    compute_gabor_fit,
    compute_on_off_correlation,
    compute_overlap_index,
    compute_spot_maps,
    compute_sta,
)
from v1lab.analysis.responses import compute_baseline_rates
from v1lab.analysis.temporal import compute_condition_f1_f0, compute_fano_factor
from v1lab.analysis.tuning import (
    compute_dsi,
    compute_global_dsi,
    compute_global_osi,
    compute_orientation_tuning,
    compute_osi,
    compute_preferred_orientation_deg,
    compute_von_mises_fit,
    compute_width_limit_deg,
)
from v1lab.model.maps import make_sheet_positions, sheet_side

__all__ = ["MAX_FIT_CELLS", "compute_metrics"]

#: Above this many cells, per-cell curve fits (von Mises, Naka–Rushton) are skipped and
#: their columns hold NaN: a 10,000-cell map is analysed with the vector-sum measures.
MAX_FIT_CELLS = 256


def _resolved(width_deg: np.ndarray, limit_deg: float) -> np.ndarray:
    """Widths below the sampling's limit replaced by NaN."""
    width_deg = np.asarray(width_deg, dtype=float)
    return np.where(width_deg >= limit_deg, width_deg, np.nan)


def _fill(out: dict[str, np.ndarray], name: str, values: Any) -> None:
    out[name] = np.asarray(values, dtype=float)


def compute_metrics(recording: Any) -> dict[str, np.ndarray]:
    """Per-cell metrics beside each cell's ground truth (one row per cell).

    Always: ``cell_id``, the ground-truth columns of the NWB units table,
    ``spontaneous_rate_hz`` (measured in the blanks), ``peak_rate_hz`` (the best
    condition's mean response) and ``fano_factor`` (at the best condition). Then, as
    the protocol's conditions allow (:func:`compute_design`):

    direction tuning (bars or gratings in ≥ 3 directions), read through each cell's
    preferred condition (:func:`compute_factorial_tuning`)
        ``preferred_direction_measured_deg``, ``preferred_orientation_measured_deg``,
        ``osi``, ``dsi``, ``g_osi``, ``g_dsi``; von Mises fits
        ``preferred_orientation_fit_deg``, ``hwhh_deg``, ``bandwidth_deg``,
        ``orientation_fit_r2``, ``preferred_direction_fit_deg``, ``direction_fit_r2``
        (NaN above :data:`MAX_FIT_CELLS` cells). Where the fitted HWHH is below what
        the orientation sampling can measure (:func:`compute_width_limit_deg`, half the
        step), ``hwhh_deg`` and ``bandwidth_deg`` are NaN and ``hwhh_below_deg`` holds
        that limit (NaN elsewhere): the cell's HWHH is below it.
    gratings
        ``f1_f0`` at the preferred grating, beside the ground-truth ``linear_weight``
        (a complex cell's phase-sensitive share); ``spatial_frequency_measured_cpd`` and
        ``temporal_frequency_measured_hz`` when ≥ 3 values were shown.
    contrast series (≥ 3 contrasts)
        ``c50_measured``, ``nr_exponent``, ``nr_r_max_hz``, ``nr_r2`` (Naka–Rushton on
        the responses above spontaneous at the preferred direction), ``hwhh_deg_cNNN``
        (orientation HWHH at contrast NNN %, NaN where unresolved), beside the ground
        truth ``c50`` and ``exponent`` of the model cell.
    length tuning (bars of ≥ 3 lengths)
        ``optimal_length_deg``, ``suppression_index``, beside ``end_inhibition``.
    spot map
        ``on_off_corr`` (of the whole maps), ``overlap_index`` (of the responses 2 SEM
        above spontaneous, :meth:`~v1lab.analysis.SpotMaps.significant`),
        ``spot_peak_hz`` and, with diffuse flashes, ``diffuse_ratio``.
    sparse noise
        ``sta_snr``, ``sta_lag_s`` and the Gabor fit ``gabor_x_deg``, ``gabor_y_deg``,
        ``gabor_orientation_deg``, ``gabor_sf_cpd``, ``gabor_phase_deg``, ``gabor_nx``,
        ``gabor_ny``, ``gabor_r2``, beside the ground truth ``nx``, ``ny``.
    orientation-map sheet
        ``sheet_x_mm``, ``sheet_y_mm`` (ground truth position on the cortex).

    For the previous columns with a single direction factor (``hubel_wiesel_bars``)
    the values are those of the pooled tuning (:func:`~v1lab.analysis.compute_direction_tuning`).
    """
    pop = recording.population
    n = recording.n_cells
    out: dict[str, np.ndarray] = {"cell_id": np.arange(n)}
    out.update(pop.to_columns())
    baseline = compute_baseline_rates(recording)
    out["spontaneous_rate_hz"] = baseline
    design = compute_design(recording)
    table = compute_condition_table(recording)
    mean, sem = compute_condition_responses(recording)
    best = nan_argmax(mean)
    cols = np.arange(n)
    _fill(out, "peak_rate_hz", mean[best, cols])
    ids, fano = compute_fano_factor(
        recording.spike_counts(), recording.presentations["stimulus_condition_id"]
    )
    fano_full = np.full((len(recording.conditions), n), np.nan)
    fano_full[ids] = fano
    _fill(out, "fano_factor", fano_full[best, cols])
    fits = n <= MAX_FIT_CELLS

    kind_rows = None
    if design.direction_kind is not None:
        kind_rows = table["stimulus"] == design.direction_kind
        directions, dmean, _ = compute_factorial_tuning(
            table, mean, sem, "direction_deg", rows=kind_rows
        )
        orientations, omean = compute_orientation_tuning(directions, dmean)
        _fill(out, "peak_rate_hz", np.nanmax(np.where(np.isfinite(dmean), dmean, -np.inf), 0))
        _fill(out, "preferred_direction_measured_deg", directions[nan_argmax(dmean)])
        _fill(
            out,
            "preferred_orientation_measured_deg",
            compute_preferred_orientation_deg(np.mod(directions - 90.0, 180.0), dmean),
        )
        _fill(out, "osi", compute_osi(directions, dmean))
        _fill(out, "dsi", compute_dsi(directions, dmean))
        _fill(out, "g_osi", compute_global_osi(np.mod(directions - 90.0, 180.0), dmean))
        _fill(out, "g_dsi", compute_global_dsi(directions, dmean))
        names = (
            "preferred_orientation_fit_deg", "hwhh_deg", "bandwidth_deg", "orientation_fit_r2",
            "preferred_direction_fit_deg", "direction_fit_r2",
        )  # fmt: skip
        values = np.full((len(names), n), np.nan)
        for cell in range(n if fits else 0):
            o = compute_von_mises_fit(orientations, omean[:, cell], period=180.0)
            d = compute_von_mises_fit(directions, dmean[:, cell], period=360.0)
            values[:, cell] = (
                o.preferred_deg, o.hwhh_deg, o.bandwidth_deg, o.r2, d.preferred_deg, d.r2
            )  # fmt: skip
        # A width the sampling cannot measure is not reported (bandwidth with it).
        limit = compute_width_limit_deg(orientations)
        fitted_hwhh = values[1].copy()
        values[1] = _resolved(fitted_hwhh, limit)
        values[2] = np.where(np.isfinite(values[1]), values[2], np.nan)
        for name, v in zip(names, values, strict=True):
            _fill(out, name, v)
        _fill(out, "hwhh_below_deg", np.where(fitted_hwhh < limit, limit, np.nan))

    if design.gratings:
        grating_rows = table["stimulus"] == "grating"
        f1, f0 = compute_condition_f1_f0(recording, baseline_hz=baseline)
        scores = np.where(grating_rows[:, None] & np.isfinite(mean), mean, -np.inf)
        pref = np.argmax(scores, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(f0[pref, cols] > 0, f1[pref, cols] / f0[pref, cols], np.nan)
        _fill(out, "f1_f0", ratio)
        _fill(out, "linear_weight", pop.linear_weight)
        for along, name, flag in (
            ("spatial_frequency_cpd", "spatial_frequency_measured_cpd", design.sf_tuning),
            ("temporal_frequency_hz", "temporal_frequency_measured_hz", design.tf_tuning),
        ):
            if flag:
                values, tmean, _ = compute_factorial_tuning(
                    table, mean, sem, along, rows=grating_rows
                )
                _fill(out, name, values[nan_argmax(tmean)])

    if design.contrast_series:
        if kind_rows is None:
            kind_rows = np.isin(table["stimulus"], ("bar", "grating"))
        contrasts, cmean, _ = compute_factorial_tuning(table, mean, sem, "contrast", rows=kind_rows)
        names = ("c50_measured", "nr_exponent", "nr_r_max_hz", "nr_r2")
        values = np.full((4, n), np.nan)
        for cell in range(n if fits else 0):
            nr = compute_naka_rushton_fit(contrasts, cmean[:, cell] - baseline[cell])
            values[:, cell] = (nr.c50, nr.n, nr.r_max, nr.r2)
        for name, v in zip(names, values, strict=True):
            _fill(out, name, v)
        _fill(out, "c50", pop.c50)
        _fill(out, "exponent", pop.exponent)
        for c in design.contrasts if design.direction_kind else ():
            directions, dmean, _ = compute_factorial_tuning(
                table, mean, sem, "direction_deg", rows=kind_rows, fixed={"contrast": c}
            )
            orientations, omean = compute_orientation_tuning(directions, dmean)
            widths = np.full(n, np.nan)
            for cell in range(n if fits else 0):
                widths[cell] = compute_von_mises_fit(orientations, omean[:, cell]).hwhh_deg
            widths = _resolved(widths, compute_width_limit_deg(orientations))
            _fill(out, f"hwhh_deg_c{round(100 * abs(c)):03d}", widths)

    if design.length_tuning:
        lengths, lmean, _ = compute_factorial_tuning(
            table, mean, sem, "length_deg", rows=table["stimulus"] == "bar"
        )
        _fill(out, "optimal_length_deg", lengths[nan_argmax(lmean)])
        si = compute_suppression_index(lengths, lmean, baseline=baseline)
        _fill(out, "suppression_index", si)
        _fill(out, "end_inhibition", pop.end_inhibition)

    if design.spot_map:
        maps = compute_spot_maps(recording, baseline_hz=baseline)
        assert maps is not None
        _fill(out, "on_off_corr", compute_on_off_correlation(maps.on, maps.off))
        on, off = maps.significant()
        _fill(out, "overlap_index", compute_overlap_index(on, off, maps.x_deg, maps.y_deg))
        _fill(out, "spot_peak_hz", maps.peak_hz)
        if design.diffuse:
            _fill(out, "diffuse_ratio", maps.diffuse_ratio)

    if design.sparse_noise:
        sta = compute_sta(recording)
        assert sta is not None
        _fill(out, "sta_snr", sta.snr)
        _fill(out, "sta_lag_s", sta.lags_s[sta.best_lag])
        names = (
            "gabor_x_deg", "gabor_y_deg", "gabor_orientation_deg", "gabor_sf_cpd",
            "gabor_phase_deg", "gabor_nx", "gabor_ny", "gabor_r2",
        )  # fmt: skip
        values = np.full((len(names), n), np.nan)
        images = sta.at_best_lag()
        for cell in range(n if fits else 0):
            g = compute_gabor_fit(images[..., cell], sta.x_deg, sta.y_deg)
            values[:, cell] = (
                g.x_deg, g.y_deg, g.orientation_deg, g.spatial_frequency_cpd, g.phase_deg,
                g.nx, g.ny, g.r2,
            )  # fmt: skip
        for name, v in zip(names, values, strict=True):
            _fill(out, name, v)
        _fill(out, "nx", pop.nx)
        _fill(out, "ny", pop.ny)

    if design.sheet:
        spec = recording.protocol.population
        x_mm, y_mm = make_sheet_positions(sheet_side(n), spec.sheet_size_mm)
        _fill(out, "sheet_x_mm", x_mm.ravel())
        _fill(out, "sheet_y_mm", y_mm.ravel())
    return out

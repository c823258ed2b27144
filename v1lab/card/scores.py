"""A card end to end in memory: draw the cells, run the battery, measure, score.

:func:`compute_card` returns a :class:`Card`: one row per cell (ground truth, band and
every measured property) and one row per property (the model's n and median, the
paper's n, the KS similarity with its ceiling and the ceiled score, AlexNet's score,
the source), plus the checks the model work is judged by and the time each battery
part took. Nothing is written here (see :mod:`v1lab.card.run`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from v1lab.card.battery import BatterySpec, make_battery_plan, run_battery
from v1lab.card.population import card_retina_section, make_card_population
from v1lab.card.properties import (
    PROPERTY_NAMES,
    RESPONSE_THRESHOLD_HZ,
    compute_band_properties,
    compute_variance_slope,
)
from v1lab.card.published import (
    CAT_FRACTIONS,
    CAT_RANGES,
    PublishedDistribution,
    published_for,
)
from v1lab.card.similarity import compute_property_similarity

__all__ = ["EXTRA_PROPERTIES", "Card", "compute_card", "compute_card_rows"]

#: Which responsive cells each scored property draws from (a column of the cell table).
_POOLS = {
    "preferred_orientation": "responsive_orientation",
    "circular_variance": "responsive_orientation",
    "orientation_bandwidth": "responsive_orientation",
    "modulation_ratio": "responsive_orientation",
    "peak_spatial_frequency": "responsive_peak_sf",
    "spatial_frequency_selective": "responsive_sf_bandwidth",
    "spatial_frequency_bandwidth": "responsive_sf_bandwidth",
    "surround_suppression_index": "responsive_size",
    "grating_summation_field": "responsive_size",
    "surround_diameter": "responsive_size",
    "hwhh_deg": "responsive_orientation",
    "fano_factor": "responsive_orientation",
    "on_off_correlation": "spot_simple",
    "diffuse_ratio": "spot_simple",
    "length_suppression_index": "bar_driven",
    "bar_peak_above_spont_hz": "all",
}
_NOT_SCORED = "not scored: no published histogram typed in"

#: Measured but not scored (no published histogram typed in): name, label, bin edges
#: for the figure, and what the papers say.
EXTRA_PROPERTIES: tuple[PublishedDistribution, ...] = (
    PublishedDistribution(
        "hwhh_deg", "orientation half-width at half height, von Mises fit (deg)",
        tuple(float(v) for v in np.linspace(0, 90, 19)), None, None, "linear",
        "cat 5-73 deg (Hammond & Andrews 1978); macaque median full bandwidth "
        "near 40 deg (De Valois, Yund & Hepler 1982)", _NOT_SCORED,
    ),
    PublishedDistribution(
        "fano_factor", "Fano factor at the best grating",
        tuple(float(v) for v in np.linspace(0, 3, 16)), None, None, "linear",
        "about 1-2 in cat and monkey V1 (Tolhurst, Movshon & Dean 1983); target 1.0-1.5",
        _NOT_SCORED,
    ),
    PublishedDistribution(
        "on_off_correlation", "ON–OFF spot-map correlation, simple cells (F1/F0 > 1)",
        tuple(float(v) for v in np.linspace(-1, 1, 11)), None, None, "linear",
        "separate, antagonistic subregions: r < 0 (Hubel & Wiesel 1959)", _NOT_SCORED,
    ),
    PublishedDistribution(
        "diffuse_ratio", "diffuse / best spot response, simple cells (F1/F0 > 1)",
        tuple(float(v) for v in np.linspace(0, 1.5, 16)), None, None, "linear",
        "diffuse light barely drives simple cells (Hubel & Wiesel 1959); target < 0.2",
        _NOT_SCORED,
    ),
    PublishedDistribution(
        "length_suppression_index", "length suppression index, swept slits",
        tuple(float(v) for v in np.linspace(0, 1, 11)), None, None, "linear",
        "end-stopping (Hubel & Wiesel 1965; DeAngelis, Freeman & Ohzawa 1994)", _NOT_SCORED,
    ),
    PublishedDistribution(
        "bar_peak_above_spont_hz", "best slit's PSTH peak above spontaneous (spikes/s)",
        tuple(float(v) for v in np.linspace(0, 100, 21)), None, None, "linear",
        "target: ≥ 90 % of cells ≥ 10 spikes/s (the model issue's criterion)", _NOT_SCORED,
    ),
)  # fmt: skip


@dataclass
class Card:
    """A measured card (:func:`compute_card`).

    Attributes
    ----------
    species : str
    seed : int
    cells : dict of str to ndarray
        One row per cell: ground truth (``cell_type``, ``preferred_orientation_deg`` …),
        ``band_factor`` and every measured property (:data:`~v1lab.card.properties.PROPERTY_NAMES`).
    rows : list of dict
        One per property: scored ones first, then :data:`EXTRA_PROPERTIES`.
    checks : list of (str, float, str)
        The model work's criteria (name, measured value, target) and, on the cat card,
        the share of cells inside each published range (name, share, source).
    seconds : dict of str to float
        Wall time per battery part (summed over bands), and ``total``.
    bands : list of (factor, f_ref_cpd, n_cells)
    spec : BatterySpec
    """

    species: str
    seed: int
    cells: dict[str, np.ndarray]
    rows: list[dict[str, Any]]
    checks: list[tuple[str, float, str]]
    seconds: dict[str, float]
    bands: list[tuple[float, float, int]]
    spec: BatterySpec = field(default_factory=BatterySpec)
    distributions: dict[str, PublishedDistribution] = field(default_factory=dict)

    def pool(self, name: str) -> np.ndarray:
        """The values a property's score draws from (its responsive cells, NaN kept)."""
        return self.cells[name][_pool_mask(self.cells, _POOLS[name])]

    @property
    def mean_score(self) -> float:
        """Mean ceiled score over the scored properties (NaN if none)."""
        scores = [r["score"] for r in self.rows if r["scored"]]
        return float(np.mean(scores)) if scores else math.nan


def _pool_mask(cells: dict[str, np.ndarray], rule: str) -> np.ndarray:
    if rule == "all":
        return np.ones(len(cells["band_factor"]), bool)
    if rule == "spot_simple":
        with np.errstate(invalid="ignore"):
            return (
                (cells["responsive_orientation"] == 1)
                & (cells["modulation_ratio"] > 1.0)
                & (cells["spot_peak_hz"] >= RESPONSE_THRESHOLD_HZ)
            )
    if rule == "bar_driven":
        with np.errstate(invalid="ignore"):
            return cells["bar_peak_above_spont_hz"] >= RESPONSE_THRESHOLD_HZ
    return cells[rule] == 1


def compute_card_rows(
    cells: dict[str, np.ndarray],
    published: tuple[PublishedDistribution, ...],
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """One row per property: the model's distribution summarised and, where the paper's
    counts are known, scored (:func:`v1lab.card.similarity.compute_property_similarity`)."""
    rows = []
    for dist in (*published, *EXTRA_PROPERTIES):
        values = cells[dist.name][_pool_mask(cells, _POOLS[dist.name])]
        finite = values[np.isfinite(values)]
        row: dict[str, Any] = {
            "property": dist.name,
            "label": dist.label,
            "scored": dist.scored,
            "model_n": len(values),
            "model_finite": len(finite),
            "model_median": float(np.median(finite)) if len(finite) else math.nan,
            "data_n": dist.n_total if dist.n_total is not None else math.nan,
            "ks_similarity": math.nan,
            "ks_error": math.nan,
            "ceiling": math.nan,
            "score": math.nan,
            "alexnet": dist.alexnet,
            "source": dist.source,
            "where": dist.where,
        }
        if dist.scored:
            s = compute_property_similarity(values, dist, rng)
            row.update(
                ks_similarity=s.ks_similarity, ks_error=s.error, ceiling=s.ceiling, score=s.score
            )
        rows.append(row)
    return rows


def _responsive_values(cells: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The property's finite values over the cells its pool counts as responsive."""
    values = cells[name][_pool_mask(cells, _POOLS[name])]
    return values[np.isfinite(values)]


def _range_checks(cells: dict[str, np.ndarray], species: str) -> list[tuple[str, float, str]]:
    """For the cat card: the share of the model's cells inside each published range, and
    at or above each published fraction's threshold."""
    if species != "cat":
        return []
    out = []
    for name, low, high, source in CAT_RANGES:
        v = _responsive_values(cells, name)
        share = float(np.mean((v >= low) & (v <= high))) if len(v) else math.nan
        out.append((f"cat: {name} within {low:g}–{high:g}", share, source))
    for name, threshold, published, source in CAT_FRACTIONS:
        v = _responsive_values(cells, name)
        share = float(np.mean(v >= threshold)) if len(v) else math.nan
        out.append((f"cat: {name} ≥ {threshold:g}", share, f"{source}: {published:.2f}"))
    return out


def _checks(cells: dict[str, np.ndarray], variance_slope: float) -> list[tuple[str, float, str]]:
    with np.errstate(invalid="ignore"):
        driven = np.mean(cells["bar_peak_above_spont_hz"] >= 10.0)
        simple = _pool_mask(cells, "spot_simple")
        anti = np.mean(cells["on_off_correlation"][simple] < 0) if simple.any() else math.nan
    diffuse = cells["diffuse_ratio"][simple]
    fano = cells["fano_factor"][_pool_mask(cells, "responsive_orientation")]
    return [
        (
            "cells whose best slit peaks ≥ 10 spikes/s above spontaneous",
            float(driven),
            "target ≥ 0.90",
        ),
        ("simple cells (F1/F0 > 1) with ON–OFF r < 0", float(anti), "target ≥ 0.80"),
        (
            "median diffuse / best spot, simple cells",
            float(np.nanmedian(diffuse)) if np.isfinite(diffuse).any() else math.nan,
            "target < 0.20",
        ),
        (
            "median Fano factor at the best grating",
            float(np.nanmedian(fano)) if np.isfinite(fano).any() else math.nan,
            "target 1.0–1.5",
        ),
        ("slope of log variance on log mean count", variance_slope, "target ≥ 1.0"),
    ]


Progress = Callable[[str, Any, float], None]


def compute_card(
    species: str,
    n_cells: int,
    *,
    seed: int = 0,
    spec: BatterySpec | None = None,
    progress: Progress | None = None,
    plan_ready: Callable[[Any], None] | None = None,
    fields: str | None = None,
) -> Card:
    """Draw ``n_cells`` cells of ``species``, run the battery, measure and score them.

    Parameters
    ----------
    species : {'cat', 'macaque'}
    n_cells : int
    seed : int
        Everything random (the cells, each part's spikes, the resampling) derives from it.
    spec : BatterySpec, optional
    progress : callable, optional
        ``progress(label, stimulus, seconds)`` after each condition.
    plan_ready : callable, optional
        Called with the :class:`~v1lab.card.battery.BatteryPlan` before anything runs
        (e.g. to size a progress bar).
    fields : str, optional
        A fields file of ``v1lab learn``: the card's cells are learned ones (issue 15;
        :func:`v1lab.card.population.make_card_population`).
    """
    spec = spec or BatterySpec()
    published = published_for(species)
    seq_pop, seq_score = np.random.SeedSequence(seed).spawn(2)
    population = make_card_population(
        species, n_cells, np.random.default_rng(seq_pop), fields=fields
    )
    learned = None
    if fields is not None:  # each band's protocol reads the cells' fields from the file
        learned = {"source": "learned", "fields": os.path.abspath(fields),
                   "field_pixel_deg": population.rf_pixel_deg}  # fmt: skip
    plan = make_battery_plan(
        population, card_retina_section(species), seed=seed, spec=spec, learned=learned
    )
    if plan_ready is not None:
        plan_ready(plan)
    tic = time.perf_counter()
    bands = run_battery(plan, progress=progress)
    n = len(population)
    cells: dict[str, np.ndarray] = dict(population.to_columns())
    cells["band_factor"] = np.full(n, np.nan)
    for name in PROPERTY_NAMES:
        cells[name] = np.full(n, np.nan)
    seconds: dict[str, float] = {}
    means, variances = [], []
    for band in bands:
        cells["band_factor"][band.cells] = band.factor
        for name, values in compute_band_properties(band).items():
            cells[name][band.cells] = values
        for part, s in band.seconds.items():
            seconds[part] = seconds.get(part, 0.0) + s
        grating = band.parts.get("orientation")
        if grating is not None:
            means.append(grating.count_mean.ravel())
            variances.append(grating.count_var.ravel())
    seconds["total"] = time.perf_counter() - tic
    slope = (
        compute_variance_slope(np.concatenate(means), np.concatenate(variances))
        if means
        else math.nan
    )
    rows = compute_card_rows(cells, published, np.random.default_rng(seq_score))
    return Card(
        species=species,
        seed=seed,
        cells=cells,
        rows=rows,
        checks=_checks(cells, slope) + _range_checks(cells, species),
        seconds=seconds,
        bands=[(b.factor, b.f_ref, len(b.cells)) for b in bands],
        spec=spec,
        distributions={d.name: d for d in (*published, *EXTRA_PROPERTIES)},
    )

"""The protocol's conditions: their table, the design they form, the responses to each.

:func:`compute_condition_table` lists every condition with its stimulus parameters;
:func:`compute_design` reads from them which classic measurements the protocol supports
(:class:`Design`); :func:`compute_condition_responses` gives each cell's mean ± SEM
response per condition. In a factorial design (direction × spatial frequency × …)
:func:`compute_factorial_tuning` reads the tuning along one parameter through each cell's
own preferred condition, and :func:`compute_demo_conditions` picks the pair of conditions
that lets someone hear a cell (its preferred one and a contrast to it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError
from v1lab.analysis.responses import compute_presentation_responses, compute_tuning

__all__ = [
    "Design",
    "compute_condition_responses",
    "compute_condition_table",
    "compute_demo_conditions",
    "compute_design",
    "compute_factorial_tuning",
]


def compute_condition_table(recording: Any) -> dict[str, np.ndarray]:
    """One row per condition: ``stimulus_condition_id``, ``stimulus``, ``duration_s`` and
    every stimulus parameter (NaN where it does not apply).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from v1lab.model.stimulus import Bar, FullField
    >>> rec = SimpleNamespace(conditions=[Bar(direction_deg=0, speed_deg_s=1), FullField()])
    >>> t = compute_condition_table(rec)
    >>> t["stimulus"].tolist(), t["direction_deg"].tolist()
    (['bar', 'full_field'], [0.0, nan])
    """
    conditions = recording.conditions
    params = [c.trial_params() for c in conditions]
    names = sorted({k for p in params for k in p})
    table: dict[str, np.ndarray] = {
        "stimulus_condition_id": np.arange(len(conditions)),
        "stimulus": np.array([c.kind for c in conditions], dtype=str),
        "duration_s": np.array([c.duration_s for c in conditions], dtype=float),
    }
    for name in names:
        table[name] = np.array([p.get(name, np.nan) for p in params], dtype=float)
    return table


def compute_condition_responses(
    recording: Any, *, response: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SEM response (spikes/s) per condition, each (n_conditions, n_cells).

    Conditions that were never presented hold NaN. See
    :func:`compute_presentation_responses` for ``response``.
    """
    rates = compute_presentation_responses(recording, response=response)
    n_cond = len(recording.conditions)
    ids, mean, sem = compute_tuning(recording.presentations["stimulus_condition_id"], rates)
    full_mean = np.full((n_cond, recording.n_cells), np.nan)
    full_sem = np.full_like(full_mean, np.nan)
    full_mean[ids] = mean
    full_sem[ids] = sem
    return full_mean, full_sem


@dataclass(frozen=True)
class Design:
    """Which classic measurements a protocol's conditions support.

    Attributes
    ----------
    direction_kind : str or None
        ``'bar'`` or ``'grating'`` when moving stimuli of that kind come in at least
        three directions (bars take precedence).
    gratings : bool
        Drifting or reversing gratings (temporal frequency > 0): F1/F0 applies.
    spatial_frequencies, temporal_frequencies, contrasts, lengths : tuple of float
        Values of each parameter among the direction-kind conditions (lengths: bars);
        tuning along it is measured when there are at least three.
    spot_map : bool
        Spots flashed on a grid of at least 2 × 2 positions.
    diffuse : bool
        Diffuse (full-field) flashes.
    sparse_noise : bool
        Sparse-noise presentations (reverse correlation).
    sheet : bool
        The population is an orientation-map sheet.
    """

    direction_kind: str | None = None
    gratings: bool = False
    spatial_frequencies: tuple[float, ...] = ()
    temporal_frequencies: tuple[float, ...] = ()
    contrasts: tuple[float, ...] = ()
    lengths: tuple[float, ...] = ()
    spot_map: bool = False
    diffuse: bool = False
    sparse_noise: bool = False
    sheet: bool = False

    @property
    def sf_tuning(self) -> bool:
        return len(self.spatial_frequencies) >= 3

    @property
    def tf_tuning(self) -> bool:
        return len(self.temporal_frequencies) >= 3

    @property
    def contrast_series(self) -> bool:
        return len(self.contrasts) >= 3

    @property
    def length_tuning(self) -> bool:
        return len(self.lengths) >= 3


def _values(table: Mapping[str, np.ndarray], name: str, rows: np.ndarray) -> tuple[float, ...]:
    if name not in table:
        return ()
    v = table[name][rows]
    return tuple(float(x) for x in np.unique(v[np.isfinite(v)]))


def compute_design(recording: Any) -> Design:
    """Read which measurements apply from the protocol's conditions (see :class:`Design`)."""
    table = compute_condition_table(recording)
    kinds = table["stimulus"]
    direction_kind = None
    for kind in ("bar", "grating"):
        rows = kinds == kind
        if len(_values(table, "direction_deg", rows)) >= 3:
            direction_kind = kind
            break
    moving = np.isin(kinds, ("bar", "grating"))
    rows = kinds == direction_kind if direction_kind else moving
    tf = np.nan_to_num(table.get("temporal_frequency_hz", np.zeros(len(kinds))))
    gratings = bool(np.any((kinds == "grating") & (tf > 0)))
    spots = kinds == "spot"
    return Design(
        direction_kind=direction_kind,
        gratings=gratings,
        spatial_frequencies=_values(table, "spatial_frequency_cpd", rows & (kinds == "grating")),
        temporal_frequencies=_values(table, "temporal_frequency_hz", rows & (kinds == "grating")),
        contrasts=_values(table, "contrast", rows),
        lengths=_values(table, "length_deg", kinds == "bar"),
        spot_map=bool(
            len(_values(table, "x_deg", spots)) >= 2 and len(_values(table, "y_deg", spots)) >= 2
        ),
        diffuse=bool(np.any(kinds == "full_field")),
        sparse_noise=bool(np.any(kinds == "sparse_noise")),
        sheet=getattr(recording.protocol.population, "layout", "scatter") == "orientation_map",
    )


# Parameters fixed by another one: along direction, orientation moves with it.
_COUPLED = {"direction_deg": ("orientation_deg",), "orientation_deg": ("direction_deg",)}


def _same(column: np.ndarray, value: Any) -> np.ndarray:
    if column.dtype.kind in "fc" and isinstance(value, float | np.floating) and math.isnan(value):
        return np.isnan(column)
    return column == value


def compute_factorial_tuning(
    table: Mapping[str, np.ndarray],
    mean: np.ndarray,
    sem: np.ndarray,
    along: str,
    *,
    rows: np.ndarray | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tuning along one parameter, through each cell's own preferred condition.

    In a factorial design (direction × spatial frequency × …) the tuning for one
    parameter is read at the best values of all the others: for each cell the
    condition with the largest mean response is found (among ``rows``, with the
    ``fixed`` parameters), and the conditions that differ from it only in ``along``
    give the curve. Along direction, orientation moves with it.

    Parameters
    ----------
    table : mapping
        :func:`compute_condition_table`.
    mean, sem : ndarray (n_conditions, n_cells)
        :func:`compute_condition_responses`.
    along : str
        The parameter to vary (a column of ``table``).
    rows : ndarray of bool (n_conditions,), optional
        Conditions to consider (e.g. one stimulus kind).
    fixed : mapping, optional
        Parameters held at given values (e.g. ``{"contrast": 0.1}``).

    Returns
    -------
    values : ndarray (n_values,)
    mean, sem : ndarray (n_values, n_cells)
        NaN where a combination was not in the design.

    Examples
    --------
    >>> table = {"stimulus_condition_id": np.arange(4), "direction_deg": np.array([0., 90, 0, 90]),
    ...          "contrast": np.array([0.1, 0.1, 1.0, 1.0])}
    >>> mean = np.array([[1.0], [2.0], [5.0], [9.0]])
    >>> v, m, _ = compute_factorial_tuning(table, mean, mean, "direction_deg")
    >>> v.tolist(), m[:, 0].tolist()
    ([0.0, 90.0], [5.0, 9.0])
    >>> compute_factorial_tuning(table, mean, mean, "contrast")[1][:, 0].tolist()
    [2.0, 9.0]
    """
    if along not in table:
        raise ParameterError("along", along, f"expected one of {', '.join(sorted(table))}")
    mean = np.asarray(mean, dtype=float)
    sem = np.asarray(sem, dtype=float)
    n_cond = len(table[along])
    keep = np.ones(n_cond, bool) if rows is None else np.asarray(rows, bool).copy()
    for name, value in (fixed or {}).items():
        keep &= _same(np.asarray(table[name]), value)
    axis = np.asarray(table[along], dtype=float)
    keep &= np.isfinite(axis)
    values = np.unique(axis[keep])
    n_cells = mean.shape[1]
    out_mean = np.full((len(values), n_cells), np.nan)
    out_sem = np.full_like(out_mean, np.nan)
    if not keep.any():
        return values, out_mean, out_sem
    skip = {along, "stimulus_condition_id", *_COUPLED.get(along, ())}
    varying = [
        k
        for k, col in table.items()
        if k not in skip and len({repr(v) for v in np.asarray(col)[keep]}) > 1
    ]
    scores = np.where(keep[:, None] & np.isfinite(mean), mean, -np.inf)
    best = np.argmax(scores, axis=0)
    for b in np.unique(best):
        cells = np.flatnonzero(best == b)
        match = keep.copy()
        for k in varying:
            match &= _same(np.asarray(table[k]), np.asarray(table[k])[b])
        idx = np.flatnonzero(match)
        pos = np.searchsorted(values, axis[idx])
        out_mean[np.ix_(pos, cells)] = mean[np.ix_(idx, cells)]
        out_sem[np.ix_(pos, cells)] = sem[np.ix_(idx, cells)]
    return values, out_mean, out_sem


def compute_demo_conditions(
    recording: Any, cell: int, *, design: Design | None = None, mean: np.ndarray | None = None
) -> tuple[int, int | None]:
    """The conditions to let someone hear a cell: its preferred one and a contrast to it.

    With direction tuning: the preferred condition and the one that differs only by a
    90° turn (Hubel & Wiesel's demonstration: crackle, then silence). With bars of
    several lengths: the preferred bar and the longest one (an end-stopped cell falls
    silent). With spots: the best spot and the spot of opposite sign at the same place.
    Otherwise the best condition and None.

    Returns
    -------
    (preferred_id, contrast_id or None)
    """
    design = compute_design(recording) if design is None else design
    if mean is None:
        mean, _ = compute_condition_responses(recording)
    table = compute_condition_table(recording)
    rows = np.ones(len(recording.conditions), bool)
    if design.direction_kind is not None:
        rows = table["stimulus"] == design.direction_kind
    scores = np.where(rows & np.isfinite(mean[:, cell]), mean[:, cell], -np.inf)
    best = int(np.argmax(scores))
    if design.direction_kind is not None:
        others = [k for k in table if k not in ("direction_deg", "orientation_deg",
                                                "stimulus_condition_id")]  # fmt: skip
        match = rows.copy()
        for k in others:
            match &= _same(np.asarray(table[k]), np.asarray(table[k])[best])
        directions = table["direction_deg"]
        gap = np.abs((directions - directions[best] - 90.0 + 180.0) % 360.0 - 180.0)
        gap = np.where(match & np.isfinite(gap), gap, np.inf)
        return best, int(np.argmin(gap)) if np.isfinite(gap.min()) else None
    if design.length_tuning and table["stimulus"][best] == "bar":
        match = table["stimulus"] == "bar"
        for k in table:
            if k not in ("length_deg", "stimulus_condition_id"):
                match &= _same(np.asarray(table[k]), np.asarray(table[k])[best])
        ids = np.flatnonzero(match)
        longest = int(ids[np.argmax(table["length_deg"][ids])])
        return best, longest if longest != best else None
    if table["stimulus"][best] == "spot":
        match = (table["stimulus"] == "spot") & (table["contrast"] == -table["contrast"][best])
        for k in ("x_deg", "y_deg", "radius_deg"):
            match &= _same(table[k], table[k][best])
        ids = np.flatnonzero(match)
        return best, int(ids[0]) if len(ids) else None
    return best, None

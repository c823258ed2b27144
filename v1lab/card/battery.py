"""The card's fixed battery: protocols built as data, run, and read into response arrays.

Every part is an ordinary protocol (:func:`v1lab.protocol.parse_protocol`) run by
:func:`v1lab.experiment.run_protocol`: the card's cells listed explicitly with their RFs
at the penetration, the band's retina (:func:`v1lab.card.population.scale_retina_section`),
Poisson spikes, interleaved trials with a 0.5-s grey screen between presentations.
Every spatial quantity of a band's stimuli is set in periods of the band's reference
frequency ``f_ref = k · f_top`` (:func:`v1lab.card.population.compute_band_top_cpd`), so
the bands are scaled copies of one battery. Defaults (:class:`BatterySpec`), with the
base band's values for the default retina (``f_ref`` ≈ 1.01 c/deg, period ≈ 1°):

``orientation``
    Drifting sine gratings, full field, contrast 1, 4 Hz, 0.5 s (two cycles), in 24
    directions (15° steps: 12 orientations × both directions of motion) at two spatial
    frequencies, ``f_ref · 2^-1/4`` and ``f_ref · 2^-3/4`` (each cell of the band within a
    quarter octave of one), plus two blank screens. Orientation tuning as De Valois,
    Yund & Hepler (1982) and Ringach, Shapley & Hawken (2002) measured it; F1/F0 at the
    optimal grating (Skottun et al. 1991); spike counts across repeats (Fano factor).
``spatial_frequency``
    The same gratings in 12 directions (30° steps) at 8 spatial frequencies in
    half-octave steps from ``f_ref · 2^-2.5`` to ``2 f_ref`` (De Valois, Albrecht &
    Thorell 1982; Schiller, Finlay & Volman 1976).
``size``
    Grating patches (a circular aperture, :class:`v1lab.model.stimulus.Grating`'s
    ``aperture_radius_deg``) at the orientation part's two frequencies, each cell read at
    the one it preferred there, in 12 directions, for 1 s (four cycles:
    :attr:`BatterySpec.size_duration_s` says why), with diameters in
    half-octave steps from 0.42 to 9.5 periods (0.42–9.4° in the base band; the card's
    LGN mosaic covers 10°, :func:`v1lab.card.population.card_retina_section`), as
    Cavanaugh, Bair & Movshon (2002) grew them at the preferred orientation and spatial
    frequency, to sizes where the surround's suppression has levelled off (with the
    base retina the steps fall inside, not on, the edges of Cavanaugh's octave bins).
``spots``
    Light and dark spots (radius 1/8 period, i.e. half a subregion across) flashed for
    100 ms on a 7 × 7 grid of 0.3-period steps, and a light and a dark diffuse flash
    (Hubel & Wiesel 1959).
``length``
    A light slit a quarter period wide swept at 5 periods/s over 2.5 periods, in 12
    directions, at lengths 0.5, 1, 2 and 6 periods (Hubel & Wiesel 1965).

Cost: a condition costs about the same whatever its length up to 1.28 s (one chunk of
frames through the LGN's dense spatial weights), so the battery is kept to about 530
conditions per band (the size part's 240 the largest share).

Trials are 8 repeats of every condition. The grating parts give, per cell and condition,
the mean rate over whole cycles (DC, not baseline-subtracted) and the first harmonic
(F1), both from the spike times (:func:`v1lab.analysis.compute_condition_f1_f0`), the
mean and variance of the spike count across repeats, and the spontaneous rate from the
grey screens (:func:`v1lab.analysis.compute_baseline_rates`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int
from v1lab.analysis import (
    SpotMaps,
    compute_baseline_rates,
    compute_condition_f1_f0,
    compute_condition_responses,
    compute_condition_table,
    compute_spot_maps,
    compute_tuning,
)
from v1lab.card.population import assign_bands, compute_band_top_cpd, scale_retina_section
from v1lab.experiment import run_protocol
from v1lab.model.population import Population
from v1lab.protocol import Protocol, parse_protocol

__all__ = [
    "PARTS",
    "BandResponses",
    "BatteryPlan",
    "BatterySpec",
    "GratingResponses",
    "LengthResponses",
    "make_band_protocol",
    "make_battery_plan",
    "run_battery",
]

#: The parts of the battery: stimulus blocks of each band's protocol, in this order.
PARTS = ("orientation", "spatial_frequency", "size", "spots", "length")


def _steps(start: float, stop: float, step: float) -> tuple[float, ...]:
    n = round((stop - start) / step) + 1
    return tuple(float(start + i * step) for i in range(n))


@dataclass(frozen=True)
class BatterySpec:
    """The battery's parameters; spatial ones in periods of the band's ``f_ref``.

    See the module notes for what each part shows. :meth:`quick` is a cut battery for
    smoke tests; its scores are not comparable with the full battery's.
    """

    n_trials: int = 8
    isi_s: float = 0.5
    duration_s: float = 0.5
    #: The size part's gratings last longer (four cycles): its suppression index and
    #: surround diameter are read from the largest of ten noisy points and from where the
    #: curve reaches its last one, so their noise bias falls with each point's variance.
    #: Measured on 500 macaque cells (seed 0, the same cortex): 0.5 s → 1.0 s raised the
    #: surround diameter's score 0.751 → 0.829 and left the suppression index's (0.789)
    #: and the summation field's (0.621 → 0.610) within a draw's spread; the size part
    #: then took 158 s of a 376-s card on a quiet machine (a condition's cost is mostly
    #: per condition, see the module notes).
    size_duration_s: float = 1.0
    temporal_frequency_hz: float = 4.0
    n_directions: int = 24
    n_directions_coarse: int = 12
    #: log2 offsets from f_ref of the orientation part's spatial frequencies
    orientation_sf_octaves: tuple[float, ...] = (-0.75, -0.25)
    #: log2 offsets from f_ref of the size part's spatial frequencies: the orientation
    #: part's two, so each cell's size series is read at the one its response preferred
    #: there (within a quarter octave of its optimum: :mod:`v1lab.card.properties`)
    size_sf_octaves: tuple[float, ...] = (-0.75, -0.25)
    #: log2 offsets from f_ref of the spatial-frequency series
    sf_octaves: tuple[float, ...] = _steps(-2.5, 1.0, 0.5)
    #: log2 of the size series' diameters, in periods
    size_octaves: tuple[float, ...] = _steps(-1.25, 3.25, 0.5)
    spot_grid: int = 7
    spot_step_periods: float = 0.3
    spot_radius_periods: float = 0.125
    spot_duration_s: float = 0.1
    bar_width_periods: float = 0.25
    bar_lengths_periods: tuple[float, ...] = (0.5, 1.0, 2.0, 6.0)
    bar_speed_periods_s: float = 5.0
    bar_travel_periods: float = 2.5
    n_blanks: int = 2
    parts: tuple[str, ...] = PARTS

    def __post_init__(self) -> None:
        check_int("n_trials", self.n_trials, lo=2, hi=1000)
        check_int("n_directions", self.n_directions, lo=4, hi=360)
        check_int("n_directions_coarse", self.n_directions_coarse, lo=2, hi=360)
        for part in self.parts:
            check_choice("parts", part, PARTS)

    @classmethod
    def quick(cls) -> BatterySpec:
        """A cut battery for smoke tests: 8 and 4 directions, 4 spatial frequencies, 4
        sizes, 3 × 3 spots, 2 lengths, 1 blank, 3 trials (69 conditions per band)."""
        return cls(
            n_trials=3,
            n_directions=8,
            n_directions_coarse=4,
            orientation_sf_octaves=(-0.5,),
            size_sf_octaves=(-0.5,),
            sf_octaves=_steps(-2.5, 0.5, 1.0),
            size_octaves=_steps(-1.25, 1.75, 1.0),
            spot_grid=3,
            spot_step_periods=0.5,
            bar_lengths_periods=(1.0, 6.0),
            n_blanks=1,
        )


def _directions(n: int) -> list[float]:
    return [float(d) for d in np.arange(n) * (360.0 / n)]


def _grating(spec: BatterySpec, duration_s: float, **params: Any) -> dict[str, Any]:
    return {
        "kind": "grating",
        "contrast": 1.0,
        "temporal_frequency_hz": spec.temporal_frequency_hz,
        "duration_s": duration_s,
        **params,
    }


def _stimuli(part: str, spec: BatterySpec, f_ref: float) -> list[dict[str, Any]]:
    """The part's ``[[stimuli]]`` blocks for a band of reference frequency ``f_ref``."""
    period = 1.0 / f_ref
    coarse = _directions(spec.n_directions_coarse)
    if part == "orientation":
        blocks = [
            _grating(
                spec, spec.duration_s, direction_deg=_directions(spec.n_directions),
                spatial_frequency_cpd=[f_ref * 2.0**o for o in spec.orientation_sf_octaves],
            )
        ]  # fmt: skip
        if spec.n_blanks:
            blocks.append({"kind": "blank", "duration_s": [spec.duration_s] * spec.n_blanks})
        return blocks
    if part == "spatial_frequency":
        sf = [f_ref * 2.0**o for o in spec.sf_octaves]
        return [_grating(spec, spec.duration_s, spatial_frequency_cpd=sf, direction_deg=coarse)]
    if part == "size":
        radii = [0.5 * period * 2.0**o for o in spec.size_octaves]
        return [
            _grating(
                spec, spec.size_duration_s, aperture_radius_deg=radii, direction_deg=coarse,
                spatial_frequency_cpd=[f_ref * 2.0**o for o in spec.size_sf_octaves],
            )
        ]  # fmt: skip
    if part == "spots":
        half = (spec.spot_grid - 1) / 2.0
        grid = [float((i - half) * spec.spot_step_periods * period) for i in range(spec.spot_grid)]
        return [
            {
                "kind": "spot", "contrast": [1.0, -1.0],
                "radius_deg": spec.spot_radius_periods * period, "x_deg": grid, "y_deg": grid,
                "duration_s": spec.spot_duration_s,
            },
            {"kind": "full_field", "contrast": [1.0, -1.0], "duration_s": spec.spot_duration_s},
        ]  # fmt: skip
    speed = spec.bar_speed_periods_s * period
    return [
        {
            "kind": "bar", "contrast": 1.0, "width_deg": spec.bar_width_periods * period,
            "length_deg": [length * period for length in spec.bar_lengths_periods],
            "direction_deg": coarse, "speed_deg_s": speed,
            "duration_s": spec.bar_travel_periods * period / speed,
        }
    ]  # fmt: skip


def make_band_protocol(
    *,
    cells: Sequence[dict[str, Any]],
    retina: dict[str, Any],
    f_ref: float,
    seed: int,
    spec: BatterySpec,
    name: str = "card_band",
    learned: Mapping[str, Any] | None = None,
) -> tuple[Protocol, dict[str, tuple[int, int]]]:
    """A band's whole battery as one validated protocol (built as a dict, then parsed).

    One protocol per band builds the band's circuit (retina weights, V1 weights) once;
    the parts are its stimulus blocks, interleaved in every trial block.

    Parameters
    ----------
    cells : list of dict
        The band's cells, as :meth:`v1lab.model.population.Population.to_cells` gives them.
    retina : dict
        The band's ``[retina]`` section.
    f_ref : float
        The band's reference spatial frequency (c/deg).
    seed : int
    spec : BatterySpec
    name : str
    learned : mapping, optional
        Learned cells (issue 15): the ``[population]`` keys that name their fields
        (``source = "learned"``, ``fields``, ``field_pixel_deg``); each cell then has its
        ``field_index``.

    Returns
    -------
    protocol : Protocol
    ranges : dict of part to (first, stop)
        The conditions (``stimulus_condition_id``) of each part.
    """
    stimuli, ranges, n = [], {}, 0
    for part in spec.parts:
        blocks = _stimuli(part, spec, f_ref)
        stimuli += blocks
        start = n
        for block in blocks:
            n += int(np.prod([len(v) if isinstance(v, list) else 1 for v in block.values()]))
        ranges[part] = (start, n)
    data = {
        "name": name,
        "description": "v1lab population card battery: " + ", ".join(spec.parts),
        "seed": int(seed),
        "retina": dict(retina),
        "population": {"cells": [dict(c) for c in cells], **(learned or {})},
        "spiking": {"model": "poisson"},
        "trials": {"n_trials": spec.n_trials, "interleave": True, "isi_s": spec.isi_s},
        "stimuli": stimuli,
    }
    protocol = parse_protocol(data, name=name)
    if protocol.trials.isi_s < protocol.retina.kernel_s:
        raise ParameterError(
            "isi_s", spec.isi_s, f"expected at least the retina's kernel support, "
            f"{protocol.retina.kernel_s:g} s, so that each condition runs once from rest",
        )  # fmt: skip
    if len(protocol.conditions()) != n:  # pragma: no cover - a block with a list-valued field
        raise ParameterError("stimuli", n, "battery blocks expanded unexpectedly")
    return protocol, ranges


@dataclass(frozen=True)
class GratingResponses:
    """Responses of a band's cells to a grating part, on the part's factorial grid.

    Attributes
    ----------
    axes : dict of str to ndarray
        The grid's parameters in order (``aperture_radius_deg``,
        ``spatial_frequency_cpd``, ``direction_deg``, whichever vary).
    dc, f1 : ndarray (n_cells, *grid)
        Mean rate over whole cycles and the amplitude of its first harmonic (spikes/s),
        averaged over repeats; DC is not baseline-subtracted.
    count_mean, count_var : ndarray (n_cells, *grid)
        Mean and variance across repeats of the spike count in the whole presentation.
    baseline : ndarray (n_cells,)
        Spontaneous rate (spikes/s) from the grey screens.
    """

    axes: dict[str, np.ndarray]
    dc: np.ndarray
    f1: np.ndarray
    count_mean: np.ndarray
    count_var: np.ndarray
    baseline: np.ndarray


@dataclass(frozen=True)
class LengthResponses:
    """PSTH-peak responses (spikes/s, trial mean) to swept slits: (n_cells, n_dir, n_len)."""

    directions_deg: np.ndarray
    lengths_deg: np.ndarray
    peak: np.ndarray
    baseline: np.ndarray


@dataclass
class BandResponses:
    """Everything one band's battery measured, for the band's cells."""

    factor: float
    f_ref: float
    cells: np.ndarray
    parts: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _grid(
    table: dict[str, np.ndarray], rows: np.ndarray, names: Sequence[str], n_cells: int
) -> tuple[dict[str, np.ndarray], tuple[np.ndarray, ...], tuple[int, ...]]:
    """The factorial grid of ``rows``: its axes, each row's index on it, and its shape."""
    axes = {k: np.unique(np.round(table[k][rows], 9)) for k in names}
    index = tuple(
        np.argmin(np.abs(table[k][rows][:, None] - v[None, :]), axis=1) for k, v in axes.items()
    )
    return axes, index, (n_cells, *(len(v) for v in axes.values()))


@dataclass(frozen=True)
class _BandTables:
    """What every part of a band reads, computed once from its recording."""

    table: dict[str, np.ndarray]
    dc: np.ndarray
    f1: np.ndarray
    count_mean: np.ndarray
    count_var: np.ndarray
    baseline: np.ndarray


def _band_tables(recording: Any) -> _BandTables:
    n = recording.n_cells
    f1, dc = compute_condition_f1_f0(recording, baseline_hz=np.zeros(n))
    ids = recording.presentations["stimulus_condition_id"]
    present, mean, sem = compute_tuning(ids, recording.spike_counts())
    n_rep = np.bincount(ids)[present].astype(float)
    count_mean = np.full((len(recording.conditions), n), np.nan)
    count_var = np.full_like(count_mean, np.nan)
    count_mean[present], count_var[present] = mean, sem**2 * n_rep[:, None]
    return _BandTables(
        compute_condition_table(recording), dc, f1, count_mean, count_var,
        compute_baseline_rates(recording),
    )  # fmt: skip


_GRATING_AXES = {
    "orientation": ("spatial_frequency_cpd", "direction_deg"),
    "spatial_frequency": ("spatial_frequency_cpd", "direction_deg"),
    "size": ("aperture_radius_deg", "spatial_frequency_cpd", "direction_deg"),
}


def _read_gratings(t: _BandTables, conditions: range, names: Sequence[str]) -> GratingResponses:
    rows = np.array([c for c in conditions if t.table["stimulus"][c] == "grating"], dtype=int)
    axes, index, shape = _grid(t.table, rows, names, len(t.baseline))
    out = []
    for src in (t.dc, t.f1, t.count_mean, t.count_var):
        grid = np.full(shape, np.nan)
        grid[(slice(None), *index)] = src[rows].T
        out.append(grid)
    return GratingResponses(axes, *out, baseline=t.baseline)


def _read_length(recording: Any, t: _BandTables, conditions: range) -> LengthResponses:
    rows = np.array([c for c in conditions if t.table["stimulus"][c] == "bar"], dtype=int)
    axes, index, shape = _grid(t.table, rows, ("direction_deg", "length_deg"), len(t.baseline))
    mean, _ = compute_condition_responses(recording)  # the PSTH peak for swept bars
    grid = np.full(shape, np.nan)
    grid[(slice(None), *index)] = mean[rows].T
    return LengthResponses(axes["direction_deg"], axes["length_deg"], grid, t.baseline)


def _read_band(
    recording: Any, ranges: dict[str, tuple[int, int]]
) -> dict[str, GratingResponses | SpotMaps | LengthResponses | None]:
    t = _band_tables(recording)
    parts: dict[str, Any] = {}
    for part, (first, stop) in ranges.items():
        conditions = range(first, stop)
        if part in _GRATING_AXES:
            parts[part] = _read_gratings(t, conditions, _GRATING_AXES[part])
        elif part == "spots":
            parts[part] = compute_spot_maps(recording, baseline_hz=t.baseline)
        else:
            parts[part] = _read_length(recording, t, conditions)
    return parts


@dataclass(frozen=True)
class BatteryPlan:
    """The battery's protocols, one per band, before anything runs.

    Attributes
    ----------
    band_top_cpd : float
        The base retina's band top (c/deg).
    bands : list of (factor, f_ref, cell indices)
    protocols : list of (Protocol, part ranges)
        One per band (see :func:`make_band_protocol`).
    """

    band_top_cpd: float
    bands: list[tuple[float, float, np.ndarray]]
    protocols: list[tuple[Protocol, dict[str, tuple[int, int]]]]

    @property
    def n_conditions(self) -> int:
        """Conditions over every band."""
        return sum(len(p.conditions()) for p, _ in self.protocols)


def make_battery_plan(
    population: Population,
    retina_section: dict[str, Any],
    *,
    seed: int,
    spec: BatterySpec | None = None,
    learned: Mapping[str, Any] | None = None,
) -> BatteryPlan:
    """Split the cells into bands and build each band's protocol.

    Each band's protocol gets its own seed, drawn from ``seed``, so the plan is
    reproducible and no band's spikes depend on another's. ``learned``: see
    :func:`make_band_protocol`.
    """
    spec = spec or BatterySpec()
    if not spec.parts:
        raise ParameterError("parts", spec.parts, "expected at least one battery part")
    top = compute_band_top_cpd(retina_section)
    spacing = float(scale_retina_section(retina_section, 1.0)["lgn_spacing_deg"])
    factors = assign_bands(
        population.spatial_frequency_cpd,
        top,
        nx=None if learned is not None else population.nx,  # Gabor fields only
        lgn_spacing_deg=spacing,
    )
    if learned is not None:
        # Learned fields are images of fixed pixels (field_pixel_deg): a band whose LGN
        # is coarser than a pixel would undersample them (measured: learned cells of band
        # ×0.5 driven to 5.6× r_max by aperture gratings, ≤ 1.9× in band ×1), so their
        # bands are the finest power of two at which the LGN spacing is at most a pixel.
        floor = 2.0 ** np.ceil(np.log2(spacing / float(learned["field_pixel_deg"])) - 1e-12)
        factors = np.maximum(factors, floor)
    cells = population.to_cells()
    bands, protocols = [], []
    for b, k in enumerate(np.unique(factors)):
        members = np.flatnonzero(factors == k)
        f_ref = float(k * top)
        bands.append((float(k), f_ref, members))
        protocols.append(
            make_band_protocol(
                cells=[cells[i] for i in members],
                retina=scale_retina_section(retina_section, float(k)),
                f_ref=f_ref,
                seed=int(np.random.SeedSequence([seed, b]).generate_state(1)[0]),
                spec=spec,
                name=f"card_band{b}",
                learned=learned,
            )
        )
    return BatteryPlan(top, bands, protocols)


Progress = Callable[[str, Any, float], None]


def run_battery(plan: BatteryPlan, *, progress: Progress | None = None) -> list[BandResponses]:
    """Run each band's protocol and read it into responses per part.

    ``progress(label, stimulus, seconds)`` is called after each condition, with a label
    naming the band and the part. Each band's ``seconds`` holds the time of each part
    (its conditions), ``setup`` (building the circuit) and ``analysis``.
    """
    out = [BandResponses(k, f_ref, members) for k, f_ref, members in plan.bands]
    for band, (protocol, ranges) in zip(out, plan.protocols, strict=True):
        part_of = {}
        for part, (first, stop) in ranges.items():
            part_of.update(dict.fromkeys(range(first, stop), part))
            band.seconds[part] = 0.0

        def step(
            index: int,
            total: int,
            stimulus: Any,
            seconds: float,
            _b: Any = band,
            _of: Any = part_of,
        ) -> None:
            part = _of[index]  # conditions run one by one: index = condition id
            _b.seconds[part] += seconds
            if progress is not None:
                progress(f"band ×{_b.factor:g} {part}", stimulus, seconds)

        tic = time.perf_counter()
        recording = run_protocol(protocol, progress=step)
        band.seconds["setup"] = time.perf_counter() - tic - sum(band.seconds.values())
        tic = time.perf_counter()
        band.parts = _read_band(recording, ranges)
        band.seconds["analysis"] = time.perf_counter() - tic
    return out

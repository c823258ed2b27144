"""Protocols: an experiment described as data (a TOML file), validated and expanded.

A protocol names the retina, the population, the spike generator, the stimuli, the
trials (repeats, interleaving, inter-stimulus blank) and the seed. Any stimulus
parameter may be a list (or a ``{start, stop, step}`` range); a stimulus block's
conditions are the full factorial of its lists, and the protocol's conditions are the
blocks' conditions in order.

Every problem is found before any work starts and reported as one
:class:`~v1lab.ParameterError` naming the field (a dotted path such as
``stimuli[0].width_deg``), the value and what is allowed.

Protocols are found by name — in the installed package's copy of ``stimuli/`` or in
the checkout's ``stimuli/`` folder — or by path.

The module is over 800 lines and one job: the protocol's schema (each section's
dataclass with its checks), its expansion into conditions and its TOML round trip, so
that a key is defined, checked and written back in one place.
"""

from __future__ import annotations

import datetime
import itertools
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_bool, check_choice, check_int, check_number
from v1lab.model.distributions import SPECIES
from v1lab.model.learned import (
    DEFAULT_FIELD_PIXEL_DEG,
    LEARNED_CELL_TYPES,
    load_field_file,
    make_learned_population,
    make_listed_learned_population,
)
from v1lab.model.population import (
    CELL_TYPES,
    DRAWN_MAX_RATE_HZ,
    SPECIES_TYPE_FRACTIONS,
    Population,
    make_population,
    population_from_cells,
)
from v1lab.model.retina import SPECIES_RETINA, Retina
from v1lab.model.stimulus import STIMULUS_KINDS, make_stimulus

__all__ = [
    "DEFAULT_PROTOCOL",
    "PopulationSpec",
    "Protocol",
    "SpikingSpec",
    "StimulusBlock",
    "TrialsSpec",
    "dump_toml",
    "find_protocol",
    "list_protocols",
    "load_lab_data",
    "load_protocol",
    "parse_protocol",
]

DEFAULT_PROTOCOL = "hubel_wiesel_bars"
SPIKING_MODELS = ("poisson", "lif", "hodgkin_huxley")

#: The Hodgkin–Huxley f–I table reaches about 348 spikes/s (v1lab.cells).
HH_MAX_RATE_HZ = 340.0


#: Population layouts: RFs scattered about one point (a penetration), or a cortical sheet
#: with an orientation map (:mod:`v1lab.model.maps`).
LAYOUTS = ("scatter", "orientation_map")
#: How far from 1 ``population.type_fractions`` may add up (three thirds written 0.333).
FRACTION_SUM_TOLERANCE = 0.01
#: Most conditions a protocol may expand to (the factorials of its blocks, together).
MAX_CONDITIONS = 100_000
# Fields that only an orientation-map sheet uses (left out of a scatter layout's TOML).
_SHEET_FIELDS = ("sheet_size_mm", "column_spacing_mm", "magnification_mm_per_deg")
#: Where the cells' receptive fields come from: drawn Gabors, or learned fields (issue 15).
SOURCES = ("drawn", "learned")
# Fields that only learned cells use (left out of a drawn population's TOML).
_LEARNED_FIELDS = ("source", "fields", "field_pixel_deg")


@dataclass(frozen=True)
class PopulationSpec:
    """How to make the population: drawn from distributions, or listed cell by cell.

    See :func:`v1lab.model.population.make_population` for the distributions. With
    ``layout = "orientation_map"`` the ``n_cells`` (a perfect square) cells tile a square
    patch of cortex ``sheet_size_mm`` wide whose orientation preference follows a
    random-wave map of period ``column_spacing_mm``, and their RFs follow the sheet
    through ``magnification_mm_per_deg`` (see :func:`v1lab.model.maps.make_map_population`).
    ``species`` (``"cat"``, the default, or ``"macaque"``) picks the frozen cortex the
    cells are drawn from; ``spatial_frequency_cpd``, when given, is the median preferred
    spatial frequency at the recording site (default: the species' own, 0.8 c/deg for
    the cat).

    ``source = "learned"`` (default ``"drawn"``) makes the cells' receptive fields
    learned ones (:mod:`v1lab.model.learned`; issue 15): ``fields`` names a fields file
    written by ``v1lab learn`` (its ``fields.npz`` or the folder holding it), relative
    to the protocol file's folder (to the working directory for a protocol given as
    data). Each cell takes a field with a good Gabor fit (r² ≥ 0.8, not edge-like, not cut
    by the patch's edge) as its RF, ``field_pixel_deg`` degrees per field pixel (default
    0.28: :data:`v1lab.model.learned.DEFAULT_FIELD_PIXEL_DEG` says why);
    cell types are ``simple`` (the field) and ``complex`` (the field and its quadrature
    partner), ``type_fractions`` default ``{simple = 1}``; the rest of each cell is drawn
    as for drawn cells (:func:`v1lab.model.learned.make_learned_population`). Listed
    cells (``[[population.cells]]``) name their field with ``field_index``.
    """

    n_cells: int = 16
    type_fractions: Mapping[str, float] | None = None
    center_deg: tuple[float, float] = (0.0, 0.0)
    rf_scatter_deg: float = 0.5
    spatial_frequency_cpd: float | None = None
    species: str = "cat"
    cells: tuple[Mapping[str, Any], ...] = ()
    layout: str = "scatter"
    sheet_size_mm: float = 6.0
    column_spacing_mm: float = 1.0
    magnification_mm_per_deg: float = 2.0
    source: str = "drawn"
    fields: str = ""
    field_pixel_deg: float = DEFAULT_FIELD_PIXEL_DEG

    def __post_init__(self) -> None:
        check_choice("source", self.source, SOURCES)
        if self.source == "learned" and self.type_fractions is None:
            object.__setattr__(self, "type_fractions", {"simple": 1.0})
        check_choice("layout", self.layout, LAYOUTS)
        check_number("sheet_size_mm", self.sheet_size_mm, lo=0, lo_open=True, hi=100, unit="mm")
        check_number(
            "column_spacing_mm", self.column_spacing_mm, lo=0, lo_open=True, hi=100, unit="mm"
        )
        check_number(
            "magnification_mm_per_deg",
            self.magnification_mm_per_deg,
            lo=0,
            lo_open=True,
            hi=100,
            unit="mm/deg",
        )
        check_int("n_cells", self.n_cells, lo=1, hi=100_000)
        if self.layout == "orientation_map":
            from v1lab.model.maps import sheet_side

            if self.cells:
                raise ParameterError(
                    "layout", self.layout, "an orientation map draws its cells; remove the cells"
                )
            sheet_side(self.n_cells)
        check_choice("species", self.species, SPECIES)
        if self.type_fractions is None:  # the species' own mix
            object.__setattr__(self, "type_fractions", dict(SPECIES_TYPE_FRACTIONS[self.species]))
        if not isinstance(self.type_fractions, Mapping):
            raise ParameterError(
                "type_fractions", self.type_fractions, "expected a table of type = fraction"
            )
        for name, value in self.type_fractions.items():
            check_choice("type_fractions", name, CELL_TYPES)
            check_number(f"type_fractions.{name}", value, lo=0, hi=1)
        total = sum(self.type_fractions.values())
        if abs(total - 1.0) > FRACTION_SUM_TOLERANCE:
            raise ParameterError(
                "type_fractions",
                dict(self.type_fractions),
                f"expected fractions of the cells that add up to 1 (within "
                f"{FRACTION_SUM_TOLERANCE:g}); these add up to {total:.6g}",
            )
        if not isinstance(self.center_deg, Sequence) or len(self.center_deg) != 2:
            raise ParameterError("center_deg", self.center_deg, "expected [x_deg, y_deg]")
        for i, v in enumerate(self.center_deg):
            check_number(f"center_deg[{i}]", v, lo=-90, hi=90)
        object.__setattr__(self, "center_deg", tuple(float(v) for v in self.center_deg))
        check_number("rf_scatter_deg", self.rf_scatter_deg, lo=0, hi=45)
        if self.spatial_frequency_cpd is not None:
            check_number("spatial_frequency_cpd", self.spatial_frequency_cpd, lo=0.01, hi=32)
        if not isinstance(self.cells, Sequence) or isinstance(self.cells, str):
            raise ParameterError(
                "cells", self.cells, "expected a list of cell tables ([[population.cells]])"
            )
        object.__setattr__(self, "cells", tuple(self.cells))
        if self.cells:
            population_from_cells(self.cells)  # validates each cell now, before any work
        self._check_source()

    def _check_source(self) -> None:
        """The learned-field keys: refused with drawn cells, checked against the file."""
        if self.source == "drawn":
            given = [("fields", self.fields)] if self.fields != "" else []
            if self.field_pixel_deg != DEFAULT_FIELD_PIXEL_DEG:
                given.append(("field_pixel_deg", self.field_pixel_deg))
            given += [(f"cells[{i}].field_index", c["field_index"])
                      for i, c in enumerate(self.cells) if "field_index" in c]  # fmt: skip
            if given:
                raise ParameterError(*given[0], 'expected only with source = "learned"')
            return
        if not isinstance(self.fields, str) or not self.fields:
            raise ParameterError("fields", self.fields, "expected the path of a fields file "
                                 "written by v1lab learn (source = \"learned\")")  # fmt: skip
        check_number("field_pixel_deg", self.field_pixel_deg, lo=0, lo_open=True, hi=10,
                     unit="deg")  # fmt: skip
        if self.layout != "scatter":
            raise ParameterError("layout", self.layout, 'expected "scatter" with source = '
                                 '"learned" (learned cells have no orientation map)')  # fmt: skip
        if self.spatial_frequency_cpd is not None:
            raise ParameterError(
                "spatial_frequency_cpd", self.spatial_frequency_cpd,
                "expected none with source = \"learned\": a learned cell's frequency is its "
                "field's (cycles per pixel ÷ field_pixel_deg); set field_pixel_deg instead",
            )  # fmt: skip
        if not self.cells:
            for name in self.type_fractions:
                check_choice("type_fractions", name, LEARNED_CELL_TYPES)
        self.make(np.random.default_rng(0))  # reads the file and checks the cells, now

    def _make_learned(self, rng: np.random.Generator) -> Population:
        file = load_field_file(self.fields)
        if self.cells:
            return make_listed_learned_population(self.cells, file, pixel_deg=self.field_pixel_deg)
        return make_learned_population(
            file, self.n_cells, rng, type_fractions=self.type_fractions,
            center_deg=self.center_deg, rf_scatter_deg=self.rf_scatter_deg,
            species=self.species, pixel_deg=self.field_pixel_deg,
        )  # fmt: skip

    def max_rate_hz(self) -> float:
        """The highest rate a cell can reach: ``r_max_hz + spontaneous_hz``."""
        if self.cells:
            pop = population_from_cells(self.cells)
            return float(np.max(pop.r_max_hz + pop.spontaneous_hz))
        return DRAWN_MAX_RATE_HZ

    def make(self, rng: np.random.Generator, *, lgn_spacing_deg: float | None = None) -> Population:
        """Build the population (explicit cells when listed, else drawn with ``rng``).

        ``lgn_spacing_deg``: drawn cells are those a mosaic of this spacing resolves
        (see :func:`v1lab.model.population.make_population`)."""
        if self.source == "learned":
            return self._make_learned(rng)
        if self.cells:
            return population_from_cells(self.cells)
        if self.layout == "orientation_map":
            from v1lab.model.maps import make_map_population

            return make_map_population(
                self.n_cells,
                rng,
                sheet_size_mm=self.sheet_size_mm,
                column_spacing_mm=self.column_spacing_mm,
                magnification_mm_per_deg=self.magnification_mm_per_deg,
                type_fractions=self.type_fractions,
                center_deg=self.center_deg,
                rf_scatter_deg=self.rf_scatter_deg,
                spatial_frequency_cpd=self.spatial_frequency_cpd,
                species=self.species,
                lgn_spacing_deg=lgn_spacing_deg,
            )
        return make_population(
            self.n_cells,
            rng,
            type_fractions=self.type_fractions,
            center_deg=self.center_deg,
            rf_scatter_deg=self.rf_scatter_deg,
            spatial_frequency_cpd=self.spatial_frequency_cpd,
            species=self.species,
            lgn_spacing_deg=lgn_spacing_deg,
        )


@dataclass(frozen=True)
class SpikingSpec:
    """The spike generator (see :mod:`v1lab.cells.spikes` and :mod:`v1lab.cells`).

    ``poisson`` uses ``dead_time_s``; ``lif`` uses ``tau_m_s``, ``refractory_s``,
    ``noise_sigma`` and ``dt_s``; ``hodgkin_huxley`` uses ``temperature_c``,
    ``noise_ua_cm2``, ``noise_tau_s`` and ``hh_dt_s``.

    ``gain_sd`` (every model) is the SD of a trial-to-trial gain that multiplies a
    cell's firing rate for a whole presentation: gamma-distributed with mean 1, one
    value per cell and presentation (Goris, Movshon & Simoncelli 2014, Nat Neurosci
    17:858: V1 spike counts are a Poisson process with a fluctuating gain, so their
    variance grows faster than their mean and Fano factors exceed 1). The default 0.2
    gives Fano factors of about 1.1–1.5 at 5–15 spikes per presentation, the range of
    V1 counts they model; 0 switches the fluctuation off (Poisson: Fano factor ≈ 1).
    """

    model: str = "poisson"
    gain_sd: float = 0.2
    dead_time_s: float = 0.002
    tau_m_s: float = 0.02
    refractory_s: float = 0.002
    noise_sigma: float = 0.3
    dt_s: float = 1e-4
    temperature_c: float = 16.3
    noise_ua_cm2: float = 2.0
    noise_tau_s: float = 0.005
    hh_dt_s: float = 2.5e-5

    def __post_init__(self) -> None:
        check_choice("model", self.model, SPIKING_MODELS)
        check_number("gain_sd", self.gain_sd, lo=0, hi=2)
        check_number("dead_time_s", self.dead_time_s, lo=0, hi=0.02, unit="s")
        check_number("tau_m_s", self.tau_m_s, lo=0, lo_open=True, hi=1, unit="s")
        check_number("refractory_s", self.refractory_s, lo=0, hi=0.02, unit="s")
        check_number("noise_sigma", self.noise_sigma, lo=0, lo_open=True, hi=10)
        check_number(
            "dt_s", self.dt_s, lo=1e-6, hi=self.tau_m_s / 10, unit="s (at most tau_m_s / 10)"
        )
        check_number("temperature_c", self.temperature_c, lo=0, hi=30, unit="°C")
        check_number("noise_ua_cm2", self.noise_ua_cm2, lo=0, hi=50, unit="µA/cm²")
        check_number("noise_tau_s", self.noise_tau_s, lo=1e-4, hi=1, unit="s")
        # Rush–Larsen stays accurate to ~0.1 % in firing period up to 25 µs steps.
        check_number("hh_dt_s", self.hh_dt_s, lo=1e-6, hi=2.5e-5, unit="s")

    @property
    def refractory_floor_s(self) -> float:
        """No two spikes of a cell are closer than this (enforced across presentations)."""
        if self.model == "poisson":
            return self.dead_time_s
        if self.model == "lif":
            return self.refractory_s
        return 0.002  # below the Hodgkin–Huxley membrane's own ~2.4 ms refractory period

    def params(self) -> dict[str, float]:
        """Keyword arguments for :func:`v1lab.cells.spikes.sim_spikes`."""
        if self.model == "poisson":
            return {"dead_time_s": self.dead_time_s}
        if self.model == "hodgkin_huxley":
            return {
                "temperature_c": self.temperature_c,
                "noise_ua_cm2": self.noise_ua_cm2,
                "noise_tau_s": self.noise_tau_s,
                "dt_s": self.hh_dt_s,
            }
        return {
            "tau_m_s": self.tau_m_s,
            "refractory_s": self.refractory_s,
            "noise_sigma": self.noise_sigma,
            "dt_s": self.dt_s,
        }


@dataclass(frozen=True)
class TrialsSpec:
    """Repeats and their order.

    ``interleave = true`` presents every condition once, in a fresh random order, in
    each of ``n_trials`` blocks (Hubel & Wiesel varied the slit by hand; randomised
    interleaving is the modern control for adaptation and drift).
    """

    n_trials: int = 10
    interleave: bool = True
    isi_s: float = 0.5

    def __post_init__(self) -> None:
        check_int("n_trials", self.n_trials, lo=1, hi=10_000)
        check_bool("interleave", self.interleave)
        check_number("isi_s", self.isi_s, lo=0, hi=60, unit="s")


@dataclass(frozen=True)
class StimulusBlock:
    """One stimulus kind with its parameters; list values make a factorial."""

    kind: str
    params: Mapping[str, tuple[Any, ...]]

    def conditions(self) -> list[Any]:
        """The stimuli of the full factorial (the last parameter varies fastest)."""
        names = list(self.params)
        return [
            make_stimulus(self.kind, **dict(zip(names, combo, strict=True)))
            for combo in itertools.product(*(self.params[n] for n in names))
        ]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for name, values in self.params.items():
            out[name] = values[0] if len(values) == 1 else list(values)
        return out


@dataclass(frozen=True)
class Protocol:
    """A validated protocol. Build with :func:`load_protocol` or :func:`parse_protocol`."""

    name: str
    description: str
    seed: int
    retina: Retina
    population: PopulationSpec
    spiking: SpikingSpec
    trials: TrialsSpec
    stimuli: tuple[StimulusBlock, ...]

    def conditions(self) -> list[Any]:
        """Every condition, in order: its index is its ``stimulus_condition_id``."""
        return [stim for block in self.stimuli for stim in block.conditions()]

    def with_seed(self, seed: int) -> Protocol:
        """The same protocol with another seed."""
        return replace(self, seed=check_int("seed", seed, lo=0, hi=2**63 - 1))

    def to_dict(self) -> dict[str, Any]:
        """The fully resolved protocol (every default filled in), as TOML-ready data."""
        population = asdict(self.population)
        population["type_fractions"] = dict(self.population.type_fractions)
        population["center_deg"] = list(self.population.center_deg)
        population["cells"] = [dict(c) for c in self.population.cells]
        if not population["cells"]:
            del population["cells"]
        if population["spatial_frequency_cpd"] is None:  # the species' own distribution
            del population["spatial_frequency_cpd"]
        if self.population.layout == "scatter":
            # Keeps the resolved TOML of ordinary protocols as it was before sheets existed.
            for key in ("layout", *_SHEET_FIELDS):
                del population[key]
        if self.population.source == "drawn":  # as it was before learned cells existed
            for key in _LEARNED_FIELDS:
                del population[key]
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "retina": asdict(self.retina),
            "population": population,
            "spiking": asdict(self.spiking),
            "trials": asdict(self.trials),
            "stimuli": [b.to_dict() for b in self.stimuli],
        }

    def to_toml(self) -> str:
        """The resolved protocol as TOML text; parsing it gives an equal protocol."""
        header = "# Resolved v1lab protocol: rerun with `v1lab --protocol <this file>`.\n"
        return header + dump_toml(self.to_dict())


_TOP_KEYS = ("name", "description", "seed", "retina", "population", "spiking", "trials", "stimuli")


def _section(cls: type, data: Any, path: str) -> Any:
    """Build a frozen dataclass from a mapping, naming unknown keys and bad values."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ParameterError(path, data, "expected a table")
    allowed = [f.name for f in fields(cls)]
    for key in data:
        if key not in allowed:
            raise ParameterError(
                f"{path}.{_toml_key(str(key))}",
                data[key],
                f"unknown key; allowed: {', '.join(allowed)}",
            )
    try:
        return cls(**data)
    except ParameterError as err:
        raise err.with_prefix(path) from None


def _expand_values(value: Any, path: str) -> tuple[Any, ...]:
    """A parameter's values: a scalar, a non-empty list, or a {start, stop, step} range."""
    if isinstance(value, Mapping):
        keys = set(value)
        if keys != {"start", "stop", "step"}:
            raise ParameterError(
                path, dict(value), "a range is a table with exactly start, stop and step"
            )
        start = check_number(f"{path}.start", value["start"])
        stop = check_number(f"{path}.stop", value["stop"])
        step = check_number(f"{path}.step", value["step"])
        span = (stop - start) / step if step != 0 else math.nan
        if not span > 0:
            raise ParameterError(
                path, dict(value), "expected a step that goes from start towards stop"
            )
        if not span <= 100_000:  # also an infinite span (huge bounds, a tiny step)
            raise ParameterError(path, dict(value), "expected at most 100000 values")
        n = math.ceil(span - 1e-9)
        return tuple(float(round(start + i * step, 12)) for i in range(n))
    if isinstance(value, list):
        if not value:
            raise ParameterError(
                path, value, "expected at least one value (an empty list makes no conditions)"
            )
        return tuple(value)
    return (value,)


def _population_data(data: Any) -> Any:
    """With an explicit cell list, ``n_cells`` is its length (given or not).

    The cells themselves are checked first: a cell with a wrong ``type`` is reported as
    such, not as a count that does not match.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("cells"), list):
        return data
    if data["cells"]:
        try:
            population_from_cells(data["cells"])
        except ParameterError as err:
            raise err.with_prefix("population") from None
    n = len(data["cells"])
    if data.get("n_cells", n) != n:
        raise ParameterError(
            "population.n_cells",
            data["n_cells"],
            f"expected {n} (the number of [[population.cells]]) or leave it out",
        )
    return {**data, "n_cells": max(n, 1)}


def _resolve_fields(data: Any, base_dir: str | Path | None) -> Any:
    """``population.fields`` as an absolute path: a relative one is from ``base_dir``."""
    if not isinstance(data, Mapping) or not isinstance(data.get("fields"), str):
        return data
    if not data["fields"]:
        return data
    path = Path(data["fields"]).expanduser()
    if not path.is_absolute():
        path = Path(base_dir if base_dir is not None else Path.cwd()) / path
    return {**data, "fields": os.path.abspath(path)}


def _stimulus_block(data: Any, path: str) -> StimulusBlock:
    if not isinstance(data, Mapping):
        raise ParameterError(path, data, "expected a stimulus table ([[stimuli]] with kind = ...)")
    kind = check_choice(f"{path}.kind", data.get("kind"), tuple(STIMULUS_KINDS))
    params = {k: _expand_values(v, f"{path}.{k}") for k, v in data.items() if k != "kind"}
    n_conditions = math.prod(len(v) for v in params.values())
    if n_conditions > MAX_CONDITIONS:
        sizes = " × ".join(f"{len(v)} {k}" for k, v in params.items() if len(v) > 1)
        raise ParameterError(
            path,
            f"{n_conditions} conditions",
            f"expected at most {MAX_CONDITIONS} conditions (the block's lists make {sizes})",
        )
    block = StimulusBlock(kind=kind, params=params)
    try:
        block.conditions()  # every combination must be a valid stimulus, now
    except ParameterError as err:
        raise err.with_prefix(path) from None
    return block


_INT64 = (-(2**63), 2**63 - 1)


def _check_integers(value: Any, path: str) -> None:
    """Refuse integers beyond TOML's 64 bits anywhere (tomllib reads any size; a float
    conversion of one beyond float range raises OverflowError)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            key = _toml_key(str(key))
            _check_integers(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_integers(item, f"{path}[{i}]")
    elif isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        raise ParameterError(
            path, value, "expected an integer of 64 bits at most (-2^63 to 2^63 - 1), as in TOML"
        )


def parse_protocol(
    data: Mapping[str, Any], *, name: str = "protocol", base_dir: str | Path | None = None
) -> Protocol:
    """Validate a protocol given as a mapping (parsed TOML) and build it.

    ``base_dir`` is the folder a relative ``population.fields`` is read from (the
    protocol file's, when :func:`load_protocol` reads one; default: the working
    directory); the protocol holds it as an absolute path.

    Raises
    ------
    ParameterError
        For the first problem found, naming the field, the value and what is allowed.
    """
    if not isinstance(data, Mapping):
        raise ParameterError("protocol", data, "expected a table")
    _check_integers(data, "")
    for key in data:
        if key not in _TOP_KEYS:
            raise ParameterError(
                _toml_key(str(key)), data[key], f"unknown key; allowed: {', '.join(_TOP_KEYS)}"
            )
    proto_name = data.get("name", name)
    if (
        not isinstance(proto_name, str)
        or not proto_name.replace("_", "").replace("-", "").isalnum()
    ):
        raise ParameterError("name", proto_name, "expected a name of letters, digits, '_' or '-'")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ParameterError("description", description, "expected text")
    seed = check_int("seed", data.get("seed", 0), lo=0, hi=2**63 - 1)
    population_data = _resolve_fields(_population_data(data.get("population")), base_dir)
    population = _section(PopulationSpec, population_data, "population")
    retina_data = data.get("retina")
    if retina_data is None or isinstance(retina_data, Mapping):
        # The species sets the eye's scale; the protocol's own values win.
        retina_data = {**SPECIES_RETINA[population.species], **(retina_data or {})}
    retina = _section(Retina, retina_data, "retina")
    spiking = _section(SpikingSpec, data.get("spiking"), "spiking")
    trials = _section(TrialsSpec, data.get("trials"), "trials")
    stimuli_data = data.get("stimuli")
    if not isinstance(stimuli_data, list) or not stimuli_data:
        raise ParameterError("stimuli", stimuli_data, "expected at least one [[stimuli]] table")
    stimuli = tuple(_stimulus_block(s, f"stimuli[{i}]") for i, s in enumerate(stimuli_data))
    n_conditions = sum(math.prod(len(v) for v in b.params.values()) for b in stimuli)
    if n_conditions > MAX_CONDITIONS:
        raise ParameterError(
            "stimuli",
            f"{n_conditions} conditions",
            f"expected at most {MAX_CONDITIONS} conditions in all the blocks together",
        )
    protocol = Protocol(proto_name, description, seed, retina, population, spiking, trials, stimuli)
    if population.source == "learned" and population.field_pixel_deg < retina.lgn_spacing_deg:
        raise ParameterError(
            "population.field_pixel_deg", population.field_pixel_deg,
            f"expected at least retina.lgn_spacing_deg = {retina.lgn_spacing_deg:g} "
            "(a coarser LGN would undersample the learned fields)",
        )  # fmt: skip
    _check_rates(protocol)
    return protocol


def _check_rates(protocol: Protocol) -> None:
    """Refuse spike-generator settings the population's rates cannot run with."""
    spk = protocol.spiking
    frame_s = 1.0 / protocol.retina.frame_rate_hz
    if spk.model == "lif" and spk.dt_s > frame_s:
        raise ParameterError(
            "spiking.dt_s",
            spk.dt_s,
            f"expected at most one frame (1 / retina.frame_rate_hz = {frame_s:g} s)",
        )
    if spk.model == "hodgkin_huxley":
        peak = protocol.population.max_rate_hz()
        if peak >= HH_MAX_RATE_HZ:
            raise ParameterError(
                "population",
                f"{peak:g} spikes/s",
                f"expected r_max_hz + spontaneous_hz below {HH_MAX_RATE_HZ:g} spikes/s, the "
                "fastest a Hodgkin–Huxley membrane fires",
            )
        return
    if spk.model != "poisson" or spk.dead_time_s == 0:
        return
    # A Poisson process with dead time d cannot fire at 1/d or faster.
    limit = 0.95 / spk.dead_time_s
    peak = protocol.population.max_rate_hz()
    if peak >= limit:
        raise ParameterError(
            "spiking.dead_time_s",
            spk.dead_time_s,
            f"expected at most {0.95 / peak:.4g} s: the population reaches {peak:g} spikes/s "
            "(r_max_hz + spontaneous_hz), and a dead time d allows below 0.95 / d",
        )


def load_protocol(name_or_path: str | Path) -> Protocol:
    """Load and validate a protocol by name (see :func:`list_protocols`) or by path.

    Examples
    --------
    >>> p = load_protocol("hubel_wiesel_bars")
    >>> p.name, len(p.conditions())
    ('hubel_wiesel_bars', 24)
    """
    path = find_protocol(name_or_path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ParameterError(str(path), "(file)", f"is not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ParameterError(
            str(path),
            "(file)",
            f"is not a TOML text file: byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start} is not UTF-8",
        ) from None
    except OSError as err:
        raise ParameterError(
            "protocol", str(path), f"cannot be read: {err.strerror or err}"
        ) from None
    return parse_protocol(data, name=path.stem, base_dir=path.parent)


def load_lab_data(name_or_path: str | Path) -> tuple[str, dict[str, Any]] | None:
    """``(name, data)`` of a lab protocol (top-level ``lab = "<kind>"``), else None.

    None too for a file that is not valid TOML: :func:`load_protocol` then reports it.
    The lab's own package validates the data (``v1lab.axon``, ``v1lab.synapse``).
    """
    path = find_protocol(name_or_path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return (path.stem, data) if "lab" in data else None


def _protocol_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    # Installed wheels carry the protocols inside the package; a checkout has them beside it.
    return [d for d in (here / "_stimuli", here.parent / "stimuli") if d.is_dir()]


def find_protocol(name_or_path: str | Path) -> Path:
    """Path of a protocol given by name or by path; a clear error if there is none."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists() or len(candidate.parts) > 1:
        if candidate.is_file():
            return candidate
        if candidate.is_dir():
            problem = "is a folder; expected a protocol file (.toml)"
        elif candidate.exists():
            problem = "is not a regular file; expected a protocol file (.toml)"
        else:
            problem = "no such protocol file"
        raise ParameterError("protocol", str(name_or_path), problem)
    for folder in _protocol_dirs():
        path = folder / f"{name_or_path}.toml"
        if path.is_file():
            return path
    names = ", ".join(n for n, _ in list_protocols()) or "none found"
    raise ParameterError("protocol", str(name_or_path), f"unknown protocol; available: {names}")


def list_protocols() -> list[tuple[str, str]]:
    """(name, one-line description) of every shipped protocol."""
    seen: dict[str, str] = {}
    for folder in _protocol_dirs():
        for path in sorted(folder.glob("*.toml")):
            if path.stem in seen:
                continue
            try:
                with open(path, "rb") as fh:
                    description = str(tomllib.load(fh).get("description", ""))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                description = "(unreadable)"
            seen[path.stem] = description.strip().splitlines()[0] if description.strip() else ""
    return sorted(seen.items())


# --------------------------------------------------------------------------- TOML writer


def _toml_key(key: str) -> str:
    # TOML's bare keys are ASCII letters, digits, '_' and '-' ("¹".isalnum() is true).
    return key if _BARE_KEY.fullmatch(key) else _toml_str(key)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _toml_str(text: str) -> str:
    # TOML's basic strings may not hold control characters (U+0000–U+001F, U+007F) raw.
    escaped = "".join(
        _TOML_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if c < " " or c == "\x7f" else c) for c in text
    )
    return f'"{escaped}"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    if isinstance(value, str):
        return _toml_str(value)
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise ParameterError("toml", value, "cannot be written as TOML")


def _is_table_list(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def dump_toml(data: Mapping[str, Any], _prefix: str = "") -> str:
    """Write nested mappings as TOML (tables, arrays of tables, scalars, lists).

    Examples
    --------
    >>> print(dump_toml({"a": 1, "b": {"c": [1.5, 2.0]}}).strip())
    a = 1
    <BLANKLINE>
    [b]
    c = [1.5, 2.0]
    """
    lines = []
    nested = []
    for key, value in data.items():
        if isinstance(value, Mapping) or _is_table_list(value):
            nested.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for key, value in nested:
        full = f"{_prefix}{_toml_key(key)}"
        if isinstance(value, Mapping):
            out += f"\n[{full}]\n" + dump_toml(value, full + ".")
        else:
            for item in value:
                out += f"\n[[{full}]]\n" + dump_toml(item, full + ".")
    return out

"""The synapse lab's protocols: validated sections of ``lab = "synapse"`` TOML files.

A file names its experiment (:data:`EXPERIMENTS`) and gives sections; every field has a
default, so a section may be left out. :func:`parse_lab_protocol` checks the whole file
before anything runs, and a bad value or an unknown key is one
:class:`~v1lab._validate.ParameterError` naming ``section.field``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.synapse.cell import CELL_KINDS
from v1lab.synapse.lgn import SimpleCellWiring

__all__ = ["EXPERIMENTS", "LabProtocol", "parse_lab_protocol"]

EXPERIMENTS = ("synaptic_summation", "lgn_to_simple_cell")


def _numbers(name: str, values: Any, *, lo: float, hi: float, unit: str = "") -> tuple:
    if not isinstance(values, list | tuple) or not values:
        raise ParameterError(name, values, "expected a non-empty list of numbers")
    return tuple(check_number(name, v, lo=lo, hi=hi, unit=unit) for v in values)


def _ints(name: str, values: Any, *, lo: int, hi: int) -> tuple:
    if not isinstance(values, list | tuple) or not values:
        raise ParameterError(name, values, "expected a non-empty list of whole numbers")
    return tuple(check_int(name, v, lo=lo, hi=hi) for v in values)


@dataclass(frozen=True)
class EPSPSpec:
    """Unitary EPSP and its summation on the passive τm = 20 ms cell."""

    unitary_mv: float = 1.0
    synchronous_n: tuple = (1, 2, 5, 10, 20)
    pair_intervals_ms: tuple = (0.0, 5.0, 10.0, 20.0, 40.0)

    def __post_init__(self) -> None:
        check_number("unitary_mv", self.unitary_mv, lo=0.05, hi=5, unit="mV")
        object.__setattr__(
            self, "synchronous_n", _ints("synchronous_n", self.synchronous_n, lo=1, hi=500)
        )
        object.__setattr__(
            self,
            "pair_intervals_ms",
            _numbers("pair_intervals_ms", self.pair_intervals_ms, lo=0, hi=500, unit="ms"),
        )


@dataclass(frozen=True)
class SpikeProbabilitySpec:
    """P(spike) against N synchronous (or jittered) inputs, with stochastic release."""

    cells: tuple = ("rs", "hh")
    n_max: int = 80
    n_step: int = 3
    n_trials: int = 100
    jitter_ms: tuple = (0.0, 5.0)
    p_release: float = 0.86
    amplitude_cv: float = 0.52

    def __post_init__(self) -> None:
        if not isinstance(self.cells, list | tuple) or not self.cells:
            raise ParameterError("cells", self.cells, "expected a non-empty list of cell kinds")
        for c in self.cells:
            check_choice("cells", c, ("rs", "hh"))
        object.__setattr__(self, "cells", tuple(self.cells))
        check_int("n_max", self.n_max, lo=2, hi=1000)
        check_int("n_step", self.n_step, lo=1, hi=100)
        check_int("n_trials", self.n_trials, lo=2, hi=10_000)
        object.__setattr__(
            self, "jitter_ms", _numbers("jitter_ms", self.jitter_ms, lo=0, hi=50, unit="ms")
        )
        check_number("p_release", self.p_release, lo=0, hi=1, lo_open=True)
        check_number("amplitude_cv", self.amplitude_cv, lo=0, hi=3)


@dataclass(frozen=True)
class InhibitionSpec:
    """An EPSP of ``excitatory_n`` unitary inputs with a GABA-A conductance arriving together."""

    excitatory_n: int = 5
    inhibitory_ns: float = 20.0
    hyperpolarising_e_rev_mv: float = -80.0

    def __post_init__(self) -> None:
        check_int("excitatory_n", self.excitatory_n, lo=1, hi=500)
        check_number("inhibitory_ns", self.inhibitory_ns, lo=0, hi=1000, unit="nS")
        check_number(
            "hyperpolarising_e_rev_mv", self.hyperpolarising_e_rev_mv, lo=-120, hi=-60, unit="mV"
        )


@dataclass(frozen=True)
class NMDASpec:
    """NMDA and AMPA EPSPs of the passive cell held at each potential."""

    holding_mv: tuple = (-90.0, -80.0, -70.0, -60.0, -50.0, -40.0, -30.0, -20.0, -10.0)
    nmda_ns: float = 2.0
    mg_mm: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "holding_mv", _numbers("holding_mv", self.holding_mv, lo=-120, hi=-1, unit="mV")
        )
        check_number("nmda_ns", self.nmda_ns, lo=0, hi=100, lo_open=True, unit="nS")
        check_number("mg_mm", self.mg_mm, lo=0, hi=20, unit="mM")


@dataclass(frozen=True)
class RetinaSpec:
    """The retina grid and LGN mosaic of the lgn_to_simple_cell lab."""

    extent_deg: float = 4.0
    pixels_per_deg: float = 8.0
    lgn_extent_deg: float = 2.4
    lgn_spacing_deg: float = 0.15

    def __post_init__(self) -> None:
        check_number("extent_deg", self.extent_deg, lo=1, hi=20, unit="deg")
        check_number("pixels_per_deg", self.pixels_per_deg, lo=4, hi=32)
        check_number("lgn_extent_deg", self.lgn_extent_deg, lo=0.4, hi=self.extent_deg, unit="deg")
        check_number("lgn_spacing_deg", self.lgn_spacing_deg, lo=0.05, hi=1, unit="deg")


@dataclass(frozen=True)
class GratingsSpec:
    """Drifting sine gratings: orientation × contrast."""

    orientations_deg: tuple = tuple(float(o) for o in range(0, 180, 15))
    contrasts: tuple = (0.15, 0.3, 0.6, 1.0)
    spatial_frequency_cpd: float = 0.8
    temporal_frequency_hz: float = 4.0
    duration_s: float = 1.0
    n_trials: int = 6

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "orientations_deg",
            _numbers("orientations_deg", self.orientations_deg, lo=0, hi=180, unit="deg"),
        )
        if len(self.orientations_deg) < 4:
            raise ParameterError(
                "orientations_deg",
                list(self.orientations_deg),
                "expected >= 4 orientations (a tuning fit)",
            )
        object.__setattr__(self, "contrasts", _numbers("contrasts", self.contrasts, lo=0.01, hi=1))
        check_number("spatial_frequency_cpd", self.spatial_frequency_cpd, lo=0.05, hi=4)
        check_number("temporal_frequency_hz", self.temporal_frequency_hz, lo=0.5, hi=20, unit="Hz")
        check_number("duration_s", self.duration_s, lo=0.5, hi=10, unit="s")
        if self.duration_s * self.temporal_frequency_hz < 2:
            raise ParameterError(
                "duration_s", self.duration_s, "expected at least two grating cycles"
            )
        check_int("n_trials", self.n_trials, lo=1, hi=100)


@dataclass(frozen=True)
class SlitsSpec:
    """A slit swept across the RF at the preferred orientation and at right angles to it."""

    speed_deg_s: float = 4.0
    length_deg: float = 2.0
    width_deg: float = 0.3
    contrast: float = 1.0
    n_trials: int = 5

    def __post_init__(self) -> None:
        check_number("speed_deg_s", self.speed_deg_s, lo=0.5, hi=50, unit="deg/s")
        check_number("length_deg", self.length_deg, lo=0.1, hi=10, unit="deg")
        check_number("width_deg", self.width_deg, lo=0.05, hi=5, unit="deg")
        check_number("contrast", self.contrast, lo=-1, hi=1)
        check_int("n_trials", self.n_trials, lo=1, hi=100)


@dataclass(frozen=True)
class CircuitsSpec:
    """The circuits to compare: push–pull inhibition weights (0 = pure feedforward)."""

    push_pull: tuple = (0.0, 2.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "push_pull", _numbers("push_pull", self.push_pull, lo=0, hi=10))


_SECTIONS: dict[str, dict[str, type]] = {
    "synaptic_summation": {
        "epsp": EPSPSpec,
        "spike_probability": SpikeProbabilitySpec,
        "inhibition": InhibitionSpec,
        "nmda": NMDASpec,
    },
    "lgn_to_simple_cell": {
        "retina": RetinaSpec,
        "simple_cell": SimpleCellWiring,
        "circuits": CircuitsSpec,
        "gratings": GratingsSpec,
        "slits": SlitsSpec,
    },
}


@dataclass(frozen=True)
class LabProtocol:
    """A validated synapse-lab protocol: its experiment, seed, cell and sections."""

    name: str
    description: str
    experiment: str
    seed: int
    cell: str
    sections: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lab": "synapse",
            "experiment": self.experiment,
            "description": self.description,
            "seed": self.seed,
            "cell": self.cell,
        }
        for key, sec in self.sections.items():
            out[key] = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(sec).items()}
        return out

    def to_toml(self) -> str:
        from v1lab.protocol import dump_toml

        header = "# Resolved v1lab synapse-lab protocol: rerunning it reproduces the run.\n"
        return header + dump_toml(self.to_dict())


def _build(cls: type, data: Any, path: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ParameterError(path, data, "expected a table")
    names = [f.name for f in fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        key = unknown[0]
        raise ParameterError(
            f"{path}.{key}", data[key], "unknown key; allowed: " + ", ".join(names)
        )
    try:
        return cls(**data)
    except ParameterError as err:
        raise err.with_prefix(path) from None


def parse_lab_protocol(data: Mapping[str, Any], *, name: str) -> LabProtocol:
    """Validate a whole ``lab = "synapse"`` protocol (as read from TOML).

    Examples
    --------
    >>> p = parse_lab_protocol({"lab": "synapse", "experiment": "synaptic_summation"}, name="x")
    >>> p.sections["epsp"].unitary_mv, p.cell
    (1.0, 'rs')
    >>> parse_lab_protocol({"lab": "synapse", "experiment": "lgn_to_simple_cell",
    ...                     "gratings": {"contrasts": [2.0]}}, name="x")
    Traceback (most recent call last):
    ...
    v1lab._validate.ParameterError: gratings.contrasts = 2.0: expected a number in [0.01, 1]
    """
    if not isinstance(data, Mapping):
        raise ParameterError("protocol", data, "expected a table of sections")
    if data.get("lab") != "synapse":
        raise ParameterError("lab", data.get("lab"), "expected 'synapse'")
    experiment = check_choice("experiment", data.get("experiment"), EXPERIMENTS)
    sections = _SECTIONS[experiment]
    top = ("lab", "experiment", "description", "seed", "cell")
    for key in data:
        if key not in top and key not in sections:
            raise ParameterError(
                str(key), data[key], "unknown key; allowed: " + ", ".join([*top, *sections])
            )
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ParameterError("description", description, "expected a string")
    seed = check_int("seed", data.get("seed", 1), lo=0, hi=2**63 - 1)
    cell = check_choice("cell", data.get("cell", "rs"), CELL_KINDS)
    cell_section = data.get("simple_cell")
    if isinstance(cell_section, Mapping) and "push_pull" in cell_section:
        raise ParameterError(
            "simple_cell.push_pull",
            cell_section["push_pull"],
            "set it in circuits.push_pull (a list)",
        )
    built = {key: _build(cls, data.get(key), key) for key, cls in sections.items()}
    return LabProtocol(name, description, experiment, seed, cell, built)

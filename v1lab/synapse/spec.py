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

from v1lab._validate import ParameterError, check_choice, check_int
from v1lab.synapse._common import Bound, check_fields
from v1lab.synapse.cell import CELL_KINDS
from v1lab.synapse.lgn import SimpleCellWiring
from v1lab.synapse.touch import StretchReceptor

__all__ = ["EXPERIMENTS", "LabProtocol", "parse_lab_protocol"]

EXPERIMENTS = ("synaptic_summation", "lgn_to_simple_cell", "touch_receptor")


N, INT, NS, IS = "number", "int", "numbers", "ints"


@dataclass(frozen=True)
class EPSPSpec:
    """Unitary EPSP and its summation on the passive τm = 20 ms cell."""

    unitary_mv: float = 1.0
    synchronous_n: tuple = (1, 2, 5, 10, 20)
    pair_intervals_ms: tuple = (0.0, 5.0, 10.0, 20.0, 40.0)

    def __post_init__(self) -> None:
        check_fields(self, {
            "unitary_mv": Bound(N, 0.05, 5, "mV"),
            "synchronous_n": Bound(IS, 1, 500),
            "pair_intervals_ms": Bound(NS, 0, 500, "ms"),
        })  # fmt: skip


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
        object.__setattr__(
            self, "cells", tuple(check_choice("cells", c, ("rs", "hh")) for c in self.cells)
        )
        check_fields(self, {
            "n_max": Bound(INT, 2, 1000),
            "n_step": Bound(INT, 1, 100),
            "n_trials": Bound(INT, 2, 10_000),
            "jitter_ms": Bound(NS, 0, 50, "ms"),
            "p_release": Bound(N, 0, 1, "", True),
            "amplitude_cv": Bound(N, 0, 3),
        })  # fmt: skip


@dataclass(frozen=True)
class InhibitionSpec:
    """An EPSP of ``excitatory_n`` unitary inputs with a GABA-A conductance arriving together."""

    excitatory_n: int = 5
    inhibitory_ns: float = 20.0
    hyperpolarising_e_rev_mv: float = -80.0

    def __post_init__(self) -> None:
        check_fields(self, {
            "excitatory_n": Bound(INT, 1, 500),
            "inhibitory_ns": Bound(N, 0, 1000, "nS"),
            "hyperpolarising_e_rev_mv": Bound(N, -120, -60, "mV"),
        })  # fmt: skip


@dataclass(frozen=True)
class NMDASpec:
    """NMDA and AMPA EPSPs of the passive cell held at each potential."""

    holding_mv: tuple = (-90.0, -80.0, -70.0, -60.0, -50.0, -40.0, -30.0, -20.0, -10.0)
    nmda_ns: float = 2.0
    mg_mm: float = 1.0

    def __post_init__(self) -> None:
        check_fields(self, {
            "holding_mv": Bound(NS, -120, -1, "mV"),
            "nmda_ns": Bound(N, 0, 100, "nS", True),
            "mg_mm": Bound(N, 0, 20, "mM"),
        })  # fmt: skip


@dataclass(frozen=True)
class RetinaSpec:
    """The retina grid and LGN mosaic of the lgn_to_simple_cell lab."""

    extent_deg: float = 4.0
    pixels_per_deg: float = 8.0
    lgn_extent_deg: float = 2.4
    lgn_spacing_deg: float = 0.15

    def __post_init__(self) -> None:
        check_fields(
            self, {"extent_deg": Bound(N, 1, 20, "deg"), "pixels_per_deg": Bound(N, 4, 32)}
        )
        check_fields(self, {
            "lgn_extent_deg": Bound(N, 0.4, self.extent_deg, "deg"),
            "lgn_spacing_deg": Bound(N, 0.05, 1, "deg"),
        })  # fmt: skip


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
        check_fields(self, {
            "orientations_deg": Bound(NS, 0, 180, "deg"),
            "contrasts": Bound(NS, 0.01, 1),
            "spatial_frequency_cpd": Bound(N, 0.05, 4),
            "temporal_frequency_hz": Bound(N, 0.5, 20, "Hz"),
            "duration_s": Bound(N, 0.5, 10, "s"),
            "n_trials": Bound(INT, 1, 100),
        })  # fmt: skip
        if len(self.orientations_deg) < 4:
            raise ParameterError(
                "orientations_deg", list(self.orientations_deg), "expected >= 4 (a tuning fit)"
            )
        if self.duration_s * self.temporal_frequency_hz < 2:
            raise ParameterError(
                "duration_s", self.duration_s, "expected two grating cycles or more"
            )


@dataclass(frozen=True)
class SlitsSpec:
    """A slit swept across the RF at the preferred orientation and at right angles to it."""

    speed_deg_s: float = 4.0
    length_deg: float = 2.0
    width_deg: float = 0.3
    contrast: float = 1.0
    n_trials: int = 5

    def __post_init__(self) -> None:
        check_fields(self, {
            "speed_deg_s": Bound(N, 0.5, 50, "deg/s"),
            "length_deg": Bound(N, 0.1, 10, "deg"),
            "width_deg": Bound(N, 0.05, 5, "deg"),
            "contrast": Bound(N, -1, 1),
            "n_trials": Bound(INT, 1, 100),
        })  # fmt: skip


@dataclass(frozen=True)
class CircuitsSpec:
    """The circuits to compare, one entry each: push–pull inhibition weights (0 = pure
    feedforward) and, optionally (empty = 0 everywhere), the SD of the background Vm noise
    (mV) and the background conductance (nS) of the rest of the cortex's input."""

    push_pull: tuple = (0.0, 2.0)
    vm_noise_sd_mv: tuple = ()
    background_ns: tuple = ()

    def __post_init__(self) -> None:
        check_fields(self, {"push_pull": Bound(NS, 0, 10)})
        for name, hi, unit in (("vm_noise_sd_mv", 10, "mV"), ("background_ns", 500, "nS")):
            if not getattr(self, name):
                continue
            check_fields(self, {name: Bound(NS, 0, hi, unit)})
            if len(getattr(self, name)) != len(self.push_pull):
                raise ParameterError(
                    name,
                    list(getattr(self, name)),
                    f"expected {len(self.push_pull)} values, one per circuits.push_pull entry",
                )

    @property
    def settings(self) -> list[tuple[float, float, float]]:
        """``(push_pull, vm_noise_sd_mv, background_ns)`` of each circuit."""
        n = len(self.push_pull)
        noise = tuple(self.vm_noise_sd_mv) or (0.0,) * n
        background = tuple(self.background_ns) or (0.0,) * n
        return list(zip(self.push_pull, noise, background, strict=True))


@dataclass(frozen=True)
class StretchSpec:
    """Ramp-and-hold stretches of the receptor ending."""

    amplitudes_pct: tuple = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0)
    ramp_ms: float = 10.0
    hold_ms: float = 1000.0

    def __post_init__(self) -> None:
        check_fields(self, {
            "amplitudes_pct": Bound(NS, 0, 100, "% strain"),
            "ramp_ms": Bound(N, 0.1, 1000, "ms"),
            "hold_ms": Bound(N, 600, 10_000, "ms"),
        })  # fmt: skip


#: A rapidly adapting ending: the curve shifts all the way, fast (Eyzaguirre & Kuffler
#: 1955's fast-adapting stretch receptor fires only while the stretch changes).
RAPIDLY_ADAPTING = {"g_max_ns": 20.0, "adapt_fraction": 1.0, "adapt_tau_ms": 40.0}

_SECTIONS: dict[str, dict[str, type | tuple[type, dict[str, float]]]] = {
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
    "touch_receptor": {
        "stretch": StretchSpec,
        "slowly_adapting": StretchReceptor,
        "rapidly_adapting": (StretchReceptor, RAPIDLY_ADAPTING),
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


def _build(spec: Any, data: Any, path: str) -> Any:
    cls, defaults = spec if isinstance(spec, tuple) else (spec, {})
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
        return cls(**{**defaults, **data})
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
    for key in ("push_pull", "vm_noise_sd_mv", "background_ns"):
        if isinstance(cell_section, Mapping) and key in cell_section:
            raise ParameterError(
                f"simple_cell.{key}", cell_section[key], f"set it in circuits.{key} (a list)"
            )
    built = {key: _build(cls, data.get(key), key) for key, cls in sections.items()}
    return LabProtocol(name, description, experiment, seed, cell, built)

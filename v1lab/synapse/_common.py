"""What the synapse modules share: the labs' result container, the session-clock helpers,
and the table-driven check of a parameter class's fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number

__all__ = ["Bound", "LabResult", "check_fields", "session_times", "sound_trains"]


@dataclass
class LabResult:
    """What a lab computed (see the module docstring)."""

    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    spike_times: list[np.ndarray] = field(default_factory=list)
    units: dict[str, np.ndarray] = field(default_factory=dict)
    presentations: dict[str, np.ndarray] = field(default_factory=dict)
    duration_s: float = 0.0
    traces: dict[str, Any] = field(default_factory=dict)
    sounds: dict[str, tuple[list[np.ndarray], float, str]] = field(default_factory=dict)


def session_times(
    trains: Any, trial_s: float, offset_s: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Spike times of consecutive trains laid end to end, and the trains' start times."""
    counts = np.diff(trains.indptr)
    starts = offset_s + np.arange(trains.n_trains) * trial_s
    return trains.times_s + np.repeat(starts, counts), starts


def sound_trains(trains: Any, select: np.ndarray, trial_s: float) -> tuple[list[np.ndarray], float]:
    """The spikes of the selected trains, one after another, as one train to listen to."""
    counts = np.diff(trains.indptr)
    parts = [
        trains.times_s[trains.indptr[k] : trains.indptr[k] + counts[k]] + i * trial_s
        for i, k in enumerate(select)
    ]
    return [np.concatenate(parts) if parts else np.zeros(0)], len(select) * trial_s


class Bound(NamedTuple):
    """What one field of a parameter class allows: ``kind`` is ``"number"``, ``"int"``,
    ``"numbers"`` or ``"ints"`` (a non-empty list), with its range and unit."""

    kind: str
    lo: float
    hi: float
    unit: str = ""
    lo_open: bool = False


def check_fields(obj: Any, bounds: Mapping[str, Bound]) -> None:
    """Check the named fields of a frozen dataclass and store them normalised (float, int,
    tuple); a bad one raises :class:`~v1lab._validate.ParameterError` naming it."""
    for name, b in bounds.items():
        value = getattr(obj, name)
        if b.kind in ("numbers", "ints"):
            if not isinstance(value, list | tuple) or not value:
                raise ParameterError(name, value, f"expected a non-empty list ({b.kind[:-1]}s)")
            items = value
        else:
            items = [value]
        if b.kind in ("int", "ints"):
            out = [check_int(name, v, lo=int(b.lo), hi=int(b.hi)) for v in items]
        else:
            out = [
                check_number(name, v, lo=b.lo, hi=b.hi, lo_open=b.lo_open, unit=b.unit)
                for v in items
            ]
        object.__setattr__(obj, name, tuple(out) if b.kind in ("numbers", "ints") else out[0])

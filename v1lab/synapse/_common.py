"""What the synapse labs share: the result container and the session-clock helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LabResult", "session_times", "sound_trains"]


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

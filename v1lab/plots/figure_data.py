"""What the figure builders share about one run, computed once (:class:`FigureData`).

The figure builders (``plot_cell_*``, ``plot_population_*``) take a recording; the
analyses they all need (metrics, the stimulus design, the mean response in each
condition, spontaneous rates) are computed once per run into a :class:`FigureData` and
handed to each builder (their ``_run`` argument), in this process or the figure helper's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FigureData", "cell_title"]


@dataclass
class FigureData:
    """What the figure builders need, computed once per run."""

    recording: Any
    metrics: Mapping[str, np.ndarray]
    design: Any
    table: dict[str, np.ndarray]
    mean: np.ndarray
    sem: np.ndarray
    baseline: np.ndarray
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, recording: Any, metrics: Mapping[str, np.ndarray] | None = None) -> FigureData:
        from v1lab.analysis import (
            compute_baseline_rates,
            compute_condition_responses,
            compute_condition_table,
            compute_design,
            compute_metrics,
        )

        metrics = compute_metrics(recording) if metrics is None else metrics
        mean, sem = compute_condition_responses(recording)
        baseline = metrics.get("spontaneous_rate_hz")
        if baseline is None:
            baseline = compute_baseline_rates(recording)
        return cls(
            recording,
            metrics,
            compute_design(recording),
            compute_condition_table(recording),
            mean,
            sem,
            np.asarray(baseline, dtype=float),
        )

    def rows(self) -> np.ndarray | None:
        """The presentations of the direction-tuning stimulus (None if there is none)."""
        if self.design.direction_kind is None:
            return None
        return self.table["stimulus"] == self.design.direction_kind

    def slice(self, along: str, *, rows: Any = None, fixed: Any = None) -> Any:
        """Mean and SEM along one parameter: :func:`v1lab.analysis.compute_factorial_tuning`."""
        from v1lab.analysis import compute_factorial_tuning

        rows = self.rows() if rows is None else rows
        return compute_factorial_tuning(
            self.table, self.mean, self.sem, along, rows=rows, fixed=fixed
        )


def cell_title(recording: Any, cell: int) -> str:
    """A figure's name for one cell, e.g. ``"Cell 3 (ds simple)"``."""
    pop = recording.population
    kind = str(pop.cell_type[cell]).replace("_", " ")
    return f"Cell {cell} ({kind})"

"""Which figures a run gets, and drawing them into file bytes.

:func:`make_figure_jobs` lists the figures a run of a protocol should have (following
its design: :func:`v1lab.analysis.compute_design`), one :class:`FigureJob` each;
:func:`render_figures` draws one job with the builders of the sibling modules and
returns its files as bytes. :class:`v1lab.plots.worker.FigureBatch` shares a run's jobs
between the caller and a helper process, both calling :func:`render_figures`, so the
files are the same whichever process drew them. Per-cell figures are drawn for at most
:data:`MAX_CELL_FIGURES` cells (:func:`choose_example_cells`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab.plots.contrast import plot_cell_contrast
from v1lab.plots.figure_data import FigureData
from v1lab.plots.length import plot_population_length_tuning
from v1lab.plots.maps import plot_sheet_maps
from v1lab.plots.membrane import make_recording_membrane_figure
from v1lab.plots.receptive_fields import plot_cell_spot_maps, plot_cell_sta
from v1lab.plots.style import load_pyplot
from v1lab.plots.summary import plot_f1_f0_histogram, plot_population_summary
from v1lab.plots.tuning import (
    plot_cell_tuning,
    plot_condition_responses,
    plot_population_tuning,
)

__all__ = [
    "MAX_CELL_FIGURES",
    "FigureJob",
    "choose_example_cells",
    "make_figure_jobs",
    "render_figures",
]

# Per-cell figures are written for at most this many cells (a 10,000-cell sheet gets
# its maps instead); the cells are spread evenly over the population.
MAX_CELL_FIGURES = 16


def choose_example_cells(n_cells: int, limit: int = MAX_CELL_FIGURES) -> list[int]:
    """The cells that get per-cell figures: all, or ``limit`` spread evenly over them.

    Examples
    --------
    >>> choose_example_cells(3)
    [0, 1, 2]
    >>> choose_example_cells(100, limit=4)
    [0, 33, 66, 99]
    """
    if n_cells <= limit:
        return list(range(n_cells))
    return sorted({round(i) for i in np.linspace(0, n_cells - 1, limit)})


@dataclass(frozen=True)
class FigureJob:
    """One entry of a run's figure list: which builder draws it, for which cell, as what."""

    kind: str
    stem: str
    cell: int = -1


def make_figure_jobs(recording: Any, run: FigureData) -> list[FigureJob]:
    """The figures :func:`v1lab.plots.save_run_figures` writes for this run, in order."""
    design = run.design
    cells = choose_example_cells(recording.n_cells)
    width = max(3, len(str(recording.n_cells - 1)))
    jobs: list[FigureJob] = []

    def per_cell(kind: str) -> None:
        jobs.extend(FigureJob(kind, f"{kind}_cell_{c:0{width}d}", c) for c in cells)

    if design.direction_kind is not None:
        per_cell("tuning")
        jobs.append(FigureJob("population_tuning", "population_tuning"))
    if design.direction_kind == "grating" and "f1_f0" in run.metrics:
        jobs.append(FigureJob("f1_f0", "f1_f0"))
    if design.contrast_series and design.direction_kind is not None:
        per_cell("contrast")
    if design.length_tuning:
        jobs.append(FigureJob("length_tuning", "length_tuning"))
    if design.spot_map:
        per_cell("spot_maps")
    if design.sparse_noise:
        per_cell("sta")
    if design.sheet and _cached(run, "sheet") is not None:
        jobs.append(FigureJob("sheet", "orientation_map"))
    if not jobs:
        per_cell("responses")
    if recording.n_cells >= 8:
        jobs.append(FigureJob("population_summary", "population_summary"))
    if recording.protocol.spiking.model == "hodgkin_huxley" and recording.condition_rates:
        jobs.append(FigureJob("membrane", "membrane"))
    return jobs


def _cached(run: FigureData, what: str) -> Any:
    """Analyses several figures share, computed once per process."""
    if what not in run.cache:
        from v1lab import analysis

        if what == "spot_maps":
            run.cache[what] = analysis.compute_spot_maps(run.recording, baseline_hz=run.baseline)
        elif what == "sta":
            run.cache[what] = analysis.compute_sta(run.recording)
        elif what == "sheet":
            from v1lab.analysis import compute_map_summary

            run.cache[what] = compute_map_summary(run.recording, run.metrics)
        else:  # pragma: no cover - the callers and this switch are written together
            raise ValueError(f"no shared analysis called {what!r}")
    return run.cache[what]


def _build_figures(job: FigureJob, run: FigureData) -> list[tuple[str, Any]]:
    """Draw one job's figures: ``[(stem, figure), ...]`` (a builder may draw none)."""
    rec, cell, kind = run.recording, job.cell, job.kind
    if kind == "tuning":
        fig = plot_cell_tuning(rec, cell, _run=run)
    elif kind == "population_tuning":
        fig = plot_population_tuning(rec, _run=run, cells=choose_example_cells(rec.n_cells))
    elif kind == "f1_f0":
        fig, ax = load_pyplot().subplots(figsize=(4.5, 3.8), layout="constrained")
        plot_f1_f0_histogram(run.metrics["f1_f0"], run.metrics.get("cell_type"), ax=ax)
        ax.set_title("Response modulation at the preferred grating", fontsize=9)
    elif kind == "contrast":
        fig = plot_cell_contrast(rec, cell, _run=run)
    elif kind == "length_tuning":
        fig = plot_population_length_tuning(rec, _run=run, cells=choose_example_cells(rec.n_cells))
    elif kind == "spot_maps":
        fig = plot_cell_spot_maps(rec, cell, _cached(run, "spot_maps"), _run=run)
    elif kind == "sta":
        fig = plot_cell_sta(rec, cell, _cached(run, "sta"), _run=run)
    elif kind == "sheet":
        fig_o, fig_s = plot_sheet_maps(_cached(run, "sheet"))
        return [("orientation_map", fig_o), ("selectivity_map", fig_s)]
    elif kind == "responses":
        fig = plot_condition_responses(rec, cell).figure
    elif kind == "population_summary":
        fig = plot_population_summary(run.metrics)
    elif kind == "membrane":
        fig = _membrane_figure(rec, run)
    else:  # pragma: no cover - the job list and this switch are written together
        raise ValueError(f"unknown figure kind {kind!r}")
    return [] if fig is None else [(job.stem, fig)]


def render_figures(
    job: FigureJob, run: FigureData, formats: Sequence[str], dpi: int
) -> list[tuple[str, bytes]]:
    """One job's files as ``[(file name, bytes), ...]``, ready to be written."""
    import io

    plt = load_pyplot()
    files = []
    for stem, fig in _build_figures(job, run):
        try:
            for fmt in formats:
                buf = io.BytesIO()
                fig.savefig(buf, format=fmt, dpi=dpi)
                files.append((f"{stem}.{fmt}", buf.getvalue()))
        finally:
            plt.close(fig)
    return files


def _membrane_figure(recording: Any, run: Any) -> Any:
    """The membrane of the most responsive cell in its preferred and orthogonal sweeps."""
    peak = np.nan_to_num(np.asarray(run.metrics.get("peak_rate_hz", np.zeros(recording.n_cells))))
    spiking = recording.protocol.spiking
    rng = np.random.default_rng([recording.protocol.seed, 7])
    return make_recording_membrane_figure(
        recording, cell=int(np.argmax(peak)), rng=rng, **spiking.params()
    )

"""Writing figures to files: one figure, or every figure of a run.

:func:`save_run_figures` writes the figures :func:`v1lab.plots.run_figures.make_figure_jobs`
lists for a run, drawn in this process or partly in a
:class:`v1lab.plots.worker.FigureWorker` (the same bytes either way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from v1lab.plots.style import load_pyplot

__all__ = ["save_figure", "save_run_figures", "save_tuning_figures"]


def save_figure(fig: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a figure atomically (PNG at ``dpi``, or SVG by extension) and close it."""
    import io

    from v1lab.io import write_atomic

    plt = load_pyplot()
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=dpi)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    return path


def save_run_figures(
    recording: Any,
    folder: str | Path,
    metrics: Mapping[str, np.ndarray] | None = None,
    *,
    formats: Sequence[str] = ("png",),
    dpi: int = 150,
    worker: Any = None,
) -> list[Path]:
    """Write every figure a run of this protocol should have into ``folder``.

    What is written follows the protocol's design (:func:`v1lab.analysis.compute_design`):

    - direction tuning: ``tuning_cell_NNN`` (polar and linear tuning with the von Mises
      fit, SF/TF tuning when varied, rasters with PSTHs) and ``population_tuning``;
    - gratings as the main stimulus: ``f1_f0`` (the F1/F0 histogram, boundary at 1);
    - a contrast series: ``contrast_cell_NNN`` (normalised tuning overlay and the
      contrast-response curve with its Naka–Rushton fit);
    - bars of several lengths: ``length_tuning``;
    - a spot map: ``spot_maps_cell_NNN``; sparse noise: ``sta_cell_NNN``;
    - an orientation-map sheet: ``orientation_map`` and ``selectivity_map``;
    - anything else: ``responses_cell_NNN`` (the rate in each condition);
    - with at least 8 cells and any of HWHH, F1/F0 or DSI: ``population_summary``.

    Per-cell figures are written for at most 16 cells (spread over the population).

    Parameters
    ----------
    recording : Recording
    folder : path
        Created if needed.
    metrics : mapping, optional
        :func:`v1lab.analysis.compute_metrics` (computed if not given).
    formats : sequence of str
        File formats, e.g. ``("png", "svg")``.
    dpi : int
        Resolution of raster formats.
    worker : v1lab.plots.worker.FigureWorker, optional
        A helper process that draws part of the figures in parallel (the files are the
        same, byte for byte, whichever process drew them).

    Returns
    -------
    list of pathlib.Path
    """
    from v1lab.plots.worker import FigureBatch

    return FigureBatch(recording, metrics, formats=formats, dpi=dpi, worker=worker).write(folder)


def save_tuning_figures(
    recording: Any, folder: str | Path, metrics: dict[str, np.ndarray] | None = None
) -> list[Path]:
    """Per-cell figures in ``folder`` (kept for callers of the first release).

    Now the same as :func:`save_run_figures` with PNG output.
    """
    return save_run_figures(recording, folder, metrics)

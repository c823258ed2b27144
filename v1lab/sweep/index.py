"""The sweep's index: one row per point from its run folder (``sweep.csv``).

A row is read from the point's files only (``metrics.csv``, ``recording.npz``), so it is
the same whether the point ran now, on another machine, or in an earlier, interrupted
sweep. ``spikes_sha256`` is a hash of the point's spike times (the bytes of the float64
times and their per-cell offsets): equal hashes mean byte-identical spikes, which is how
two backends, or two numbers of workers, are compared.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from v1lab.io import save_table_csv

__all__ = ["SUMMARY_METRICS", "compute_point_summary", "compute_spikes_sha256", "save_sweep_csv"]

#: metrics.csv columns summarised per point by their median over cells (those the
#: protocol's design measured; the others are left empty).
SUMMARY_METRICS = (
    "peak_rate_hz", "spontaneous_rate_hz", "fano_factor", "osi", "dsi", "g_osi", "g_dsi",
    "hwhh_deg", "f1_f0", "c50_measured", "suppression_index", "overlap_index",
)  # fmt: skip


def compute_spikes_sha256(npz_path: str | Path) -> str:
    """SHA-256 of a ``recording.npz``'s spikes: offsets (int64) then times (float64)."""
    with np.load(npz_path, allow_pickle=False) as z:
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(z["spike_index"], dtype="<i8").tobytes())
        digest.update(np.ascontiguousarray(z["spike_times"], dtype="<f8").tobytes())
        return digest.hexdigest()


def compute_point_summary(folder: str | Path) -> dict[str, Any]:
    """Summary of one complete run folder: cells, spikes, spike hash, median metrics."""
    folder = Path(folder)
    with open(folder / "metrics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with np.load(folder / "recording.npz", allow_pickle=False) as z:
        n_spikes = len(z["spike_times"])
    out: dict[str, Any] = {
        "n_cells": len(rows),
        "n_spikes": n_spikes,
        "spikes_sha256": compute_spikes_sha256(folder / "recording.npz"),
    }
    for name in SUMMARY_METRICS:
        if rows and name in rows[0]:
            values = np.array([float(r[name]) if r[name] else np.nan for r in rows])
            finite = values[np.isfinite(values)]
            out[f"median_{name}"] = float(np.median(finite)) if finite.size else np.nan
    return out


def save_sweep_csv(
    path: str | Path, rows: Sequence[Mapping[str, Any]], params: Sequence[str]
) -> None:
    """Write ``sweep.csv`` atomically: one row per point, in point order.

    Columns: ``point``, the axes' paths, ``folder``, ``status``, ``duration_s``, then
    the summary (:func:`compute_point_summary`); a value a point lacks is left empty.
    """
    fixed = ["point", *params, "folder", "status", "duration_s"]
    extra: list[str] = []
    for row in rows:
        extra += [k for k in row if k not in fixed and k not in extra]
    columns = {}
    for name in fixed + extra:
        values = [row.get(name, np.nan) for row in rows]
        if all(isinstance(v, (int, float, np.number)) for v in values):
            columns[name] = np.asarray(values, dtype=float if any(
                isinstance(v, float) for v in values) else np.int64)  # fmt: skip
        else:
            columns[name] = np.asarray(["" if _is_nan(v) else str(v) for v in values])
    save_table_csv(path, columns)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and value != value

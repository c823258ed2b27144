"""The learned fields: their file, their Gabor fits and the summary that is reported.

Each field (a basis function, shown as the patch it draws) is fitted with the project's
2-D Gabor (:func:`v1lab.analysis.compute_gabor_fit`, Jones & Palmer 1987) on a pixel grid
centred on the patch, x to the right and y up, so the fits are in pixels and cycles per
pixel. What is reported is what Olshausen & Field (1996) and Ringach (2002) looked at:
the share of fields a Gabor describes (r² ≥ 0.8), the coverage of orientations (the
largest gap between the preferred orientations of those fields), the spread of spatial
frequency in octaves, and the envelope sizes ``nx``, ``ny`` in carrier periods
(:func:`v1lab.learn.figures.plot_nx_ny`).

The fields file (NPZ, :func:`save_fields` / :func:`load_fields`) holds the fields, the
settings that made them (JSON), the objective curve, the image sources and the fits.

References
----------
Jones JP, Palmer LA (1987) J Neurophysiol 58:1233-1258.
Olshausen BA, Field DJ (1996) Nature 381:607-609.
Ringach DL (2002) J Neurophysiol 88:455-463.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_int
from v1lab.analysis import GaborFit, compute_gabor_fit
from v1lab.io import write_atomic
from v1lab.learn.learning import LearnSettings
from v1lab.model.learned import (
    EDGE_CYCLES,
    FIT_COLUMNS,
    GOOD_FIT_R2,
    FitTable,
    load_field_file,
)

__all__ = [
    "EDGE_CYCLES",
    "FIT_COLUMNS",
    "GOOD_FIT_R2",
    "FieldSummary",
    "LearnedFields",
    "compute_field_fits",
    "compute_field_summary",
    "compute_orientation_gap",
    "load_fields",
    "make_pixel_grid",
    "save_fields",
]

# GOOD_FIT_R2, EDGE_CYCLES and FIT_COLUMNS are defined beside the fields file's reader in
# v1lab.model.learned (the model reads fields files for protocols; see issue 15) and
# re-exported here.


def make_pixel_grid(patch_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of a patch, 0 at its centre: x left to right, y top to bottom (up +).

    Examples
    --------
    >>> [v.tolist() for v in make_pixel_grid(2)]
    [[-0.5, 0.5], [0.5, -0.5]]
    """
    x = np.arange(patch_px) - (patch_px - 1) / 2.0
    return x, x[::-1].copy()


@dataclass(frozen=True)
class LearnedFields(FitTable):
    """Learned fields and what made them (``n_fields``, ``patch_px`` and ``fit_column``
    from :class:`v1lab.model.learned.FitTable`).

    Attributes
    ----------
    fields : ndarray (n_fields, patch_px, patch_px) float32
        Each field as an image, row 0 at the top (unit norm).
    settings : LearnSettings
    objective : ndarray (n_batches,)
        The objective curve (:class:`~v1lab.learn.learning.LearnState`).
    sources : tuple of str
        The images learned from (``skimage.data`` names or file paths).
    fits : ndarray (n_fields, len(FIT_COLUMNS)) or None
        Gabor fits in pixel units (:func:`compute_field_fits`).
    """

    fields: np.ndarray
    settings: LearnSettings
    objective: np.ndarray
    sources: tuple[str, ...]
    fits: np.ndarray | None = None


def save_fields(fields: LearnedFields, path: str | Path) -> None:
    """Write the fields file (NPZ), atomically."""
    buf = io.BytesIO()
    arrays: dict[str, Any] = {
        "fields": fields.fields.astype(np.float32),
        "settings": np.array(fields.settings.to_json()),
        "objective": np.asarray(fields.objective, dtype=np.float64),
        "sources": np.array(fields.sources, dtype=str),
        "fit_columns": np.array(FIT_COLUMNS),
    }
    if fields.fits is not None:
        arrays["fits"] = np.asarray(fields.fits, dtype=np.float64)
    np.savez_compressed(buf, **arrays)
    write_atomic(path, buf.getvalue())


def load_fields(path: str | Path) -> LearnedFields:
    """Read a fields file written by :func:`save_fields` (or the folder holding it).

    The arrays are read by :func:`v1lab.model.learned.load_field_file` (the model's
    reader, which protocols use too); this adds the settings.

    Raises
    ------
    ParameterError
        The file is missing, not an NPZ, or not a fields file (one line naming it).
    """
    file = load_field_file(path)
    try:
        settings = LearnSettings.from_json(file.settings_json)
    except (ValueError, TypeError) as exc:
        cause = " ".join(str(exc).split())[:80]
        raise ParameterError(
            "fields", Path(file.path).name, f"expected learning settings in {file.path}: {cause}"
        ) from None
    if file.fields.shape[1] != settings.patch_px:
        raise ParameterError(
            "fields", Path(file.path).name, f"expected fields of settings.patch_px: {file.path}"
        )
    return LearnedFields(file.fields, settings, file.objective, file.sources, file.fits)


def _fit_row(field: np.ndarray) -> list[float]:
    x, y = make_pixel_grid(field.shape[-1])
    fit: GaborFit = compute_gabor_fit(field, x, y)
    return [getattr(fit, name) for name in GaborFit.__dataclass_fields__]


def compute_field_fits(
    fields: Any, *, n_jobs: int = 1, progress: Callable[[int, int], None] | None = None
) -> np.ndarray:
    """Fit each field with the project's 2-D Gabor; (n_fields, len(FIT_COLUMNS)), pixels.

    Parameters
    ----------
    fields : array_like (n_fields, patch_px, patch_px)
    n_jobs : int
        Processes (joblib) that share the fields. Each fit is several least-squares
        runs (0.1–1 s of CPU on 12 × 12 px, more for the few that converge slowly), so
        on two cores two processes halve the time; the fits are the same either way.
    progress : callable, optional
        Called as ``progress(done, total)`` after each field, in field order.
    """
    f = np.asarray(fields, dtype=np.float64)
    n_jobs = check_int("n_jobs", n_jobs, lo=1, hi=64)
    n = f.shape[0]
    if n_jobs == 1 or n < 2:
        rows = (_fit_row(f[k]) for k in range(n))
    else:
        from joblib import Parallel, delayed

        rows = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_fit_row)(f[k]) for k in range(n)
        )
    out = np.empty((n, len(FIT_COLUMNS)))
    for k, row in enumerate(rows):
        out[k] = row
        if progress is not None:
            progress(k + 1, n)
    return out


def compute_orientation_gap(orientation_deg: Any) -> float:
    """The largest gap (deg) between orientations on the 180° circle; 180 for one or none.

    Examples
    --------
    >>> compute_orientation_gap([0, 45, 90, 135])
    45.0
    >>> compute_orientation_gap([10, 20, 170])
    150.0
    """
    o = np.sort(np.mod(np.asarray(orientation_deg, dtype=float), 180.0))
    o = o[np.isfinite(o)]
    if o.size < 2:
        return 180.0
    return float(np.max(np.diff(np.concatenate([o, [o[0] + 180.0]]))))


@dataclass(frozen=True)
class FieldSummary:
    """What is reported about a set of learned fields (:func:`compute_field_summary`).

    Attributes
    ----------
    n_fields, n_good : int
        Fields, and those with a Gabor fit r² ≥ :data:`GOOD_FIT_R2`.
    n_edge_like : int
        Good fits with fewer than :data:`EDGE_CYCLES` carrier cycles across the patch;
        the statistics of frequency and envelope below are over the other good fits.
    fraction_good : float
    median_r2 : float
    orientation_gap_deg : float
        Largest gap between the good fields' orientations (coverage: small is good).
    sf_spread_octaves : float
        SD of log2 of the (not edge-like) good fields' spatial frequencies.
    sf_range_octaves : float
        log2 of the 90th over the 10th percentile of those frequencies.
    median_sf_cpp : float
    median_nx, median_ny : float
        Envelope SDs across and along in carrier periods (Ringach 2002).
    """

    n_fields: int
    n_good: int
    n_edge_like: int
    fraction_good: float
    median_r2: float
    orientation_gap_deg: float
    sf_spread_octaves: float
    sf_range_octaves: float
    median_sf_cpp: float
    median_nx: float
    median_ny: float

    def describe(self) -> str:
        """One paragraph for the terminal and the README."""
        return (
            f"{self.n_good}/{self.n_fields} fields ({100 * self.fraction_good:.0f} %) have a "
            f"Gabor fit r² ≥ {GOOD_FIT_R2} (median r² {self.median_r2:.2f}); largest orientation "
            f"gap {self.orientation_gap_deg:.1f}°; {self.n_edge_like} of them edge-like (carrier "
            f"< {EDGE_CYCLES} cycle per patch); the others: spatial frequency "
            f"{self.median_sf_cpp:.3f} "
            f"c/px median, SD {self.sf_spread_octaves:.2f} octaves (10–90 %: "
            f"{self.sf_range_octaves:.2f} octaves); median nx {self.median_nx:.2f}, "
            f"ny {self.median_ny:.2f}"
        )


def compute_field_summary(fits: Any, patch_px: int) -> FieldSummary:
    """The summary of a fit table (:func:`compute_field_fits`) of ``patch_px`` fields."""
    f = np.asarray(fits, dtype=float)
    col = {name: f[:, i] for i, name in enumerate(FIT_COLUMNS)}
    with np.errstate(invalid="ignore"):
        good = col["r2"] >= GOOD_FIT_R2
        carrier = good & (col["spatial_frequency_cpp"] * patch_px >= EDGE_CYCLES)
    sf = col["spatial_frequency_cpp"][carrier]
    log_sf = np.log2(sf)
    nan = math.nan

    def median(v: np.ndarray) -> float:
        return float(np.median(v)) if v.size else nan

    return FieldSummary(
        n_fields=int(f.shape[0]),
        n_good=int(good.sum()),
        n_edge_like=int(good.sum() - carrier.sum()),
        fraction_good=float(good.mean()) if f.shape[0] else nan,
        median_r2=float(np.nanmedian(col["r2"])) if np.isfinite(col["r2"]).any() else nan,
        orientation_gap_deg=compute_orientation_gap(col["orientation_deg"][good]),
        sf_spread_octaves=float(np.std(log_sf)) if sf.size > 1 else nan,
        sf_range_octaves=float(np.diff(np.percentile(log_sf, [10, 90]))[0]) if sf.size > 1 else nan,
        median_sf_cpp=median(sf),
        median_nx=median((col["sigma_across_px"] * col["spatial_frequency_cpp"])[carrier]),
        median_ny=median((col["sigma_along_px"] * col["spatial_frequency_cpp"])[carrier]),
    )

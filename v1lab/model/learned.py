"""Learned fields as the receptive fields of model V1 cells: the fields file and the cells.

The interpretive model (:mod:`v1lab.learn`, ``v1lab learn``) writes fields learned from
natural images by sparse coding (Olshausen & Field 1996); this module is the part of it
the model needs, so that a protocol (``[population] source = "learned"``), the card and
the live mode can record from learned cells without depending on the learning stage:

* :func:`load_field_file` reads a fields file (NPZ) into a :class:`FieldFile`;
* :func:`select_learned_fields` says which fields make cells (a good Gabor fit, a
  carrier, inside the patch);
* :func:`compute_learned_rfs` turns fields into the population's RF columns in degrees
  and the RF images the V1 layer reads (:func:`v1lab.model.cortex.make_image_weights`);
* :func:`make_learned_population` draws a population of learned cells, and
  :func:`make_listed_learned_population` / :func:`attach_learned_fields` give listed
  cells (``field_index``) their fields.

A learned field is a pattern over whitened-image pixels; the whitened image stands for
what the retina and LGN hand on (Atick & Redlich 1992; Olshausen & Field 1997), so a
field pixel is mapped onto the retina at ``pixel_deg`` (:data:`DEFAULT_FIELD_PIXEL_DEG`,
0.28°, where the whitening's cut-off meets the LGN's). A ``simple`` cell's linear RF is
the field itself (push–pull onto ON and OFF LGN cells, as the Gabors of
:mod:`v1lab.model.cortex` are); a ``complex`` cell is the energy of the field and its
quadrature partner, the 2-D Hilbert transform of the field across its fitted orientation
(Adelson & Bergen 1985: two subunits 90° apart in phase).

References
----------
Adelson EH, Bergen JR (1985) Spatiotemporal energy models for the perception of motion.
J Opt Soc Am A 2:284-299.
Atick JJ, Redlich AN (1992) Neural Comput 4:196-210.
Olshausen BA, Field DJ (1996) Nature 381:607-609; (1997) Vision Res 37:3311-3325.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_number
from v1lab.model.population import Population, make_population, population_from_cells

__all__ = [
    "DEFAULT_FIELD_PIXEL_DEG",
    "EDGE_CYCLES",
    "EDGE_MARGIN_PX",
    "FIT_COLUMNS",
    "GOOD_FIT_R2",
    "LEARNED_CELL_TYPES",
    "RF_COLUMNS",
    "FieldFile",
    "FitTable",
    "attach_learned_fields",
    "compute_learned_rfs",
    "compute_quadrature_field",
    "load_field_file",
    "make_learned_population",
    "make_listed_learned_population",
    "select_learned_fields",
]

#: A field counts as Gabor-like from this r² of its fit on (the issue's threshold).
GOOD_FIT_R2 = 0.8

#: Fewer carrier cycles than this across the patch (``f · patch_px``) make a fit
#: edge-like: the Gabor has degenerated to (nearly) a derivative of a Gaussian, which
#: fits single-edge fields well (measured: ~30 % of the default run's good fits) but
#: whose frequency, ``nx`` and ``ny`` mean nothing.
EDGE_CYCLES = 0.5

#: A field whose fitted centre lies closer than this to the patch's edge (pixels) is cut
#: by it: measured on the default fields, such half-fields drive their cells far above
#: the response to their optimal grating (the rate of a bar-driven learned complex cell
#: up to 14× its r_max with a centre within 1 px of the edge, at most 1.6× from 1.5 px
#: in), so they make no cells.
EDGE_MARGIN_PX = 1.5

#: Columns of a fields file's fit table, in :class:`~v1lab.analysis.GaborFit`'s order
#: (pixel units).
FIT_COLUMNS = (
    "amplitude", "x_px", "y_px", "orientation_deg", "sigma_across_px", "sigma_along_px",
    "spatial_frequency_cpp", "phase_deg", "r2",
)  # fmt: skip

#: Degrees per field pixel for a protocol's learned cells. The whitening filter of
#: ``v1lab learn`` rolls off at f0 = 0.4 cycles/pixel (Olshausen & Field 1997), standing
#: for the eye's optics and retina; the default retina's LGN passes half its peak gain at
#: 1.43 c/deg (:func:`v1lab.model.retina.compute_dog_gain`). A pixel of 0.4 / 1.43 =
#: 0.28° makes the two cut-offs one, and puts the default fields' median frequency (0.22
#: c/px) at 0.79 c/deg, the cat's median near the area centralis (0.8 c/deg; Movshon,
#: Thompson & Tolhurst 1978). At the LGN spacing (0.2°) the fields' carriers (1.1 c/deg
#: median) sit on the LGN's falling flank, which passes their low-frequency content
#: better than their carrier (measured on 101 simple cells, before the edge margin:
#: bar-driven rates up to 7.9× r_max, against 2.3× at 0.28°).
DEFAULT_FIELD_PIXEL_DEG = 0.28

#: The cell types a learned field can be: the field (simple) or its energy with its
#: quadrature partner (complex).
LEARNED_CELL_TYPES = ("simple", "complex")

#: The population columns a learned cell takes from its field's Gabor fit.
RF_COLUMNS = ("orientation_deg", "spatial_frequency_cpd", "phase_deg", "nx", "ny")


class FitTable:
    """What a set of fields with their Gabor fits answers (``fields``, ``fits``): a mixin
    of :class:`FieldFile` and :class:`v1lab.learn.LearnedFields`."""

    fields: np.ndarray
    fits: np.ndarray | None

    @property
    def n_fields(self) -> int:
        return int(self.fields.shape[0])

    @property
    def patch_px(self) -> int:
        return int(self.fields.shape[-1])

    def fit_column(self, name: str) -> np.ndarray:
        """One column of ``fits`` by name (NaN everywhere without fits)."""
        if self.fits is None:
            return np.full(self.n_fields, np.nan)
        return self.fits[:, FIT_COLUMNS.index(name)]


@dataclass(frozen=True)
class FieldFile(FitTable):
    """A fields file as the model reads it: the arrays ``v1lab learn`` saved.

    ``fields`` (n_fields, patch_px, patch_px), float32, are the field images (row 0 on
    top, unit norm); ``objective`` the learning curve; ``sources`` the photographs;
    ``settings_json`` the learning's settings as text (:class:`v1lab.learn.LearnSettings`
    parses them); ``fits`` (n_fields, len(:data:`FIT_COLUMNS`)) the Gabor fits in pixels,
    or None; ``path`` the file read ('' if none).
    """

    fields: np.ndarray
    objective: np.ndarray
    sources: tuple[str, ...]
    settings_json: str
    fits: np.ndarray | None = None
    path: str = ""


def load_field_file(path: str | Path) -> FieldFile:
    """Read a fields file: the NPZ ``v1lab learn`` writes, or its output folder.

    Raises
    ------
    ParameterError
        Named ``fields``: the file is missing, not an NPZ, or not a fields file (one line
        naming it).
    """
    p = Path(path)
    if p.is_dir() and (p / "fields.npz").is_file():  # the folder `v1lab learn --out` wrote
        p = p / "fields.npz"
    try:
        with np.load(p, allow_pickle=False) as data:
            fields = data["fields"]
            settings = str(data["settings"])
            objective = data["objective"]
            sources = tuple(str(s) for s in data["sources"])
            fits = data["fits"] if "fits" in data.files else None
    except FileNotFoundError:
        raise ParameterError(
            "fields", p.name, f"expected a fields file; {p} does not exist"
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        cause = " ".join(str(exc).split())[:80]
        raise ParameterError(
            "fields", p.name, f"expected a fields file written by v1lab learn; {p}: {cause}"
        ) from None
    if fields.ndim != 3 or fields.shape[1] != fields.shape[2] or fields.shape[0] == 0:
        raise ParameterError("fields", p.name, f"expected square fields (n, px, px): {p}")
    if fits is not None and fits.shape != (fields.shape[0], len(FIT_COLUMNS)):
        raise ParameterError("fields", p.name, f"expected fields and fits of matching shapes: {p}")
    return FieldFile(fields, objective, sources, settings, fits, str(p))


def select_learned_fields(
    file: FieldFile,
    *,
    min_r2: float = GOOD_FIT_R2,
    min_cycles: float = EDGE_CYCLES,
    edge_margin_px: float | None = EDGE_MARGIN_PX,
) -> np.ndarray:
    """Indices of the fields that make cells: a Gabor fit of r² ≥ ``min_r2`` whose carrier
    makes at least ``min_cycles`` cycles across the patch, centred at least
    ``edge_margin_px`` inside the patch (None: anywhere).

    The fitted orientation, frequency and envelope calibrate the cell's drive and shape
    its normalisation pool (:class:`v1lab.model.cortex.V1Layer`), so a field whose fit
    describes it badly — or an edge-like fit, whose frequency means nothing — would
    calibrate nothing real; and a field the patch's edge cuts (:data:`EDGE_MARGIN_PX`)
    is only part of a field.

    Raises
    ------
    ParameterError
        No fits in the file, or no field passes.
    """
    if file.fits is None:
        raise ParameterError("fields", Path(file.path).name or "fields", "expected fields with "
                             "their Gabor fits (v1lab learn writes them)")  # fmt: skip
    with np.errstate(invalid="ignore"):
        ok = (file.fit_column("r2") >= min_r2) & (
            file.fit_column("spatial_frequency_cpp") * file.patch_px >= min_cycles
        )
        if edge_margin_px is not None:
            inside = file.patch_px / 2.0 - edge_margin_px
            ok &= (np.abs(file.fit_column("x_px")) <= inside) & (
                np.abs(file.fit_column("y_px")) <= inside
            )
    keep = np.flatnonzero(ok)
    if keep.size == 0:
        raise ParameterError(
            "min_r2", min_r2, f"expected a threshold some field's fit reaches (with at least "
            f"{min_cycles:g} carrier cycles across the patch, centred inside it)",
        )  # fmt: skip
    return keep


def compute_quadrature_field(field: Any, orientation_deg: float) -> np.ndarray:
    """The field shifted 90° in phase: its Hilbert transform across ``orientation_deg``.

    In the Fourier domain each component ``k`` is multiplied by ``−i sign(k · n)``, with
    ``n`` the unit vector across the bar (orientation + 90°, y up): a Gabor
    ``cos(2π f u + φ)`` becomes ``cos(2π f u + φ − 90°)`` = its quadrature partner.

    Examples
    --------
    >>> x = np.arange(32) - 16.0; xx, yy = np.meshgrid(x, -x)
    >>> even = np.exp(-(xx**2 + yy**2) / 50) * np.cos(2 * np.pi * 0.125 * yy)
    >>> odd = np.exp(-(xx**2 + yy**2) / 50) * np.sin(2 * np.pi * 0.125 * yy)
    >>> bool(np.abs(compute_quadrature_field(even, 0.0) - odd).max() < 0.02)
    True
    """
    f = np.asarray(field, dtype=float)
    theta = np.deg2rad(orientation_deg + 90.0)
    ky = -np.fft.fftfreq(f.shape[0])[:, None]  # rows run down; y runs up
    kx = np.fft.fftfreq(f.shape[1])[None, :]
    sign = np.sign(kx * np.cos(theta) + ky * np.sin(theta))
    return np.real(np.fft.ifft2(np.fft.fft2(f) * (-1j * sign)))


def compute_learned_rfs(
    file: FieldFile, index: Any, *, pixel_deg: float = 0.2
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The RF columns (degrees) and RF images of the cells made from fields ``index``.

    Parameters
    ----------
    file : FieldFile
        With fits.
    index : array_like of int
        One field per cell (a field may serve several cells).
    pixel_deg : float
        Degrees per field pixel.

    Returns
    -------
    columns : dict of :data:`RF_COLUMNS` to ndarray (n_cells,)
        Each field's Gabor fit in degrees: frequency = cycles/pixel ÷ ``pixel_deg``
        (clipped to the population's 0.01–20 c/deg), ``nx``, ``ny`` = the envelope SDs
        in carrier periods (clipped to 0.05–3).
    rf_images : ndarray (n_cells, 2, 3 patch_px, 3 patch_px)
        Each cell's field and its quadrature partner, scaled to a unit peak of the field,
        centred on the field's fitted centre (to the nearest pixel) on a zero canvas
        three patches wide.
    """
    px = check_number("pixel_deg", pixel_deg, lo=0, lo_open=True, hi=10, unit="deg")
    idx = np.asarray(index, dtype=int)
    f = file.fit_column("spatial_frequency_cpp")[idx]
    columns = {
        "orientation_deg": np.mod(file.fit_column("orientation_deg")[idx], 180.0),
        "spatial_frequency_cpd": np.clip(f / px, 0.01, 20.0),
        "phase_deg": file.fit_column("phase_deg")[idx].astype(float),
        "nx": np.clip(file.fit_column("sigma_across_px")[idx] * f, 0.05, 3.0),
        "ny": np.clip(file.fit_column("sigma_along_px")[idx] * f, 0.05, 3.0),
    }
    # Each field is moved (by whole pixels, on a zero-padded canvas) so that its fit's
    # centre is the image's centre: the cell's RF centre (x_deg, y_deg) is then where
    # its field is, which the layer's normalisation pool and the analyses assume.
    # The canvas is three patches wide whatever the shifts (so a cell's images are the
    # same in any population), and the quadrature partner is computed on it: the FFT's
    # Hilbert transform is periodic, and on the bare patch a field near its edge would
    # leak into the opposite edge.
    p = file.patch_px
    shift_x = np.clip(np.rint(file.fit_column("x_px")[idx]), -(p // 2), p // 2).astype(int)
    shift_y = np.clip(np.rint(file.fit_column("y_px")[idx]), -(p // 2), p // 2).astype(int)
    m = p
    images = np.zeros((idx.size, 2, p + 2 * m, p + 2 * m))
    for i, k in enumerate(idx):  # once per cell, when the population is built
        field = file.fields[k].astype(float)
        rows = slice(m + shift_y[i], m + shift_y[i] + p)  # y runs up, rows down
        cols = slice(m - shift_x[i], m - shift_x[i] + p)
        images[i, 0, rows, cols] = field
        images[i, 1] = compute_quadrature_field(images[i, 0], columns["orientation_deg"][i])
        images[i] /= np.abs(field).max()
    return columns, images


def make_learned_population(
    file: FieldFile,
    n_cells: int,
    rng: np.random.Generator,
    *,
    type_fractions: Mapping[str, float] | None = None,
    center_deg: tuple[float, float] = (0.0, 0.0),
    rf_scatter_deg: float = 0.5,
    species: str = "cat",
    pixel_deg: float = DEFAULT_FIELD_PIXEL_DEG,
) -> Population:
    """Draw ``n_cells`` learned cells: a frozen cortex whose RFs are learned fields.

    Everything but the RF is drawn as :func:`v1lab.model.population.make_population`
    draws it (same seed, same calls: cell types from ``type_fractions``, simple and
    complex only; RF positions scattered about ``center_deg``; response nonlinearity,
    spontaneous rate and surround), so learned cells differ from drawn ones only in where
    their RF comes from. Then each cell gets a field (:func:`select_learned_fields`): a
    random permutation of the fields, repeated if there are more cells than fields, so
    no field serves a second cell before every field serves one. Its RF columns are the
    field's Gabor fit (:func:`compute_learned_rfs`), and the population carries the RF
    images (``rf_images``) and each cell's ``field_index``.

    Examples
    --------
    >>> x = np.arange(12) - 5.5; xx, yy = np.meshgrid(x, -x)
    >>> g = np.exp(-(xx**2 + yy**2) / 8) * np.cos(2 * np.pi * 0.2 * yy)
    >>> fits = np.array([[1, 0, 0, 0, 2, 2, 0.2, 0, 0.99]])
    >>> file = FieldFile(g[None], np.zeros(0), (), "{}", fits)
    >>> pop = make_learned_population(file, 3, np.random.default_rng(0), pixel_deg=0.2)
    >>> pop.field_index.tolist(), pop.rf_images.shape, float(pop.spatial_frequency_cpd[0])
    ([0, 0, 0], (3, 2, 36, 36), 1.0)
    """
    fractions = {"simple": 1.0} if type_fractions is None else dict(type_fractions)
    for name in fractions:
        if name not in LEARNED_CELL_TYPES:
            raise ParameterError(
                f"type_fractions.{name}", fractions[name],
                "expected simple or complex only: a learned field is a simple cell's RF, "
                "or with its quadrature partner a complex cell's",
            )  # fmt: skip
    keep = select_learned_fields(file)
    pop = make_population(
        n_cells, rng, type_fractions=fractions, center_deg=center_deg,
        rf_scatter_deg=rf_scatter_deg, species=species,
    )  # fmt: skip
    index = keep[np.resize(rng.permutation(keep.size), len(pop))]  # drawn after the cells
    columns, images = compute_learned_rfs(file, index, pixel_deg=pixel_deg)
    return replace(
        pop, **columns, field_index=index, rf_images=images, rf_pixel_deg=float(pixel_deg)
    )


def attach_learned_fields(
    population: Population, file: FieldFile, *, pixel_deg: float = DEFAULT_FIELD_PIXEL_DEG
) -> Population:
    """Listed cells with their fields: each cell's ``field_index`` names its field.

    The RF columns (:data:`RF_COLUMNS`) are replaced by the field's fit (a protocol
    refuses listed values that contradict it).

    Raises
    ------
    ParameterError
        Naming ``cells[i].type`` or ``cells[i].field_index``: a cell of another type than
        simple or complex, or with a field that does not make a cell
        (:func:`select_learned_fields`).
    """
    keep = select_learned_fields(file)
    index = np.asarray(population.field_index, dtype=int)
    for i, k in enumerate(index):
        if population.cell_type[i] not in LEARNED_CELL_TYPES:
            raise ParameterError(f"cells[{i}].type", str(population.cell_type[i]),
                                 "expected simple or complex for a learned cell")  # fmt: skip
        if k not in keep:
            raise ParameterError(
                f"cells[{i}].field_index", int(k),
                f"expected one of the {keep.size} fields of {Path(file.path).name} with a good "
                f"Gabor fit (r² ≥ {GOOD_FIT_R2:g}, not edge-like), e.g. {keep[0]}",
            )  # fmt: skip
    columns, images = compute_learned_rfs(file, index, pixel_deg=pixel_deg)
    return replace(population, **columns, rf_images=images, rf_pixel_deg=float(pixel_deg))


def make_listed_learned_population(
    cells: Sequence[Mapping[str, Any]],
    file: FieldFile,
    *,
    pixel_deg: float = DEFAULT_FIELD_PIXEL_DEG,
) -> Population:
    """Learned cells listed one by one (a protocol's ``[[population.cells]]``).

    Each cell names its field (``field_index``) and may give any column of
    :func:`~v1lab.model.population.population_from_cells`; an RF column
    (:data:`RF_COLUMNS`) may repeat the field's fit, as
    :meth:`~v1lab.model.population.Population.to_cells` writes it, but not contradict it.

    Raises
    ------
    ParameterError
        Naming ``cells[i].<key>``: a missing ``field_index``, or see
        :func:`attach_learned_fields`, or an RF column the fit contradicts.
    """
    for i, cell in enumerate(cells):
        if "field_index" not in cell:
            raise ParameterError(f"cells[{i}].field_index", "(missing)",
                                 "expected each learned cell's field (its row in the "
                                 "fields file)")  # fmt: skip
    pop = attach_learned_fields(population_from_cells(cells), file, pixel_deg=pixel_deg)
    for i, cell in enumerate(cells):
        for name in RF_COLUMNS:
            fit = float(getattr(pop, name)[i])
            if name in cell and not math.isclose(float(cell[name]), fit, rel_tol=1e-9,
                                                 abs_tol=1e-9):  # fmt: skip
                raise ParameterError(
                    f"cells[{i}].{name}", cell[name],
                    f"expected {fit:.6g} (field {cell['field_index']}'s Gabor fit) or leave it out",
                )  # fmt: skip
    return pop

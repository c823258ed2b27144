"""Learned fields as the receptive fields of model V1 cells.

A learned field is a pattern over whitened-image pixels; the whitened image stands for
what the retina and LGN hand on (Atick & Redlich 1992; Olshausen & Field 1997), so a
field pixel is mapped onto one LGN position: by default ``pixel_deg`` = the LGN mosaic's
spacing. Each good field (Gabor fit r² ≥ 0.8) becomes one cell:

``simple``
    the field itself is the cell's linear RF (push–pull onto ON and OFF LGN cells, as
    the Gabor of :mod:`v1lab.model.cortex` is);
``complex``
    the energy of the field and its quadrature partner, the 2-D Hilbert transform of the
    field across its fitted orientation (Adelson & Bergen 1985: two subunits 90° apart
    in phase), so the pair's energy does not depend on the stimulus's position.

The cells' table (:class:`~v1lab.model.population.Population`) carries each field's
Gabor fit in degrees (orientation, frequency = cycles/pixel ÷ ``pixel_deg``, phase,
``nx``, ``ny``): the layer uses them to calibrate the drive to the optimal grating and to
shape the normalisation pool, and the analyses read them as ground truth. The fields
themselves enter through the V1 layer's ``rf_images`` hook
(:func:`v1lab.model.cortex.make_image_weights`).

References
----------
Adelson EH, Bergen JR (1985) Spatiotemporal energy models for the perception of motion.
J Opt Soc Am A 2:284-299.
Atick JJ, Redlich AN (1992) Neural Comput 4:196-210.
Olshausen BA, Field DJ (1997) Vision Res 37:3311-3325.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_number
from v1lab.experiment import Circuit
from v1lab.learn.fields import GOOD_FIT_R2, LearnedFields
from v1lab.model.cortex import V1Layer
from v1lab.model.population import Population, population_from_cells
from v1lab.model.retina import Retina

__all__ = ["compute_quadrature_field", "make_learned_cells", "make_learned_circuit"]


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


def make_learned_cells(
    learned: LearnedFields,
    *,
    cell_type: str = "simple",
    pixel_deg: float = 0.2,
    min_r2: float = GOOD_FIT_R2,
    x_deg: float = 0.0,
    y_deg: float = 0.0,
) -> tuple[Population, np.ndarray]:
    """Cells from the well-fitted learned fields, and their RF images.

    Parameters
    ----------
    learned : LearnedFields
        With fits (:func:`v1lab.learn.fields.compute_field_fits`).
    cell_type : {"simple", "complex"}
    pixel_deg : float
        Degrees per field pixel (default: the default LGN spacing, 0.2°).
    min_r2 : float
        Fields whose Gabor fit is below this are left out (their fitted orientation and
        frequency would calibrate nothing real).
    x_deg, y_deg : float
        Where every RF is centred.

    Returns
    -------
    population : Population
    rf_images : ndarray (n_cells, 2, patch_px, patch_px)
        Each cell's field and its quadrature partner, unit peak.
    """
    kind = check_choice("cell_type", cell_type, ("simple", "complex"))
    px = check_number("pixel_deg", pixel_deg, lo=0, lo_open=True, unit="deg")
    if learned.fits is None:
        raise ParameterError("fields", "no fits", "expected fields with their Gabor fits")
    with np.errstate(invalid="ignore"):
        keep = np.flatnonzero(learned.fit_column("r2") >= min_r2)
    if keep.size == 0:
        raise ParameterError("min_r2", min_r2, "expected a threshold some field's fit reaches")
    sf = learned.fit_column("spatial_frequency_cpp")[keep]
    cells = [
        {
            "type": kind, "x_deg": x_deg, "y_deg": y_deg,
            "orientation_deg": float(learned.fit_column("orientation_deg")[k]),
            "spatial_frequency_cpd": float(np.clip(f / px, 0.01, 20.0)),
            "phase_deg": float(learned.fit_column("phase_deg")[k]),
            "nx": float(np.clip(learned.fit_column("sigma_across_px")[k] * f, 0.05, 3.0)),
            "ny": float(np.clip(learned.fit_column("sigma_along_px")[k] * f, 0.05, 3.0)),
        }
        for k, f in zip(keep, sf, strict=True)
    ]  # fmt: skip
    population = population_from_cells(cells)
    images = np.empty((keep.size, 2, *learned.fields.shape[1:]))
    for i, k in enumerate(keep):
        field = learned.fields[k].astype(float)
        images[i, 0] = field
        images[i, 1] = compute_quadrature_field(field, population.orientation_deg[i])
        images[i] /= np.abs(images[i, 0]).max()
    return population, images


def make_learned_circuit(
    retina: Retina, population: Population, rf_images: Any, *, pixel_deg: float = 0.2
) -> Circuit:
    """The retina → V1 chain of :class:`v1lab.experiment.Circuit` with learned RFs.

    The circuit's V1 layer is built with the fields (``V1Layer(..., rf_images=...)``), so
    :func:`v1lab.experiment.sim_rates` and anything else that takes a circuit run on the
    learned cells unchanged.
    """
    circuit = Circuit(retina, population)
    circuit.v1 = V1Layer(
        population, retina, circuit.lgn.positions_deg, rf_images=np.asarray(rf_images),
        rf_pixel_deg=pixel_deg,
    )  # fmt: skip
    return circuit

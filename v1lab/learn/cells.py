"""Learned fields as the receptive fields of model V1 cells, from a :class:`LearnedFields`.

The model's part — the fields file's reader, the quadrature partner, the RF columns and
images, the populations a protocol draws (``[population] source = "learned"``) — is
:mod:`v1lab.model.learned`, below the protocol; this module builds cells and a circuit
directly from the fields the learning stage has in hand.

``simple``
    the field itself is the cell's linear RF (push–pull onto ON and OFF LGN cells, as
    the Gabor of :mod:`v1lab.model.cortex` is);
``complex``
    the energy of the field and its quadrature partner, the 2-D Hilbert transform of the
    field across its fitted orientation (Adelson & Bergen 1985), so the pair's energy
    does not depend on the stimulus's position.

References
----------
Adelson EH, Bergen JR (1985) Spatiotemporal energy models for the perception of motion.
J Opt Soc Am A 2:284-299.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import check_choice, check_number
from v1lab.experiment import Circuit
from v1lab.learn.fields import GOOD_FIT_R2, LearnedFields
from v1lab.model.cortex import V1Layer
from v1lab.model.learned import (
    RF_COLUMNS,
    FieldFile,
    compute_learned_rfs,
    compute_quadrature_field,
    select_learned_fields,
)
from v1lab.model.population import Population, population_from_cells
from v1lab.model.retina import Retina

__all__ = ["compute_quadrature_field", "make_learned_cells", "make_learned_circuit"]


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
    file = FieldFile(learned.fields, learned.objective, learned.sources,
                     learned.settings.to_json(), learned.fits)  # fmt: skip
    # Every good fit, edge-like and cut ones included (a protocol's cells leave them out).
    keep = select_learned_fields(file, min_r2=min_r2, min_cycles=0.0, edge_margin_px=None)
    columns, images = compute_learned_rfs(file, keep, pixel_deg=px)
    cells = [
        {"type": kind, "x_deg": x_deg, "y_deg": y_deg, "field_index": int(k),
         **{name: float(columns[name][i]) for name in RF_COLUMNS}}
        for i, k in enumerate(keep)
    ]  # fmt: skip
    return population_from_cells(cells), images


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

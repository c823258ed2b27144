"""Cells and a retina shared by the live tests."""

from __future__ import annotations

from v1lab.model.population import population_from_cells
from v1lab.model.retina import Retina

SMALL = Retina(extent_deg=6.0, lgn_extent_deg=4.0)  # fast to build, same model


def simple_cell(**kw):
    cell = {"type": "simple", "orientation_deg": 90.0, "phase_deg": 0.0, "r_max_hz": 100.0}
    cell.update(kw)
    return population_from_cells([cell])

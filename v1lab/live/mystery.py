"""The mystery cell and the answer key that ``r`` reveals.

:func:`make_mystery_cell` hides a random cell; :func:`score_guess` scores the student's
:class:`~v1lab.live.state.Guess` against it (:class:`Score`). :func:`compute_rf_map` (the
true ON and OFF subregions) and :func:`compute_true_tuning` (the noise-free direction
tuning) are what the window draws when the cell is revealed, mystery or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import check_int
from v1lab.experiment import Circuit
from v1lab.live.render import SeparableDoG
from v1lab.live.state import Guess, StimulusParams
from v1lab.model.cortex import make_gabor_weights
from v1lab.model.population import CELL_TYPES, Population, make_population
from v1lab.model.retina import Retina


def make_mystery_cell(rng: np.random.Generator, *, retina: Retina | None = None) -> dict[str, Any]:
    """Draw a hidden cell: type uniform over :data:`~v1lab.model.population.CELL_TYPES`, RF centre
    uniform within the central part of the LGN mosaic, everything else from the
    distributions of :func:`~v1lab.model.population.make_population` (orientation uniform, a random
    preferred direction for a direction-selective cell).

    Returns
    -------
    dict
        A cell table for :func:`~v1lab.model.population.population_from_cells`.

    Examples
    --------
    >>> cell = make_mystery_cell(np.random.default_rng(1))
    >>> cell["type"] in CELL_TYPES and abs(cell["x_deg"]) <= 1.5
    True
    """
    retina = Retina() if retina is None else retina
    # Room for the envelope (and an end-stopped cell's end zones) inside the mosaic.
    reach = max(0.0, min(1.5, 0.5 * retina.lgn_extent_deg - 1.5))
    kind = str(rng.choice(CELL_TYPES))
    x, y = rng.uniform(-reach, reach, 2)
    pop = make_population(
        1, rng, type_fractions={kind: 1.0}, center_deg=(float(x), float(y)), rf_scatter_deg=0.0
    )
    return pop.to_cells()[0]


@dataclass(frozen=True)
class Score:
    """How good a guess was (0–100) and its parts.

    Position: 40 points, falling linearly to 0 at 1.5° of error; orientation: 30 points,
    falling to 0 at 45°; type: 20 points (10 for the right family, simple-like versus
    complex-like); direction: 10 points (none for a non-direction-selective cell, or
    within 45° of the preferred direction). A guess without a position and an orientation
    scores 0.
    """

    total: int
    position_error_deg: float
    orientation_error_deg: float
    type_correct: bool
    direction_correct: bool
    points: dict[str, float]

    def describe(self) -> str:
        return (
            f"score {self.total}/100: position off by {self.position_error_deg:.2f}°, "
            f"orientation by {self.orientation_error_deg:.0f}°, type "
            f"{'right' if self.type_correct else 'wrong'}, direction "
            f"{'right' if self.direction_correct else 'wrong'}"
        )


_FAMILY = {
    "simple": "simple",
    "ds_simple": "simple",
    "complex": "complex",
    "end_stopped": "complex",
}


def score_guess(guess: Guess, truth: Mapping[str, Any]) -> Score:
    """Score a guess against the true cell (a cell table, as from ``Population.to_cells``).

    Examples
    --------
    >>> truth = {"type": "complex", "x_deg": 0.5, "y_deg": 0.0, "orientation_deg": 30.0}
    >>> score_guess(Guess(0.5, 0.0, 30.0, "complex", "none"), truth).total
    100
    >>> score_guess(Guess(3.0, 3.0, 120.0, "simple", "+90"), truth).total
    0
    """
    pos_err = math.hypot(guess.x_deg - truth["x_deg"], guess.y_deg - truth["y_deg"])
    if not math.isfinite(pos_err):
        pos_err = math.inf
    d = (guess.orientation_deg - truth["orientation_deg"]) % 180.0
    ori_err = min(d, 180.0 - d) if math.isfinite(d) else 90.0
    true_type = str(truth["type"])
    type_points = 20.0 if guess.cell_type == true_type else 0.0
    if not type_points and _FAMILY.get(guess.cell_type) == _FAMILY.get(true_type):
        type_points = 10.0
    true_dir = truth.get("preferred_direction_deg")
    if true_dir is None or not math.isfinite(float(true_dir)):
        direction_ok = guess.direction == "none"
    else:
        g = guess.direction_deg
        gap = abs((g - float(true_dir) + 180.0) % 360.0 - 180.0) if math.isfinite(g) else 180.0
        direction_ok = gap <= 45.0
    points = {
        "position": 40.0 * max(0.0, 1.0 - pos_err / 1.5),
        "orientation": 30.0 * max(0.0, 1.0 - ori_err / 45.0),
        "type": type_points,
        "direction": 10.0 if direction_ok else 0.0,
    }
    if not guess.complete:  # no statement (enter was never pressed): nothing to score
        points = dict.fromkeys(points, 0.0)
    return Score(
        total=round(sum(points.values())),
        position_error_deg=pos_err,
        orientation_error_deg=ori_err,
        type_correct=guess.cell_type == true_type,
        direction_correct=direction_ok,
        points=points,
    )


def compute_rf_map(
    population: Population, cell: int = 0, *, extent_deg: float = 10.0, n: int = 161
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cell's linear RF on a grid, for drawing its ON (+) and OFF (−) subregions.

    Simple cells: the Gabor of their (even, non-lagged) subunit; complex and end-stopped
    cells, which have no separate ON and OFF regions (Hubel & Wiesel 1962), their
    envelope (minus the end zones for an end-stopped cell).

    Returns
    -------
    x_deg, y_deg : ndarray, shape (n,)
    rf : ndarray, shape (n, n)
        Row 0 at the bottom (``y_deg[0]``), normalised to a peak magnitude of 1.
    """
    axis = np.linspace(-0.5 * extent_deg, 0.5 * extent_deg, n)
    xx, yy = np.meshgrid(axis, axis)
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    sf = pop_sf = float(population.spatial_frequency_cpd[cell])
    kind = str(population.cell_type[cell])
    theta = math.radians(float(population.orientation_deg[cell]))
    sa = float(population.nx[cell]) / sf
    sl = float(population.ny[cell]) / sf
    x0, y0 = float(population.x_deg[cell]), float(population.y_deg[cell])

    def gabor(cx: float, cy: float, phase: float, freq: float) -> np.ndarray:
        return make_gabor_weights(
            pts,
            x_deg=np.array([cx]),
            y_deg=np.array([cy]),
            orientation_deg=np.array([math.degrees(theta)]),
            spatial_frequency_cpd=np.array([freq]),
            phase_deg=np.array([phase]),
            sigma_across_deg=np.array([sa]),
            sigma_along_deg=np.array([sl]),
        )[:, 0]

    if kind in ("simple", "ds_simple"):
        rf = gabor(x0, y0, float(population.phase_deg[cell]), pop_sf)
    else:
        rf = gabor(x0, y0, 0.0, 1e-9)  # a vanishing frequency leaves the envelope
        if kind == "end_stopped":
            off = 2.5 * sl * np.array([math.cos(theta), math.sin(theta)])
            k = float(population.end_inhibition[cell])
            for sign in (1, -1):
                rf = rf - k * gabor(x0 + sign * off[0], y0 + sign * off[1], 0.0, 1e-9)
    rf = rf.reshape(n, n)
    peak = float(np.max(np.abs(rf)))
    return axis, axis, rf / peak if peak > 0 else rf


def compute_true_tuning(
    retina: Retina,
    population: Population,
    *,
    cell: int = 0,
    n_directions: int = 24,
    speed_deg_s: float = 4.0,
    travel_deg: float = 6.0,
    length_deg: float = 4.0,
    width_deg: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """The cell's direction tuning to a light slit swept across its RF centre.

    The batch protocol's stimulus (a slit swept at ``speed_deg_s`` in each of
    ``n_directions`` directions), simulated through the same retina and V1, without spike
    noise: the answer key for the mystery cell.

    Returns
    -------
    directions_deg : ndarray
    rates_hz : ndarray
        Mean model rate of ``cell`` over each sweep.
    """
    n_directions = check_int("n_directions", n_directions, lo=1, hi=360)
    circuit = Circuit(retina, population)
    dog = SeparableDoG(retina)
    fs = retina.frame_rate_hz
    directions = np.arange(n_directions) * 360.0 / n_directions
    rates = np.zeros(n_directions)
    duration = travel_deg / speed_deg_s
    t = np.arange(round(duration * fs)) / fs
    blank = round(retina.kernel_s * fs)
    x0, y0 = float(population.x_deg[cell]), float(population.y_deg[cell])
    for i, direction in enumerate(directions):
        # The moving bar of v1lab.model.stimulus.Bar, frame by frame, each drawn in its own window.
        rad = math.radians(direction)
        offset = speed_deg_s * (t - 0.5 * duration)
        spatial = np.array(
            [
                dog.shape_response(
                    StimulusParams(
                        x_deg=x0 + d * math.cos(rad), y_deg=y0 + d * math.sin(rad),
                        orientation_deg=(direction - 90.0) % 360.0, length_deg=length_deg,
                        width_deg=width_deg,
                    )
                )
                for d in offset
            ]
        )  # fmt: skip
        circuit.reset()
        r = circuit.v1.process(circuit.lgn.process_spatial(spatial.astype(np.float32)))
        tail = circuit.process_blank(blank)
        rates[i] = float(np.concatenate([r[:, cell], tail[:, cell]]).mean())
    return directions, rates

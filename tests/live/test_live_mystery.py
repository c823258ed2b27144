"""The mystery cell: drawing it, scoring a guess, and the answer key (true RF and tuning)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _live_cells import SMALL, simple_cell

from v1lab.live import (
    Guess,
    KeyEvent,
    LiveState,
    MouseEvent,
    ScrollEvent,
    compute_rf_map,
    compute_true_tuning,
    handle_key,
    handle_mouse_move,
    handle_scroll,
    make_mystery_cell,
    score_guess,
)
from v1lab.model.population import CELL_TYPES, population_from_cells

# --------------------------------------------------------------------------------------
# The mystery cell
# --------------------------------------------------------------------------------------


def test_mystery_cells_are_valid_varied_and_inside_the_mosaic():
    kinds = set()
    for seed in range(40):
        cell = make_mystery_cell(np.random.default_rng(seed))
        pop = population_from_cells([cell])
        kinds.add(cell["type"])
        assert abs(cell["x_deg"]) <= 1.5 and abs(cell["y_deg"]) <= 1.5
        assert ("preferred_direction_deg" in cell) == (cell["type"] == "ds_simple")
        assert len(pop) == 1
    assert kinds == set(CELL_TYPES)


def test_score_of_a_right_and_a_wrong_guess():
    truth = {
        "type": "ds_simple", "x_deg": 0.8, "y_deg": -0.4, "orientation_deg": 170.0,
        "preferred_direction_deg": 80.0,
    }  # fmt: skip
    right = Guess(x_deg=0.8, y_deg=-0.4, orientation_deg=170.0, cell_type="ds_simple",
                  direction="+270")  # fmt: skip
    assert right.direction_deg == 80.0
    score = score_guess(right, truth)
    assert score.total == 100 and score.type_correct and score.direction_correct
    wrong = Guess(x_deg=-2.0, y_deg=2.0, orientation_deg=80.0, cell_type="complex")
    score = score_guess(wrong, truth)
    assert score.total == 0 and not score.type_correct and not score.direction_correct
    assert score.position_error_deg == pytest.approx(math.hypot(2.8, 2.4))
    assert score.orientation_error_deg == pytest.approx(90.0)
    # Close: 0.75° off (20 of 40), 10° off (23.3 of 30), the right family (10), wrong way (0).
    close = Guess(x_deg=0.8 + 0.75, y_deg=-0.4, orientation_deg=0.0, cell_type="simple",
                  direction="+270")  # fmt: skip
    score = score_guess(close, truth)
    assert score.points == pytest.approx(
        {"position": 20.0, "orientation": 30 * (1 - 10 / 45), "type": 10.0, "direction": 0.0}
    )
    assert score.total == 53
    assert score_guess(Guess(), truth).total == 0  # no guess made


def test_the_guess_is_stated_with_keys():
    s = LiveState(mystery=True)
    handle_mouse_move(s, MouseEvent(0.5, 1.0))
    handle_scroll(s, ScrollEvent(3.0))  # 135°
    handle_key(s, KeyEvent("enter"))
    handle_key(s, KeyEvent("t"))
    handle_key(s, KeyEvent("d"))
    g = s.guess
    assert (g.x_deg, g.y_deg, g.orientation_deg) == (0.5, 1.0, 135.0)
    assert g.cell_type == "complex" and g.direction == "+90" and g.direction_deg == 225.0
    truth = {"type": "complex", "x_deg": 0.5, "y_deg": 1.0, "orientation_deg": 135.0}
    assert score_guess(g, truth).total == 90  # all but the direction (it has none)


def test_true_tuning_of_a_complex_cell_peaks_across_its_orientation():
    pop = population_from_cells([{"type": "complex", "orientation_deg": 90.0}])
    directions, rates = compute_true_tuning(SMALL, pop, n_directions=4)
    assert directions.tolist() == [0.0, 90.0, 180.0, 270.0]
    # A vertical slit moving right or left drives it; a horizontal one moving up or down not.
    assert min(rates[0], rates[2]) > 5 * max(rates[1], rates[3])


def test_rf_map_shows_on_and_off_subregions_of_a_simple_cell_only():
    x, _, rf = compute_rf_map(simple_cell(), extent_deg=6.0, n=121)
    centre = rf[60, 60]
    flank = rf[60, np.argmin(np.abs(x - 0.625))]
    assert centre == pytest.approx(1.0) and flank < -0.3
    _, _, rf_c = compute_rf_map(population_from_cells([{"type": "complex"}]), extent_deg=6.0)
    assert rf_c.min() >= 0.0

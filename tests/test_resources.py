"""The memory check: arithmetic only (nothing of the estimated size is allocated), the old
numbers for ordinary protocols, and a refusal that names the field behind the cost."""

from __future__ import annotations

import copy
import tracemalloc

import numpy as np
import pytest

from v1lab import ParameterError, experiment
from v1lab.experiment import CHUNK_FRAMES, check_resources, estimate_memory_bytes
from v1lab.model.retina import count_lgn_positions, make_lgn_positions
from v1lab.protocol import list_protocols, load_lab_data, load_protocol, parse_protocol

DEFAULT = load_protocol("hubel_wiesel_bars").to_dict()


def _old_estimate(protocol) -> dict[str, int]:
    """The estimate as it was before it became arithmetic (it built the LGN lattice)."""
    r = protocol.retina
    n_pix = r.grid.n_pixels**2
    n_lgn = make_lgn_positions(r.lgn_extent_deg, r.lgn_spacing_deg).shape[0]
    n_cells = len(protocol.population.cells) or protocol.population.n_cells
    fs = r.frame_rate_hz
    longest = max(c.duration_s for c in protocol.conditions()) + protocol.trials.isi_s
    n_frames = int(np.ceil(longest * fs))
    spatial = n_pix * n_lgn * (4 + 2 * 8)
    chunk = CHUNK_FRAMES * n_pix * 4 * 3
    subunits = 6 * n_cells
    per_condition = n_frames * (4 * n_lgn + subunits + 3 * n_cells) * 4 * 2
    v1_weights = 4 * n_lgn * subunits * 4
    return {
        "retina.pixels_per_deg": spatial + chunk,
        "retina.lgn_spacing_deg": v1_weights,
        "stimuli.duration_s": per_condition,
    }


def _visual_protocols() -> list[str]:
    """The shipped visual protocols: lab protocols (``lab = "axon"``, ...) have no retina."""
    names = [n for n, _ in list_protocols()]
    return [n for n in names if load_lab_data(n) is None]


@pytest.mark.parametrize("name", _visual_protocols())
def test_the_arithmetic_estimate_is_the_old_one_on_every_preset(name):
    protocol = load_protocol(name)
    old = _old_estimate(protocol)
    new = estimate_memory_bytes(protocol)
    assert new["lgn_weights"] + new["frame_chunks"] == old["retina.pixels_per_deg"]
    assert new["v1_weights"] == old["retina.lgn_spacing_deg"]
    assert new["condition_rates"] == old["stimuli.duration_s"]
    # The one new piece, the presentations table, is small for an ordinary protocol
    # (the largest share is spot_map's, 20 repeats of 164 conditions: 2.3 %).
    assert new["presentations"] < 0.03 * sum(old.values())


@pytest.mark.parametrize("extent", [0.1, 1.0, 2.5, 3.0, 6.0, 7.3, 50.0])
@pytest.mark.parametrize("spacing", [0.05, 0.1, 0.13, 0.2, 0.25, 0.7, 3.0])
def test_lgn_positions_are_counted_without_building_them(extent, spacing):
    assert count_lgn_positions(extent, spacing) == len(make_lgn_positions(extent, spacing))


def _protocol(**changes):
    data = copy.deepcopy(DEFAULT)
    for path, value in changes.items():
        section, key = path.split("__")
        if section.startswith("stimuli"):
            data["stimuli"][int(section[7:])][key] = value
        else:
            data[section][key] = value
    return parse_protocol(data)


@pytest.mark.parametrize("spacing", [1e-4, 5e-4, 1e-3, 5e-324])
def test_a_fine_lgn_lattice_is_refused_at_once_naming_the_spacing(spacing):
    protocol = _protocol(retina__lgn_spacing_deg=spacing)
    tracemalloc.start()
    try:
        with pytest.raises(ParameterError) as info:
            check_resources(protocol)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6  # no lattice built: it was GBs (or numpy's _ArrayMemoryError)
    message = str(info.value)
    assert message.startswith(f"retina.lgn_spacing_deg = {spacing!r}: the run would need"), message
    assert "raise it (at 0.2 " in message and "\n" not in message


def test_a_long_stimulus_is_named_with_its_block(monkeypatch):
    data = copy.deepcopy(DEFAULT)
    # Within the duration's allowed range (a day), but more than this machine is made
    # to have here (1 GB), so the memory check refuses it and names the block.
    data["stimuli"].append({"kind": "grating", "duration_s": [2.0, 80000.0]})
    monkeypatch.setattr(experiment, "_available_memory_bytes", lambda: 1_000_000_000)
    with pytest.raises(ParameterError) as info:
        check_resources(parse_protocol(data))
    message = str(info.value)
    assert message.startswith("stimuli[1].duration_s = 80000.0: the run would need"), message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"trials__n_trials": 10_000}, "trials.n_trials = 10000"),
        ({"population__n_cells": 100_000}, "population.n_cells = 100000"),
        ({"retina__pixels_per_deg": 100.0}, "retina.pixels_per_deg = 100.0"),
        ({"retina__frame_rate_hz": 10_000.0}, "retina.frame_rate_hz = 10000.0"),
        ({"stimuli0__duration_s": 600.0}, "stimuli[0].duration_s = 600.0"),
    ],
)
def test_the_refusal_names_the_field_that_drives_the_cost(monkeypatch, changes, field):
    protocol = _protocol(**changes)
    need = sum(estimate_memory_bytes(protocol).values())
    ordinary = sum(estimate_memory_bytes(load_protocol("hubel_wiesel_bars")).values())
    # A machine with room for the ordinary protocol but not for this one.
    monkeypatch.setattr(experiment, "_available_memory_bytes", lambda: int(1.1 * ordinary / 0.8))
    assert need > 1.1 * ordinary
    with pytest.raises(ParameterError) as info:
        check_resources(protocol)
    assert str(info.value).startswith(f"{field}: the run would need"), str(info.value)
    check_resources(load_protocol("hubel_wiesel_bars"))  # the ordinary one still runs


def test_explicit_cells_are_named_as_the_cell_list(monkeypatch):
    monkeypatch.setattr(experiment, "_available_memory_bytes", lambda: 1_000_000)
    with pytest.raises(ParameterError, match=r"^retina.pixels_per_deg = 8.0: .* lower it$"):
        check_resources(load_protocol("hubel_wiesel_bars"))  # nothing above ordinary: largest piece
    data = copy.deepcopy(DEFAULT)
    data["population"] = {"cells": [{"type": "simple"}] * 5000}
    with pytest.raises(ParameterError, match=r"^population.cells = '5000 cells': "):
        check_resources(parse_protocol(data))

"""The card on learned cells (issue 15): ``v1lab card --fields FILE``."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from v1lab.card.battery import BatterySpec, make_battery_plan
from v1lab.card.population import card_retina_section, make_card_population
from v1lab.card.run import main
from v1lab.card.scores import compute_card
from v1lab.model.learned import load_field_file, select_learned_fields

FIELDS = Path(__file__).resolve().parents[2] / "stimuli" / "learned_fields.npz"


def test_a_learned_card_population_is_learned_cells_at_the_penetration():
    pop = make_card_population("cat", 20, np.random.default_rng(1), fields=str(FIELDS))
    keep = select_learned_fields(load_field_file(FIELDS))
    assert set(pop.field_index) <= set(keep) and len(set(pop.field_index)) == 20
    assert not pop.x_deg.any() and not pop.y_deg.any() and pop.rf_images is not None
    # The cat's simple-like share (simple 0.4 + ds_simple 0.15) are simple, the rest complex.
    assert (pop.cell_type == "simple").sum() == 11 and (pop.cell_type == "complex").sum() == 9
    learned = {"source": "learned", "fields": str(FIELDS), "field_pixel_deg": pop.rf_pixel_deg}
    plan = make_battery_plan(pop, card_retina_section("cat"), seed=0,
                             spec=BatterySpec.quick(), learned=learned)  # fmt: skip
    # No band's LGN is coarser than a field pixel (0.2° ≤ 0.28°; band ×0.5 would be 0.4°).
    assert min(k for k, _, _ in plan.bands) >= 1.0
    assert pop.spatial_frequency_cpd.min() < 0.5  # a cell band ×0.5 would otherwise take
    # Every band's protocol records from the same learned cells, fields and images.
    for (protocol, _), (_, _, members) in zip(plan.protocols, plan.bands, strict=True):
        band = protocol.population.make(np.random.default_rng(0))
        assert band.field_index.tolist() == pop.field_index[members].tolist()
        np.testing.assert_array_equal(band.rf_images, pop.select(members).rf_images)


@pytest.mark.slow
def test_a_small_learned_card_measures_its_cells():
    card = compute_card("macaque", 6, seed=1, spec=BatterySpec.quick(), fields=str(FIELDS))
    assert card.cells["band_factor"].shape == (6,)
    assert np.isfinite(card.cells["band_factor"]).all()
    f1_f0 = card.cells["modulation_ratio"]
    simple = card.cells["cell_type"] == "simple"
    assert simple.any() and (~simple).any()
    # Responsive simple cells are modulated, complex ones are not (F1/F0 around 1).
    assert np.nanmin(f1_f0[~simple]) < 1.0 < np.nanmax(f1_f0[simple])


def test_the_card_refuses_a_missing_fields_file_in_one_line(tmp_path, capsys):
    code = main(["--cells", "4", "--quick", "--fields", str(tmp_path / "none.npz"),
                 "--out", str(tmp_path / "card")], out=io.StringIO())  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("v1lab card: error: fields = 'none.npz': ") and "does not exist" in err
    assert not (tmp_path / "card").exists()

"""The card's penetration: the seam, the bands and the retina scaling."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.card.battery import BatterySpec, make_band_protocol, make_battery_plan
from v1lab.card.population import (
    assign_bands,
    card_retina_section,
    compute_band_top_cpd,
    make_card_population,
    scale_retina_section,
)
from v1lab.model.retina import Retina


def test_scale_retina_section_is_pure_and_keeps_the_sizes():
    base = card_retina_section("macaque")
    before = dict(base)
    fine = scale_retina_section(base, 4.0)
    assert base == before  # the input is untouched
    assert fine["pixels_per_deg"] == 4 * base["pixels_per_deg"]
    for key in (
        "extent_deg",
        "lgn_extent_deg",
        "lgn_spacing_deg",
        "center_sigma_deg",
        "surround_sigma_deg",
    ):
        assert fine[key] == pytest.approx(base[key] / 4)
    for key in ("frame_rate_hz", "surround_weight", "baseline", "tau_s", "beta"):
        assert fine[key] == base[key]
    a, b = Retina(**base), Retina(**fine)
    assert a.grid.n_pixels == b.grid.n_pixels and a.n_lgn_positions == b.n_lgn_positions
    # The band top scales with the mosaic.
    assert compute_band_top_cpd(fine) == pytest.approx(4 * compute_band_top_cpd(base), rel=1e-3)


def test_scale_retina_section_refuses_a_bad_factor():
    for factor in (0, -2):
        with pytest.raises(ParameterError):
            scale_retina_section(card_retina_section("cat"), factor)


def test_bands_are_powers_of_two():
    top = 1.0
    f = np.array([0.26, 0.5, 0.51, 1.0, 1.01, 2.0, 7.9, 16.0])
    assert assign_bands(f, top).tolist() == [0.5, 0.5, 1.0, 1.0, 2.0, 2.0, 8.0, 16.0]


def test_card_population_at_one_place_and_species_checked():
    pop = make_card_population("cat", 30, np.random.default_rng(1))
    assert len(pop) == 30 and not pop.x_deg.any() and not pop.y_deg.any()
    with pytest.raises(ParameterError):
        make_card_population("mouse", 3, np.random.default_rng(0))
    with pytest.raises(ParameterError):
        make_card_population("cat", 0, np.random.default_rng(0))


def test_band_protocol_parts_and_scaling():
    pop = make_card_population("macaque", 3, np.random.default_rng(0))
    spec = BatterySpec()
    base = card_retina_section("macaque")
    protocols = [
        make_band_protocol(
            cells=pop.to_cells(), retina=scale_retina_section(base, k), f_ref=k, seed=1, spec=spec
        )
        for k in (1.0, 2.0)
    ]
    (p1, ranges), (p2, _) = protocols
    assert list(ranges) == list(spec.parts)
    assert sum(b - a for a, b in ranges.values()) == len(p1.conditions()) == len(p2.conditions())
    # A condition costs ~ the same whatever its length; the size part's two frequencies
    # (each cell read at the one it preferred) are 240 of the 534.
    assert len(p1.conditions()) < 540
    c1, c2 = p1.conditions(), p2.conditions()
    for a, b in zip(c1, c2, strict=True):
        pa, pb = a.trial_params(), b.trial_params()
        if "spatial_frequency_cpd" in pa:
            assert pb["spatial_frequency_cpd"] == pytest.approx(2 * pa["spatial_frequency_cpd"])
        for key in ("aperture_radius_deg", "length_deg", "width_deg", "x_deg", "radius_deg"):
            if key in pa and np.isfinite(pa[key]):
                assert pb[key] == pytest.approx(pa[key] / 2)


def test_plan_is_reproducible_and_covers_every_cell():
    pop = make_card_population("macaque", 40, np.random.default_rng(5))
    plan = make_battery_plan(pop, card_retina_section("macaque"), seed=3)
    again = make_battery_plan(pop, card_retina_section("macaque"), seed=3)
    members = np.sort(np.concatenate([m for _, _, m in plan.bands]))
    assert members.tolist() == list(range(40))
    assert [p.seed for p, _ in plan.protocols] == [p.seed for p, _ in again.protocols]
    with pytest.raises(ParameterError):
        make_battery_plan(pop, card_retina_section("macaque"), seed=3, spec=BatterySpec(isi_s=0.1))

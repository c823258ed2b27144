"""Learned fields as the model's RFs (v1lab.model.learned): the file, the cells, the images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.model.cortex import V1Layer
from v1lab.model.learned import (
    EDGE_MARGIN_PX,
    FIT_COLUMNS,
    FieldFile,
    attach_learned_fields,
    compute_learned_rfs,
    load_field_file,
    make_learned_population,
    select_learned_fields,
)
from v1lab.model.population import population_from_cells
from v1lab.model.retina import Retina, make_lgn_positions

SHIPPED = Path(__file__).resolve().parents[2] / "stimuli" / "learned_fields.npz"
RETINA = Retina(extent_deg=6.0, lgn_extent_deg=4.0)


def _gabor_file(centres_px=((0.0, 0.0),), patch_px=12, f_cpp=0.2) -> FieldFile:
    """Fields that are exactly Gabors (vertical carrier, orientation 0) at given centres."""
    x = np.arange(patch_px) - (patch_px - 1) / 2.0
    xx, yy = np.meshgrid(x, x[::-1])
    fields, fits = [], []
    for cx, cy in centres_px:
        g = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 1.5**2)) * np.cos(
            2 * np.pi * f_cpp * (yy - cy)
        )
        fields.append(g / np.linalg.norm(g))
        fits.append([1.0, cx, cy, 0.0, 1.5, 1.5, f_cpp, 0.0, 0.99])
    return FieldFile(np.array(fields, np.float32), np.zeros(0), (), "{}", np.array(fits))


def test_the_shipped_fields_file_is_read_whole_and_by_its_folder(tmp_path):
    file = load_field_file(SHIPPED)
    assert file.fields.shape == (144, 12, 12) and file.fits.shape == (144, len(FIT_COLUMNS))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "fields.npz").write_bytes(SHIPPED.read_bytes())
    np.testing.assert_array_equal(load_field_file(tmp_path / "run").fields, file.fields)


def test_a_bad_fields_file_is_one_line_naming_fields(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    for path in (tmp_path / "junk.npz", tmp_path / "missing.npz", tmp_path / "other.npz"):
        with pytest.raises(ParameterError, match=r"^fields = ") as err:
            load_field_file(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_selection_leaves_out_bad_fits_edges_and_fields_cut_by_the_patch():
    # 12 px: the edge is at ±6 px, so a centre beyond 6 − 1.5 = 4.5 px is cut.
    file = _gabor_file([(0.0, 0.0), (4.4, -4.4), (4.6, 0.0), (0.0, -5.0), (1.0, 1.0)])
    fits = file.fits.copy()
    fits[4, FIT_COLUMNS.index("r2")] = 0.5  # a bad fit
    file = FieldFile(file.fields, file.objective, file.sources, "{}", fits)
    assert EDGE_MARGIN_PX == 1.5
    assert select_learned_fields(file).tolist() == [0, 1]
    assert select_learned_fields(file, edge_margin_px=None).tolist() == [0, 1, 2, 3]
    edge = FieldFile(file.fields, file.objective, (), "{}", fits * [1, 1, 1, 1, 1, 1, 0.01, 1, 1])
    with pytest.raises(ParameterError, match="carrier cycles"):
        select_learned_fields(edge)  # 0.002 c/px × 12 px: every fit is edge-like


def test_each_image_is_centred_on_its_fit_and_the_layer_finds_it_there():
    # A field centred 3 px right and 2 px up of the patch's centre: the cell placed at
    # (0, 0) must have its RF at (0, 0), i.e. the image moved by (−3, −2) px.
    file = _gabor_file([(3.0, 2.0)])
    _, images = compute_learned_rfs(file, [0], pixel_deg=0.25)
    n = images.shape[-1]
    rows, cols = np.indices((n, n))
    weight = images[0, 0] ** 2
    centre = (n - 1) / 2.0
    assert np.sum(weight * cols) / weight.sum() == pytest.approx(centre, abs=0.05)
    assert np.sum(weight * rows) / weight.sum() == pytest.approx(centre, abs=0.05)
    # The whole field is kept (the canvas is padded, nothing falls off its edge).
    assert np.sum(images[0, 0] ** 2) == pytest.approx(
        np.sum(file.fields[0].astype(float) ** 2) / np.abs(file.fields[0]).max() ** 2, rel=1e-6
    )


def test_the_quadrature_partner_of_a_field_near_the_edge_does_not_wrap_around():
    # On the bare patch the FFT's Hilbert transform is periodic: a field near one edge
    # would leak into the opposite one. On the padded canvas the partner has the field's
    # energy (within the Nyquist and k·n = 0 losses, < 3 % here) and is orthogonal to it.
    file = _gabor_file([(4.0, -4.0)])
    _, images = compute_learned_rfs(file, [0])
    field, quad = images[0]
    assert np.sum(quad**2) == pytest.approx(np.sum(field**2), rel=0.03)
    assert abs(np.sum(field * quad)) < 1e-9 * np.sum(field**2)


def test_a_learned_population_is_drawn_like_the_drawn_one_but_for_its_rfs():
    from v1lab.model.population import make_population

    file = load_field_file(SHIPPED)
    keep = select_learned_fields(file)
    pop = make_learned_population(file, 2 * keep.size + 3, np.random.default_rng(5),
                                  type_fractions={"simple": 0.5, "complex": 0.5})  # fmt: skip
    drawn = make_population(len(pop), np.random.default_rng(5),
                            type_fractions={"simple": 0.5, "complex": 0.5})  # fmt: skip
    for name in ("cell_type", "x_deg", "y_deg", "r_max_hz", "c50", "surround_strength"):
        np.testing.assert_array_equal(getattr(pop, name), getattr(drawn, name))
    # Every field serves twice before any serves three times.
    counts = np.bincount(pop.field_index, minlength=file.n_fields)[keep]
    assert counts.min() == 2 and counts.max() == 3 and set(pop.field_index) <= set(keep)
    assert pop.rf_images.shape[:2] == (len(pop), 2) and pop.rf_pixel_deg == 0.28
    # The RF columns are the fields' fits in degrees.
    f_cpp = file.fit_column("spatial_frequency_cpp")[pop.field_index]
    np.testing.assert_allclose(pop.spatial_frequency_cpd, f_cpp / 0.28)
    np.testing.assert_allclose(
        pop.orientation_deg, np.mod(file.fit_column("orientation_deg")[pop.field_index], 180)
    )
    # Same seed, same cells and fields; another seed, other fields.
    again = make_learned_population(file, len(pop), np.random.default_rng(5),
                                    type_fractions={"simple": 0.5, "complex": 0.5})  # fmt: skip
    np.testing.assert_array_equal(again.field_index, pop.field_index)
    np.testing.assert_array_equal(again.rf_images, pop.rf_images)
    other = make_learned_population(file, 8, np.random.default_rng(6))
    assert other.field_index.tolist() != pop.field_index[:8].tolist()


def test_listed_cells_get_their_fields_and_select_keeps_them():
    file = load_field_file(SHIPPED)
    keep = select_learned_fields(file)
    cells = [{"type": "simple", "field_index": int(keep[0])},
             {"type": "complex", "field_index": int(keep[3]), "x_deg": 0.5}]  # fmt: skip
    pop = attach_learned_fields(population_from_cells(cells), file)
    assert pop.field_index.tolist() == [keep[0], keep[3]]
    assert pop.to_cells()[1]["field_index"] == keep[3]
    one = pop.select([1])
    np.testing.assert_array_equal(one.rf_images[0], pop.rf_images[1])
    assert one.field_index.tolist() == [keep[3]] and one.x_deg.tolist() == [0.5]
    # The layer reads the population's own images: the weights are those of the hook.
    lgn = make_lgn_positions(RETINA.lgn_extent_deg, RETINA.lgn_spacing_deg)
    np.testing.assert_array_equal(
        V1Layer(pop, RETINA, lgn).weights,
        V1Layer(pop, RETINA, lgn, rf_images=pop.rf_images, rf_pixel_deg=0.28).weights,
    )
    bad = [{"type": "simple", "field_index": int(np.setdiff1d(np.arange(144), keep)[0])}]
    with pytest.raises(ParameterError, match=r"cells\[0\]\.field_index"):
        attach_learned_fields(population_from_cells(bad), file)
    with pytest.raises(ParameterError, match=r"cells\[0\]\.type"):
        attach_learned_fields(
            population_from_cells([{"type": "ds_simple", "field_index": int(keep[0])}]), file
        )

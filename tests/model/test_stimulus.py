"""Tests for v1lab.model.stimulus: parameter rules, exact area sampling, timing and files."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import math
import pkgutil

import numpy as np
import pytest

import v1lab.model.stimulus as stimulus_module
import v1lab.model.stimulus.render as render_module
from v1lab._validate import ParameterError
from v1lab.model.stimulus import (
    STIMULUS_KINDS,
    Annulus,
    Bar,
    Blank,
    FullField,
    Grating,
    Image,
    RetinaGrid,
    Spot,
    frame_times,
    iter_frames,
    make_stimulus,
    render_frames,
    save_gif,
)
from v1lab.model.stimulus.coverage import polygon_coverage

PPD = 8.0
GRID = RetinaGrid(extent_deg=8.0, pixels_per_deg=PPD)
PIXEL = 1.0 / PPD


def one_frame(stim, grid=GRID, t=0.0):
    return render_frames(stim, grid, [t])[0].astype(np.float64)


def centroid(frame, grid=GRID):
    x, y = grid.coords()
    total = frame.sum()
    return (frame * x).sum() / total, (frame * y).sum() / total


def supersample(inside, grid=GRID, k=48):
    """Brute-force covered fraction: mean of ``inside`` over k × k points per pixel."""
    x, y = grid.coords()
    offsets = ((np.arange(k) + 0.5) / k - 0.5) * grid.pixel_deg
    ox, oy = np.meshgrid(offsets, offsets)
    return inside(x[..., None] + ox.ravel(), y[..., None] + oy.ravel()).mean(axis=-1)


# --------------------------------------------------------------------------------------
# Grid
# --------------------------------------------------------------------------------------


def test_grid_geometry():
    grid = RetinaGrid(extent_deg=3.0, pixels_per_deg=2.0)
    assert grid.n_pixels == 6
    assert grid.pixel_deg == 0.5
    assert grid.nbytes_per_frame == 6 * 6 * 4
    x, y = grid.coords()
    assert x.shape == y.shape == (6, 6)
    assert x.dtype == y.dtype == np.float64
    np.testing.assert_allclose(x[0], [-1.25, -0.75, -0.25, 0.25, 0.75, 1.25])
    np.testing.assert_allclose(y[:, 0], [1.25, 0.75, 0.25, -0.25, -0.75, -1.25])
    assert RetinaGrid(extent_deg=0.01, pixels_per_deg=1.0).n_pixels == 1


def test_grid_refuses_huge_and_bad_values():
    with pytest.raises(ParameterError, match="pixels_per_deg = 10000"):
        RetinaGrid(extent_deg=10.0, pixels_per_deg=10000)
    with pytest.raises(ParameterError, match="extent_deg = -1"):
        RetinaGrid(extent_deg=-1)


# --------------------------------------------------------------------------------------
# Bars: geometry, motion, area sampling
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [0.0, 30.0, 45.0, 90.0, 135.0])
def test_bar_orientation_from_second_moments(orientation):
    frame = one_frame(Bar(orientation_deg=orientation, width_deg=0.25, length_deg=6.0))
    x, y = GRID.coords()
    total = frame.sum()
    mx, my = (frame * x).sum() / total, (frame * y).sum() / total
    sxx = (frame * (x - mx) ** 2).sum()
    syy = (frame * (y - my) ** 2).sum()
    sxy = (frame * (x - mx) * (y - my)).sum()
    measured = math.degrees(0.5 * math.atan2(2 * sxy, sxx - syy)) % 180.0
    error = (measured - orientation + 90.0) % 180.0 - 90.0
    assert abs(error) < 1.0


@pytest.mark.parametrize("direction", [0.0, 135.0, 250.0])
def test_moving_bar_centroid_moves_speed_over_frame_rate(direction):
    frame_rate = 50.0
    step_deg = 0.3 * PIXEL  # a sub-pixel step per frame
    bar = Bar(
        direction_deg=direction,
        width_deg=2 * PIXEL,
        length_deg=3.0,
        speed_deg_s=step_deg * frame_rate,
        x_deg=0.3,
        y_deg=-0.2,
        duration_s=0.4,
    )
    frames = render_frames(bar, GRID, frame_times(bar, frame_rate)).astype(np.float64)
    centres = np.array([centroid(f) for f in frames])
    steps = np.diff(centres, axis=0)
    rad = math.radians(direction)
    along = steps @ np.array([math.cos(rad), math.sin(rad)])
    across = steps @ np.array([-math.sin(rad), math.cos(rad)])
    np.testing.assert_allclose(along, step_deg, atol=0.03 * 0.3 * PIXEL)
    np.testing.assert_allclose(across, 0.0, atol=0.03 * 0.3 * PIXEL)
    # The sweep is centred on (x_deg, y_deg) at the middle of the presentation.
    middle = centroid(one_frame(bar, t=0.2))
    np.testing.assert_allclose(middle, (0.3, -0.2), atol=1e-3 * PIXEL)


def test_subpixel_shift_moves_centroid_by_that_fraction():
    a = Bar(orientation_deg=90, width_deg=2 * PIXEL, length_deg=2.0, x_deg=0.0)
    b = dataclasses.replace(a, x_deg=0.3 * PIXEL)
    shift = centroid(one_frame(b))[0] - centroid(one_frame(a))[0]
    assert shift == pytest.approx(0.3 * PIXEL, rel=0.03)


def test_oblique_bar_total_is_contrast_times_area():
    bar = Bar(contrast=0.7, orientation_deg=37.0, width_deg=0.5, length_deg=3.0, speed_deg_s=1.0)
    frames = render_frames(bar, GRID, np.linspace(0.0, 0.99, 7)).astype(np.float64)
    totals = frames.sum(axis=(1, 2))
    expected = 0.7 * 0.5 * 3.0 * PPD**2
    np.testing.assert_allclose(totals, expected, rtol=1e-3)
    # Constant while it moves, to float32 precision.
    assert np.ptp(totals) / expected < 1e-6


def test_oblique_bar_matches_brute_force_coverage():
    bar = Bar(orientation_deg=23.0, width_deg=0.7, length_deg=2.3, x_deg=0.11, y_deg=-0.37)
    rad = math.radians(23.0)

    def inside(x, y):
        u = (x - 0.11) * math.cos(rad) + (y + 0.37) * math.sin(rad)
        v = -(x - 0.11) * math.sin(rad) + (y + 0.37) * math.cos(rad)
        return (np.abs(u) <= 1.15) & (np.abs(v) <= 0.35)

    np.testing.assert_allclose(one_frame(bar), supersample(inside), atol=2e-3)


@pytest.mark.parametrize("seed", range(4))
def test_bar_window_equals_full_field_integral(seed):
    # Bars are integrated only in a window round their bounding box; the result must be
    # the full-field integral bit for bit, also across the border and wholly off the field.
    rng = np.random.default_rng(seed)
    grid = RetinaGrid(extent_deg=float(rng.choice([4.0, 7.3])), pixels_per_deg=5.5)
    t = np.linspace(0.0, 0.99, 23)
    for _ in range(12):
        bar = Bar(
            contrast=float(rng.choice([1.0, -0.4])),
            direction_deg=float(rng.uniform(0.0, 360.0)),
            width_deg=float(rng.uniform(0.05, 1.5)),
            length_deg=float(rng.uniform(0.1, 3.0)),
            speed_deg_s=float(rng.uniform(0.5, 12.0)),
            x_deg=float(rng.uniform(-5.0, 5.0)),
            y_deg=float(rng.uniform(-5.0, 5.0)),
            duration_s=1.0,
        )
        xe, ye = grid._edges()
        offset = bar.speed_deg_s * (t - 0.5)
        rad = math.radians(bar.direction_deg)
        cx = bar.x_deg + offset * math.cos(rad)
        cy = bar.y_deg + offset * math.sin(rad)
        vx, vy = render_module._bar_outline(bar)
        full = bar.contrast * polygon_coverage(
            vx, vy, xe[None, :] - cx[:, None], ye[None, :] - cy[:, None], grid.pixel_deg**2
        )
        np.testing.assert_array_equal(render_frames(bar, grid, t), full.astype(np.float32))


def test_dark_bar_is_negative_and_outside_is_grey():
    frame = one_frame(Bar(contrast=-0.5, orientation_deg=0, width_deg=0.5, length_deg=2.0))
    assert frame.min() == pytest.approx(-0.5)
    assert frame.max() == 0.0
    x, y = GRID.coords()
    far = (np.abs(x) > 1.0 + PIXEL) | (np.abs(y) > 0.25 + PIXEL)
    assert np.all(frame[far] == 0.0)


def test_times_outside_presentation_are_grey():
    bar = Bar(orientation_deg=0, speed_deg_s=2.0, duration_s=1.0)
    frames = render_frames(bar, GRID, [-0.1, 0.0, 0.5, 1.0, 7.0])
    assert frames.dtype == np.float32
    assert frames.shape == (5, GRID.n_pixels, GRID.n_pixels)
    assert not frames[[0, 3, 4]].any()
    assert frames[1].any() and frames[2].any()


# --------------------------------------------------------------------------------------
# Angle rules
# --------------------------------------------------------------------------------------


def test_angle_resolution_rules():
    only_ori = Bar(orientation_deg=30, speed_deg_s=1)
    assert (only_ori.orientation_deg, only_ori.direction_deg) == (30.0, 120.0)
    only_dir = Bar(direction_deg=300, speed_deg_s=1)
    assert (only_dir.orientation_deg, only_dir.direction_deg) == (30.0, 300.0)
    both = Bar(orientation_deg=30, direction_deg=300, speed_deg_s=1)
    assert (both.orientation_deg, both.direction_deg) == (30.0, 300.0)
    neither = Bar(speed_deg_s=1)
    assert (neither.orientation_deg, neither.direction_deg) == (0.0, 90.0)
    wrapped = Bar(orientation_deg=-45, direction_deg=-135, speed_deg_s=1)
    assert (wrapped.orientation_deg, wrapped.direction_deg) == (135.0, 225.0)
    flashed = Bar(orientation_deg=200)
    assert flashed.orientation_deg == 20.0 and math.isnan(flashed.direction_deg)
    assert Bar(speed_deg_s=2.0, duration_s=1.5).travel_deg == 3.0
    counter = Grating(orientation_deg=60, motion="counterphase")
    assert counter.orientation_deg == 60.0 and math.isnan(counter.direction_deg)
    assert Grating(direction_deg=0).orientation_deg == 90.0


def test_inconsistent_angles_are_refused():
    with pytest.raises(ParameterError) as info:
        Bar(orientation_deg=30, direction_deg=100, speed_deg_s=1)
    assert info.value.field == "direction_deg"
    assert "direction_deg = 100" in str(info.value)
    assert "120" in str(info.value) and "300" in str(info.value)


def test_still_stimuli_have_no_direction():
    with pytest.raises(ParameterError) as info:
        Bar(direction_deg=90, speed_deg_s=0)
    assert "direction_deg = 90" in str(info.value)
    assert "a flashed bar (speed_deg_s = 0) has no direction" in str(info.value)
    with pytest.raises(ParameterError, match=r"direction_deg = 45.*counterphase"):
        Grating(direction_deg=45, motion="counterphase")


def test_replace_keeps_working_on_resolved_stimuli():
    flashed = Bar(orientation_deg=45)
    assert dataclasses.replace(flashed, x_deg=1.0).x_deg == 1.0
    assert dataclasses.replace(flashed, x_deg=1.0) == dataclasses.replace(flashed, x_deg=1.0)


# --------------------------------------------------------------------------------------
# Spots and annuli
# --------------------------------------------------------------------------------------


def test_spot_total_is_disc_area():
    frame = one_frame(Spot(contrast=0.8, radius_deg=1.3, x_deg=0.37, y_deg=-0.61))
    assert frame.sum() == pytest.approx(0.8 * math.pi * 1.3**2 * PPD**2, rel=1e-6)
    assert frame.max() == pytest.approx(0.8)
    x, y = GRID.coords()
    far = np.hypot(x - 0.37, y + 0.61) > 1.3 + PIXEL
    assert np.all(frame[far] == 0.0)


def test_spot_matches_brute_force_coverage():
    grid = RetinaGrid(extent_deg=2.5, pixels_per_deg=PPD)
    frame = one_frame(Spot(radius_deg=0.9, x_deg=0.05, y_deg=0.2), grid)
    expected = supersample(lambda x, y: np.hypot(x - 0.05, y - 0.2) <= 0.9, grid, k=128)
    np.testing.assert_allclose(frame, expected, atol=2e-3)


def test_tiny_spot_keeps_its_area():
    frame = one_frame(Spot(radius_deg=0.2 * PIXEL, x_deg=0.3 * PIXEL))
    assert frame.sum() == pytest.approx(math.pi * 0.04, rel=1e-5)


def test_annulus_total_is_ring_area_and_hole_is_grey():
    frame = one_frame(Annulus(contrast=-1.0, inner_radius_deg=0.75, outer_radius_deg=2.0))
    assert frame.sum() == pytest.approx(-math.pi * (2.0**2 - 0.75**2) * PPD**2, rel=1e-6)
    x, y = GRID.coords()
    assert np.all(frame[np.hypot(x, y) < 0.75 - PIXEL] == 0.0)
    assert frame.min() == pytest.approx(-1.0)


def test_full_field_and_blank():
    assert np.all(one_frame(FullField(contrast=-0.25)) == -0.25)
    assert not one_frame(Blank()).any()


# --------------------------------------------------------------------------------------
# Gratings
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("waveform", ["sine", "square"])
def test_drifting_grating_moves_by_tf_over_fs_periods(waveform):
    fs = 40.0
    grating = Grating(
        waveform=waveform,
        spatial_frequency_cpd=0.8,
        temporal_frequency_hz=3.0,
        direction_deg=120,
        phase_deg=10.0,
        duration_s=1.0,
    )
    frames = render_frames(grating, GRID, frame_times(grating, fs))
    for k in (1, 5, 13):
        shifted = dataclasses.replace(
            grating, phase_deg=10.0 - 360.0 * grating.temporal_frequency_hz * k / fs
        )
        np.testing.assert_allclose(frames[k], one_frame(shifted), atol=1e-5)


def test_sine_grating_profile_and_orientation():
    grating = Grating(direction_deg=0, spatial_frequency_cpd=0.5, phase_deg=0.0)
    assert grating.orientation_deg == 90.0
    frame = one_frame(grating)
    x, _ = GRID.coords()
    # Stripes parallel to a vertical orientation: constant down each column, cos along x.
    np.testing.assert_allclose(frame, np.cos(2 * np.pi * 0.5 * x), atol=1e-6)
    # Moving along direction 0 (rightwards): a light stripe at x = 0 is at x = speed·t later.
    later = one_frame(grating, t=0.1)
    speed = grating.temporal_frequency_hz / grating.spatial_frequency_cpd
    np.testing.assert_allclose(later, np.cos(2 * np.pi * 0.5 * (x - speed * 0.1)), atol=1e-6)


def test_counterphase_flips_sign_after_half_a_period():
    grating = Grating(motion="counterphase", temporal_frequency_hz=4.0, waveform="square")
    first = one_frame(grating, t=0.0)
    assert np.abs(first).max() == pytest.approx(1.0)
    np.testing.assert_allclose(one_frame(grating, t=0.125), -first, atol=1e-6)
    np.testing.assert_allclose(one_frame(grating, t=0.0625), 0.0, atol=1e-6)


def test_aperture_zeros_the_outside():
    grating = Grating(aperture_radius_deg=1.5, x_deg=0.5, y_deg=0.25, spatial_frequency_cpd=1.0)
    frame = one_frame(grating, t=0.05)
    x, y = GRID.coords()
    r = np.hypot(x - 0.5, y - 0.25)
    assert np.all(frame[r > 1.5 + PIXEL] == 0.0)
    assert np.abs(frame[r < 1.0]).max() > 0.9


def test_full_field_sine_grating_has_zero_mean():
    grating = Grating(orientation_deg=30, spatial_frequency_cpd=0.5, temporal_frequency_hz=1.0)
    frames = render_frames(grating, GRID, np.arange(10) / 10.0)
    # 8 deg field at 0.5 cpd: 4 periods along x; averaged over a temporal period too.
    assert abs(frames.mean()) < 1e-3
    horizontal = one_frame(Grating(orientation_deg=0, spatial_frequency_cpd=0.5), t=0.3)
    assert abs(horizontal.mean()) < 1e-6


def test_square_grating_matches_brute_force_coverage():
    grating = Grating(waveform="square", spatial_frequency_cpd=1.3, direction_deg=30)
    rad = math.radians(30.0)

    def value(x, y):
        return np.sign(np.cos(2 * np.pi * 1.3 * (x * math.cos(rad) + y * math.sin(rad))))

    np.testing.assert_allclose(one_frame(grating), supersample(value, k=64), atol=5e-3)


# --------------------------------------------------------------------------------------
# Frame timing and chunking
# --------------------------------------------------------------------------------------


def test_frame_times():
    times = frame_times(Blank(duration_s=0.3), 100.0)
    assert times.size == 30
    np.testing.assert_array_equal(times, np.arange(30) / 100.0)


def test_iter_frames_concatenates_to_render_frames():
    bar = Bar(orientation_deg=45, speed_deg_s=3.0, duration_s=0.5)
    grid = RetinaGrid(extent_deg=4.0, pixels_per_deg=6.0)
    chunks = list(iter_frames(bar, grid, 60.0, chunk_frames=7))
    assert [len(t) for t, _ in chunks] == [7, 7, 7, 7, 2]
    times = np.concatenate([t for t, _ in chunks])
    np.testing.assert_array_equal(times, frame_times(bar, 60.0))
    frames = np.concatenate([f for _, f in chunks])
    np.testing.assert_array_equal(frames, render_frames(bar, grid, frame_times(bar, 60.0)))


def test_iter_frames_validates_eagerly():
    with pytest.raises(ParameterError, match="chunk_frames = 0"):
        iter_frames(Blank(), GRID, 60.0, chunk_frames=0)


# --------------------------------------------------------------------------------------
# Images and GIFs
# --------------------------------------------------------------------------------------


def test_image_is_contrast_normalised(tmp_path):
    from PIL import Image as PILImage

    rng = np.random.default_rng(0)
    pixels = rng.integers(20, 240, size=(30, 40), dtype=np.uint8)
    path = tmp_path / "picture.png"
    PILImage.fromarray(pixels).save(path)
    image = Image(path=path, size_deg=3.1, x_deg=0.3, y_deg=-0.2)
    assert image.path == str(path)
    frame = one_frame(image)
    # Exact area averaging keeps the zero mean of L / mean(L) - 1 over the picture.
    assert abs(frame.sum()) < 1e-3 * np.abs(frame).sum()
    x, y = GRID.coords()
    outside = (np.abs(x - 0.3) > 1.55 + PIXEL) | (np.abs(y + 0.2) > 3.1 * 0.75 / 2 + PIXEL)
    assert np.all(frame[outside] == 0.0)
    assert frame.std() > 0.05
    assert image.trial_labels() == {"path": str(path)}


def test_image_missing_file_names_path(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(ParameterError) as info:
        Image(path=missing)
    assert info.value.field == "path"
    assert "nope.png" in str(info.value)
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    with pytest.raises(ParameterError, match=r"path = .*notes\.txt"):
        Image(path=not_an_image)


def test_save_gif_writes_an_animation(tmp_path):
    from PIL import Image as PILImage

    bar = Bar(orientation_deg=90, speed_deg_s=4.0, duration_s=1.0)
    grid = RetinaGrid(extent_deg=4.0, pixels_per_deg=4.0)
    target = save_gif(bar, grid, tmp_path / "bar.gif", frame_rate_hz=20.0, max_frames=8)
    assert target == tmp_path / "bar.gif"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bar.gif"]
    with PILImage.open(target) as gif:
        assert gif.format == "GIF"
        assert 1 < gif.n_frames <= 8
        gif.seek(0)
        grey = np.asarray(gif.convert("L"))
        assert grey.shape == (16, 16)
        assert set(np.unique(grey)) >= {128, 255}
    static = save_gif(Spot(), grid, tmp_path / "spot.gif", frame_rate_hz=10.0)
    with PILImage.open(static) as gif:
        assert gif.n_frames >= 1


def test_save_gif_needs_an_existing_folder(tmp_path):
    with pytest.raises(ParameterError, match="path = "):
        save_gif(Blank(), GRID, tmp_path / "missing" / "x.gif")


# --------------------------------------------------------------------------------------
# Construction from protocols and bad input
# --------------------------------------------------------------------------------------


def test_make_stimulus_round_trips_trial_columns(tmp_path):
    from PIL import Image as PILImage

    path = tmp_path / "grey.png"
    PILImage.fromarray(np.full((4, 6), 100, np.uint8)).save(path)
    examples = [
        Bar(orientation_deg=10, speed_deg_s=2.0),
        Bar(orientation_deg=10),
        Spot(radius_deg=0.3),
        Annulus(inner_radius_deg=0.0, outer_radius_deg=1.0),
        Grating(waveform="square", motion="counterphase", aperture_radius_deg=2.0),
        Grating(),
        FullField(contrast=0.5),
        Blank(duration_s=0.2),
        Image(path=path, size_deg=2.0),
        STIMULUS_KINDS["sparse_noise"](grid_size=4, noise_seed=3, duration_s=0.5),
    ]
    assert {type(s) for s in examples} == set(STIMULUS_KINDS.values())
    for stim in examples:
        params = {**stim.trial_params(), **stim.trial_labels(), "duration_s": stim.duration_s}
        assert make_stimulus(stim.kind, **params) == stim
        assert all(isinstance(v, float) for v in stim.trial_params().values())


@pytest.mark.parametrize(
    ("build", "field", "shown"),
    [
        (lambda: Bar(width_deg=-0.5), "width_deg", "-0.5"),
        (lambda: Bar(orientation_deg="ninety"), "orientation_deg", "'ninety'"),
        (lambda: Bar(x_deg=float("nan")), "x_deg", "nan"),
        (lambda: Spot(contrast=1.5), "contrast", "1.5"),
        (lambda: Annulus(inner_radius_deg=2.0, outer_radius_deg=1.0), "outer_radius_deg", "1.0"),
        (lambda: Grating(waveform="triangle"), "waveform", "'triangle'"),
        (lambda: Grating(aperture_radius_deg=0), "aperture_radius_deg", "0"),
        (lambda: Blank(duration_s=0), "duration_s", "0"),
        (lambda: make_stimulus("checkerboard"), "kind", "'checkerboard'"),
        (lambda: make_stimulus("spot", radius=1.0), "radius", "1.0"),
        (lambda: make_stimulus("image"), "path", "None"),
        (lambda: render_frames(Blank(), GRID, [[0.0]]), "t_s", "[[0.0]]"),
        (lambda: frame_times(Blank(), 0), "frame_rate_hz", "0"),
        (lambda: render_frames("bar", GRID, [0.0]), "stimulus", "'bar'"),
    ],
)
def test_bad_input_names_field_and_value(build, field, shown):
    with pytest.raises(ParameterError) as info:
        build()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field} = {shown}")


def test_unknown_kind_and_parameter_list_what_is_allowed():
    with pytest.raises(ParameterError, match=r"'bar'.*'grating'.*'image'"):
        make_stimulus("checkerboard")
    with pytest.raises(ParameterError, match="allowed: contrast, radius_deg, x_deg"):
        make_stimulus("spot", radius=1.0)


def test_docstring_examples_run():
    modules = [
        stimulus_module,
        *(
            importlib.import_module(f"{stimulus_module.__name__}.{info.name}")
            for info in pkgutil.iter_modules(stimulus_module.__path__)
        ),
    ]
    results = [doctest.testmod(m, optionflags=doctest.ELLIPSIS) for m in modules]
    assert sum(r.attempted for r in results) > 0
    assert sum(r.failed for r in results) == 0

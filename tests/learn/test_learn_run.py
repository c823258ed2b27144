"""The fields file, the summary, and `v1lab learn` end to end (small settings)."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("skimage")
pytest.importorskip("sklearn")

from v1lab._validate import ParameterError
from v1lab.analysis import make_gabor
from v1lab.cli import main as cli_main
from v1lab.learn import (
    FIT_COLUMNS,
    LearnedFields,
    LearnSettings,
    compute_field_fits,
    compute_field_summary,
    compute_orientation_gap,
    load_fields,
    make_pixel_grid,
    save_fields,
)
from v1lab.learn.run import checkpoint_path, main


def _gabor_fields(orientations, patch_px=10):
    x, y = make_pixel_grid(patch_px)
    xx, yy = np.meshgrid(x, y)
    return np.array([
        make_gabor(xx, yy, orientation_deg=o, spatial_frequency_cpd=0.2, sigma_across_deg=1.6,
                   sigma_along_deg=2.2, phase_deg=30.0)
        for o in orientations
    ], dtype=np.float32)  # fmt: skip


def test_fields_file_round_trips(tmp_path):
    fields = _gabor_fields([0.0, 60.0, 120.0])
    settings = LearnSettings(patch_px=10, n_basis=3, seed=9, inference="lca")
    fits = np.arange(3 * len(FIT_COLUMNS), dtype=float).reshape(3, -1)
    fits[1, 2] = np.nan
    learned = LearnedFields(
        fields, settings, np.array([3.0, 2.0, 1.5]), ("camera", "x y.png"), fits
    )
    save_fields(learned, tmp_path / "f.npz")
    back = load_fields(tmp_path / "f.npz")
    np.testing.assert_array_equal(back.fields, fields)
    assert back.settings == settings
    np.testing.assert_array_equal(back.objective, learned.objective)
    assert back.sources == learned.sources
    np.testing.assert_array_equal(back.fits, fits)  # NaN where NaN
    save_fields(LearnedFields(fields, settings, np.zeros(0), ()), tmp_path / "nofit.npz")
    assert load_fields(tmp_path / "nofit.npz").fits is None


def test_a_bad_fields_file_is_one_line(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    for path in (tmp_path / "junk.npz", tmp_path / "missing.npz"):
        with pytest.raises(ParameterError) as err:
            load_fields(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_gabor_fits_recover_known_fields_and_the_summary_counts_them():
    fields = _gabor_fields([0.0, 45.0, 90.0, 135.0])
    fits = compute_field_fits(fields)
    ori = fits[:, FIT_COLUMNS.index("orientation_deg")]
    np.testing.assert_allclose(ori, [0.0, 45.0, 90.0, 135.0], atol=0.5)
    np.testing.assert_allclose(fits[:, FIT_COLUMNS.index("spatial_frequency_cpp")], 0.2, rtol=0.02)
    summary = compute_field_summary(fits, 10)
    assert summary.n_good == 4 and summary.fraction_good == 1.0 and summary.n_edge_like == 0
    assert summary.orientation_gap_deg == pytest.approx(45.0, abs=1.0)
    # Same envelope and frequency everywhere: nx = 1.6·0.2, ny = 2.2·0.2.
    assert summary.median_nx == pytest.approx(0.32, rel=0.03)
    assert summary.median_ny == pytest.approx(0.44, rel=0.03)
    assert summary.sf_spread_octaves == pytest.approx(0.0, abs=0.05)


def test_orientation_gap_wraps_at_180():
    assert compute_orientation_gap([5.0, 175.0]) == pytest.approx(170.0)
    assert compute_orientation_gap([0.0, 90.0]) == 90.0
    assert compute_orientation_gap([]) == 180.0


def _write_images(folder, n=2, side=80, seed=0):
    from skimage.io import imsave

    folder.mkdir()
    for k in range(n):  # 1/f noise, the spectrum of natural images
        rng = np.random.default_rng([seed, k])
        f = np.hypot(np.fft.fftfreq(side)[:, None], np.fft.fftfreq(side)[None, :])
        f[0, 0] = 1.0
        img = np.real(np.fft.ifft2(np.fft.fft2(rng.standard_normal((side, side))) / f))
        img = (255 * (img - img.min()) / np.ptp(img)).astype(np.uint8)
        imsave(folder / f"img{k}.png", img, check_contrast=False)
    return folder


def _run(argv, capsys):
    code = main(argv, out=io.StringIO())
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", ["missing", "a file", "empty", "unreadable", "too small"])
def test_a_missing_or_unreadable_image_folder_is_one_clear_line(tmp_path, capsys, case):
    images = tmp_path / "images"
    if case == "a file":
        images.write_text("x")
    elif case == "empty":
        images.mkdir()
    elif case == "unreadable":
        _write_images(images)
        (images / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    elif case == "too small":
        images.mkdir()
        from skimage.io import imsave

        imsave(images / "tiny.png", np.zeros((20, 20), np.uint8), check_contrast=False)
    out = tmp_path / "out"
    code, err = _run(["--images", str(images), "--out", str(out), "--quiet"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("v1lab learn: error: --images = ")
    assert str(images) in err
    assert not out.exists() and list(tmp_path.iterdir()) == [images] * images.exists()


@pytest.mark.slow
def test_v1lab_learn_writes_its_folder_and_resumes_from_a_checkpoint(tmp_path, capsys):
    images = _write_images(tmp_path / "images", n=2, side=96)
    small = ["--images", str(images), "--patch-px", "8", "--basis", "4", "--batches", "60",
             "--seed", "2", "--quiet"]  # fmt: skip
    first = tmp_path / "first"
    assert cli_main(["learn", *small, "--out", str(first)]) == 0  # through `v1lab learn`
    names = sorted(p.name for p in first.iterdir())
    assert names == ["fields.npz", "figures", "fits.csv", "objective.csv", "summary.txt"]
    assert sorted(p.name for p in (first / "figures").iterdir()) == [
        "fields.png", "nx_ny.png", "objective.png"]  # fmt: skip
    learned = load_fields(first / "fields.npz")
    assert learned.fields.shape == (4, 8, 8) and len(learned.objective) == 60
    assert learned.fits is not None and learned.fits.shape == (4, len(FIT_COLUMNS))
    # An existing folder is refused (one line), and left as it was.
    before = (first / "fields.npz").read_bytes()
    capsys.readouterr()
    code, err = _run([*small, "--out", str(first)], capsys)
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    assert (first / "fields.npz").read_bytes() == before

    # A run stopped at batch 25 (its checkpoint as the loop writes it) and resumed by
    # the same command gives the same fields as the uninterrupted run.
    from v1lab.learn import LearnState, compute_whitened, learn_dictionary, load_image_folder
    from v1lab.learn.run import _save_checkpoint

    settings = learned.settings
    whitened = [compute_whitened(im) for im in load_image_folder(images)]
    partial = learn_dictionary(whitened, LearnState.start(settings), until=25)
    second = tmp_path / "second"
    _save_checkpoint(partial, learned.sources, checkpoint_path(second))
    out = io.StringIO()
    assert main([*small[:-1], "--out", str(second)], out=out) == 0
    assert "resuming" in out.getvalue() and "at batch 25" in out.getvalue()
    np.testing.assert_array_equal(load_fields(second / "fields.npz").fields, learned.fields)
    assert not checkpoint_path(second).exists()
    # A checkpoint made with other options is refused, not silently used.
    _save_checkpoint(partial, learned.sources, checkpoint_path(tmp_path / "third"))
    code, err = _run([*small, "--seed", "3", "--out", str(tmp_path / "third")], capsys)
    assert code == 2 and "other options" in err and not (tmp_path / "third").exists()

"""The live engine is the batch model, block by block: the stimulus and its DoG response,
the engine's blocks and log, and the streaming spikes (no display, no sound card; no
timing assertions: the end-to-end test in test_live_e2e.py bounds wall times)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from _live_cells import SMALL, simple_cell

from v1lab._validate import ParameterError
from v1lab.cells import sim_poisson_dead_time
from v1lab.experiment import Circuit
from v1lab.live import (
    LiveConfig,
    LiveEngine,
    SlowGain,
    StimulusParams,
    StreamingPoisson,
    load_session_log,
    make_live_stimulus,
)
from v1lab.live.lgn import BlockLGN
from v1lab.live.render import SeparableDoG
from v1lab.model.population import population_from_cells
from v1lab.model.retina import Retina
from v1lab.model.stimulus import Bar, Grating, RetinaGrid, Spot, render_frames


def test_live_stimuli_are_the_renderer_s_stimuli():
    p = StimulusParams(x_deg=1.0, y_deg=-0.5, orientation_deg=200.0, contrast=-1.0)
    bar = make_live_stimulus(p, extent_deg=10)
    assert isinstance(bar, Bar) and bar.orientation_deg == 20.0 and bar.contrast == -1.0
    spot = make_live_stimulus(dataclasses.replace(p, kind="spot"), extent_deg=10)
    assert isinstance(spot, Spot) and spot.radius_deg == 0.25
    grating = make_live_stimulus(dataclasses.replace(p, kind="grating"), extent_deg=10)
    assert isinstance(grating, Grating) and grating.direction_deg == 290.0
    assert grating.aperture_radius_deg == 2.0
    assert make_live_stimulus(dataclasses.replace(p, on=False), extent_deg=10) is None
    # An edge: light on the side 90° counter-clockwise from its orientation, through (x, y).
    edge = make_live_stimulus(
        StimulusParams(kind="edge", x_deg=1.0, orientation_deg=0.0), extent_deg=10
    )
    grid = RetinaGrid(extent_deg=10, pixels_per_deg=4)
    frame = render_frames(edge, grid, [0.0])[0]
    x, y = grid.coords()
    assert np.all(frame[y > 0.2] == 1.0) and np.all(frame[y < -0.2] == 0.0)
    turned = make_live_stimulus(
        StimulusParams(kind="edge", x_deg=1.0, orientation_deg=90.0), extent_deg=10
    )
    frame = render_frames(turned, grid, [0.0])[0]
    assert np.all(frame[x < 0.8] == 1.0) and np.all(frame[x > 1.2] == 0.0)


# --------------------------------------------------------------------------------------
# The engine is the batch model, block by block
# --------------------------------------------------------------------------------------


def test_separable_dog_equals_the_dense_retina_weights():
    retina = Retina()
    dense = Circuit(retina, simple_cell()).lgn.spatial
    dog = SeparableDoG(retina)
    frames = np.random.default_rng(0).standard_normal((3, 80, 80)).astype(np.float32)
    expected = frames.reshape(3, -1).astype(np.float64) @ dense.astype(np.float64)
    np.testing.assert_allclose(dog.response(frames.astype(np.float64)), expected, atol=2e-6)
    # A frame that is zero outside a window gives the same answer from the window alone.
    sub = np.zeros((1, 80, 80))
    sub[0, 20:46, 33:59] = frames[0, 20:46, 33:59]
    np.testing.assert_allclose(
        dog.response(frames[:1, 20:46, 33:59].astype(np.float64), 20, 33),
        dog.response(sub),
        atol=1e-12,
    )


def _batch_rates_of_hand_sweep(retina, pop, path, orientation_deg) -> np.ndarray:
    """The live engine's hand sweep (a 4 x 0.5-deg slit through ``path``), rendered whole
    and filtered in one call by the batch Circuit: mean rate per block.

    Each block ends on the hand's position, and its first frame is the cross-fade halfway
    from the previous block's last frame (the first block has nothing to glide from).
    """
    frames, prev = [], None
    for x, y in path:
        bar = Bar(orientation_deg=orientation_deg, x_deg=x, y_deg=y, length_deg=4.0,
                  width_deg=0.5)  # fmt: skip
        end = render_frames(bar, retina.grid, [0.0])[0]
        frames += [end if prev is None else 0.5 * (prev + end), end]
        prev = end
    return Circuit(retina, pop).process(np.array(frames)).reshape(len(path), 2, -1).mean(axis=1)


def test_engine_rates_equal_the_batch_circuit_for_a_hand_sweep():
    retina = Retina()
    pop = population_from_cells(
        [
            {"type": "simple", "orientation_deg": 70.0},
            {"type": "complex", "x_deg": 0.4, "orientation_deg": 60.0},
            {"type": "ds_simple", "preferred_direction_deg": 160.0},
            {"type": "end_stopped", "y_deg": -0.3, "orientation_deg": 80.0},
        ]
    )
    engine = LiveEngine(LiveConfig(retina, pop, (1.0, 0.5, 0.5, 0.5), seed=1))
    path = [(float(x), 0.3 * float(x)) for x in np.linspace(-3.0, 3.0, 80)]
    live = []
    for x, y in path:
        p = StimulusParams(x_deg=x, y_deg=y, orientation_deg=70.0)
        live.append(engine.step(p).rates_hz)
    engine.close()
    batch = _batch_rates_of_hand_sweep(retina, pop, path, 70.0)
    assert batch.max() > 5.0  # the sweep drives the cells
    np.testing.assert_allclose(np.array(live), batch, rtol=1e-4, atol=1e-3)


def test_a_drifting_grating_is_rendered_at_each_frame_s_own_clock():
    retina = Retina()
    pop = population_from_cells([{"type": "complex", "orientation_deg": 30.0}])
    engine = LiveEngine(LiveConfig(retina, pop, (1.0,), seed=3))
    p = StimulusParams(kind="grating", orientation_deg=30.0, length_deg=6.0)
    live = [engine.step(p).rates_hz for _ in range(60)]
    engine.close()
    grating = make_live_stimulus(p, extent_deg=retina.extent_deg)
    t = (np.arange(120) / 200.0) % (1.0 / p.temporal_frequency_hz)
    frames = render_frames(grating, retina.grid, t)
    batch = Circuit(retina, pop).process(frames).reshape(60, 2, -1).mean(axis=1)
    assert np.ptp(batch) > 5.0  # the drift modulates the cell
    np.testing.assert_allclose(np.array(live), batch, rtol=1e-4, atol=1e-3)


def test_block_lgn_equals_the_retina_filter_block_by_block():
    retina = Retina()
    reference = Circuit(retina, simple_cell()).lgn
    n = reference.n_positions
    fast = BlockLGN(retina, 2, n)
    rng = np.random.default_rng(7)
    for b in range(400):
        # Stimulus, then a long grey screen (states decay towards zero).
        x = rng.normal(0.0, 0.2, (2, n)) * (b < 100)
        np.testing.assert_allclose(
            fast.process(x), reference.process_spatial(x.astype(np.float32)), atol=1e-6
        )


def test_engine_blocks_are_contiguous_with_sound_and_a_log():
    engine = LiveEngine(LiveConfig(SMALL, simple_cell(), (1.0,), seed=2))
    results = [engine.step(StimulusParams(x_deg=0.01 * b)) for b in range(50)]
    assert [r.t0_s for r in results[:3]] == [0.0, 0.01, 0.02]
    assert all(r.audio.shape == (441,) and r.audio.dtype == np.float32 for r in results)
    snap = engine.snapshot()
    assert (snap.n_blocks, snap.n_frames, snap.n_audio_samples) == (50, 100, 50 * 441)
    log = load_session_log(snap)
    assert log.trajectory.shape == (100, 12)
    np.testing.assert_allclose(log.trajectory[:, 0], np.arange(100) / 200.0)
    np.testing.assert_allclose(log.trajectory[1::2, 3], 0.01 * np.arange(50))  # x at each block end
    spikes = np.concatenate([r.spike_times for r in results])
    np.testing.assert_array_equal(np.sort(log.spike_times), np.sort(spikes))
    engine.close()
    assert not Path(snap.log_dir).exists()  # the engine made the log, the engine removes it


def test_engine_refuses_a_frame_rate_that_does_not_fill_blocks():
    with pytest.raises(ParameterError, match="multiple of 100 Hz"):
        LiveEngine(
            LiveConfig(
                Retina(extent_deg=6, lgn_extent_deg=3, frame_rate_hz=150), simple_cell(), (1.0,)
            )
        )


def test_polarity_follows_light_dark_and_offsets():
    engine = LiveEngine(LiveConfig(SMALL, simple_cell(), (1.0,)))
    light, dark = StimulusParams(), StimulusParams(contrast=-1.0)
    off = StimulusParams(on=False)
    seq = [light] * 3 + [off] * 35 + [dark] * 2 + [off] * 2
    pol = [engine.step(p).polarity for p in seq]
    engine.close()
    assert pol[:3] == [1, 1, 1]
    assert set(pol[3:33]) == {-1} and set(pol[33:38]) == {0}  # 0.3 s of OFF response window
    assert pol[38:40] == [-1, -1] and pol[40:] == [1, 1]  # the offset of dark is a brightening


# --------------------------------------------------------------------------------------
# Streaming spikes
# --------------------------------------------------------------------------------------


def test_streaming_poisson_is_the_same_process_whatever_the_block_length():
    rates = np.random.default_rng(3).uniform(0.0, 120.0, (400, 5))
    one = StreamingPoisson(5, 200.0, rng=np.random.default_rng(4))
    cells_a, times_a = one.advance(rates)
    blocks = StreamingPoisson(5, 200.0, rng=np.random.default_rng(4))
    parts = [blocks.advance(rates[i : i + 2]) for i in range(0, 400, 2)]
    cells_b = np.concatenate([c for c, _ in parts])
    times_b = np.concatenate([t for _, t in parts])
    np.testing.assert_array_equal(cells_a, cells_b)
    np.testing.assert_array_equal(times_a, times_b)
    assert one.t_s == blocks.t_s == 2.0


def test_streaming_poisson_rate_dead_time_and_counts_match_the_batch_generator():
    rate, n_cells, seconds = 60.0, 200, 10.0
    rates = np.full((round(seconds * 200), n_cells), rate)
    gen = StreamingPoisson(n_cells, 200.0, dead_time_s=0.002, rng=np.random.default_rng(5))
    cells, times = gen.advance(rates)
    counts = np.bincount(cells, minlength=n_cells)
    assert counts.mean() / seconds == pytest.approx(rate, rel=0.02)
    for c in range(5):
        isi = np.diff(np.sort(times[cells == c]))
        assert isi.min() >= 0.002 - 1e-12
    assert np.all((times >= 0) & (times < seconds))
    # The batch generator of the same process: same mean count and Fano factor.
    batch = sim_poisson_dead_time(rates, 200.0, dead_time_s=0.002, rng=np.random.default_rng(6))
    ref = batch.counts()[0]
    assert counts.mean() == pytest.approx(ref.mean(), rel=0.02)
    assert counts.var() / counts.mean() == pytest.approx(ref.var() / ref.mean(), abs=0.25)


def test_slow_gain_makes_live_counts_vary_more_than_their_mean_and_keeps_the_mean():
    # Goris, Movshon & Simoncelli (2014): a Poisson count whose rate is multiplied by a
    # fluctuating gain has variance mean + var(gain) * mean^2. 200 cells at 40 spikes/s,
    # 1-s counts over 30 s. Without the gain the dead-time Poisson's Fano factor is
    # ~0.85; with SD 0.3 and a 1-s correlation time the 1-s window keeps
    # 2 e^-1 = 0.74 of the gain's variance: 0.85 + 0.74 * 0.09 * 40 ~ 3.5.
    n_cells, blocks = 200, 3000
    counts = {}
    for sd in (0.0, 0.3):
        gain = SlowGain(n_cells, sd, block_s=0.01, rng=np.random.default_rng(1))
        gen = StreamingPoisson(n_cells, 200.0, dead_time_s=0.002, rng=np.random.default_rng(2))
        per_block = np.zeros((blocks, n_cells))
        for b in range(blocks):
            cells, _ = gen.advance(np.full((2, n_cells), 40.0) * gain.advance()[None, :])
            per_block[b] = np.bincount(cells, minlength=n_cells)
        counts[sd] = per_block.reshape(30, 100, n_cells).sum(axis=1)
    fano = {sd: float(np.mean(c.var(axis=0, ddof=1) / c.mean(axis=0))) for sd, c in counts.items()}
    assert fano[0.0] == pytest.approx(0.85, abs=0.1)
    assert fano[0.3] == pytest.approx(3.5, rel=0.3)
    assert counts[0.3].mean() == pytest.approx(counts[0.0].mean(), rel=0.03)


def test_the_live_engine_runs_learned_cells_as_the_batch_circuit_does():
    # Issue "Why V1 looks like this": learned cells run in the live mode unchanged. The
    # population carries its RF images (v1lab.model.learned), so the engine's V1 layer is
    # the batch circuit's: a hand sweep gives the same rates block by block.
    from v1lab.model.learned import load_field_file, make_learned_population

    fields = Path(__file__).resolve().parents[2] / "stimuli" / "learned_fields.npz"
    retina = Retina()
    pop = make_learned_population(load_field_file(fields), 3, np.random.default_rng(4),
                                  rf_scatter_deg=0.0)  # fmt: skip
    assert pop.rf_images is not None
    ori = float(pop.orientation_deg[0])
    engine = LiveEngine(LiveConfig(retina, pop, (1.0, 0.5, 0.5), seed=1))
    path = [(float(x), 0.0) for x in np.linspace(-3.0, 3.0, 60)]
    live = [engine.step(StimulusParams(x_deg=x, y_deg=y, orientation_deg=ori)).rates_hz
            for x, y in path]  # fmt: skip
    engine.close()
    batch = _batch_rates_of_hand_sweep(retina, pop, path, ori)
    assert batch[:, 0].max() > pop.spontaneous_hz[0] + 5.0  # the sweep drives the first cell
    np.testing.assert_allclose(np.array(live), batch, rtol=1e-4, atol=1e-3)

"""The live mode's logic, without a display or a sound card.

Synthetic mouse, scroll, click and key events go through the same handlers the window
uses; the engine is stepped block by block as the real-time loop steps it; marks, the live
tuning curve, the mystery score and the saved session are checked against what they must
be. No timing assertions here (the end-to-end test in test_live_e2e.py bounds wall times).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.cells import sim_poisson_dead_time
from v1lab.experiment import Circuit
from v1lab.io import load_npz, load_nwb_tables
from v1lab.live import (
    BLOCK_S,
    Action,
    BlockResult,
    ClickEvent,
    Guess,
    KeyEvent,
    LiveAnalysis,
    LiveConfig,
    LiveEngine,
    LiveState,
    MouseEvent,
    ScrollEvent,
    StimulusParams,
    StreamingPoisson,
    TuningAccumulator,
    _SeparableDoG,
    check_display,
    compute_presentations,
    compute_rf_map,
    compute_true_tuning,
    handle_click,
    handle_key,
    handle_mouse_move,
    handle_scroll,
    load_session_log,
    make_live_config,
    make_live_stimulus,
    make_mystery_cell,
    run_live,
    save_live_session,
    score_guess,
)
from v1lab.model.cortex import CELL_TYPES, population_from_cells
from v1lab.model.retina import Retina
from v1lab.model.stimulus import Bar, Grating, RetinaGrid, Spot, render_frames
from v1lab.protocol import load_protocol, parse_protocol

ROOT = Path(__file__).resolve().parents[2]
SMALL = Retina(extent_deg=6.0, lgn_extent_deg=4.0)  # fast to build, same model


def simple_cell(**kw):
    cell = {"type": "simple", "orientation_deg": 90.0, "phase_deg": 0.0, "r_max_hz": 100.0}
    cell.update(kw)
    return population_from_cells([cell])


# --------------------------------------------------------------------------------------
# Handlers: events move, rotate and resize the stimulus
# --------------------------------------------------------------------------------------


def test_mouse_moves_the_slit_and_is_clamped_to_the_screen():
    s = LiveState(extent_deg=10.0)
    assert handle_mouse_move(s, MouseEvent(1.5, -2.0, t_s=3.0)) is Action.STIMULUS
    assert (s.x_deg, s.y_deg, s.last_event_s) == (1.5, -2.0, 3.0)
    handle_mouse_move(s, MouseEvent(9.0, -7.0))
    assert (s.x_deg, s.y_deg) == (5.0, -5.0)
    assert handle_mouse_move(s, MouseEvent(None, None)) is Action.NONE  # off the screen
    assert (s.x_deg, s.y_deg) == (5.0, -5.0)


def test_pause_freezes_the_stimulus_where_it_is():
    s = LiveState()
    handle_mouse_move(s, MouseEvent(1.0, 1.0))
    assert handle_key(s, KeyEvent("p")) is Action.STIMULUS and s.params().frozen
    assert handle_mouse_move(s, MouseEvent(-2.0, 0.0)) is Action.NONE
    assert (s.x_deg, s.y_deg) == (1.0, 1.0)
    handle_key(s, KeyEvent("p"))
    handle_mouse_move(s, MouseEvent(-2.0, 0.0))
    assert s.x_deg == -2.0


def test_scroll_turns_the_slit_and_modifiers_resize_it():
    s = LiveState()
    assert s.orientation_deg == 90.0  # the film's vertical slit
    for _ in range(6):
        assert handle_scroll(s, ScrollEvent(1.0)) is Action.STIMULUS
    assert s.orientation_deg == 180.0 and s.params().orientation_deg == 180.0
    handle_scroll(s, ScrollEvent(-13.0))
    assert s.orientation_deg == pytest.approx(345.0)  # wraps around the circle
    handle_scroll(s, ScrollEvent(1.0, frozenset({"shift"})))
    assert s.length_deg == pytest.approx(5.0) and s.width_deg == 0.5
    handle_scroll(s, ScrollEvent(-2.0, frozenset({"ctrl"})))
    assert s.width_deg == pytest.approx(0.5 / 1.25**2) and s.length_deg == pytest.approx(5.0)
    for _ in range(100):  # sizes stay within the screen and above zero
        handle_scroll(s, ScrollEvent(-1.0, frozenset({"ctrl"})))
        handle_scroll(s, ScrollEvent(1.0, frozenset({"shift"})))
    assert 0 < s.width_deg and s.length_deg <= 2 * s.extent_deg
    assert handle_scroll(s, ScrollEvent(0.0)) is Action.NONE


def test_a_spot_has_one_size_and_a_grating_its_own_controls():
    s = LiveState()
    handle_key(s, KeyEvent("2"))
    handle_scroll(s, ScrollEvent(1.0, frozenset({"shift"})))
    assert s.width_deg == pytest.approx(0.625) and s.length_deg == 4.0
    assert make_live_stimulus(s.params(), extent_deg=10).radius_deg == pytest.approx(0.3125)
    handle_key(s, KeyEvent("4"))
    handle_scroll(s, ScrollEvent(1.0, frozenset({"ctrl", "shift"})))
    assert s.spatial_frequency_cpd == pytest.approx(1.0)
    handle_key(s, KeyEvent("+"))
    assert s.spatial_frequency_cpd == pytest.approx(1.25)


def test_click_and_i_toggle_light_and_dark():
    s = LiveState()
    assert handle_click(s, ClickEvent(1, 0.0, 0.0)) is Action.STIMULUS and s.contrast == -1.0
    assert handle_click(s, ClickEvent(3, 0.0, 0.0)) is Action.NONE and s.contrast == -1.0
    assert handle_click(s, ClickEvent(1, None, None)) is Action.NONE  # outside the screen
    handle_key(s, KeyEvent("i"))
    assert s.contrast == 1.0


def test_keys_switch_stimuli_and_ask_for_actions():
    s = LiveState()
    kinds = [(k, handle_key(s, KeyEvent(k)), s.kind) for k in "1234"]
    assert [k for _, _, k in kinds] == ["bar", "spot", "edge", "grating"]
    assert {a for _, a, _ in kinds} == {Action.STIMULUS}
    handle_key(s, KeyEvent(" "))
    assert not s.params().on
    handle_key(s, KeyEvent("left"))
    assert s.orientation_deg == 105.0
    handle_key(s, KeyEvent("shift+right"))  # modifiers are ignored on plain keys
    assert s.orientation_deg == 90.0
    handle_key(s, KeyEvent("up"))
    assert s.length_deg == pytest.approx(5.0)
    expected = {
        "m": Action.MARK, "c": Action.CLEAR_MARKS, "s": Action.SAVE, "q": Action.QUIT,
        "escape": Action.QUIT, "h": Action.HELP, "r": Action.REVEAL, "enter": Action.GUESS,
        "t": Action.GUESS, "d": Action.GUESS, "z": Action.NONE, "": Action.NONE,
    }  # fmt: skip
    for key, action in expected.items():
        assert handle_key(s, KeyEvent(key)) is action, key
    assert s.show_help and s.revealed


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
    dog = _SeparableDoG(retina)
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
    # The same frames, rendered whole and filtered in one call by the batch Circuit.
    frames, prev = [], None
    for x, y in path:
        for k in (1, 2):
            fx = x if prev is None else prev[0] + k / 2 * (x - prev[0])
            fy = y if prev is None else prev[1] + k / 2 * (y - prev[1])
            bar = Bar(orientation_deg=70.0, x_deg=fx, y_deg=fy, length_deg=4.0, width_deg=0.5)
            frames.append(render_frames(bar, retina.grid, [0.0])[0])
        prev = (x, y)
    batch = Circuit(retina, pop).process(np.array(frames)).reshape(len(path), 2, -1).mean(axis=1)
    assert batch.max() > 5.0  # the sweep drives the cells
    np.testing.assert_allclose(np.array(live), batch, rtol=1e-4, atol=1e-3)


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


# --------------------------------------------------------------------------------------
# Accumulation: the live tuning curve and the marks
# --------------------------------------------------------------------------------------


def block(index, *, spikes=0, on_rf=False, orientation=math.nan, polarity=0, cells=None):
    cells = np.zeros(spikes, np.int64) if cells is None else np.asarray(cells)
    t0 = index * BLOCK_S
    return BlockResult(
        index=index, t0_s=t0, spike_cells=cells,
        spike_times=t0 + np.linspace(0, BLOCK_S, cells.size, endpoint=False),
        rates_hz=np.zeros(1), kind="bar", x_deg=0.0, y_deg=0.0, orientation_deg=orientation,
        polarity=polarity, on_rf=on_rf,
    )  # fmt: skip


def test_tuning_accumulator_bins_by_orientation():
    acc = TuningAccumulator(12)
    acc.add(88.0, 5, 0.1)
    acc.add(268.0, 5, 0.1)  # the same orientation, the other direction
    acc.add(7.4, 1, 0.5)
    rates = acc.rates_hz()
    assert rates[6] == pytest.approx(50.0) and rates[0] == pytest.approx(2.0)
    assert np.isnan(rates[3]) and acc.seconds.sum() == pytest.approx(0.7)


def test_live_tuning_attributes_spikes_to_the_stimulus_40_ms_earlier():
    an = LiveAnalysis(1)
    assert an.lag_blocks == 4
    b = 0
    for _ in range(50):  # the slit at 90° over the RF for 0.5 s; the cell answers 40 ms late
        an.add(block(b, spikes=2 if b >= 4 else 0, on_rf=True, orientation=90.0))
        b += 1
    for _ in range(50):  # then at 0° off the RF, while the 90° response dies out
        an.add(block(b, spikes=2 if b < 54 else 0, on_rf=False, orientation=0.0))
        b += 1
    for _ in range(30):  # then at 0° on the RF: no answer
        an.add(block(b, on_rf=True, orientation=0.0))
        b += 1
    rates = an.tuning.rates_hz()
    assert rates[6] == pytest.approx(200.0)  # 100 spikes in 0.5 s, all at 90°
    # 0.3 s at 0° on the RF, less the last 40 ms, whose answer has not come in yet.
    assert rates[0] == 0.0 and an.tuning.seconds[0] == pytest.approx(0.26)
    assert np.isnan(rates[3])
    assert an.n_spikes == 100  # 2 a block from block 4 to block 53


def test_rate_meter_and_raster_cover_the_recent_past():
    an = LiveAnalysis(3, raster_s=0.5, rate_window_s=0.1)
    for b in range(100):
        an.add(block(b, cells=[0, 2] if b >= 90 else [1]))
    assert an.rate_hz() == pytest.approx(100.0)  # 10 spikes of cell 0 in the last 0.1 s
    cells, times = an.raster()
    assert times.min() >= -0.5 and times.max() < 0
    assert np.count_nonzero(cells == 1) == 40 and np.count_nonzero(cells == 0) == 10


def test_marks_sign_what_the_cell_fired_for():
    an = LiveAnalysis(1)
    for b in range(200):  # blank screen: spontaneous firing, 1 spike per second
        an.add(block(b, spikes=1 if b % 100 == 0 else 0))
    # The prior (2 spikes in 1 s) plus what the lagged blank blocks saw: the spike of block
    # 100 in 1.96 s (the first 40 ms have no lagged stimulus yet).
    assert an.spontaneous_hz == pytest.approx(3.0 / 2.96)
    state = LiveState()
    handle_mouse_move(state, MouseEvent(1.0, -1.0))
    assert an.make_mark(state).sign == "o"
    for b in range(200, 250):  # light on: a burst
        an.add(block(b, spikes=1, polarity=1))
    mark = an.make_mark(state, t_s=2.5)
    assert (mark.sign, mark.x_deg, mark.y_deg, mark.t_s, mark.kind) == ("+", 1.0, -1.0, 2.5, "bar")
    for b in range(250, 300):  # dark (or light off): a burst
        an.add(block(b, spikes=1, polarity=-1))
    assert an.classify_response() == "x"
    for b in range(300, 350):  # dark, and silence
        an.add(block(b, polarity=-1))
    assert an.classify_response() == "o"


def test_marks_accumulate_and_clear_through_the_keys():
    an = LiveAnalysis(1)
    state = LiveState()
    for x in (0.0, 1.0, 2.0):
        handle_mouse_move(state, MouseEvent(x, 0.5))
        assert handle_key(state, KeyEvent("m")) is Action.MARK
        state.marks.append(an.make_mark(state))
    assert [(m.x_deg, m.y_deg) for m in state.marks] == [(0.0, 0.5), (1.0, 0.5), (2.0, 0.5)]
    handle_key(state, KeyEvent("c"))
    assert state.marks == []


@pytest.mark.parametrize(
    ("x", "contrast", "sign"),
    [(0.0, 1.0, "+"), (0.625, -1.0, "x"), (2.5, 1.0, "o")],
    ids=["light-on-ON-centre", "dark-on-OFF-flank", "far-from-the-RF"],
)
def test_mapping_a_simple_cell_by_hand_gives_hubel_and_wiesel_s_marks(x, contrast, sign):
    # An ON-centre simple cell (vertical, even): light on its centre excites it (+), dark on
    # its OFF flank, half a period away, excites it too (×); far away nothing happens.
    engine = LiveEngine(LiveConfig(SMALL, simple_cell(spontaneous_hz=1.0), (1.0,), seed=8))
    an = LiveAnalysis(1)
    state = LiveState(extent_deg=SMALL.extent_deg)
    handle_key(state, KeyEvent(" "))  # shutter closed: a grey screen first
    for _ in range(100):
        an.add(engine.step(state.params()))
    handle_mouse_move(state, MouseEvent(x, 0.0))
    if contrast < 0:
        handle_click(state, ClickEvent(1, x, 0.0))
    handle_key(state, KeyEvent(" "))  # flash it
    for _ in range(40):
        an.add(engine.step(state.params()))
    handle_key(state, KeyEvent("m"))
    state.marks.append(an.make_mark(state))
    engine.close()
    assert state.marks[-1].sign == sign
    assert (state.marks[-1].x_deg, state.marks[-1].y_deg) == (x, 0.0)


def test_the_live_tuning_curve_of_a_real_sweep_peaks_at_the_preferred_orientation():
    engine = LiveEngine(LiveConfig(SMALL, simple_cell(), (1.0,), seed=9))
    an = LiveAnalysis(1)
    state = LiveState(extent_deg=SMALL.extent_deg)
    for turns in (0, 3, 6, 9):  # 90°, 135°, 0°, 45°: sweep across the RF, there and back
        state.orientation_deg = 90.0
        handle_scroll(state, ScrollEvent(float(turns)))
        theta = math.radians(state.orientation_deg + 90.0)
        for s in np.concatenate([np.linspace(-2, 2, 100), np.linspace(2, -2, 100)]):
            handle_mouse_move(state, MouseEvent(s * math.cos(theta), s * math.sin(theta)))
            an.add(engine.step(state.params()))
    engine.close()
    rates = an.tuning.rates_hz()
    assert int(np.nanargmax(rates)) == 6  # the 90° bin
    assert rates[6] > 3 * np.nanmax(np.delete(rates, 6))


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


# --------------------------------------------------------------------------------------
# Cells, sessions, files
# --------------------------------------------------------------------------------------


def test_live_cells_are_the_protocol_s_cells():
    protocol = load_protocol("hubel_wiesel_bars")
    config = make_live_config(protocol, cell=5)
    assert config.protocol_cells[0] == 5 and len(config.protocol_cells) == 4
    assert config.amplitudes[0] == 1.0 and all(0 < a < 1 for a in config.amplitudes[1:])
    seq = np.random.SeedSequence(protocol.seed).spawn(4)[0]
    full = protocol.population.make(np.random.default_rng(seq))
    for row, index in enumerate(config.protocol_cells):
        assert config.population.x_deg[row] == full.x_deg[index]
        assert config.population.cell_type[row] == full.cell_type[index]
    default = make_live_config(protocol)
    assert default.protocol_cells[0] == int(np.argmin(np.hypot(full.x_deg, full.y_deg)))
    with pytest.raises(ParameterError, match="--listen"):
        make_live_config(protocol, cell=16)
    mystery = make_live_config(protocol, mystery=True, rng=np.random.default_rng(1))
    assert len(mystery.population) == 1 and mystery.protocol_cells == ()


def test_presentations_split_the_session_where_the_stimulus_changes():
    fs = 200.0
    rows = []

    def frames(n, *, on=1, ori=90.0, kind=0, x0=0.0, dx=0.0):
        for i in range(n):
            t = len(rows) / fs
            rows.append([t, kind, on, x0 + i * dx, 0.0, ori, 4.0, 0.5, 1.0, 0.8, 2.0, 0.0])

    frames(10, dx=0.02)  # a slit at 90°, moving at 4 deg/s
    frames(5, on=0)  # shutter closed
    frames(10)  # the same slit again: a repeat
    frames(4, ori=105.0)  # turned: a new condition, straight after
    frames(6, kind=1)  # a spot
    pres = compute_presentations(np.array(rows), fs)
    np.testing.assert_allclose(pres["start_time"], [0.0, 0.075, 0.125, 0.145])
    np.testing.assert_allclose(pres["stop_time"], [0.05, 0.125, 0.145, 0.175])
    assert pres["stimulus_condition_id"].tolist() == [0, 0, 1, 2]
    assert pres["repeat"].tolist() == [0, 1, 0, 0]
    assert pres["stimulus"].tolist() == ["bar", "bar", "bar", "spot"]
    assert pres["speed_deg_s"][0] == pytest.approx(4.0 * 9 / 10)
    assert np.isnan(pres["orientation_deg"][3]) and pres["radius_deg"][3] == 0.25
    assert np.isnan(pres["radius_deg"][0]) and pres["length_deg"][0] == 4.0
    empty = compute_presentations(np.zeros((0, 12)), fs)
    assert empty["start_time"].size == 0 and "orientation_deg" in empty


def test_saved_session_holds_trajectory_spikes_marks_and_sound(tmp_path):
    protocol = parse_protocol(
        {
            "name": "saved",
            "seed": 3,
            "retina": {"extent_deg": 6.0, "lgn_extent_deg": 4.0},
            "population": {"cells": [{"type": "complex", "orientation_deg": 90.0}]},
            "stimuli": [{"kind": "bar"}],
        }
    )
    config = make_live_config(protocol, cell=0)
    engine = LiveEngine(config, log_dir=tmp_path / "log")
    state = LiveState(extent_deg=6.0)
    an = LiveAnalysis(1)
    for x in np.linspace(-2, 2, 100):  # a sweep, then the slit turned and flashed
        handle_mouse_move(state, MouseEvent(float(x), 0.0))
        an.add(engine.step(state.params()))
    handle_key(state, KeyEvent("m"))
    state.marks.append(an.make_mark(state))
    handle_scroll(state, ScrollEvent(3.0))
    handle_key(state, KeyEvent(" "))
    for _ in range(20):
        engine.step(state.params())
    handle_key(state, KeyEvent(" "))
    for _ in range(30):
        engine.step(state.params())
    snap = engine.snapshot()
    out = tmp_path / "session"
    notes = {"audio": {"underflows": 0}, "guess": Guess(), "array": np.arange(3)}
    path = save_live_session(
        out, snap, protocol=protocol, population=config.population, marks=state.marks,
        notes=notes, figure_png=b"\x89PNG fake",
    )  # fmt: skip
    assert path == out
    names = {p.name for p in out.iterdir()}
    assert {"protocol.toml", "recording.nwb", "recording.npz", "presentations.csv",
            "trajectory.csv", "marks.csv", "live_session.json", "audio", "figures"} <= names  # fmt: skip

    log = load_session_log(snap)
    npz = load_npz(out / "recording.npz")
    np.testing.assert_allclose(npz["spike_times"][0], np.sort(log.spike_times))
    assert npz["duration_s"] == pytest.approx(1.5)
    tables = load_nwb_tables(out / "recording.nwb")
    assert tables["units"]["cell_type"][0] == "complex"
    assert tables["trials"]["orientation_deg"].tolist() == [90.0, 135.0]
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(out / "recording.nwb"), "r") as nwb_io:
        nwb = nwb_io.read()
        series = nwb.stimulus["stimulus_trajectory"]
        np.testing.assert_allclose(series.timestamps[:], np.arange(300) / 200.0)
        np.testing.assert_allclose(series.data[1:200:2, 2], np.linspace(-2, 2, 100))  # block ends
        marks = nwb.intervals["marks"]
        assert marks["mark"][:].tolist() == [state.marks[0].sign]
        assert marks["x_deg"][:].tolist() == [2.0]
    with wave.open(str(out / "audio" / "session.wav"), "rb") as wav:
        assert wav.getframerate() == 44100
        assert wav.getnframes() == 150 * 441 - engine.renderer.latency_samples
    facts = json.loads((out / "live_session.json").read_text())
    assert facts["audio"]["underflows"] == 0 and facts["array"] == [0, 1, 2]
    assert facts["n_spikes"] == [int(log.spike_times.size)]
    assert "cells" in (out / "protocol.toml").read_text()
    # Saving again replaces the folder only when asked to.
    with pytest.raises(FileExistsError):
        save_live_session(out, snap, protocol=protocol, population=config.population)
    save_live_session(out, engine.snapshot(), protocol=protocol,
                      population=config.population, overwrite=True)  # fmt: skip
    assert not (out / "figures").exists()
    engine.close()
    assert (tmp_path / "log").exists()  # a log the engine was given is the caller's


# --------------------------------------------------------------------------------------
# Without a display
# --------------------------------------------------------------------------------------


def test_without_a_display_live_says_so_in_one_line(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    message = check_display()
    assert message is not None and "\n" not in message and "xvfb-run" in message
    protocol = load_protocol("hubel_wiesel_bars")
    assert run_live(protocol=protocol, out=None) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "display" in err and "--protocol" in err


def test_cli_live_without_a_display_exits_at_once_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run_experiment.py"), "--live", "--out", str(tmp_path / "x")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("v1lab: --live needs a window") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "x").exists()

"""What the live window accumulates: the live tuning curve, the rate meter, the raster and
the hand-made marks, from synthetic blocks and from the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _live_cells import SMALL, simple_cell

from v1lab.live import (
    BLOCK_S,
    Action,
    BlockResult,
    ClickEvent,
    KeyEvent,
    LiveAnalysis,
    LiveConfig,
    LiveEngine,
    LiveState,
    MouseEvent,
    ScrollEvent,
    TuningAccumulator,
    handle_click,
    handle_key,
    handle_mouse_move,
    handle_scroll,
)

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

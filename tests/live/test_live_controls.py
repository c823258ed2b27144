"""The live window's controls: synthetic mouse, scroll, click and key events go through
the same handlers the window uses (no display, no sound card)."""

from __future__ import annotations

import pytest

from v1lab.live import (
    Action,
    ClickEvent,
    KeyEvent,
    LiveState,
    MouseEvent,
    ScrollEvent,
    handle_click,
    handle_key,
    handle_mouse_move,
    handle_scroll,
    make_live_stimulus,
)

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

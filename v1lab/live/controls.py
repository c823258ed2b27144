"""The live window's controls: an event record in, the state changed, an :class:`Action` out.

The window turns Tk events into :class:`MouseEvent`, :class:`ScrollEvent`,
:class:`ClickEvent` and :class:`KeyEvent`; :func:`handle_mouse_move`,
:func:`handle_scroll`, :func:`handle_click` and :func:`handle_key` apply them to a
:class:`~v1lab.live.state.LiveState` and say what the window must do next. No display is
needed: the tests drive the handlers with synthetic events. :data:`KEY_HELP` is the key
list the window shows.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass

from v1lab.live.state import LiveState
from v1lab.model.population import CELL_TYPES

_ROTATE_STEP_DEG = 15.0  # one wheel notch: one bin of the live tuning curve
_SIZE_FACTOR = 1.25  # one notch changes a size by 25 %
_MIN_SIZE_DEG = 0.05
_SF_RANGE_CPD = (0.1, 4.0)


@dataclass(frozen=True)
class MouseEvent:
    """Pointer position on the tangent screen (deg); ``None`` when outside it."""

    x_deg: float | None
    y_deg: float | None
    t_s: float = math.nan


@dataclass(frozen=True)
class ScrollEvent:
    """One wheel step (+1 away from the user, −1 towards) with the modifiers held."""

    step: float
    modifiers: frozenset[str] = frozenset()
    t_s: float = math.nan


@dataclass(frozen=True)
class ClickEvent:
    """A mouse button press (1 = left) at a screen position (deg, or None outside)."""

    button: int
    x_deg: float | None = None
    y_deg: float | None = None
    t_s: float = math.nan


@dataclass(frozen=True)
class KeyEvent:
    """A key press, named as matplotlib names keys (``'m'``, ``' '``, ``'left'``, …)."""

    key: str
    t_s: float = math.nan


class Action(enum.StrEnum):
    """What the window must do after a handler ran."""

    NONE = "none"
    STIMULUS = "stimulus"  # send the new stimulus to the engine
    MARK = "mark"
    CLEAR_MARKS = "clear_marks"
    SAVE = "save"
    QUIT = "quit"
    REVEAL = "reveal"
    HELP = "help"
    GUESS = "guess"


#: The key list shown by ``h`` (key, what it does).
KEY_HELP: tuple[tuple[str, str], ...] = (
    ("mouse", "move the stimulus"),
    ("wheel", f"turn it ({_ROTATE_STEP_DEG:g}° a notch; ← → too)"),
    ("shift+wheel", "longer / shorter (↑ ↓ too); grating: patch size"),
    ("ctrl+wheel", "wider / narrower (+ − too); grating: spatial frequency"),
    ("click", "light ↔ dark (i too)"),
    ("1 2 3 4", "slit, spot, edge, drifting grating"),
    ("space", "shutter: flash the stimulus on / off"),
    ("p", "pause: freeze the stimulus (and the grating's drift)"),
    ("m", "mark the screen: + fired for light, × for dark or offset"),
    ("c", "clear the marks"),
    ("enter", "mystery: guess the RF is here, at this angle"),
    ("t / d", "mystery: cycle the guessed type / direction"),
    ("r", "reveal the true RF and tuning (with a score for a mystery cell)"),
    ("s", "save the session (NWB, NPZ, WAV)"),
    ("h", "show / hide this help"),
    ("q, esc", "quit"),
)


def _clamp(value: float, lo: float, hi: float) -> float:
    return min(max(value, lo), hi)


def handle_mouse_move(state: LiveState, event: MouseEvent) -> Action:
    """Move the stimulus to the pointer (not while paused or outside the screen)."""
    if state.paused or event.x_deg is None or event.y_deg is None:
        return Action.NONE
    half = 0.5 * state.extent_deg
    state.x_deg = _clamp(float(event.x_deg), -half, half)
    state.y_deg = _clamp(float(event.y_deg), -half, half)
    state.last_event_s = event.t_s
    return Action.STIMULUS


def _resize(state: LiveState, what: str, steps: float) -> None:
    factor = _SIZE_FACTOR**steps
    if what == "length":
        state.length_deg = _clamp(state.length_deg * factor, _MIN_SIZE_DEG, 2.0 * state.extent_deg)
    elif what == "width":
        state.width_deg = _clamp(state.width_deg * factor, _MIN_SIZE_DEG, state.extent_deg)
    else:
        state.spatial_frequency_cpd = _clamp(state.spatial_frequency_cpd * factor, *_SF_RANGE_CPD)


def handle_scroll(state: LiveState, event: ScrollEvent) -> Action:
    """Wheel: turn; shift+wheel: length (patch size); ctrl+wheel: width (grating: c/deg).

    A spot has one size, its diameter, which both modified wheels change.

    Examples
    --------
    >>> s = LiveState()
    >>> _ = handle_scroll(s, ScrollEvent(-2)); s.orientation_deg
    60.0
    >>> _ = handle_scroll(s, ScrollEvent(1, frozenset({"shift"}))); s.length_deg
    5.0
    """
    step = float(event.step)
    if step == 0:
        return Action.NONE
    mods = event.modifiers
    if "ctrl" in mods or "control" in mods:
        what = "sf" if state.kind == "grating" else "width"
    elif "shift" in mods:
        what = "width" if state.kind == "spot" else "length"
    else:
        state.orientation_deg = (state.orientation_deg + step * _ROTATE_STEP_DEG) % 360.0
        state.last_event_s = event.t_s
        return Action.STIMULUS
    _resize(state, what, step)
    state.last_event_s = event.t_s
    return Action.STIMULUS


def handle_click(state: LiveState, event: ClickEvent) -> Action:
    """A left click on the screen toggles light and dark (H&W's slide and its negative)."""
    if event.button != 1 or event.x_deg is None:
        return Action.NONE
    state.contrast = -state.contrast
    state.last_event_s = event.t_s
    return Action.STIMULUS


_KIND_KEYS = {"1": "bar", "2": "spot", "3": "edge", "4": "grating"}
_TYPE_CYCLE = CELL_TYPES
_DIRECTION_CYCLE = ("none", "+90", "+270")


def _base_key(key: str) -> str:
    if key in ("+", "-") or key.endswith("++"):
        return key[-1]
    return key.rsplit("+", 1)[-1].lower() if "+" in key else key.lower()


def handle_key(state: LiveState, event: KeyEvent) -> Action:
    """Apply a key press (see :data:`KEY_HELP`) and say what the window must do.

    Examples
    --------
    >>> s = LiveState()
    >>> handle_key(s, KeyEvent("2")), s.kind
    (<Action.STIMULUS: 'stimulus'>, 'spot')
    >>> handle_key(s, KeyEvent("s"))
    <Action.SAVE: 'save'>
    """
    if not event.key:
        return Action.NONE
    key = _base_key(event.key)
    stimulus = Action.STIMULUS
    if key in _KIND_KEYS:
        state.kind = _KIND_KEYS[key]
    elif key in (" ", "space"):
        state.shutter_open = not state.shutter_open
    elif key == "p":
        state.paused = not state.paused
    elif key == "i":
        state.contrast = -state.contrast
    elif key in ("left", "right"):
        sign = 1.0 if key == "left" else -1.0  # left turns counter-clockwise
        state.orientation_deg = (state.orientation_deg + sign * _ROTATE_STEP_DEG) % 360.0
    elif key in ("up", "down"):
        _resize(state, "width" if state.kind == "spot" else "length", 1 if key == "up" else -1)
    elif key in ("+", "=", "-"):
        what = "sf" if state.kind == "grating" else "width"
        _resize(state, what, -1 if key == "-" else 1)
    elif key == "m":
        return Action.MARK
    elif key == "c":
        state.marks.clear()
        return Action.CLEAR_MARKS
    elif key == "s":
        return Action.SAVE
    elif key in ("q", "escape"):
        return Action.QUIT
    elif key == "h":
        state.show_help = not state.show_help
        return Action.HELP
    elif key == "r":
        state.revealed = True
        return Action.REVEAL
    elif key == "enter":
        state.guess = dataclasses.replace(
            state.guess,
            x_deg=state.x_deg,
            y_deg=state.y_deg,
            orientation_deg=state.orientation_deg % 180.0,
        )
        return Action.GUESS
    elif key == "t":
        i = _TYPE_CYCLE.index(state.guess.cell_type)
        state.guess = dataclasses.replace(
            state.guess, cell_type=_TYPE_CYCLE[(i + 1) % len(_TYPE_CYCLE)]
        )
        return Action.GUESS
    elif key == "d":
        i = _DIRECTION_CYCLE.index(state.guess.direction)
        state.guess = dataclasses.replace(
            state.guess, direction=_DIRECTION_CYCLE[(i + 1) % len(_DIRECTION_CYCLE)]
        )
        return Action.GUESS
    else:
        return Action.NONE
    state.last_event_s = event.t_s
    return stimulus

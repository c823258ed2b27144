"""The famous film, live: steer a slit with the mouse and hear the cell answer.

In the film of Hubel & Wiesel's recordings from cat striate cortex, a slit of light is pushed
around a tangent screen by hand, and the loudspeaker crackles when the slit lands on the
cell's receptive field at the right angle (Hubel & Wiesel 1959, 1962; Hubel 1982, Nobel
lecture). ``v1lab --live`` puts a student in that chair: the slit follows the mouse, the
scroll wheel turns it, and one simulated cell (with a few fainter neighbours) is under the
electrode; its spikes play through the sound card in real time.

Layers
------
* **Pure logic, no display** (what the tests drive): :class:`LiveState` and the handlers
  :func:`handle_mouse_move`, :func:`handle_scroll`, :func:`handle_click`,
  :func:`handle_key`, which take plain event records (:class:`MouseEvent`, …) and return an
  :class:`Action`; :class:`LiveAnalysis` (scrolling raster, rate meter, the live
  :class:`TuningAccumulator` and the classification of hand-made RF marks); the mystery
  cell (:func:`make_mystery_cell`, :func:`score_guess`); and :class:`LiveEngine`, which
  advances the simulation by one 10-ms block.
* **The real-time loop** runs :class:`LiveEngine` in its own process (so neither the
  window nor Python's GIL can starve the sound card): it keeps
  :class:`~v1lab.audio.AudioStream`'s queue a few blocks deep, and renders each next block
  from the latest stimulus the window sent. The audio callback only copies samples.
* **The window** (matplotlib, TkAgg) is thin: it turns Tk events into event records, sends
  the stimulus to the engine and draws what comes back.

One block
---------
The stimulus is rendered at the retina's frame times inside the block (200 Hz → 2 frames,
the slit's position interpolated between the previous and the current mouse position, so
motion is smooth; the renderer is the exact area-sampled one of :mod:`v1lab.model.stimulus`, run
only on the pixels the slit covers). The retina's difference-of-Gaussians stage is
computed as two small matrix products per Gaussian — the Gaussians are separable and the
LGN mosaic is a square lattice — which equals the dense ``frames @ spatial`` product of
:class:`~v1lab.model.retina.RetinaFilter` to float rounding at a fraction of the cost. The LGN
temporal filters (:meth:`~v1lab.model.retina.RetinaFilter.process_spatial`, state carried) and
V1 (:class:`~v1lab.model.cortex.V1Layer`) are the ones every batch run uses, so a live cell is
the same cell as in ``v1lab --protocol``. Spikes come from :class:`StreamingPoisson`, the
dead-time Poisson process of :func:`v1lab.cells.spikes.sim_poisson_dead_time` generated block
by block with carried state, and :class:`~v1lab.audio.SpikeAudioRenderer` turns them into
the next 10 ms of sound.

Latency
-------
Each input event is time-stamped where the window receives it. The engine applies it to
the next block it renders; when that block is pushed, the sound of the new stimulus will
reach the DAC after the frames already queued, the renderer's look-ahead and the device's
output latency. The window shows ``push time − event time + (queued + look-ahead) / fs +
output latency`` (median of recent events). This is the system's latency; the cell's own
response latency (the LGN kernels peak about 40 ms after a change) comes on top, as it did
for Hubel & Wiesel.

References
----------
Hubel DH (1982). Exploration of the primary visual cortex, 1955–78. Nature 299:515–524
(Nobel lecture).
Hubel DH, Wiesel TN (1959). Receptive fields of single neurones in the cat's striate
cortex. J Physiol 148:574–591.
Hubel DH, Wiesel TN (1962). Receptive fields, binocular interaction and functional
architecture in the cat's visual cortex. J Physiol 160:106–154.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import math
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import wave
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtr

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.audio import SpikeAudioRenderer, make_electrode_amplitudes
from v1lab.experiment import STANDARD_PARAM_COLUMNS, Circuit, Recording
from v1lab.model.cortex import CELL_TYPES, Population, make_gabor_weights, make_population
from v1lab.model.retina import Retina, make_lgn_positions
from v1lab.model.stimulus import Bar, Grating, RetinaGrid, Spot, Stimulus, render_frames

__all__ = [
    "BLOCK_S",
    "KEY_HELP",
    "LIVE_KINDS",
    "Action",
    "BlockResult",
    "ClickEvent",
    "Guess",
    "KeyEvent",
    "LiveAnalysis",
    "LiveConfig",
    "LiveEngine",
    "LiveState",
    "Mark",
    "MouseEvent",
    "Score",
    "ScrollEvent",
    "SessionSnapshot",
    "StimulusParams",
    "StreamingPoisson",
    "TuningAccumulator",
    "check_display",
    "compute_presentations",
    "compute_rf_map",
    "compute_true_tuning",
    "handle_click",
    "handle_key",
    "handle_mouse_move",
    "handle_scroll",
    "load_session_log",
    "make_live_config",
    "make_live_stimulus",
    "make_mystery_cell",
    "run_live",
    "save_live_session",
    "score_guess",
]

#: Length of one simulation block (s): the unit of the real-time loop.
BLOCK_S = 0.01
#: Stimulus kinds the live screen offers: Hubel & Wiesel's slit, spot and edge, and a
#: drifting grating.
LIVE_KINDS = ("bar", "spot", "edge", "grating")

_ROTATE_STEP_DEG = 15.0  # one wheel notch: one bin of the live tuning curve
_SIZE_FACTOR = 1.25  # one notch changes a size by 25 %
_MIN_SIZE_DEG = 0.05
_SF_RANGE_CPD = (0.1, 4.0)
# The non-lagged LGN kernel (order 5, tau = 8 ms) peaks 5 tau = 40 ms after a change, so the
# spikes of a block answer the stimulus of about 40 ms before.
_RESPONSE_LAG_S = 0.04
# Firing within this long after a light stimulus went off is an OFF response (H&W's ×).
_OFFSET_WINDOW_S = 0.3
_MARK_WINDOW_S = 0.5  # a mark judges the cell's firing over the last half second
_GRATING_DURATION_S = 86400.0  # never ends: its clock wraps to one period; 1 day = longest stimulus
_SUBNORMAL_FLOOR = 1e-12  # Gaussian tails below this are zero (and never subnormal)
_TRAJECTORY_COLUMNS = (
    "t_s",
    "kind_code",
    "on",
    "x_deg",
    "y_deg",
    "orientation_deg",
    "length_deg",
    "width_deg",
    "contrast",
    "spatial_frequency_cpd",
    "temporal_frequency_hz",
    "grating_time_s",
)
_ENV_MAX_SECONDS = "V1LAB_LIVE_MAX_SECONDS"
_ENV_GEOMETRY = "V1LAB_LIVE_GEOMETRY"
# Audio queue kept ahead of the DAC, in blocks; grows by one block after an underflow.
_QUEUE_BLOCKS = 3
_MAX_QUEUE_BLOCKS = 8


# --------------------------------------------------------------------------------------
# Stimulus state (what the student controls) and events
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StimulusParams:
    """A snapshot of the live stimulus, sent from the window to the engine.

    Attributes
    ----------
    kind : {'bar', 'spot', 'edge', 'grating'}
        Slit, spot, edge (a light/dark boundary) or drifting grating patch.
    x_deg, y_deg : float
        Position: centre of the slit, spot or grating patch; a point on the edge.
    orientation_deg : float
        Orientation of the slit, the edge or the grating's stripes, in [0, 360): the two
        halves of the circle differ for an edge (which side is light) and a grating
        (drift direction = orientation + 90).
    length_deg, width_deg : float
        Slit length and width; a spot's diameter is ``width_deg``, a grating patch's
        ``length_deg``.
    contrast : float
        Signed contrast: > 0 light, < 0 dark.
    on : bool
        Shutter open (the stimulus is shown).
    frozen : bool
        Paused: the grating does not drift.
    spatial_frequency_cpd, temporal_frequency_hz : float
        Grating only.
    """

    kind: str = "bar"
    x_deg: float = 0.0
    y_deg: float = 0.0
    orientation_deg: float = 90.0
    length_deg: float = 4.0
    width_deg: float = 0.5
    contrast: float = 1.0
    on: bool = True
    frozen: bool = False
    spatial_frequency_cpd: float = 0.8
    temporal_frequency_hz: float = 2.0


@dataclass(frozen=True)
class Mark:
    """A hand-made mark on the tangent screen, as Hubel & Wiesel marked their paper.

    ``sign`` is ``'+'`` (the cell fired for light), ``'x'`` (it fired for dark, or at the
    offset of light) or ``'o'`` (no response).
    """

    t_s: float
    x_deg: float
    y_deg: float
    sign: str
    kind: str


@dataclass(frozen=True)
class Guess:
    """The student's statement about the mystery cell.

    ``direction`` is ``'none'`` (not direction-selective), ``'+90'`` or ``'+270'``
    (preferred direction = orientation + 90 or + 270).
    """

    x_deg: float = math.nan
    y_deg: float = math.nan
    orientation_deg: float = math.nan
    cell_type: str = "simple"
    direction: str = "none"

    @property
    def direction_deg(self) -> float:
        """Preferred direction of motion guessed (NaN for 'none')."""
        if self.direction == "none" or not math.isfinite(self.orientation_deg):
            return math.nan
        return (self.orientation_deg + (90.0 if self.direction == "+90" else 270.0)) % 360.0

    @property
    def complete(self) -> bool:
        """True once a position and an orientation have been given."""
        return all(math.isfinite(v) for v in (self.x_deg, self.y_deg, self.orientation_deg))


@dataclass
class LiveState:
    """Everything the student controls in the live window (mutated by the handlers).

    Examples
    --------
    >>> state = LiveState()
    >>> handle_mouse_move(state, MouseEvent(1.0, -0.5, t_s=0.0))
    <Action.STIMULUS: 'stimulus'>
    >>> state.params().x_deg, state.params().orientation_deg
    (1.0, 90.0)
    """

    extent_deg: float = 10.0
    kind: str = "bar"
    x_deg: float = 0.0
    y_deg: float = 0.0
    orientation_deg: float = 90.0
    length_deg: float = 4.0
    width_deg: float = 0.5
    contrast: float = 1.0
    shutter_open: bool = True
    paused: bool = False
    spatial_frequency_cpd: float = 0.8
    temporal_frequency_hz: float = 2.0
    show_help: bool = False
    mystery: bool = False
    revealed: bool = False
    guess: Guess = field(default_factory=Guess)
    marks: list[Mark] = field(default_factory=list)
    last_event_s: float = math.nan

    def params(self) -> StimulusParams:
        """The stimulus to simulate now."""
        return StimulusParams(
            kind=self.kind,
            x_deg=self.x_deg,
            y_deg=self.y_deg,
            orientation_deg=self.orientation_deg % 360.0,
            length_deg=self.length_deg,
            width_deg=self.width_deg,
            contrast=self.contrast,
            on=self.shutter_open,
            frozen=self.paused,
            spatial_frequency_cpd=self.spatial_frequency_cpd,
            temporal_frequency_hz=self.temporal_frequency_hz,
        )

    def describe(self) -> str:
        """One line for the status bar, e.g. ``light slit 90° 4.0 × 0.50°``."""
        tone = "light" if self.contrast > 0 else "dark"
        ori = self.orientation_deg % 360.0
        if self.kind == "bar":
            text = f"{tone} slit {ori % 180:.0f}°, {self.length_deg:.1f} × {self.width_deg:.2f}°"
        elif self.kind == "spot":
            text = f"{tone} spot, {self.width_deg:.2f}° across"
        elif self.kind == "edge":
            text = f"edge at {ori:.0f}°, {tone} on its left"
        else:
            text = (
                f"grating {ori % 180:.0f}° drifting to {(ori + 90) % 360:.0f}°, "
                f"{self.spatial_frequency_cpd:.2f} c/deg, patch {self.length_deg:.1f}°"
            )
        flags = [] if self.shutter_open else ["shutter closed"]
        if self.paused:
            flags.append("paused")
        return text + (f" [{', '.join(flags)}]" if flags else "")


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


# --------------------------------------------------------------------------------------
# From stimulus state to stimuli the renderer knows
# --------------------------------------------------------------------------------------


def make_live_stimulus(params: StimulusParams, *, extent_deg: float) -> Stimulus | None:
    """The :mod:`v1lab.model.stimulus` object the screen shows now; None with the shutter closed.

    An edge is a light (or dark) half-plane: a bar far larger than the screen whose long
    side passes through (x, y), on the side 90° counter-clockwise from its orientation.
    A grating is a drifting patch of diameter ``length_deg`` centred on (x, y) with its
    stripes at ``orientation_deg``; render it at the grating's own clock.

    Examples
    --------
    >>> make_live_stimulus(StimulusParams(kind="spot", width_deg=1.0), extent_deg=10).radius_deg
    0.5
    >>> make_live_stimulus(StimulusParams(on=False), extent_deg=10) is None
    True
    """
    if not params.on:
        return None
    c = float(params.contrast)
    x, y = float(params.x_deg), float(params.y_deg)
    ori = float(params.orientation_deg) % 360.0
    if params.kind == "bar":
        return Bar(
            contrast=c,
            width_deg=params.width_deg,
            length_deg=params.length_deg,
            orientation_deg=ori % 180.0,
            x_deg=x,
            y_deg=y,
        )
    if params.kind == "spot":
        return Spot(contrast=c, radius_deg=0.5 * params.width_deg, x_deg=x, y_deg=y)
    if params.kind == "edge":
        # From any point of the screen the far corner is under 1.5 extents away.
        big = 2.0 * extent_deg
        rad = math.radians(ori)
        return Bar(
            contrast=c,
            width_deg=big,
            length_deg=2.0 * big,
            orientation_deg=ori % 180.0,
            x_deg=x - math.sin(rad) * 0.5 * big,
            y_deg=y + math.cos(rad) * 0.5 * big,
        )
    check_choice("kind", params.kind, LIVE_KINDS)
    return Grating(
        contrast=c,
        spatial_frequency_cpd=params.spatial_frequency_cpd,
        temporal_frequency_hz=params.temporal_frequency_hz,
        direction_deg=(ori + 90.0) % 360.0,
        aperture_radius_deg=0.5 * params.length_deg,
        x_deg=x,
        y_deg=y,
        duration_s=_GRATING_DURATION_S,
    )


def _stimulus_on_rf(params: StimulusParams, x_rf: float, y_rf: float, r_rf: float) -> bool:
    """Whether the stimulus covers (comes within ``r_rf`` of) the RF centre."""
    if not params.on:
        return False
    dx, dy = x_rf - params.x_deg, y_rf - params.y_deg
    rad = math.radians(params.orientation_deg)
    along = dx * math.cos(rad) + dy * math.sin(rad)
    across = -dx * math.sin(rad) + dy * math.cos(rad)
    if params.kind == "bar":
        return abs(across) <= 0.5 * params.width_deg + r_rf and abs(along) <= (
            0.5 * params.length_deg + r_rf
        )
    if params.kind == "edge":
        return abs(across) <= r_rf
    radius = 0.5 * (params.width_deg if params.kind == "spot" else params.length_deg)
    return math.hypot(dx, dy) <= radius + r_rf


# --------------------------------------------------------------------------------------
# The retina's DoG stage, separably
# --------------------------------------------------------------------------------------


class _SeparableDoG:
    """DoG responses of the LGN lattice as ``Gyᵀ · frame · Gx`` per Gaussian.

    Each DoG weight of :func:`v1lab.model.retina.make_dog_weights` is a product of a pixel-
    integrated Gaussian in x and one in y, and the LGN positions form a square lattice,
    so the dense product ``frame @ spatial`` (n² × n_positions) factorises into two small
    matrix products per Gaussian. A frame that is zero outside a square sub-window only
    needs those rows and columns.
    """

    def __init__(self, retina: Retina) -> None:
        grid = retina.grid
        n, p = grid.n_pixels, grid.pixel_deg
        positions = make_lgn_positions(retina.lgn_extent_deg, retina.lgn_spacing_deg)
        side = round(math.sqrt(positions.shape[0]))
        axis = positions[:side, 0]
        if side * side != positions.shape[0] or not np.array_equal(
            positions, np.column_stack([np.tile(axis, side), np.repeat(axis, side)])
        ):
            raise ParameterError(
                "retina.lgn_spacing_deg", retina.lgn_spacing_deg, "expected a square LGN lattice"
            )
        self.n_pixels = n
        self.pixel_deg = p
        self.extent_deg = n * p
        self.side = side
        self.surround_weight = retina.surround_weight
        edges = (np.arange(n + 1) - n / 2) * p  # as v1lab.model.retina._pixel_gaussian
        y_top = edges[::-1]
        gx, gy = [], []
        for sigma in (retina.center_sigma_deg, retina.surround_sigma_deg):
            mx = ndtr((edges[1:, None] - axis) / sigma) - ndtr((edges[:-1, None] - axis) / sigma)
            my = ndtr((y_top[:-1, None] - axis) / sigma) - ndtr((y_top[1:, None] - axis) / sigma)
            mx[mx < _SUBNORMAL_FLOOR] = 0.0
            my[my < _SUBNORMAL_FLOOR] = 0.0
            gx.append(mx)
            gy.append(my)
        # Both Gaussians' x factors side by side: one product for the centre and surround.
        self._gx = np.ascontiguousarray(np.hstack(gx))  # (n, 2 side)
        self._gy_t = [np.ascontiguousarray(g.T) for g in gy]  # (side, n) each
        self._grids: dict[int, RetinaGrid] = {}

    def response(self, frames: np.ndarray, r0: int = 0, c0: int = 0) -> np.ndarray:
        """DoG responses (k, n_positions) of frames (k, m, m) placed at row r0, column c0."""
        m = frames.shape[-1]
        s = self.side
        half = frames @ self._gx[c0 : c0 + m]  # (k, m, 2 side)
        centre = self._gy_t[0][:, r0 : r0 + m] @ half[..., :s]
        surround = self._gy_t[1][:, r0 : r0 + m] @ half[..., s:]
        out = centre - self.surround_weight * surround
        return out.reshape(frames.shape[0], s * s)

    def subgrid(self, m: int) -> RetinaGrid:
        """A square grid of m pixels per side with the retina's pixel size (cached)."""
        grid = self._grids.get(m)
        if grid is None:
            p = self.pixel_deg
            grid = RetinaGrid(extent_deg=m * p, pixels_per_deg=1.0 / p)
            self._grids[m] = grid
        return grid

    def shape_response(self, params: StimulusParams) -> np.ndarray:
        """DoG responses (n_positions,) to a slit or spot, rendered in its own window only."""
        window = self.window(params)
        if window is None or not params.on:
            return np.zeros(self.side * self.side)
        r0, c0, m = window
        # Centred on the window, so that the shape is drawn on the retina's pixel lattice.
        sx = (c0 + 0.5 * m - 0.5 * self.n_pixels) * self.pixel_deg
        sy = (0.5 * self.n_pixels - r0 - 0.5 * m) * self.pixel_deg
        shifted = dataclasses.replace(params, x_deg=params.x_deg - sx, y_deg=params.y_deg - sy)
        stim = make_live_stimulus(shifted, extent_deg=self.extent_deg)
        return self.response(render_frames(stim, self.subgrid(m), [0.0]), r0, c0)[0]

    def window(self, params: StimulusParams) -> tuple[int, int, int] | None:
        """Smallest square pixel window (r0, c0, m) outside which a slit or spot is grey."""
        p, n, half_e = self.pixel_deg, self.n_pixels, 0.5 * self.extent_deg
        if params.kind == "spot":
            hx = hy = 0.5 * params.width_deg
        else:
            rad = math.radians(params.orientation_deg)
            c, s = abs(math.cos(rad)), abs(math.sin(rad))
            hx = 0.5 * (params.length_deg * c + params.width_deg * s)
            hy = 0.5 * (params.length_deg * s + params.width_deg * c)
        # One pixel of margin either side: the window only has to contain the shape.
        c_lo = max(0, math.floor((params.x_deg - hx + half_e) / p) - 1)
        c_hi = min(n, math.ceil((params.x_deg + hx + half_e) / p) + 1)
        r_lo = max(0, math.floor((half_e - params.y_deg - hy) / p) - 1)
        r_hi = min(n, math.ceil((half_e - params.y_deg + hy) / p) + 1)
        if c_lo >= c_hi or r_lo >= r_hi:
            return None
        m = max(c_hi - c_lo, r_hi - r_lo)
        return min(r_lo, n - m), min(c_lo, n - m), m


# --------------------------------------------------------------------------------------
# Spikes, block by block
# --------------------------------------------------------------------------------------


class StreamingPoisson:
    """Dead-time Poisson spikes generated block by block, with carried state.

    The same process as :func:`v1lab.cells.spikes.sim_poisson_dead_time`: hazard ``λ(t)`` outside
    an absolute dead time after each spike and 0 inside it, with the cell driven at
    ``λ = r / (1 − r d)`` so that a constant requested rate ``r`` is the output rate
    (Johnson 1996). Each cell carries the unit-rate exponential "time" left until its next
    event and the end of its dead period (time rescaling; Brown et al. 2002), so the
    spikes of consecutive blocks form one process whatever the block length. Work is
    vectorised over cells: one pass per sample plus one per extra spike in it.

    Parameters
    ----------
    n_cells : int
    fs : float
        Rate samples per second (the retina's frame rate).
    dead_time_s : float
        Absolute dead time (s).
    rng : numpy.random.Generator

    Examples
    --------
    >>> gen = StreamingPoisson(2, 200.0, rng=np.random.default_rng(0))
    >>> cells, times = gen.advance(np.full((200, 2), 50.0))
    >>> bool(np.all(np.diff(times[cells == 0]) >= 0.002)), gen.t_s
    (True, 1.0)
    """

    def __init__(
        self, n_cells: int, fs: float, *, dead_time_s: float = 0.002, rng: np.random.Generator
    ) -> None:
        self.n_cells = check_int("n_cells", n_cells, lo=1)
        self.fs = check_number("fs", fs, lo=0, lo_open=True, unit="Hz")
        self.dead_time_s = check_number("dead_time_s", dead_time_s, lo=0, hi=0.05, unit="s")
        if not isinstance(rng, np.random.Generator):
            raise ParameterError("rng", rng, "expected a numpy.random.Generator")
        self._rng = rng
        self._residual = rng.standard_exponential(self.n_cells)
        self._dead_until = np.full(self.n_cells, -np.inf)
        self._samples = 0
        # Drive ceiling: rates at or above 1/d would need an infinite drive.
        self._max_rate = 0.95 / self.dead_time_s if self.dead_time_s > 0 else np.inf

    @property
    def t_s(self) -> float:
        """Time (s) at which the next :meth:`advance` starts."""
        return self._samples / self.fs

    def advance(self, rates_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Spikes for the next ``len(rates_hz)`` samples.

        Parameters
        ----------
        rates_hz : ndarray, shape (n_samples, n_cells)
            Requested rates (spikes/s), constant within each sample; clipped to
            ``0.95 / dead_time_s``.

        Returns
        -------
        cells : ndarray of int64
        times_s : ndarray of float64
            Spike times on the session clock, in the order generated (sorted within
            each cell).
        """
        rates = np.asarray(rates_hz, dtype=np.float64)
        if rates.ndim != 2 or rates.shape[1] != self.n_cells:
            raise ParameterError(
                "rates_hz", rates.shape, f"expected shape (n_samples, {self.n_cells})"
            )
        d = self.dead_time_s
        drive = np.clip(rates, 0.0, self._max_rate)
        drive = drive / (1.0 - drive * d)
        res, dead = self._residual, self._dead_until
        out_cells: list[np.ndarray] = []
        out_times: list[np.ndarray] = []
        for k in range(rates.shape[0]):
            t0 = (self._samples + k) / self.fs
            t1 = (self._samples + k + 1) / self.fs
            lam = drive[k]
            start = np.maximum(dead, t0)
            integral = lam * np.maximum(t1 - start, 0.0)
            fire = res < integral
            res -= np.where(fire, 0.0, integral)
            idx = np.flatnonzero(fire)
            while idx.size:
                times = start[idx] + res[idx] / lam[idx]
                out_cells.append(idx)
                out_times.append(times)
                dead[idx] = times + d
                res[idx] = self._rng.standard_exponential(idx.size)
                start_i = times + d
                integral_i = lam[idx] * np.maximum(t1 - start_i, 0.0)
                again = res[idx] < integral_i
                res[idx[~again]] -= integral_i[~again]
                start[idx] = start_i
                idx = idx[again]
        self._samples += rates.shape[0]
        if not out_cells:
            return np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(out_cells).astype(np.int64), np.concatenate(out_times)


# --------------------------------------------------------------------------------------
# The engine: one 10-ms block
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveConfig:
    """What the engine simulates.

    Attributes
    ----------
    retina : Retina
    population : Population
        Row 0 is the cell under the electrode; the others are its neighbours.
    amplitudes : tuple of float
        Loudness of each cell's spikes (1 = at the electrode tip).
    seed : int
        Seed of the spikes and the sound's hiss.
    dead_time_s : float
        Dead time of the Poisson spike generator (s).
    fs_hz : int
        Audio sampling rate.
    protocol_cells : tuple of int
        Index of each cell in the protocol's population (empty for a mystery cell).
    """

    retina: Retina
    population: Population
    amplitudes: tuple[float, ...]
    seed: int = 0
    dead_time_s: float = 0.002
    fs_hz: int = 44100
    protocol_cells: tuple[int, ...] = ()


@dataclass(frozen=True)
class BlockResult:
    """What one block produced, for the window and :class:`LiveAnalysis`.

    Attributes
    ----------
    index : int
    t0_s : float
        Start of the block on the session clock.
    spike_cells, spike_times : ndarray
        Spikes of the block (cell index into the live population, time in s).
    rates_hz : ndarray
        Model rate of each cell, averaged over the block.
    kind : str
    x_deg, y_deg, orientation_deg : float
        The stimulus at the end of the block; orientation in [0, 180) (NaN for a spot).
    polarity : int
        +1 while light is on (or just after dark went off), −1 for dark (or just after
        light went off), 0 otherwise: what a response now would be a response to.
    on_rf : bool
        The stimulus covers the electrode cell's RF centre.
    audio : ndarray or None
        The block's sound (float32); dropped before the result is sent to the window.
    latency_s : float
        Event-to-sound latency measured on this block (NaN if no new event).
    """

    index: int
    t0_s: float
    spike_cells: np.ndarray
    spike_times: np.ndarray
    rates_hz: np.ndarray
    kind: str
    x_deg: float
    y_deg: float
    orientation_deg: float
    polarity: int
    on_rf: bool
    audio: np.ndarray | None = None
    latency_s: float = math.nan


@dataclass(frozen=True)
class SessionSnapshot:
    """Where an engine's session log is, and how much of it is complete.

    Read it with :func:`load_session_log`; the files stay valid while the engine runs.
    """

    log_dir: str
    n_blocks: int
    n_frames: int
    n_spikes: int
    n_audio_samples: int
    audio_offset_samples: int
    frame_rate_hz: float
    fs_hz: int
    extent_deg: float


class LiveEngine:
    """The simulation of the live mode: advance one 10-ms block from the current stimulus.

    :meth:`step` renders the block's frames, runs them through the retina and V1 (state
    carried), draws the spikes (:class:`StreamingPoisson`) and renders the block's sound
    (:class:`~v1lab.audio.SpikeAudioRenderer`). Everything shown is logged to files in
    ``log_dir`` (trajectory per frame, spikes, 16-bit sound) so that memory stays bounded
    and a save never has to copy a long session through a pipe.

    Parameters
    ----------
    config : LiveConfig
    log_dir : path, optional
        Folder for the session log (created; default: a new temporary folder, removed by
        :meth:`close`).

    Examples
    --------
    >>> from v1lab.model.cortex import population_from_cells
    >>> pop = population_from_cells([{"type": "simple"}])
    >>> engine = LiveEngine(LiveConfig(Retina(extent_deg=6, lgn_extent_deg=3), pop, (1.0,)))
    >>> result = engine.step(StimulusParams(orientation_deg=0.0))
    >>> result.audio.shape, result.t0_s, engine.t_s
    ((441,), 0.0, 0.01)
    >>> engine.close()
    """

    def __init__(self, config: LiveConfig, *, log_dir: str | os.PathLike[str] | None = None):
        self.config = config
        retina = config.retina
        fpb = retina.frame_rate_hz * BLOCK_S
        if abs(fpb - round(fpb)) > 1e-9 or round(fpb) < 1:
            raise ParameterError(
                "retina.frame_rate_hz",
                retina.frame_rate_hz,
                "expected a multiple of 100 Hz for the live mode (whole frames per 10-ms block)",
            )
        self.frames_per_block = round(fpb)
        self.frame_rate_hz = float(retina.frame_rate_hz)
        n_cells = len(config.population)
        self.circuit = Circuit(retina, config.population)
        self._dog = _SeparableDoG(retina)
        self._n_pos = self._dog.side**2
        spikes_seq, audio_seq = np.random.SeedSequence(config.seed).spawn(2)
        self.poisson = StreamingPoisson(
            n_cells,
            self.frame_rate_hz,
            dead_time_s=config.dead_time_s,
            rng=np.random.default_rng(spikes_seq),
        )
        self.renderer = SpikeAudioRenderer(
            n_cells,
            fs_hz=config.fs_hz,
            amplitudes=np.asarray(config.amplitudes, dtype=float),
            rng=np.random.default_rng(audio_seq),
        )
        self.block_samples = round(BLOCK_S * config.fs_hz)
        pop = config.population
        sf = float(pop.spatial_frequency_cpd[0])
        self._rf = (
            float(pop.x_deg[0]),
            float(pop.y_deg[0]),
            math.sqrt(float(pop.nx[0]) * float(pop.ny[0])) / sf,
        )
        self._owns_log = log_dir is None
        self.log_dir = Path(tempfile.mkdtemp(prefix="v1lab-live-") if log_dir is None else log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._traj_fh = open(self.log_dir / "trajectory.f64", "wb")
        self._spike_fh = open(self.log_dir / "spikes.f64", "wb")
        self._audio_fh = open(self.log_dir / "audio.s16", "wb")
        self.index = 0
        self._n_frames = 0
        self._n_spikes = 0
        self._last: StimulusParams | None = None
        self._grating_t = 0.0
        self._last_on_sign = 0
        self._off_since = -math.inf
        self._cache_key: tuple[Any, ...] | None = None
        self._cache_resp = np.zeros(self._n_pos)
        self._resp = np.zeros((self.frames_per_block, self._n_pos))
        self._traj = np.zeros((self.frames_per_block, len(_TRAJECTORY_COLUMNS)))

    @property
    def t_s(self) -> float:
        """Session time at the start of the next block (s)."""
        return self.index * BLOCK_S

    @property
    def n_cells(self) -> int:
        return len(self.config.population)

    def _frame_response(self, params: StimulusParams, grating_t: float) -> np.ndarray:
        dog = self._dog
        if not params.on:
            return np.zeros(self._n_pos)
        if params.kind in ("bar", "spot"):
            key = (params, 0.0)
            if key == self._cache_key:
                return self._cache_resp
            resp = dog.shape_response(params)
            self._cache_key, self._cache_resp = key, resp
            return resp
        stim = make_live_stimulus(params, extent_deg=dog.extent_deg)
        key = (params, grating_t if params.kind == "grating" else 0.0)
        if key == self._cache_key:
            return self._cache_resp
        frame = render_frames(stim, self.config.retina.grid, [grating_t])
        resp = dog.response(frame)[0]
        self._cache_key, self._cache_resp = key, resp
        return resp

    def step(self, params: StimulusParams) -> BlockResult:
        """Simulate the next block with ``params`` on the screen; return what it produced."""
        fpb = self.frames_per_block
        t0 = self.t_s
        prev = self._last
        # Smooth motion: the block's frames move from the previous position to this one.
        glide = prev is not None and prev.on and params.on and prev.kind == params.kind
        x_from = prev.x_deg if glide else params.x_deg
        y_from = prev.y_deg if glide else params.y_deg
        tf = params.temporal_frequency_hz
        traj = self._traj
        for k in range(fpb):
            a = (k + 1) / fpb
            frame_params = params
            if glide and (x_from != params.x_deg or y_from != params.y_deg):
                frame_params = dataclasses.replace(
                    params,
                    x_deg=x_from + a * (params.x_deg - x_from),
                    y_deg=y_from + a * (params.y_deg - y_from),
                )
            self._resp[k] = self._frame_response(frame_params, self._grating_t)
            traj[k] = (
                (self._n_frames + k) / self.frame_rate_hz,
                LIVE_KINDS.index(params.kind),
                float(params.on),
                frame_params.x_deg,
                frame_params.y_deg,
                params.orientation_deg,
                params.length_deg,
                params.width_deg,
                params.contrast,
                params.spatial_frequency_cpd,
                tf,
                self._grating_t,
            )
            if params.kind == "grating" and not params.frozen and tf > 0:
                # The pattern repeats every 1/tf s: wrapping keeps the phase exact forever.
                self._grating_t = (self._grating_t + 1.0 / self.frame_rate_hz) % (1.0 / tf)

        lgn = self.circuit.lgn.process_spatial(self._resp.astype(np.float32))
        rates = self.circuit.v1.process(lgn)
        cells, times = self.poisson.advance(rates)
        trains = _split_by_cell(cells, times, self.n_cells)
        audio = self.renderer.render_block(trains, t0, self.block_samples)

        self._traj_fh.write(traj.tobytes())
        if cells.size:
            self._spike_fh.write(np.column_stack([cells, times]).astype(np.float64).tobytes())
        pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
        self._audio_fh.write(pcm.tobytes())
        self._n_frames += fpb
        self._n_spikes += cells.size

        polarity = self._polarity(params, t0)
        x_rf, y_rf, r_rf = self._rf
        result = BlockResult(
            index=self.index,
            t0_s=t0,
            spike_cells=cells,
            spike_times=times,
            rates_hz=rates.mean(axis=0),
            kind=params.kind,
            x_deg=params.x_deg,
            y_deg=params.y_deg,
            orientation_deg=math.nan if params.kind == "spot" else params.orientation_deg % 180.0,
            polarity=polarity,
            on_rf=_stimulus_on_rf(params, x_rf, y_rf, r_rf),
            audio=audio,
        )
        self._last = params
        self.index += 1
        return result

    def _polarity(self, params: StimulusParams, t0: float) -> int:
        if params.on and params.kind != "grating":
            self._last_on_sign = 1 if params.contrast > 0 else -1
            self._off_since = math.inf
            return self._last_on_sign
        if params.on:  # a grating is light and dark at once
            self._last_on_sign = 0
            return 0
        if self._off_since == math.inf:
            self._off_since = t0
        if t0 - self._off_since < _OFFSET_WINDOW_S:
            return -self._last_on_sign  # the offset of light is a dimming: an OFF response
        return 0

    def snapshot(self) -> SessionSnapshot:
        """Flush the log and say how much of it is complete."""
        for fh in (self._traj_fh, self._spike_fh, self._audio_fh):
            fh.flush()
        return SessionSnapshot(
            log_dir=str(self.log_dir),
            n_blocks=self.index,
            n_frames=self._n_frames,
            n_spikes=self._n_spikes,
            n_audio_samples=self.index * self.block_samples,
            audio_offset_samples=self.renderer.latency_samples,
            frame_rate_hz=self.frame_rate_hz,
            fs_hz=self.config.fs_hz,
            extent_deg=self.config.retina.extent_deg,
        )

    def close(self) -> None:
        """Close the log files (and remove the log if the engine made it)."""
        for fh in (self._traj_fh, self._spike_fh, self._audio_fh):
            fh.close()
        if self._owns_log:
            shutil.rmtree(self.log_dir, ignore_errors=True)


def _split_by_cell(cells: np.ndarray, times: np.ndarray, n_cells: int) -> list[np.ndarray]:
    if cells.size == 0:
        return [times[:0]] * n_cells
    order = np.lexsort((times, cells))
    bounds = np.searchsorted(cells[order], np.arange(1, n_cells))
    return np.split(times[order], bounds)


# --------------------------------------------------------------------------------------
# What the window accumulates: raster, rate, tuning, marks
# --------------------------------------------------------------------------------------


class TuningAccumulator:
    """Spike rate per orientation bin while the stimulus was on the RF.

    Examples
    --------
    >>> acc = TuningAccumulator(n_bins=12)
    >>> acc.add(91.0, 3, 0.1); acc.add(0.0, 0, 0.1)
    >>> acc.rates_hz()[[0, 6]].tolist()
    [0.0, 30.0]
    """

    def __init__(self, n_bins: int = 12) -> None:
        self.n_bins = check_int("n_bins", n_bins, lo=2, hi=180)
        self.spikes = np.zeros(self.n_bins)
        self.seconds = np.zeros(self.n_bins)

    @property
    def bin_width_deg(self) -> float:
        return 180.0 / self.n_bins

    @property
    def centres_deg(self) -> np.ndarray:
        """Orientation at the centre of each bin (deg), starting at 0."""
        return np.arange(self.n_bins) * self.bin_width_deg

    def bin_of(self, orientation_deg: float) -> int:
        return round((orientation_deg % 180.0) / self.bin_width_deg) % self.n_bins

    def add(self, orientation_deg: float, n_spikes: float, seconds: float) -> None:
        b = self.bin_of(orientation_deg)
        self.spikes[b] += n_spikes
        self.seconds[b] += seconds

    def rates_hz(self) -> np.ndarray:
        """Rate per bin (spikes/s); NaN for bins never tried."""
        out = np.full(self.n_bins, np.nan)
        tried = self.seconds > 0
        out[tried] = self.spikes[tried] / self.seconds[tried]
        return out

    def reset(self) -> None:
        self.spikes[:] = 0.0
        self.seconds[:] = 0.0


class LiveAnalysis:
    """The window's measurements, fed one :class:`BlockResult` at a time.

    Spikes of a block are attributed to the stimulus of ``lag_s`` earlier (the LGN's
    response latency), both for the tuning curve and for the marks.

    Parameters
    ----------
    n_cells : int
        Cells in the live population (0 is the electrode's cell).
    block_s : float
    lag_s : float
    raster_s : float
        Length of the scrolling raster (s).
    rate_window_s : float
        Window of the rate meter (s).
    mark_window_s : float
        Firing judged by a mark (s before the key press).
    spontaneous_prior_hz : float
        Prior guess of the spontaneous rate, worth one second of observation, until
        blank-screen time measures it.
    """

    def __init__(
        self,
        n_cells: int,
        *,
        block_s: float = BLOCK_S,
        lag_s: float = _RESPONSE_LAG_S,
        raster_s: float = 3.0,
        rate_window_s: float = 0.25,
        mark_window_s: float = _MARK_WINDOW_S,
        spontaneous_prior_hz: float = 2.0,
    ) -> None:
        self.n_cells = check_int("n_cells", n_cells, lo=1)
        self.block_s = block_s
        self.lag_blocks = max(0, round(lag_s / block_s))
        self.raster_s = raster_s
        self.tuning = TuningAccumulator()
        self._descriptors: deque[tuple[int, bool, float]] = deque(maxlen=self.lag_blocks + 1)
        self._recent: deque[tuple[int, int]] = deque(maxlen=max(1, round(mark_window_s / block_s)))
        self._counts: deque[int] = deque(maxlen=max(1, round(rate_window_s / block_s)))
        self._raster: deque[tuple[np.ndarray, np.ndarray]] = deque(
            maxlen=max(1, round(raster_s / block_s))
        )
        self._baseline_spikes = spontaneous_prior_hz * 1.0
        self._baseline_s = 1.0
        self.now_s = 0.0
        self.n_blocks = 0
        self.n_spikes = 0

    def add(self, result: BlockResult) -> None:
        """Take in one block."""
        n = int(np.count_nonzero(result.spike_cells == 0))
        self._descriptors.append((result.polarity, result.on_rf, result.orientation_deg))
        if len(self._descriptors) == self._descriptors.maxlen:
            polarity, on_rf, orientation = self._descriptors[0]
            if on_rf and math.isfinite(orientation):
                self.tuning.add(orientation, n, self.block_s)
            self._recent.append((polarity, n))
            if polarity == 0:
                self._baseline_spikes += n
                self._baseline_s += self.block_s
        self._counts.append(n)
        self._raster.append((result.spike_cells, result.spike_times))
        self.now_s = result.t0_s + self.block_s
        self.n_blocks += 1
        self.n_spikes += n

    @property
    def spontaneous_hz(self) -> float:
        """Estimated spontaneous rate of the electrode's cell (spikes/s)."""
        return self._baseline_spikes / self._baseline_s

    def rate_hz(self) -> float:
        """Firing rate of the electrode's cell over the rate meter's window (spikes/s)."""
        if not self._counts:
            return 0.0
        return sum(self._counts) / (len(self._counts) * self.block_s)

    def raster(self) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of the last ``raster_s``: (cells, times relative to now, ≤ 0)."""
        if not self._raster:
            return np.zeros(0, np.int64), np.zeros(0)
        cells = np.concatenate([c for c, _ in self._raster])
        times = np.concatenate([t for _, t in self._raster]) - self.now_s
        return cells, times

    def classify_response(self) -> str:
        """'+' (fired for light), 'x' (for dark or the offset of light) or 'o' (no response).

        The firing in the mark window is split by what the screen showed just before it
        (the stimulus polarity, lagged); a response is an excess over the spontaneous
        rate of more than two Poisson SDs plus two spikes.
        """
        base = self.spontaneous_hz
        best, best_excess = "o", 0.0
        for sign, label in ((1, "+"), (-1, "x")):
            seconds = self.block_s * sum(1 for p, _ in self._recent if p == sign)
            if seconds <= 0:
                continue
            count = sum(n for p, n in self._recent if p == sign)
            expected = base * seconds
            excess = count - expected
            if excess > 2.0 * math.sqrt(expected) + 2.0 and excess / seconds > best_excess:
                best, best_excess = label, excess / seconds
        return best

    def make_mark(self, state: LiveState, t_s: float | None = None) -> Mark:
        """A mark at the stimulus' position, signed by :meth:`classify_response`."""
        return Mark(
            t_s=self.now_s if t_s is None else t_s,
            x_deg=state.x_deg,
            y_deg=state.y_deg,
            sign=self.classify_response(),
            kind=state.kind,
        )


# --------------------------------------------------------------------------------------
# The mystery cell
# --------------------------------------------------------------------------------------


def make_mystery_cell(rng: np.random.Generator, *, retina: Retina | None = None) -> dict[str, Any]:
    """Draw a hidden cell: type uniform over :data:`~v1lab.model.cortex.CELL_TYPES`, RF centre
    uniform within the central part of the LGN mosaic, everything else from the
    distributions of :func:`~v1lab.model.cortex.make_population` (orientation uniform, a random
    preferred direction for a direction-selective cell).

    Returns
    -------
    dict
        A cell table for :func:`~v1lab.model.cortex.population_from_cells`.

    Examples
    --------
    >>> cell = make_mystery_cell(np.random.default_rng(1))
    >>> cell["type"] in CELL_TYPES and abs(cell["x_deg"]) <= 1.5
    True
    """
    retina = Retina() if retina is None else retina
    # Room for the envelope (and an end-stopped cell's end zones) inside the mosaic.
    reach = max(0.0, min(1.5, 0.5 * retina.lgn_extent_deg - 1.5))
    kind = str(rng.choice(CELL_TYPES))
    x, y = rng.uniform(-reach, reach, 2)
    pop = make_population(
        1, rng, type_fractions={kind: 1.0}, center_deg=(float(x), float(y)), rf_scatter_deg=0.0
    )
    return pop.to_cells()[0]


@dataclass(frozen=True)
class Score:
    """How good a guess was (0–100) and its parts.

    Position: 40 points, falling linearly to 0 at 1.5° of error; orientation: 30 points,
    falling to 0 at 45°; type: 20 points (10 for the right family, simple-like versus
    complex-like); direction: 10 points (none for a non-direction-selective cell, or
    within 45° of the preferred direction). A guess without a position and an orientation
    scores 0.
    """

    total: int
    position_error_deg: float
    orientation_error_deg: float
    type_correct: bool
    direction_correct: bool
    points: dict[str, float]

    def describe(self) -> str:
        return (
            f"score {self.total}/100: position off by {self.position_error_deg:.2f}°, "
            f"orientation by {self.orientation_error_deg:.0f}°, type "
            f"{'right' if self.type_correct else 'wrong'}, direction "
            f"{'right' if self.direction_correct else 'wrong'}"
        )


_FAMILY = {
    "simple": "simple",
    "ds_simple": "simple",
    "complex": "complex",
    "end_stopped": "complex",
}


def score_guess(guess: Guess, truth: Mapping[str, Any]) -> Score:
    """Score a guess against the true cell (a cell table, as from ``Population.to_cells``).

    Examples
    --------
    >>> truth = {"type": "complex", "x_deg": 0.5, "y_deg": 0.0, "orientation_deg": 30.0}
    >>> score_guess(Guess(0.5, 0.0, 30.0, "complex", "none"), truth).total
    100
    >>> score_guess(Guess(3.0, 3.0, 120.0, "simple", "+90"), truth).total
    0
    """
    pos_err = math.hypot(guess.x_deg - truth["x_deg"], guess.y_deg - truth["y_deg"])
    if not math.isfinite(pos_err):
        pos_err = math.inf
    d = (guess.orientation_deg - truth["orientation_deg"]) % 180.0
    ori_err = min(d, 180.0 - d) if math.isfinite(d) else 90.0
    true_type = str(truth["type"])
    type_points = 20.0 if guess.cell_type == true_type else 0.0
    if not type_points and _FAMILY.get(guess.cell_type) == _FAMILY.get(true_type):
        type_points = 10.0
    true_dir = truth.get("preferred_direction_deg")
    if true_dir is None or not math.isfinite(float(true_dir)):
        direction_ok = guess.direction == "none"
    else:
        g = guess.direction_deg
        gap = abs((g - float(true_dir) + 180.0) % 360.0 - 180.0) if math.isfinite(g) else 180.0
        direction_ok = gap <= 45.0
    points = {
        "position": 40.0 * max(0.0, 1.0 - pos_err / 1.5),
        "orientation": 30.0 * max(0.0, 1.0 - ori_err / 45.0),
        "type": type_points,
        "direction": 10.0 if direction_ok else 0.0,
    }
    if not guess.complete:  # no statement (enter was never pressed): nothing to score
        points = dict.fromkeys(points, 0.0)
    return Score(
        total=round(sum(points.values())),
        position_error_deg=pos_err,
        orientation_error_deg=ori_err,
        type_correct=guess.cell_type == true_type,
        direction_correct=direction_ok,
        points=points,
    )


def compute_rf_map(
    population: Population, cell: int = 0, *, extent_deg: float = 10.0, n: int = 161
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cell's linear RF on a grid, for drawing its ON (+) and OFF (−) subregions.

    Simple cells: the Gabor of their (even, non-lagged) subunit; complex and end-stopped
    cells, which have no separate ON and OFF regions (Hubel & Wiesel 1962), their
    envelope (minus the end zones for an end-stopped cell).

    Returns
    -------
    x_deg, y_deg : ndarray, shape (n,)
    rf : ndarray, shape (n, n)
        Row 0 at the bottom (``y_deg[0]``), normalised to a peak magnitude of 1.
    """
    axis = np.linspace(-0.5 * extent_deg, 0.5 * extent_deg, n)
    xx, yy = np.meshgrid(axis, axis)
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    sf = pop_sf = float(population.spatial_frequency_cpd[cell])
    kind = str(population.cell_type[cell])
    theta = math.radians(float(population.orientation_deg[cell]))
    sa = float(population.nx[cell]) / sf
    sl = float(population.ny[cell]) / sf
    x0, y0 = float(population.x_deg[cell]), float(population.y_deg[cell])

    def gabor(cx: float, cy: float, phase: float, freq: float) -> np.ndarray:
        return make_gabor_weights(
            pts,
            x_deg=np.array([cx]),
            y_deg=np.array([cy]),
            orientation_deg=np.array([math.degrees(theta)]),
            spatial_frequency_cpd=np.array([freq]),
            phase_deg=np.array([phase]),
            sigma_across_deg=np.array([sa]),
            sigma_along_deg=np.array([sl]),
        )[:, 0]

    if kind in ("simple", "ds_simple"):
        rf = gabor(x0, y0, float(population.phase_deg[cell]), pop_sf)
    else:
        rf = gabor(x0, y0, 0.0, 1e-9)  # a vanishing frequency leaves the envelope
        if kind == "end_stopped":
            off = 2.5 * sl * np.array([math.cos(theta), math.sin(theta)])
            k = float(population.end_inhibition[cell])
            for sign in (1, -1):
                rf = rf - k * gabor(x0 + sign * off[0], y0 + sign * off[1], 0.0, 1e-9)
    rf = rf.reshape(n, n)
    peak = float(np.max(np.abs(rf)))
    return axis, axis, rf / peak if peak > 0 else rf


def compute_true_tuning(
    retina: Retina,
    population: Population,
    *,
    cell: int = 0,
    n_directions: int = 24,
    speed_deg_s: float = 4.0,
    travel_deg: float = 6.0,
    length_deg: float = 4.0,
    width_deg: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """The cell's direction tuning to a light slit swept across its RF centre.

    The batch protocol's stimulus (a slit swept at ``speed_deg_s`` in each of
    ``n_directions`` directions), simulated through the same retina and V1, without spike
    noise: the answer key for the mystery cell.

    Returns
    -------
    directions_deg : ndarray
    rates_hz : ndarray
        Mean model rate of ``cell`` over each sweep.
    """
    n_directions = check_int("n_directions", n_directions, lo=1, hi=360)
    circuit = Circuit(retina, population)
    dog = _SeparableDoG(retina)
    fs = retina.frame_rate_hz
    directions = np.arange(n_directions) * 360.0 / n_directions
    rates = np.zeros(n_directions)
    duration = travel_deg / speed_deg_s
    t = np.arange(round(duration * fs)) / fs
    blank = round(retina.kernel_s * fs)
    x0, y0 = float(population.x_deg[cell]), float(population.y_deg[cell])
    for i, direction in enumerate(directions):
        # The moving bar of v1lab.model.stimulus.Bar, frame by frame, each drawn in its own window.
        rad = math.radians(direction)
        offset = speed_deg_s * (t - 0.5 * duration)
        spatial = np.array(
            [
                dog.shape_response(
                    StimulusParams(
                        x_deg=x0 + d * math.cos(rad), y_deg=y0 + d * math.sin(rad),
                        orientation_deg=(direction - 90.0) % 360.0, length_deg=length_deg,
                        width_deg=width_deg,
                    )
                )
                for d in offset
            ]
        )  # fmt: skip
        circuit.reset()
        r = circuit.v1.process(circuit.lgn.process_spatial(spatial.astype(np.float32)))
        tail = circuit.process_blank(blank)
        rates[i] = float(np.concatenate([r[:, cell], tail[:, cell]]).mean())
    return directions, rates


# --------------------------------------------------------------------------------------
# Saving a session
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SessionLog:
    trajectory: np.ndarray  # (n_frames, len(_TRAJECTORY_COLUMNS))
    spike_cells: np.ndarray
    spike_times: np.ndarray
    audio_path: Path
    snapshot: SessionSnapshot


def load_session_log(snapshot: SessionSnapshot) -> _SessionLog:
    """Read the complete part of an engine's session log.

    Returns an object with ``trajectory`` (one row per frame, columns
    ``t_s, kind_code, on, x_deg, y_deg, orientation_deg, length_deg, width_deg, contrast,
    spatial_frequency_cpd, temporal_frequency_hz, grating_time_s``; kind codes index
    :data:`LIVE_KINDS`), ``spike_cells``, ``spike_times`` and ``audio_path`` (raw 16-bit
    PCM, mono).
    """
    folder = Path(snapshot.log_dir)
    n_cols = len(_TRAJECTORY_COLUMNS)
    traj = np.fromfile(
        folder / "trajectory.f64", dtype=np.float64, count=snapshot.n_frames * n_cols
    )
    spikes = np.fromfile(folder / "spikes.f64", dtype=np.float64, count=2 * snapshot.n_spikes)
    spikes = spikes.reshape(-1, 2)
    return _SessionLog(
        trajectory=traj.reshape(-1, n_cols),
        spike_cells=spikes[:, 0].astype(np.int64),
        spike_times=spikes[:, 1].copy(),
        audio_path=folder / "audio.s16",
        snapshot=snapshot,
    )


_CONDITION_COLUMNS = ("kind_code", "orientation_deg", "length_deg", "width_deg", "contrast")


def compute_presentations(trajectory: np.ndarray, frame_rate_hz: float) -> dict[str, np.ndarray]:
    """The trials table of a live session: one row per stretch of unchanged stimulus.

    A row starts whenever the shutter opens or the stimulus changes in anything but its
    position (kind, orientation, size, contrast, spatial or temporal frequency); the
    hand's motion within a row is in the trajectory. ``x_deg``/``y_deg`` are the position
    at the row's start and ``speed_deg_s`` the hand's mean speed during it. Rows with the
    same stimulus share a ``stimulus_condition_id``.

    Parameters
    ----------
    trajectory : ndarray, shape (n_frames, 12)
        As logged by :class:`LiveEngine` (see :func:`load_session_log`).
    frame_rate_hz : float

    Returns
    -------
    dict of str to ndarray
        ``start_time``, ``stop_time``, ``stimulus_condition_id``, ``repeat``,
        ``stimulus`` and the stimulus-parameter columns (NaN where they do not apply).
    """
    col = {name: i for i, name in enumerate(_TRAJECTORY_COLUMNS)}
    n = trajectory.shape[0]
    names = [*_CONDITION_COLUMNS, "spatial_frequency_cpd", "temporal_frequency_hz"]
    if n:
        keys = np.round(trajectory[:, [col[k] for k in names]], 9)
        on = trajectory[:, col["on"]] > 0.5
        changed = np.concatenate([[True], np.any(keys[1:] != keys[:-1], axis=1) | ~on[:-1]])
        starts = np.flatnonzero(on & changed)
        on_ends = np.flatnonzero(on & np.concatenate([~on[1:] | changed[1:], [True]]))
    else:
        keys = np.zeros((0, len(names)))
        starts = on_ends = np.zeros(0, dtype=np.int64)
    dt = 1.0 / frame_rate_hz
    rows = []
    for s in starts:
        e = on_ends[np.searchsorted(on_ends, s)]
        rows.append((int(s), int(e)))
    seen: dict[tuple[float, ...], int] = {}
    cond = np.zeros(len(rows), dtype=np.int64)
    repeat = np.zeros(len(rows), dtype=np.int64)
    counts: dict[int, int] = {}
    for i, (s, _) in enumerate(rows):
        key = tuple(float(v) for v in keys[s])
        cond[i] = seen.setdefault(key, len(seen))
        repeat[i] = counts.get(int(cond[i]), 0)
        counts[int(cond[i])] = repeat[i] + 1
    out: dict[str, np.ndarray] = {
        "start_time": np.array([trajectory[s, 0] for s, _ in rows], dtype=float),
        "stop_time": np.array([trajectory[e, 0] + dt for _, e in rows], dtype=float),
        "stimulus_condition_id": cond,
        "repeat": repeat,
    }
    kinds = [LIVE_KINDS[int(trajectory[s, col["kind_code"]])] for s, _ in rows]
    out["stimulus"] = np.array(kinds, dtype=str) if rows else np.zeros(0, dtype="<U7")
    params: dict[str, list[float]] = {
        name: [] for name in (*STANDARD_PARAM_COLUMNS, "radius_deg", "aperture_radius_deg")
    }
    nan = math.nan
    for (s, e), kind in zip(rows, kinds, strict=True):
        r = trajectory[s]
        ori = float(r[col["orientation_deg"]]) % 360.0
        xy = trajectory[s : e + 1, col["x_deg"] : col["y_deg"] + 1]
        path = float(np.hypot(*np.diff(xy, axis=0).T).sum()) if e > s else 0.0
        values = {
            "orientation_deg": nan if kind == "spot" else (ori % 180.0 if kind == "bar" else ori),
            "direction_deg": (ori + 90.0) % 360.0 if kind == "grating" else nan,
            "contrast": float(r[col["contrast"]]),
            "x_deg": float(r[col["x_deg"]]),
            "y_deg": float(r[col["y_deg"]]),
            "length_deg": float(r[col["length_deg"]]) if kind == "bar" else nan,
            "width_deg": float(r[col["width_deg"]]) if kind == "bar" else nan,
            "speed_deg_s": path / ((e - s + 1) * dt),
            "spatial_frequency_cpd": float(r[col["spatial_frequency_cpd"]])
            if kind == "grating"
            else nan,
            "temporal_frequency_hz": float(r[col["temporal_frequency_hz"]])
            if kind == "grating"
            else nan,
            "radius_deg": 0.5 * float(r[col["width_deg"]]) if kind == "spot" else nan,
            "aperture_radius_deg": 0.5 * float(r[col["length_deg"]]) if kind == "grating" else nan,
        }
        for name in params:
            params[name].append(values[name])
    for name, values_list in params.items():
        out[name] = np.array(values_list, dtype=float)
    return out


def _conditions(trajectory: np.ndarray, presentations: Mapping[str, np.ndarray]) -> list[Any]:
    """A stimulus object per condition id (position: where it was first shown)."""
    out: list[Any] = []
    col = {name: i for i, name in enumerate(_TRAJECTORY_COLUMNS)}
    starts = presentations["start_time"]
    frame_t = trajectory[:, 0] if trajectory.size else np.zeros(0)
    for cid in range(int(presentations["stimulus_condition_id"].max(initial=-1)) + 1):
        first = int(np.flatnonzero(presentations["stimulus_condition_id"] == cid)[0])
        r = trajectory[int(np.searchsorted(frame_t, starts[first] - 1e-9))]
        params = StimulusParams(
            kind=LIVE_KINDS[int(r[col["kind_code"]])],
            x_deg=float(r[col["x_deg"]]),
            y_deg=float(r[col["y_deg"]]),
            orientation_deg=float(r[col["orientation_deg"]]),
            length_deg=float(r[col["length_deg"]]),
            width_deg=float(r[col["width_deg"]]),
            contrast=float(r[col["contrast"]]),
            spatial_frequency_cpd=float(r[col["spatial_frequency_cpd"]]),
            temporal_frequency_hz=float(r[col["temporal_frequency_hz"]]),
        )
        out.append(make_live_stimulus(params, extent_deg=10.0))
    return out


def _append_nwb_live(path: Path, trajectory: np.ndarray, marks: Sequence[Mark]) -> None:
    """Add the stimulus trajectory (a time series) and the marks to a written NWB file."""
    from pynwb import NWBHDF5IO, TimeSeries
    from pynwb.epoch import TimeIntervals

    with NWBHDF5IO(str(path), "a") as nwb_io:
        nwb = nwb_io.read()
        if trajectory.shape[0]:
            codes = ", ".join(f"{i} = {k}" for i, k in enumerate(LIVE_KINDS))
            nwb.add_stimulus(
                TimeSeries(
                    name="stimulus_trajectory",
                    data=trajectory[:, 1:],
                    timestamps=trajectory[:, 0],
                    unit="see description",
                    description=(
                        "The live stimulus at every retina frame, steered by hand. Columns: "
                        + ", ".join(_TRAJECTORY_COLUMNS[1:])
                        + f". kind_code: {codes}; on: 1 while the shutter was open; "
                        "orientation in [0, 360) (edge: light side 90° counter-clockwise; "
                        "grating: drift direction = orientation + 90); a spot's diameter is "
                        "width_deg, a grating patch's length_deg."
                    ),
                    comments="columns: " + ", ".join(_TRAJECTORY_COLUMNS[1:]),
                )
            )
        if marks:
            table = TimeIntervals(
                name="marks",
                description=(
                    "Hand-made RF marks (Hubel & Wiesel's paper map): '+' the cell fired "
                    "for light, 'x' for dark or at the offset of light, 'o' no response"
                ),
            )
            table.add_column("x_deg", "mark position x (deg)")
            table.add_column("y_deg", "mark position y (deg)")
            table.add_column("mark", "'+', 'x' or 'o'")
            table.add_column("stimulus", "stimulus kind when marked")
            for m in marks:
                table.add_row(
                    start_time=m.t_s,
                    stop_time=m.t_s,
                    x_deg=m.x_deg,
                    y_deg=m.y_deg,
                    mark=m.sign,
                    stimulus=m.kind,
                )
            nwb.add_time_intervals(table)
        nwb_io.write(nwb)


def _write_session_wav(dest: Path, log: _SessionLog) -> None:
    snap = log.snapshot
    skip = snap.audio_offset_samples
    total = snap.n_audio_samples - skip
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(log.audio_path, "rb") as src, wave.open(str(dest), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(snap.fs_hz)
        src.seek(2 * skip)
        left = max(0, total)
        while left:
            chunk = src.read(2 * min(left, 1 << 20))
            if not chunk:
                break
            wav.writeframes(chunk)
            left -= len(chunk) // 2


def save_live_session(
    folder: str | os.PathLike[str],
    snapshot: SessionSnapshot,
    *,
    protocol: Any,
    population: Population,
    marks: Sequence[Mark] = (),
    notes: Mapping[str, Any] | None = None,
    figure_png: bytes | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a live session as a run folder of the data contract (DESIGN.md).

    The folder holds ``protocol.toml`` (the protocol with the live cells listed),
    ``recording.nwb`` (``units`` with the cells' ground truth and spike times, ``trials``
    from :func:`compute_presentations`, the stimulus trajectory as the time series
    ``stimulus/stimulus_trajectory`` and the marks as the interval table ``marks``),
    ``recording.npz``, ``presentations.csv``, ``trajectory.csv``, ``marks.csv``,
    ``audio/session.wav`` (t = 0 at sample 0), ``live_session.json`` (``notes``: electrode,
    audio statistics, mystery guess and score) and, if given, ``figures/live_window.png``.
    It is assembled beside ``folder`` and renamed into place when complete.

    Parameters
    ----------
    folder : path
    snapshot : SessionSnapshot
        From :meth:`LiveEngine.snapshot`.
    protocol : Protocol
        The protocol the session started from (retina, spiking, seed).
    population : Population
        The live cells (row 0 under the electrode).
    marks : sequence of Mark
    notes : mapping, optional
        JSON-serialisable facts to keep in ``live_session.json``.
    figure_png : bytes, optional
        A picture of the window.
    overwrite : bool
        Replace an existing folder.
    """
    from v1lab.io import save_run, save_table_csv
    from v1lab.protocol import PopulationSpec

    log = load_session_log(snapshot)
    traj = log.trajectory
    presentations = compute_presentations(traj, snapshot.frame_rate_hz)
    n_cells = len(population)
    spike_times = [np.sort(log.spike_times[log.spike_cells == i]) for i in range(n_cells)]
    live_protocol = dataclasses.replace(
        protocol,
        name=f"{protocol.name}_live",
        description=(
            f"Live session (v1lab --live) started from protocol {protocol.name!r}; the cells "
            "below were under the electrode. The stimuli listed are the protocol's, not the "
            "session's: the session's stimulus is the hand-steered trajectory in "
            "recording.nwb."
        ),
        population=PopulationSpec(n_cells=n_cells, cells=tuple(population.to_cells())),
    )
    recording = Recording(
        protocol=live_protocol,
        population=population,
        conditions=_conditions(traj, presentations),
        presentations=presentations,
        spike_times=spike_times,
        duration_s=snapshot.n_blocks * BLOCK_S,
    )

    def write_live(rec: Recording, tmp: Path) -> None:
        _append_nwb_live(tmp / "recording.nwb", traj, marks)
        _write_session_wav(tmp / "audio" / "session.wav", log)
        save_table_csv(
            tmp / "trajectory.csv",
            {name: traj[:, i] for i, name in enumerate(_TRAJECTORY_COLUMNS)},
        )
        save_table_csv(
            tmp / "marks.csv",
            {
                "t_s": np.array([m.t_s for m in marks], dtype=float),
                "x_deg": np.array([m.x_deg for m in marks], dtype=float),
                "y_deg": np.array([m.y_deg for m in marks], dtype=float),
                "mark": np.array([m.sign for m in marks], dtype=str),
                "stimulus": np.array([m.kind for m in marks], dtype=str),
            },
        )
        facts = {
            "duration_s": recording.duration_s,
            "n_spikes": [int(t.size) for t in spike_times],
            "trajectory_columns": list(_TRAJECTORY_COLUMNS),
            **dict(notes or {}),
        }
        (tmp / "live_session.json").write_text(json.dumps(facts, indent=2, default=_json_default))
        if figure_png is not None:
            (tmp / "figures").mkdir(exist_ok=True)
            (tmp / "figures" / "live_window.png").write_bytes(figure_png)

    return save_run(recording, folder, overwrite=overwrite, extra={"live": write_live})


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# --------------------------------------------------------------------------------------
# Choosing the cells
# --------------------------------------------------------------------------------------


def _subset(population: Population, rows: Sequence[int]) -> Population:
    idx = np.asarray(rows, dtype=int)
    return Population(
        **{f.name: getattr(population, f.name)[idx] for f in dataclasses.fields(Population)}
    )


def make_live_config(
    protocol: Any,
    *,
    cell: int | None = None,
    mystery: bool = False,
    n_neighbours: int = 3,
    rng: np.random.Generator | None = None,
) -> LiveConfig:
    """Choose the cells under the electrode and build the engine's configuration.

    Normal mode: the protocol's population is drawn as a batch run draws it (same seed,
    same cells); the electrode sits on ``cell`` (default: the cell whose RF is nearest the
    screen's centre) and hears its ``n_neighbours`` nearest neighbours fainter
    (:func:`~v1lab.audio.make_electrode_amplitudes`). Mystery mode: one hidden cell from
    :func:`make_mystery_cell`, drawn with ``rng`` (default: from the protocol's seed).
    """
    from v1lab.model.cortex import population_from_cells

    seed = protocol.seed
    spiking = protocol.spiking
    dead_time = spiking.dead_time_s if spiking.model == "poisson" else spiking.refractory_s
    if mystery:
        rng = np.random.default_rng([seed, 7]) if rng is None else rng
        pop = population_from_cells([make_mystery_cell(rng, retina=protocol.retina)])
        return LiveConfig(
            retina=protocol.retina, population=pop, amplitudes=(1.0,), seed=seed,
            dead_time_s=dead_time,
        )  # fmt: skip
    seq_pop = np.random.SeedSequence(seed).spawn(4)[0]  # as v1lab.experiment.run_protocol
    full = protocol.population.make(np.random.default_rng(seq_pop))
    n = len(full)
    if cell is None:
        cell = int(np.argmin(np.hypot(full.x_deg, full.y_deg)))
    cell = check_int("--listen", cell, lo=0, hi=n - 1)
    distance = np.hypot(full.x_deg - full.x_deg[cell], full.y_deg - full.y_deg[cell])
    distance[cell] = -1.0
    rows = [int(i) for i in np.argsort(distance, kind="stable")[: 1 + max(0, n_neighbours)]]
    amplitudes = make_electrode_amplitudes(len(rows), 0, np.random.default_rng([seed, 1]))
    return LiveConfig(
        retina=protocol.retina,
        population=_subset(full, rows),
        amplitudes=tuple(float(a) for a in amplitudes),
        seed=seed,
        dead_time_s=dead_time,
        protocol_cells=tuple(rows),
    )


# --------------------------------------------------------------------------------------
# The real-time loop (in its own process)
# --------------------------------------------------------------------------------------


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _raise_priority() -> str:
    """Ask for a (low) real-time priority, as audio programs do; say what was granted.

    The engine needs about a tenth of a core, but needs it within a few milliseconds: on a
    busy machine a normal-priority process can wait longer than the audio queue lasts.
    Threads started afterwards (PortAudio's, JACK's) inherit the policy. Without the
    privilege (CAP_SYS_NICE or an rtprio limit) the engine runs at normal priority.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(10))
        return "real-time (SCHED_RR 10)"
    with contextlib.suppress(AttributeError, OSError):
        os.nice(-5)
        return "nice -5"
    return "normal"


def _engine_process(
    inbox: Any, outbox: Any, config: LiveConfig, device: Any, audio: bool, log_dir: str
) -> None:
    """Run the engine against the sound card until told to stop (child process)."""
    stream = None
    stats: dict[str, Any] = {}
    parent = os.getppid()
    orphaned = False
    # The audio callback needs the GIL too: let it in within a millisecond.
    sys.setswitchinterval(0.001)
    priority = _raise_priority()
    try:
        engine = LiveEngine(config, log_dir=log_dir)
        notice = None
        if audio:
            from v1lab.audio import AudioOutputError, AudioStream, check_audio_output

            notice = check_audio_output(device, fs_hz=config.fs_hz)
            if notice is None:
                stream = AudioStream(
                    fs_hz=config.fs_hz, blocksize=0, device=device, buffer_s=0.25, latency="low"
                )
        else:
            notice = "sound off"
        params = StimulusParams()
        block = engine.block_samples
        target = _QUEUE_BLOCKS * block
        pending_event = math.nan
        # Pre-fill the queue so the stream starts with sound to play.
        for _ in range(_QUEUE_BLOCKS):
            r = engine.step(params)
            if stream is not None:
                stream.push(r.audio)
        if stream is not None:
            try:
                stream.start()
            except AudioOutputError as exc:
                notice, stream = str(exc), None
        info = {
            "notice": notice,
            "device": None if stream is None else stream.device_name,
            "host_api": None if stream is None else stream.host_api,
            "latency_samples": engine.renderer.latency_samples,
            "priority": priority,
        }
        outbox.put(("ready", info))
        ready_s = time.monotonic()
        t_start = ready_s - engine.t_s
        underflows = 0
        underflow_at: list[float] = []  # session times (s), for the record
        results: list[BlockResult] = []
        last_send = time.monotonic()
        while True:
            stop = False
            while True:
                try:
                    msg = inbox.get_nowait()
                except queue.Empty:
                    break
                if msg[0] == "stim":
                    params = msg[1]
                    # Events from before the sound started are not a latency.
                    if not math.isfinite(pending_event) and msg[2] >= ready_s:
                        pending_event = msg[2]
                elif msg[0] == "snapshot":
                    outbox.put(
                        ("snapshot", engine.snapshot(), _stream_stats(stream, target, underflow_at))
                    )
                elif msg[0] == "stop":
                    stop = True
            if stop:
                break
            if os.getppid() != parent:  # the window's process died: nobody is listening
                orphaned = True
                break
            now = time.monotonic()
            if stream is not None:
                if stream.queued_frames + block > target:
                    if not stream.active:  # the device went away: carry on, silent
                        lost = stream.stats
                        stream.stop(drain=False, timeout_s=0.5)
                        stream, t_start = None, now - engine.t_s
                        outbox.put(("notice", f"the audio device stopped at {engine.t_s:.1f} s"))
                        stats["lost_audio"] = {"at_s": engine.t_s, "underflows": lost.underflows}
                        continue
                    time.sleep(0.001)
                    continue
            elif now < t_start + engine.t_s:
                time.sleep(min(0.002, t_start + engine.t_s - now))
                continue
            r = engine.step(params)
            latency = math.nan
            if stream is not None:
                queued = stream.queued_frames
                stream.push(r.audio)
                if math.isfinite(pending_event):
                    st = stream.stats
                    device_s = (
                        st.measured_latency_s
                        if math.isfinite(st.measured_latency_s)
                        else max(st.latency_s, 0.0)
                    )
                    latency = (
                        time.monotonic()
                        - pending_event
                        + (queued + engine.renderer.latency_samples) / config.fs_hz
                        + device_s
                    )
                if stream.stats.underflows > underflows:
                    underflows = stream.stats.underflows
                    underflow_at.append(round(engine.t_s, 2))
                    target = min(target + block, _MAX_QUEUE_BLOCKS * block)
            pending_event = math.nan
            results.append(dataclasses.replace(r, audio=None, latency_s=latency))
            if time.monotonic() - last_send >= 0.02:
                outbox.put(("blocks", results, _stream_stats(stream, target, underflow_at)))
                results = []
                last_send = time.monotonic()
        stats = {**stats, **_stream_stats(stream, target, underflow_at), "blocks": engine.index}
        engine.close()
    except Exception as exc:  # the window must hear about it, in one line
        outbox.put(("error", f"{type(exc).__name__}: {_one_line(exc)}"))
    finally:
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop(drain=False, timeout_s=1.0)
            final = _stream_stats(stream, 0)
            stats = {**final, **stats, **{k: final[k] for k in ("underflows", "xruns")}}
        if orphaned:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            outbox.put(("stopped", stats))


def _stream_stats(stream: Any, target: int, underflow_at: Sequence[float] = ()) -> dict[str, Any]:
    if stream is None:
        return {"audio": False}
    st = stream.stats
    return {
        "underflow_at_s": list(underflow_at),
        "audio": True,
        "underflows": st.underflows,
        "xruns": st.xruns,
        "frames_played": st.frames_played,
        "device_latency_s": st.latency_s,
        "measured_latency_s": st.measured_latency_s,
        "queue_target_frames": target,
    }


class _EngineHandle:
    """The engine's process and its two message queues, seen from the window."""

    def __init__(self, config: LiveConfig, *, device: Any, audio: bool, log_dir: str) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no Tk, no GIL sharing
        self.inbox = ctx.Queue()
        self.outbox = ctx.Queue()
        # One BLAS thread: the other core belongs to the window and the sound server.
        saved = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            self.process = ctx.Process(
                target=_engine_process,
                args=(self.inbox, self.outbox, config, device, audio, log_dir),
                name="v1lab-live-engine",
                daemon=True,
            )
            self.process.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def send(self, *msg: Any) -> None:
        self.inbox.put(msg)

    def messages(self) -> list[tuple[Any, ...]]:
        out = []
        while True:
            try:
                out.append(self.outbox.get_nowait())
            except queue.Empty:
                return out

    def stop(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """Stop the engine; return its final statistics."""
        stats: dict[str, Any] = {}
        if self.process.is_alive():
            self.send("stop")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                msg = self.outbox.get(timeout=0.05)
            except queue.Empty:
                if not self.process.is_alive():
                    break
                continue
            if msg[0] == "stopped":
                stats = msg[1]
                break
        self.process.join(timeout=max(0.1, deadline - time.monotonic()))
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=2.0)
        return stats


# --------------------------------------------------------------------------------------
# Display check and the entry point
# --------------------------------------------------------------------------------------

_NO_DISPLAY_FIX = (
    "run it in a desktop session, over `ssh -X`, or under a virtual display "
    "(`xvfb-run -a v1lab --live`); without a screen, run a protocol instead "
    "(`v1lab --protocol hubel_wiesel_bars --play`)"
)


def check_display() -> str | None:
    """Say whether a window can be opened; if not, one line saying why and what to do.

    Examples
    --------
    >>> msg = check_display()
    >>> msg is None or "\\n" not in msg
    True
    """
    if sys.platform.startswith(("linux", "freebsd", "openbsd")) and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return (
            "--live needs a window and there is no display ($DISPLAY is not set); "
            + _NO_DISPLAY_FIX
        )
    try:
        import tkinter
    except ImportError as exc:
        return f"--live needs tkinter ({_one_line(exc)}); {_NO_DISPLAY_FIX}"
    try:
        root = tkinter.Tk()
    except tkinter.TclError as exc:
        return f"--live cannot open a window ({_one_line(exc)}); {_NO_DISPLAY_FIX}"
    root.destroy()
    return None


def run_live(
    *,
    protocol: Any,
    cell: int | None = None,
    mystery: bool = False,
    device: str | int | None = None,
    out: Path | None = None,
    overwrite: bool = False,
    audio: bool = True,
    max_seconds: float | None = None,
    seed: int | None = None,
) -> int:
    """Open the live tangent screen; return the process exit code.

    Parameters
    ----------
    protocol : Protocol
        Gives the retina, the spike generator, the seed and (normal mode) the population.
    cell : int, optional
        The protocol cell under the electrode (``--listen``); default: the one nearest
        the screen's centre.
    mystery : bool
        Hide a random cell to be mapped, guessed and revealed.
    device : str or int, optional
        Audio output device (``--device``).
    out : path, optional
        Where ``s`` saves the session (default ``runs/<stamp>_<protocol>_live``).
    overwrite : bool
        Allow ``out`` to exist already (``--overwrite``).
    audio : bool
        False: run silent.
    max_seconds : float, optional
        Close the window after this long (also the environment variable
        ``V1LAB_LIVE_MAX_SECONDS``; for kiosks and tests).
    seed : int, optional
        Seed of a mystery cell (default: a fresh one, recorded when the session is saved).

    Returns
    -------
    int
        0 after a normal quit; 1 when no window can be opened (one line on stderr) or the
        engine failed; 2 for a save folder that exists.
    """
    problem = check_display()
    if problem is not None:
        sys.stderr.write(f"v1lab: {problem}\n")
        return 1
    from v1lab.io import check_run_folder, default_run_folder

    if mystery:
        import secrets

        protocol = protocol.with_seed(secrets.randbits(62) if seed is None else seed)
    folder = Path(out) if out is not None else default_run_folder(f"{protocol.name}_live")
    try:
        check_run_folder(folder, overwrite=overwrite)
    except FileExistsError as exc:
        sys.stderr.write(f"v1lab: error: {exc}\n")
        return 2
    config = make_live_config(protocol, cell=cell, mystery=mystery)
    if max_seconds is None and os.environ.get(_ENV_MAX_SECONDS):
        max_seconds = check_number(_ENV_MAX_SECONDS, float(os.environ[_ENV_MAX_SECONDS]), lo=0)
    log_dir = tempfile.mkdtemp(prefix="v1lab-live-")
    engine = _EngineHandle(config, device=device, audio=audio, log_dir=log_dir)
    window = None
    try:
        window = _LiveWindow(
            engine=engine,
            config=config,
            protocol=protocol,
            mystery=mystery,
            folder=folder,
            overwrite=overwrite,
            max_seconds=max_seconds,
            geometry_path=os.environ.get(_ENV_GEOMETRY),
        )
        code = window.run()
    except KeyboardInterrupt:
        code = 130
    finally:
        stats = engine.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    if window is not None:
        sys.stdout.write(window.summary(stats) + "\n")
        sys.stdout.flush()
    return code


# --------------------------------------------------------------------------------------
# The window (thin: events in, artists out)
# --------------------------------------------------------------------------------------

_GREY = (0.5, 0.5, 0.5)
_MARK_STYLE = {"+": ("+", "#d62728", 140), "x": ("x", "#1f77b4", 110), "o": (".", "0.3", 40)}
_REDRAW_MS = 40  # 25 frames per second is smooth for a hand-steered slit


def _event_time(event: Any) -> float:
    """When the event happened (monotonic s): the X server's stamp when it is usable.

    X servers on Linux stamp input events in milliseconds of the monotonic clock (32-bit);
    using that stamp counts the time an event waited while the window was busy drawing.
    """
    now = time.monotonic()
    stamp = getattr(getattr(event, "guiEvent", None), "time", None)
    if isinstance(stamp, int) and stamp > 0:
        lag_ms = (int(now * 1000.0) - stamp) & 0xFFFFFFFF
        if lag_ms < 2000:
            return now - lag_ms / 1000.0
    return now


def _bar_corners(x: float, y: float, ori_deg: float, length: float, width: float) -> np.ndarray:
    rad = math.radians(ori_deg)
    along = np.array([math.cos(rad), math.sin(rad)]) * 0.5 * length
    across = np.array([-math.sin(rad), math.cos(rad)]) * 0.5 * width
    centre = np.array([x, y])
    return np.array(
        [centre - along - across, centre + along - across, centre + along + across,
         centre - along + across]
    )  # fmt: skip


class _LiveWindow:
    """The matplotlib window: turns Tk events into event records and draws the results."""

    def __init__(
        self,
        *,
        engine: _EngineHandle,
        config: LiveConfig,
        protocol: Any,
        mystery: bool,
        folder: Path,
        overwrite: bool,
        max_seconds: float | None,
        geometry_path: str | None,
    ) -> None:
        import matplotlib

        matplotlib.use("TkAgg", force=True)
        import matplotlib.pyplot as plt
        from matplotlib.patches import Circle, Polygon
        from matplotlib.transforms import Bbox

        # The live keys replace matplotlib's navigation keys (s would open a save dialog).
        for key in list(matplotlib.rcParams):
            if key.startswith("keymap."):
                matplotlib.rcParams[key] = []
        matplotlib.rcParams["toolbar"] = "None"
        self._plt = plt
        self.engine = engine
        self.config = config
        self.protocol = protocol
        self.folder = folder
        self.overwrite = overwrite
        self.max_seconds = max_seconds
        self.geometry_path = geometry_path
        pop = config.population
        extent = config.retina.extent_deg
        self.state = LiveState(extent_deg=extent, mystery=mystery)
        self.analysis = LiveAnalysis(len(pop))
        self.truth = pop.to_cells()[0]
        self.code = 0
        self.ready = False
        self.info: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}
        self.error: str | None = None
        self.latencies: deque[float] = deque(maxlen=500)
        self._t_open = time.monotonic()
        self._closing = False
        self._geometry_written = False
        self._save_wanted = False
        self._save_png: bytes | None = None
        self._save_thread: threading.Thread | None = None
        self._save_result: str | None = None
        self._saved_once = False
        self._status_note = ""
        self._reveal_thread: threading.Thread | None = None
        self._reveal_data: tuple[np.ndarray, np.ndarray] | None = None
        self._reveal_drawn = False
        self._score: Score | None = None

        fig = plt.figure(figsize=(12.0, 7.0), dpi=100)
        self.fig = fig
        with contextlib.suppress(AttributeError):
            fig.canvas.manager.set_window_title("v1lab live")
        gs = fig.add_gridspec(
            3, 2, width_ratios=[1.45, 1.0], height_ratios=[1.0, 0.32, 1.35],
            left=0.05, right=0.97, bottom=0.11, top=0.92, wspace=0.22, hspace=0.55,
        )  # fmt: skip
        ax = fig.add_subplot(gs[:, 0])
        ax.set_facecolor(_GREY)
        half = 0.5 * extent
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_xlabel("x (deg)")
        ax.set_ylabel("y (deg)")
        ax.set_title("tangent screen", fontsize=10)
        self.ax_screen = ax
        self._grating_img = ax.imshow(
            np.zeros((2, 2)), extent=(-half, half, -half, half), cmap="gray", vmin=-1, vmax=1,
            interpolation="bilinear", visible=False, zorder=1,
        )  # fmt: skip
        self._aperture = Circle((0, 0), 1.0, transform=ax.transData, visible=False)
        self._poly = Polygon(np.zeros((4, 2)), closed=True, zorder=2)
        self._spot = Circle((0, 0), 0.25, zorder=2, visible=False)
        ax.add_patch(self._poly)
        ax.add_patch(self._spot)
        self._mark_art = {
            sign: ax.scatter([], [], marker=m, c=c, s=s, zorder=4, linewidths=2)
            for sign, (m, c, s) in _MARK_STYLE.items()
        }
        (self._guess_line,) = ax.plot([], [], color="#ffdd00", lw=3, zorder=5)
        (self._guess_dot,) = ax.plot([], [], "*", color="#ffdd00", ms=14, zorder=5)
        self._help = ax.text(
            0.02, 0.98, self._help_text(), transform=ax.transAxes, va="top", ha="left",
            family="monospace", fontsize=8.5, zorder=10, visible=False,
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.92},
        )  # fmt: skip
        self._reveal_text = ax.text(
            0.5, 0.02, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=9,
            zorder=10, visible=False, bbox={"boxstyle": "round", "fc": "#fff6d5", "alpha": 0.95},
        )  # fmt: skip

        n = len(pop)
        ax_r = fig.add_subplot(gs[0, 1])
        ax_r.set_xlim(-self.analysis.raster_s, 0.0)
        ax_r.set_ylim(n - 0.5, -0.5)
        ax_r.set_yticks(range(n))
        labels = ["mystery"] if mystery else [
            f"{'▶ ' if i == 0 else ''}{c}" for i, c in enumerate(config.protocol_cells)
        ]  # fmt: skip
        ax_r.set_yticklabels(labels, fontsize=8)
        ax_r.set_xlabel("time (s)")
        ax_r.set_ylabel("cell")
        ax_r.set_title("raster (▶ = under the electrode)", fontsize=10)
        self._raster_main = ax_r.scatter([], [], marker="|", c="k", s=90, linewidths=1.5)
        self._raster_other = ax_r.scatter([], [], marker="|", c="0.6", s=60, linewidths=1.0)
        self.ax_raster = ax_r

        ax_m = fig.add_subplot(gs[1, 1])
        top = float(pop.r_max_hz[0] + pop.spontaneous_hz[0])
        ax_m.set_xlim(0, max(20.0, 1.2 * top))
        ax_m.set_ylim(-0.5, 0.5)
        ax_m.set_yticks([])
        ax_m.set_ylabel("rate")
        ax_m.tick_params(axis="x", labelsize=8)
        self._meter = ax_m.barh([0], [0.0], height=0.7, color="#2ca02c")[0]
        self._meter_text = ax_m.text(0.98, 0.5, "", transform=ax_m.transAxes, ha="right",
                                     va="center", fontsize=10)  # fmt: skip
        self.ax_meter = ax_m

        ax_t = fig.add_subplot(gs[2, 1], projection="polar")
        from matplotlib.collections import PolyCollection

        centres = np.radians(self.analysis.tuning.centres_deg)
        self._wedge_theta = np.concatenate([centres, centres + np.pi])
        self._wedge_half = 0.45 * np.radians(self.analysis.tuning.bin_width_deg)
        # One collection of wedges (one draw call), each orientation bin drawn at θ and θ+180°.
        self._tuning_wedges = PolyCollection(
            self._wedges(np.zeros(self._wedge_theta.size)), facecolors="#ff7f0e", alpha=0.85
        )
        ax_t.add_collection(self._tuning_wedges)
        (self._truth_line,) = ax_t.plot([], [], color="k", lw=1.5)
        # A fixed radial range (redrawing the polar grid every tick would be slow): the
        # wedges are scaled to the largest rate, which the label gives.
        ax_t.set_ylim(0, 1.1)
        self._tuning_scale = ax_t.text(
            1.04, 0.0, "", transform=ax_t.transAxes, ha="left", va="bottom", fontsize=8
        )
        ax_t.set_title("tuning: spikes/s while on the RF, by orientation", fontsize=10, pad=12)
        ax_t.set_yticklabels([])
        self.ax_tuning = ax_t

        who = (
            "a mystery cell: map it, guess (enter, t, d), r reveals it"
            if mystery
            else f"cell {config.protocol_cells[0]} ({pop.cell_type[0]}) under the electrode"
        )
        fig.suptitle(f"v1lab live — {who}   (h: keys)", fontsize=12)
        self._status = fig.text(0.01, 0.035, "starting the simulation …", fontsize=9)
        self._notice = fig.text(0.01, 0.008, "", fontsize=9, color="#b00000")
        self._latency = fig.text(0.99, 0.035, "", fontsize=9, ha="right")

        canvas = fig.canvas
        canvas.mpl_connect("motion_notify_event", self._on_motion)
        canvas.mpl_connect("scroll_event", self._on_scroll)
        canvas.mpl_connect("button_press_event", self._on_click)
        canvas.mpl_connect("key_press_event", self._on_key)
        canvas.mpl_connect("close_event", self._on_close)
        canvas.mpl_connect("draw_event", self._on_draw)
        # Blitting: the axes, ticks and labels are drawn once (a full draw of this figure
        # takes 50-150 ms); each tick redraws only what moves, so the window keeps up with
        # the hand and input events never wait long.
        # Regions redrawn every `period` ticks: the screen at full rate, the slower panels
        # less often (each blit costs in proportion to its area).
        self._groups: list[tuple[Callable[[], Any], list[Any], int]] = [
            (lambda: self.ax_screen.bbox, [
                self._grating_img, self._poly, self._spot, *self._mark_art.values(),
                self._guess_line, self._guess_dot, self._help, self._reveal_text,
            ], 1),
            (lambda: Bbox.union([self.ax_raster.bbox, self.ax_meter.bbox]), [
                self._raster_main, self._raster_other, self._meter, self._meter_text,
            ], 2),
            (lambda: Bbox.from_extents(
                self.ax_tuning.bbox.x0, self.ax_tuning.bbox.y0, fig.bbox.x1,
                self.ax_tuning.bbox.y1,
            ), [
                self._tuning_wedges, self._truth_line, self._tuning_scale,
            ], 5),
            (lambda: Bbox(fig.transFigure.transform([(0.0, 0.0), (1.0, 0.06)])), [
                self._status, self._notice, self._latency,
            ], 5),
        ]  # fmt: skip
        for _, artists, _ in self._groups:
            for artist in artists:
                artist.set_animated(True)
        self._backgrounds: list[Any] = []
        self._n_ticks = 0
        self._timer = canvas.new_timer(interval=_REDRAW_MS)
        self._timer.add_callback(self._tick)
        self._timer.start()
        self.engine.send("stim", self.state.params(), time.monotonic())
        self._update_artists()

    # -- events ------------------------------------------------------------------------

    def _help_text(self) -> str:
        return "\n".join(f"{k:<12} {v}" for k, v in KEY_HELP)

    def _dispatch(self, action: Action, t: float) -> None:
        if action is Action.STIMULUS:
            self.engine.send("stim", self.state.params(), t)
        elif action is Action.MARK:
            self.state.marks.append(self.analysis.make_mark(self.state))
        elif action is Action.SAVE:
            self._request_save()
        elif action is Action.QUIT:
            self._quit()
            return
        elif action is Action.REVEAL:
            self._reveal()

    def _on_motion(self, event: Any) -> None:
        t = _event_time(event)
        if event.inaxes is not self.ax_screen:
            return
        self._dispatch(handle_mouse_move(self.state, MouseEvent(event.xdata, event.ydata, t)), t)

    def _on_scroll(self, event: Any) -> None:
        t = _event_time(event)
        mods = set(getattr(event, "modifiers", None) or ())
        if event.key:
            mods |= {m for m in ("shift", "ctrl", "control") if m in str(event.key)}
        action = handle_scroll(self.state, ScrollEvent(float(event.step), frozenset(mods), t))
        self._dispatch(action, t)

    def _on_click(self, event: Any) -> None:
        t = _event_time(event)
        if event.inaxes is not self.ax_screen or event.button is None:
            return
        click = ClickEvent(int(event.button), event.xdata, event.ydata, t)
        self._dispatch(handle_click(self.state, click), t)

    def _on_key(self, event: Any) -> None:
        t = _event_time(event)
        self._dispatch(handle_key(self.state, KeyEvent(event.key or "", t)), t)

    def _on_close(self, event: Any) -> None:
        self._closing = True
        self._timer.stop()

    def _wedges(self, radii: np.ndarray) -> list[np.ndarray]:
        th, w = self._wedge_theta, self._wedge_half
        arc = np.linspace(-1.0, 1.0, 5)
        return [
            np.vstack([[t, 0.0], np.column_stack([t + arc * w, np.full(arc.size, r)]), [t, 0.0]])
            for t, r in zip(th, radii, strict=True)
        ]

    def _on_draw(self, event: Any) -> None:
        # A full draw (first show, resize, reveal): keep it as the background to blit on.
        canvas = self.fig.canvas
        self._backgrounds = [canvas.copy_from_bbox(bbox()) for bbox, _, _ in self._groups]
        for _, artists, _ in self._groups:
            for artist in artists:
                self.fig.draw_artist(artist)
        if self.ready and not self._geometry_written and self.geometry_path:
            self._write_geometry()

    def _blit(self) -> None:
        canvas = self.fig.canvas
        if not self._backgrounds:
            canvas.draw_idle()
            return
        self._n_ticks += 1
        for (bbox, artists, period), background in zip(
            self._groups, self._backgrounds, strict=True
        ):
            if self._n_ticks % period:
                continue
            canvas.restore_region(background)
            for artist in artists:
                self.fig.draw_artist(artist)
            canvas.blit(bbox())

    # -- periodic work -----------------------------------------------------------------

    def _tick(self) -> None:
        if self._closing:
            return
        for msg in self.engine.messages():
            kind = msg[0]
            if kind == "ready":
                self.ready = True
                self.info = msg[1]
                notice = self.info.get("notice")
                if notice:
                    self._notice.set_text(f"SILENT — {notice}")
                    sys.stderr.write(f"v1lab: running silent: {notice}\n")
            elif kind == "blocks":
                for r in msg[1]:
                    self.analysis.add(r)
                    if math.isfinite(r.latency_s):
                        self.latencies.append(r.latency_s)
                self.stats = msg[2]
            elif kind == "snapshot":
                self._start_save(msg[1], msg[2])
            elif kind == "notice":
                self.info["notice"] = msg[1]
                self._notice.set_text(f"SILENT — {msg[1]}")
                sys.stderr.write(f"v1lab: running silent: {msg[1]}\n")
            elif kind == "error":
                self.error = msg[1]
                self.code = 1
                self._notice.set_text(f"engine stopped: {self.error}")
                sys.stderr.write(f"v1lab: live engine failed: {self.error}\n")
        if self._save_thread is not None and not self._save_thread.is_alive():
            self._save_thread = None
            self._status_note = self._save_result or ""
            sys.stdout.write(f"v1lab: {self._status_note}\n")
            sys.stdout.flush()
        if self._reveal_data is not None and not self._reveal_drawn:
            self._draw_truth_tuning()
        if self.max_seconds is not None and time.monotonic() - self._t_open > self.max_seconds:
            self._quit()
            return
        self._update_artists()
        self._blit()
        if self.ready and self._backgrounds and self.geometry_path and not self._geometry_written:
            self._write_geometry()

    def _update_artists(self) -> None:
        s = self.state
        p = s.params()
        fill = "white" if s.contrast > 0 else "black"
        face = fill if s.shutter_open else "none"
        edge_style = "-" if s.shutter_open else "--"
        self._poly.set_visible(s.kind in ("bar", "edge"))
        self._spot.set_visible(s.kind == "spot")
        self._grating_img.set_visible(s.kind == "grating" and s.shutter_open)
        for patch in (self._poly, self._spot):
            patch.set_facecolor(face)
            patch.set_edgecolor(fill if s.shutter_open else "0.9")
            patch.set_linestyle(edge_style)
        if s.kind == "bar":
            self._poly.set_xy(_bar_corners(s.x_deg, s.y_deg, p.orientation_deg, s.length_deg,
                                           s.width_deg))  # fmt: skip
        elif s.kind == "edge":
            big = 2.0 * s.extent_deg
            rad = math.radians(p.orientation_deg)
            cx, cy = s.x_deg - math.sin(rad) * 0.5 * big, s.y_deg + math.cos(rad) * 0.5 * big
            self._poly.set_xy(_bar_corners(cx, cy, p.orientation_deg, 2 * big, big))
        elif s.kind == "spot":
            self._spot.center = (s.x_deg, s.y_deg)
            self._spot.set_radius(0.5 * s.width_deg)
        elif s.shutter_open:
            stim = make_live_stimulus(p, extent_deg=s.extent_deg)
            grid = RetinaGrid(extent_deg=s.extent_deg, pixels_per_deg=12.0)
            t = 0.0 if s.paused else time.monotonic() - self._t_open
            if p.temporal_frequency_hz > 0:
                t %= 1.0 / p.temporal_frequency_hz
            self._grating_img.set_data(render_frames(stim, grid, [t])[0])
        for sign, art in self._mark_art.items():
            pts = [(m.x_deg, m.y_deg) for m in s.marks if m.sign == sign]
            art.set_offsets(np.array(pts) if pts else np.zeros((0, 2)))
        g = s.guess
        if g.complete:
            seg = _bar_corners(g.x_deg, g.y_deg, g.orientation_deg, 1.5, 0.0)[:2]
            self._guess_line.set_data(seg[:, 0], seg[:, 1])
            self._guess_dot.set_data([g.x_deg], [g.y_deg])
        self._help.set_visible(s.show_help)

        cells, times = self.analysis.raster()
        main = cells == 0
        self._raster_main.set_offsets(np.column_stack([times[main], cells[main]]))
        self._raster_other.set_offsets(np.column_stack([times[~main], cells[~main]]))
        rate = self.analysis.rate_hz()
        self._meter.set_width(rate)
        self._meter_text.set_text(f"{rate:.0f} spikes/s")

        rates = np.nan_to_num(self.analysis.tuning.rates_hz())
        heights = np.concatenate([rates, rates])
        peak = max(float(heights.max(initial=0.0)), 5.0)
        self._tuning_wedges.set_verts(self._wedges(heights / peak))
        if self._reveal_data is not None:
            directions, true_rates = self._reveal_data
            theta = np.radians(np.append(directions - 90.0, directions[0] - 90.0))
            true_peak = max(float(true_rates.max()), 1e-9)
            self._truth_line.set_data(theta, np.append(true_rates, true_rates[0]) / true_peak)
        self._tuning_scale.set_text(f"outer ring:\n{peak * 1.1:.0f} spikes/s")

        status = f"{s.describe()}   |   {self.analysis.n_spikes} spikes"
        if s.mystery and g.complete:
            status += (
                f"   |   guess: {g.cell_type} at ({g.x_deg:.1f}, {g.y_deg:.1f})°, "
                f"{g.orientation_deg:.0f}°, direction {g.direction}"
            )
        if self._status_note:
            status += f"   |   {self._status_note}"
        self._status.set_text(status if self.ready else "starting the simulation …")
        if self.latencies:
            recent = np.array(list(self.latencies)[-20:]) * 1e3
            self._latency.set_text(f"mouse → sound latency {np.median(recent):.0f} ms")
        elif self.ready and self.info.get("notice"):
            self._latency.set_text("latency: — (silent)")

    # -- actions -----------------------------------------------------------------------

    def _request_save(self) -> None:
        if self._save_thread is not None or self._save_wanted:
            return
        import io as _bytes_io

        from PIL import Image as PILImage

        # What is on the screen now (a savefig would leave out the blitted artists).
        buf = _bytes_io.BytesIO()
        PILImage.fromarray(np.asarray(self.fig.canvas.buffer_rgba())).save(buf, format="PNG")
        self._save_png = buf.getvalue()
        self._save_wanted = True
        self._status_note = "saving …"
        self.engine.send("snapshot")

    def _start_save(self, snapshot: SessionSnapshot, stats: dict[str, Any]) -> None:
        self._save_wanted = False
        notes = self._notes(stats)
        marks = list(self.state.marks)
        overwrite = self.overwrite or self._saved_once

        def work() -> None:
            try:
                path = save_live_session(
                    self.folder, snapshot, protocol=self.protocol,
                    population=self.config.population, marks=marks, notes=notes,
                    figure_png=self._save_png, overwrite=overwrite,
                )  # fmt: skip
                self._saved_once = True
                self._save_result = f"saved the session to {path}"
            except Exception as exc:  # a failed save must not end the session
                self._save_result = f"save failed: {_one_line(exc)}"

        self._save_thread = threading.Thread(target=work, name="v1lab-live-save", daemon=True)
        self._save_thread.start()

    def _notes(self, stats: Mapping[str, Any]) -> dict[str, Any]:
        lat = np.array(self.latencies) * 1e3
        notes: dict[str, Any] = {
            "mode": "mystery" if self.state.mystery else "live",
            "protocol_cells": list(self.config.protocol_cells),
            "electrode_cell": self.config.protocol_cells[0] if self.config.protocol_cells else None,
            "amplitudes": list(self.config.amplitudes),
            "audio": {**dict(stats), "device": self.info.get("device"),
                      "host_api": self.info.get("host_api"), "notice": self.info.get("notice"),
                      "engine_priority": self.info.get("priority")},
            "latency_ms": {
                "median": float(np.median(lat)) if lat.size else None,
                "p90": float(np.percentile(lat, 90)) if lat.size else None,
                "n_events": int(lat.size),
            },
            "tuning": {
                "orientation_deg": self.analysis.tuning.centres_deg,
                "rate_hz": [None if not math.isfinite(v) else v
                            for v in self.analysis.tuning.rates_hz()],
                "seconds": self.analysis.tuning.seconds,
            },
        }  # fmt: skip
        if self.state.mystery:
            notes["guess"] = dataclasses.asdict(self.state.guess)
            if self._score is not None:
                notes["score"] = dataclasses.asdict(self._score)
        return notes

    def _reveal(self) -> None:
        if self._reveal_drawn or self._reveal_thread is not None:
            return
        from matplotlib.patches import Ellipse

        pop = self.config.population
        x, y, rf = compute_rf_map(pop, extent_deg=self.state.extent_deg)
        ax = self.ax_screen
        ax.contour(x, y, rf, levels=[0.25, 0.6], colors="#d62728", linewidths=1.5, zorder=3)
        if rf.min() < -0.25:
            ax.contour(x, y, rf, levels=[-0.6, -0.25], colors="#1f77b4", linewidths=1.5,
                       linestyles="--", zorder=3)  # fmt: skip
        sf = float(pop.spatial_frequency_cpd[0])
        ax.add_patch(Ellipse(
            (float(pop.x_deg[0]), float(pop.y_deg[0])), 4 * float(pop.ny[0]) / sf,
            4 * float(pop.nx[0]) / sf, angle=float(pop.orientation_deg[0]), fill=False,
            ec="#ffdd00", lw=1.2, ls=":", zorder=3,
        ))  # fmt: skip
        truth = self.truth
        line = (
            f"true cell: {truth['type']} at ({truth['x_deg']:.1f}, {truth['y_deg']:.1f})°, "
            f"orientation {truth['orientation_deg']:.0f}°"
        )
        if "preferred_direction_deg" in truth:
            line += f", prefers motion to {truth['preferred_direction_deg']:.0f}°"
        lines = [line]
        if self.state.mystery:
            self._score = score_guess(self.state.guess, truth)
            lines.append(self._score.describe())
            if not self.state.guess.complete:
                lines.append("(no guess was made: enter puts one at the slit)")
        self._reveal_text.set_text("\n".join(lines))
        self._reveal_text.set_visible(True)
        self._status_note = "computing the true tuning …"
        self.fig.canvas.draw_idle()  # the contours join the background

        def work() -> None:
            self._reveal_data = compute_true_tuning(self.config.retina, pop)

        self._reveal_thread = threading.Thread(target=work, name="v1lab-live-truth", daemon=True)
        self._reveal_thread.start()

    def _draw_truth_tuning(self) -> None:
        # The true curve is drawn by _update_artists, scaled to its own peak (its shape is
        # what the student's bars should match), at orientation = direction − 90°.
        self._truth_line.set_label("true tuning (shape), by direction of motion")
        legend = self.ax_tuning.legend(loc="upper left", fontsize=7, bbox_to_anchor=(-0.3, 1.12))
        legend.set_animated(False)
        self._reveal_drawn = True
        self._status_note = "revealed"
        self.fig.canvas.draw_idle()

    def _write_geometry(self) -> None:
        widget = self.fig.canvas.get_tk_widget()
        widget.update_idletasks()
        height = widget.winfo_height()
        x0, y0, x1, y1 = self.ax_screen.get_window_extent().extents
        xlim, ylim = self.ax_screen.get_xlim(), self.ax_screen.get_ylim()
        rx, ry = widget.winfo_rootx(), widget.winfo_rooty()
        bx = (x1 - x0) / (xlim[1] - xlim[0])
        by = (y1 - y0) / (ylim[1] - ylim[0])
        geometry = {
            "pid": os.getpid(),
            "canvas_origin_px": [rx, ry],
            "canvas_size_px": [widget.winfo_width(), height],
            "screen_axes_px": [rx + x0, ry + height - y1, rx + x1, ry + height - y0],
            # Screen pixel = a + b * degrees (y grows downwards on the screen).
            "x_px": [rx + x0 - bx * xlim[0], bx],
            "y_px": [ry + height - y0 + by * ylim[0], -by],
            "notice": self.info.get("notice"),
        }
        target = Path(self.geometry_path or "")
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(geometry))
        os.replace(tmp, target)
        self._geometry_written = True

    def _quit(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._timer.stop()
        self._plt.close(self.fig)

    def run(self) -> int:
        """Show the window until the student quits; return the exit code."""
        self._plt.show()
        if self._save_thread is not None:
            self._save_thread.join()
            sys.stdout.write(f"v1lab: {self._save_result}\n")
        return self.code

    def summary(self, stats: Mapping[str, Any]) -> str:
        """One line for the terminal after the window closed."""
        lat = np.array(self.latencies) * 1e3
        parts = [f"v1lab live: {self.analysis.now_s:.1f} s, {self.analysis.n_spikes} spikes"]
        if stats.get("audio"):
            parts.append(f"{stats.get('underflows', 0)} underflows, {stats.get('xruns', 0)} xruns")
        else:
            parts.append(f"silent ({self.info.get('notice') or 'no audio'})")
        if lat.size:
            parts.append(f"latency median {np.median(lat):.0f} ms over {lat.size} events")
        return ", ".join(parts)

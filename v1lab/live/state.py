"""What the student controls on the live screen, as plain data.

:class:`StimulusParams` is the snapshot of the stimulus that the window sends to the engine;
:class:`LiveState` holds everything the window's controls change (the handlers of
:mod:`v1lab.live.controls` mutate it), with the hand-made RF marks (:class:`Mark`) and the
statement about a mystery cell (:class:`Guess`). :data:`LIVE_KINDS` lists the stimuli the
screen offers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Stimulus kinds the live screen offers: Hubel & Wiesel's slit, spot and edge, and a
#: drifting grating.
LIVE_KINDS = ("bar", "spot", "edge", "grating")


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
    >>> from v1lab.live.controls import MouseEvent, handle_mouse_move
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

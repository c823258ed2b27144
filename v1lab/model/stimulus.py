"""Visual stimuli: declarative parameter classes and an area-sampled renderer.

A stimulus is a frozen, validated dataclass that only holds parameters (``Bar``,
``Spot``, ``Annulus``, ``Grating``, ``FullField``, ``Blank``, ``Image``,
``SparseNoise``); pure functions render it onto a :class:`RetinaGrid`
(:func:`render_frames`, :func:`iter_frames`, :func:`save_gif`).

Conventions
-----------
- Space is in degrees of visual angle, x to the right, y up, origin at the centre of the
  retina grid. Row 0 of a frame is the top of the visual field, column 0 its left edge.
- Time is in seconds from stimulus onset; a stimulus is on for ``0 <= t < duration_s`` and
  the screen is grey at any other time.
- Orientation is in degrees, 0° = horizontal bar, counter-clockwise positive, and is stored
  in [0, 180). Direction of motion is in degrees, 0° = rightwards, 90° = upwards, stored in
  [0, 360). Moving bars and drifting gratings move across their own orientation:
  ``direction_deg = orientation_deg + 90`` (or + 270). Stimuli that do not move (flashed
  bars, counterphase gratings) have ``direction_deg = nan``.
- Frames are float32 arrays of signed contrast relative to the grey background:
  0 = grey, +c inside a light bar of contrast c, -c inside a dark one, so that
  luminance = L0 · (1 + frame).

Stimuli
-------
Hubel & Wiesel mapped receptive fields with small flashed spots and annuli and then drove
cortical cells with slits (bars) of light, flashed in place or swept across the receptive
field at the preferred orientation (Hubel & Wiesel 1959, 1962). Sinusoidal and square-wave
gratings, drifting or contrast-reversing, are the stimuli with which Enroth-Cugell & Robson
(1966) separated linear (X) from non-linear (Y) summation; they are the standard way to
measure spatial- and temporal-frequency tuning. Sparse noise — small light and dark
squares flashed at random — maps a receptive field by reverse correlation (Jones & Palmer
1987); its squares are area-sampled like everything else.

Why area sampling
-----------------
Shapes are drawn with the exact fraction of each pixel square that they cover (box-filter
anti-aliasing; Crow 1977). A point-sampled bar snaps to whole pixels: a bar moving at
0.5 deg/s on an 8 pixel/deg grid rendered at 100 Hz crosses only 0.04 pixel per frame, so
it would stand still for 25 frames and then jump a whole pixel. A model retina would then
see a 4 Hz staircase instead of smooth motion, and the sharp onsets would drive transient
cells that the real stimulus never drives. With area sampling a sub-pixel displacement
moves the intensity centroid by exactly that displacement and the total intensity
(contrast × area) stays constant while the shape is on the grid.

- Bars (rectangles) and the discs of spots, annuli and grating apertures are integrated
  exactly: the covered area is the four-corner difference of the shape's cumulative area
  function evaluated at the pixel corners, so totals are exact to round-off.
- Square-wave gratings are averaged exactly over each pixel square (the pixel's projection
  onto the grating axis is a trapezoid; its convolution with the square wave has a closed
  form). Sine gratings are band-limited and are sampled at pixel centres, so that their
  amplitude is the contrast asked for at every spatial frequency below the Nyquist limit
  (a pixel average would attenuate them by sinc(π f p) along each axis).
- A grating's aperture multiplies the pattern by the aperture's exact coverage, which is
  exact except inside the pixels the aperture's edge crosses.

References
----------
Crow FC (1977) The aliasing problem in computer-generated shaded images.
Commun ACM 20:799-805.
Enroth-Cugell C, Robson JG (1966) The contrast sensitivity of retinal ganglion cells of
the cat. J Physiol 187:517-552.
Hubel DH, Wiesel TN (1959) Receptive fields of single neurones in the cat's striate cortex.
J Physiol 148:574-591.
Hubel DH, Wiesel TN (1962) Receptive fields, binocular interaction and functional
architecture in the cat's visual cortex. J Physiol 160:106-154.
Jones JP, Palmer LA (1987) The two-dimensional spatial structure of simple receptive
fields in cat striate cortex. J Neurophysiol 58:1187-1211.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number

__all__ = [
    "STIMULUS_KINDS",
    "Annulus",
    "Bar",
    "Blank",
    "FullField",
    "Grating",
    "Image",
    "RetinaGrid",
    "SparseNoise",
    "Spot",
    "Stimulus",
    "frame_times",
    "iter_frames",
    "make_stimulus",
    "render_frames",
    "save_gif",
]

# A protocol typo such as pixels_per_deg = 800 should fail with a message, not a MemoryError.
_MAX_PIXELS_PER_SIDE = 4096
# Corner-grid elements per internal render batch: bounds the float64 temporaries (~8 MB each).
_BATCH_ELEMENTS = 1 << 20
# Coverage closer to 0 than this is round-off in the corner differences, not shape.
_COVERAGE_FLOOR = 1e-8
_ANGLE_TOLERANCE_DEG = 1e-6
# Browsers show GIF frames shorter than 20 ms at 100 ms, which would slow the movie down.
_GIF_MIN_FRAME_S = 0.02


def _set(obj: object, name: str, value: Any) -> None:
    # Frozen dataclasses store their normalised values through object.__setattr__.
    object.__setattr__(obj, name, value)


def _is_nan(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isnan(value)


def _wrap(angle: float, period: float) -> float:
    wrapped = angle % period
    # -1e-20 % 360 rounds to 360.0, which is outside [0, period).
    return 0.0 if wrapped >= period else wrapped


# --------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetinaGrid:
    """A square grid of pixels covering the visual field around the receptive fields.

    Parameters
    ----------
    extent_deg : float
        Side of the square field of view (deg), centred on (0, 0).
    pixels_per_deg : float
        Sampling density. The grid has ``n_pixels = max(1, round(extent_deg *
        pixels_per_deg))`` pixels per side, so the actual pixel size is
        ``pixel_deg = extent_deg / n_pixels``.

    Examples
    --------
    >>> grid = RetinaGrid(extent_deg=2.0, pixels_per_deg=2.0)
    >>> grid.n_pixels, grid.pixel_deg
    (4, 0.5)
    >>> x_deg, y_deg = grid.coords()
    >>> x_deg[0].tolist(), y_deg[:, 0].tolist()
    ([-0.75, -0.25, 0.25, 0.75], [0.75, 0.25, -0.25, -0.75])
    """

    extent_deg: float = 10.0
    pixels_per_deg: float = 8.0

    def __post_init__(self) -> None:
        extent = check_number("extent_deg", self.extent_deg, lo=0, lo_open=True, unit="deg")
        ppd = check_number(
            "pixels_per_deg", self.pixels_per_deg, lo=0, lo_open=True, unit="pixels per deg"
        )
        side = extent * ppd
        if not side <= _MAX_PIXELS_PER_SIDE + 0.5:
            raise ParameterError(
                "pixels_per_deg",
                self.pixels_per_deg,
                f"expected extent_deg × pixels_per_deg <= {_MAX_PIXELS_PER_SIDE} pixels per "
                f"side (extent_deg = {extent:g} gives {side:g})",
            )
        _set(self, "extent_deg", extent)
        _set(self, "pixels_per_deg", ppd)

    @property
    def n_pixels(self) -> int:
        """Number of pixels per side."""
        return max(1, round(self.extent_deg * self.pixels_per_deg))

    @property
    def pixel_deg(self) -> float:
        """Side of one pixel (deg)."""
        return self.extent_deg / self.n_pixels

    @property
    def nbytes_per_frame(self) -> int:
        """Size of one float32 frame in bytes."""
        return self.n_pixels * self.n_pixels * 4

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the pixel-centre coordinates ``(x_deg, y_deg)``, each ``(n, n)`` float64.

        Row 0 is the top of the field (largest y) and column 0 its left edge (smallest x).
        """
        n, p = self.n_pixels, self.pixel_deg
        centres = (np.arange(n) + 0.5) * p - 0.5 * self.extent_deg
        x_deg, y_deg = np.meshgrid(centres, centres[::-1])
        return x_deg, y_deg

    def _edges(self) -> tuple[np.ndarray, np.ndarray]:
        # Pixel-corner coordinates: x increasing left to right, y decreasing top to bottom.
        edges = np.arange(self.n_pixels + 1) * self.pixel_deg - 0.5 * self.extent_deg
        return edges, edges[::-1].copy()


# --------------------------------------------------------------------------------------
# Stimulus parameter classes
# --------------------------------------------------------------------------------------


class Stimulus:
    """Base class of all stimuli: a frozen set of parameters with a duration.

    Subclasses are frozen dataclasses with keyword-only fields, validated in
    ``__post_init__``; the renderer is :func:`render_frames`.
    """

    kind: ClassVar[str] = ""
    duration_s: float

    def trial_params(self) -> dict[str, float]:
        """Numeric values for the trials table, one per parameter that applies to this kind."""
        raise NotImplementedError

    def trial_labels(self) -> dict[str, str]:
        """String values for the trials table (e.g. ``waveform``); empty if there are none."""
        return {}


def _duration(value: Any) -> float:
    return check_number("duration_s", value, lo=0, lo_open=True, unit="s")


def _contrast(value: Any) -> float:
    return check_number("contrast", value, lo=-1, hi=1, unit="signed contrast")


def _position(name: str, value: Any) -> float:
    return check_number(name, value, unit="deg")


def _positive(name: str, value: Any, unit: str = "deg") -> float:
    return check_number(name, value, lo=0, lo_open=True, unit=unit)


def _resolve_angles(
    orientation: Any, direction: Any, *, moving: bool, still: str
) -> tuple[float, float]:
    """Return ``(orientation_deg, direction_deg)`` normalised, from either or both.

    ``still`` describes the stimulus when it does not move, for the error message.
    """
    ori = None if orientation is None else check_number("orientation_deg", orientation, unit="deg")
    # nan counts as "not given" so that dataclasses.replace() on a still stimulus works.
    given_dir = direction is not None and not _is_nan(direction)
    dirn = check_number("direction_deg", direction, unit="deg") if given_dir else None
    if not moving:
        if dirn is not None:
            raise ParameterError(
                "direction_deg", direction, f"{still} has no direction; leave direction_deg unset"
            )
        return _wrap(0.0 if ori is None else ori, 180.0), math.nan
    if ori is None and dirn is None:
        return 0.0, 90.0
    if dirn is None:
        assert ori is not None
        return _wrap(ori, 180.0), _wrap(ori + 90.0, 360.0)
    if ori is None:
        return _wrap(dirn - 90.0, 180.0), _wrap(dirn, 360.0)
    off = (dirn - ori - 90.0) % 180.0
    if min(off, 180.0 - off) > _ANGLE_TOLERANCE_DEG:
        raise ParameterError(
            "direction_deg",
            direction,
            f"expected orientation_deg + 90 or + 270 = {_wrap(ori + 90, 360):g} or "
            f"{_wrap(ori + 270, 360):g} (orientation_deg = {ori:g}): motion is across the "
            "orientation; give only one of the two angles to have the other derived",
        )
    return _wrap(ori, 180.0), _wrap(dirn, 360.0)


@dataclass(frozen=True, kw_only=True)
class Bar(Stimulus):
    """A rectangular bar (slit) of light or dark, flashed in place or swept across the field.

    Parameters
    ----------
    contrast : float
        Signed contrast in [-1, 1]: > 0 light bar, < 0 dark bar.
    width_deg, length_deg : float
        Size across and along the bar's long axis (deg, > 0).
    orientation_deg : float or None
        Orientation of the long axis (0 = horizontal, counter-clockwise positive).
    direction_deg : float or None
        Direction of motion (0 = rightwards, 90 = upwards); only for a moving bar.
        A moving bar given only one of the two angles gets the other from
        ``direction = orientation + 90``; given both, they must satisfy
        ``direction = orientation ± 90``; given neither, it is horizontal and moves up.
        ``None`` or nan means "not given". A flashed bar has ``direction_deg = nan``.
        After construction both fields hold the resolved values, so to turn a bar with
        ``dataclasses.replace`` give both angles (or set the other one to ``None``).
    speed_deg_s : float
        Speed (deg/s, >= 0). 0 flashes the bar for the whole duration.
    x_deg, y_deg : float
        Centre of the bar at the middle of the presentation; a moving bar's centre is
        ``(x, y) + speed · (t - duration / 2) · (cos dir, sin dir)``, so the sweep is centred
        on (x, y) and covers :attr:`travel_deg`.
    duration_s : float
        Presentation time (s, > 0).

    Examples
    --------
    >>> bar = Bar(orientation_deg=90, speed_deg_s=4.0, duration_s=2.0)
    >>> bar.direction_deg, bar.travel_deg
    (180.0, 8.0)
    >>> Bar(direction_deg=0, speed_deg_s=1.0).orientation_deg
    90.0
    """

    kind: ClassVar[str] = "bar"

    contrast: float = 1.0
    width_deg: float = 0.5
    length_deg: float = 5.0
    orientation_deg: float | None = None
    direction_deg: float | None = None
    speed_deg_s: float = 0.0
    x_deg: float = 0.0
    y_deg: float = 0.0
    duration_s: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "contrast", _contrast(self.contrast))
        _set(self, "width_deg", _positive("width_deg", self.width_deg))
        _set(self, "length_deg", _positive("length_deg", self.length_deg))
        speed = check_number("speed_deg_s", self.speed_deg_s, lo=0, unit="deg/s")
        ori, dirn = _resolve_angles(
            self.orientation_deg,
            self.direction_deg,
            moving=speed > 0,
            still="a flashed bar (speed_deg_s = 0)",
        )
        _set(self, "orientation_deg", ori)
        _set(self, "direction_deg", dirn)
        _set(self, "speed_deg_s", speed)
        _set(self, "x_deg", _position("x_deg", self.x_deg))
        _set(self, "y_deg", _position("y_deg", self.y_deg))
        _set(self, "duration_s", _duration(self.duration_s))

    @property
    def travel_deg(self) -> float:
        """Distance the bar's centre travels during the presentation (deg)."""
        return self.speed_deg_s * self.duration_s

    def trial_params(self) -> dict[str, float]:
        return {
            "orientation_deg": self.orientation_deg,
            "direction_deg": self.direction_deg,
            "contrast": self.contrast,
            "width_deg": self.width_deg,
            "length_deg": self.length_deg,
            "speed_deg_s": self.speed_deg_s,
            "x_deg": self.x_deg,
            "y_deg": self.y_deg,
        }


@dataclass(frozen=True, kw_only=True)
class Spot(Stimulus):
    """A flashed disc of light or dark.

    Parameters
    ----------
    contrast : float
        Signed contrast in [-1, 1].
    radius_deg : float
        Radius (deg, > 0).
    x_deg, y_deg : float
        Centre (deg).
    duration_s : float
        Presentation time (s, > 0).

    Examples
    --------
    >>> Spot(contrast=-0.5, radius_deg=0.25).trial_params()["contrast"]
    -0.5
    """

    kind: ClassVar[str] = "spot"

    contrast: float = 1.0
    radius_deg: float = 0.5
    x_deg: float = 0.0
    y_deg: float = 0.0
    duration_s: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "contrast", _contrast(self.contrast))
        _set(self, "radius_deg", _positive("radius_deg", self.radius_deg))
        _set(self, "x_deg", _position("x_deg", self.x_deg))
        _set(self, "y_deg", _position("y_deg", self.y_deg))
        _set(self, "duration_s", _duration(self.duration_s))

    def trial_params(self) -> dict[str, float]:
        return {
            "contrast": self.contrast,
            "radius_deg": self.radius_deg,
            "x_deg": self.x_deg,
            "y_deg": self.y_deg,
        }


@dataclass(frozen=True, kw_only=True)
class Annulus(Stimulus):
    """A flashed ring of light or dark (a disc when ``inner_radius_deg = 0``).

    Parameters
    ----------
    contrast : float
        Signed contrast in [-1, 1].
    inner_radius_deg : float
        Radius of the hole (deg, >= 0).
    outer_radius_deg : float
        Outer radius (deg, > inner_radius_deg).
    x_deg, y_deg : float
        Centre (deg).
    duration_s : float
        Presentation time (s, > 0).

    Examples
    --------
    >>> Annulus(inner_radius_deg=1.0, outer_radius_deg=2.0).outer_radius_deg
    2.0
    """

    kind: ClassVar[str] = "annulus"

    contrast: float = 1.0
    inner_radius_deg: float = 0.5
    outer_radius_deg: float = 1.5
    x_deg: float = 0.0
    y_deg: float = 0.0
    duration_s: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "contrast", _contrast(self.contrast))
        inner = check_number("inner_radius_deg", self.inner_radius_deg, lo=0, unit="deg")
        outer = check_number(
            "outer_radius_deg",
            self.outer_radius_deg,
            lo=inner,
            lo_open=True,
            unit="deg, > inner_radius_deg",
        )
        _set(self, "inner_radius_deg", inner)
        _set(self, "outer_radius_deg", outer)
        _set(self, "x_deg", _position("x_deg", self.x_deg))
        _set(self, "y_deg", _position("y_deg", self.y_deg))
        _set(self, "duration_s", _duration(self.duration_s))

    def trial_params(self) -> dict[str, float]:
        return {
            "contrast": self.contrast,
            "inner_radius_deg": self.inner_radius_deg,
            "outer_radius_deg": self.outer_radius_deg,
            "x_deg": self.x_deg,
            "y_deg": self.y_deg,
        }


def _radius_or_inf(name: str, value: Any) -> float:
    if isinstance(value, Real) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    return check_number(name, value, lo=0, lo_open=True, unit="deg; inf for no aperture")


@dataclass(frozen=True, kw_only=True)
class Grating(Stimulus):
    """A sine- or square-wave grating, drifting or contrast-reversing (counterphase).

    With ``u = (x - x_deg, y - y_deg) · (cos a, sin a)`` the position along the grating
    axis ``a`` (the direction of motion; ``orientation_deg + 90`` for a counterphase
    grating), the frame is

    - drift: ``contrast · w(2π f u - 2π tf t + φ)``, so the stripes move along
      ``direction_deg`` at ``tf / f`` deg/s;
    - counterphase: ``contrast · w(2π f u + φ) · cos(2π tf t)``,

    with ``w = cos`` for ``'sine'`` and ``w = sign(cos)`` for ``'square'``. The cosine
    convention puts a light stripe centred on (x_deg, y_deg) at phase 0 and t = 0.
    The stripes are parallel to ``orientation_deg``. The pattern is multiplied by a disc
    aperture of radius ``aperture_radius_deg`` centred on (x_deg, y_deg).

    Parameters
    ----------
    contrast : float
        Michelson contrast (amplitude) in [-1, 1]; a negative value shifts the phase by 180°.
    waveform : {'sine', 'square'}
        Luminance profile across the stripes.
    spatial_frequency_cpd : float
        Cycles per degree (> 0).
    temporal_frequency_hz : float
        Drift or reversal rate (Hz, >= 0).
    orientation_deg, direction_deg : float or None
        Resolved as for :class:`Bar`; a counterphase grating has ``direction_deg = nan``.
    motion : {'drift', 'counterphase'}
        How the pattern changes in time.
    phase_deg : float
        Spatial phase φ (deg), stored in [0, 360).
    aperture_radius_deg : float
        Radius of the circular aperture (deg, > 0); ``inf`` (default) for full field.
    x_deg, y_deg : float
        Centre of the aperture and phase origin (deg).
    duration_s : float
        Presentation time (s, > 0).

    Examples
    --------
    >>> g = Grating(orientation_deg=45, spatial_frequency_cpd=0.5, temporal_frequency_hz=2.0)
    >>> g.direction_deg
    135.0
    >>> Grating(motion="counterphase").trial_labels()
    {'waveform': 'sine', 'motion': 'counterphase'}
    """

    kind: ClassVar[str] = "grating"

    contrast: float = 1.0
    waveform: str = "sine"
    spatial_frequency_cpd: float = 0.5
    temporal_frequency_hz: float = 2.0
    orientation_deg: float | None = None
    direction_deg: float | None = None
    motion: str = "drift"
    phase_deg: float = 0.0
    aperture_radius_deg: float = math.inf
    x_deg: float = 0.0
    y_deg: float = 0.0
    duration_s: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "contrast", _contrast(self.contrast))
        _set(self, "waveform", check_choice("waveform", self.waveform, ("sine", "square")))
        _set(
            self,
            "spatial_frequency_cpd",
            _positive("spatial_frequency_cpd", self.spatial_frequency_cpd, "cycles/deg"),
        )
        _set(
            self,
            "temporal_frequency_hz",
            check_number("temporal_frequency_hz", self.temporal_frequency_hz, lo=0, unit="Hz"),
        )
        motion = check_choice("motion", self.motion, ("drift", "counterphase"))
        ori, dirn = _resolve_angles(
            self.orientation_deg,
            self.direction_deg,
            moving=motion == "drift",
            still="a counterphase grating",
        )
        _set(self, "orientation_deg", ori)
        _set(self, "direction_deg", dirn)
        _set(self, "motion", motion)
        _set(self, "phase_deg", _wrap(check_number("phase_deg", self.phase_deg, unit="deg"), 360))
        _set(
            self,
            "aperture_radius_deg",
            _radius_or_inf("aperture_radius_deg", self.aperture_radius_deg),
        )
        _set(self, "x_deg", _position("x_deg", self.x_deg))
        _set(self, "y_deg", _position("y_deg", self.y_deg))
        _set(self, "duration_s", _duration(self.duration_s))

    def trial_params(self) -> dict[str, float]:
        return {
            "orientation_deg": self.orientation_deg,
            "direction_deg": self.direction_deg,
            "contrast": self.contrast,
            "spatial_frequency_cpd": self.spatial_frequency_cpd,
            "temporal_frequency_hz": self.temporal_frequency_hz,
            "phase_deg": self.phase_deg,
            "aperture_radius_deg": self.aperture_radius_deg,
            "x_deg": self.x_deg,
            "y_deg": self.y_deg,
        }

    def trial_labels(self) -> dict[str, str]:
        return {"waveform": self.waveform, "motion": self.motion}


@dataclass(frozen=True, kw_only=True)
class FullField(Stimulus):
    """A diffuse flash: the whole field steps to ``contrast`` for the duration.

    Examples
    --------
    >>> FullField(contrast=-1.0, duration_s=0.5).trial_params()
    {'contrast': -1.0}
    """

    kind: ClassVar[str] = "full_field"

    contrast: float = 1.0
    duration_s: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "contrast", _contrast(self.contrast))
        _set(self, "duration_s", _duration(self.duration_s))

    def trial_params(self) -> dict[str, float]:
        return {"contrast": self.contrast}


@dataclass(frozen=True, kw_only=True)
class Blank(Stimulus):
    """A grey screen, for spontaneous activity. It has no trials-table parameters.

    Examples
    --------
    >>> Blank(duration_s=2.0).trial_params()
    {}
    """

    kind: ClassVar[str] = "blank"

    duration_s: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "duration_s", _duration(self.duration_s))

    def trial_params(self) -> dict[str, float]:
        return {}


_PIL_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, SyntaxError)


def _pil_errors() -> tuple[type[BaseException], ...]:
    from PIL import Image as PILImage

    return (*_PIL_ERRORS, PILImage.DecompressionBombError)


@dataclass(frozen=True, kw_only=True)
class Image(Stimulus):
    """A flashed greyscale picture, contrast-normalised to its own mean luminance.

    The picture is converted to greyscale (alpha ignored, first frame only), turned into
    contrast ``L / mean(L) - 1`` and area-averaged onto the grid; outside it the screen is
    grey. Pixel values are taken as proportional to luminance (no gamma decoding). The
    picture is loaded on first render and cached; its file is checked on construction.

    Parameters
    ----------
    path : str or os.PathLike
        Image file readable by pillow (PNG, JPEG, TIFF, ...). Checked on construction.
    size_deg : float
        Width on the screen (deg, > 0); the height keeps the picture's aspect ratio.
    x_deg, y_deg : float
        Centre of the picture (deg).
    contrast : float
        Scale of the picture's own contrast, in [0, 1]; 1 shows it as it is (larger
        values would ask for negative luminance in its darkest parts).
    duration_s : float
        Presentation time (s, > 0).
    """

    kind: ClassVar[str] = "image"

    path: str
    size_deg: float = 5.0
    x_deg: float = 0.0
    y_deg: float = 0.0
    contrast: float = 1.0
    duration_s: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.path, str | os.PathLike):
            raise ParameterError(
                "path", self.path, f"expected a file path, got {type(self.path).__name__}"
            )
        path = os.fspath(self.path)
        if not isinstance(path, str):
            raise ParameterError("path", self.path, "expected a text file path, got bytes")
        from PIL import Image as PILImage

        try:
            # Opening reads only the header: cheap, and catches a missing or foreign file now.
            with PILImage.open(path) as picture:
                width, height = picture.size
        except _pil_errors() as exc:
            raise ParameterError("path", path, f"expected a readable image file ({exc})") from exc
        if width < 1 or height < 1:
            raise ParameterError("path", path, "the image has no pixels")
        _set(self, "path", path)
        _set(self, "size_deg", _positive("size_deg", self.size_deg))
        _set(self, "x_deg", _position("x_deg", self.x_deg))
        _set(self, "y_deg", _position("y_deg", self.y_deg))
        _set(self, "contrast", check_number("contrast", self.contrast, lo=0, hi=1))
        _set(self, "duration_s", _duration(self.duration_s))

    def trial_params(self) -> dict[str, float]:
        return {
            "contrast": self.contrast,
            "size_deg": self.size_deg,
            "x_deg": self.x_deg,
            "y_deg": self.y_deg,
        }

    def trial_labels(self) -> dict[str, str]:
        return {"path": self.path}


def _whole(name: str, value: Any, lo: int, hi: int) -> int:
    # Protocol tables and trials columns carry numbers as floats; 12.0 is a whole number.
    x = check_number(name, value, lo=lo, hi=hi, unit="a whole number")
    if x != math.floor(x):
        raise ParameterError(name, value, f"expected a whole number in [{lo}, {hi}]")
    return int(x)


@functools.lru_cache(maxsize=16)
def _noise_pattern(grid_size: int, density: float, n_frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    on = rng.random((n_frames, grid_size, grid_size)) < density
    light = rng.random((n_frames, grid_size, grid_size)) < 0.5
    pattern = np.where(on, np.where(light, 1, -1), 0).astype(np.int8)
    pattern.setflags(write=False)
    return pattern


@dataclass(frozen=True, kw_only=True)
class SparseNoise(Stimulus):
    """Sparse noise: light and dark squares flashed at random on a grid (reverse correlation).

    The screen around ``(x_deg, y_deg)`` is divided into ``grid_size × grid_size``
    squares. Every ``frame_duration_s`` a new noise frame is drawn: each square is
    independently *on* with probability ``density``, and an on square is light
    (``+contrast``) or dark (``-contrast``) with equal probability; the rest is grey.
    With a low density this is the sparse noise with which Jones & Palmer (1987) mapped
    simple-cell receptive fields of cat striate cortex by reverse correlation;
    ``density = 1`` gives dense binary white noise. Squares are independent and
    zero-mean, so the spike-triggered average of the noise estimates the linear
    receptive field (Chichilnisky 2001, Neural Comput Syst 12:199-213).

    The sequence is fixed by ``noise_seed`` (not by the protocol's seed), so analyses
    regenerate exactly what was shown with :meth:`pattern`.

    Parameters
    ----------
    contrast : float
        Contrast of the squares, in (0, 1].
    grid_size : int
        Squares per side (1–128).
    square_deg : float
        Side of one square (deg, > 0).
    density : float
        Probability that a square is on in a noise frame, in (0, 1].
    frame_duration_s : float
        How long each noise frame is shown (s, > 0).
    noise_seed : int
        Seed of the noise sequence (>= 0).
    x_deg, y_deg : float
        Centre of the grid (deg).
    duration_s : float
        Presentation time (s, > 0).

    Examples
    --------
    >>> noise = SparseNoise(grid_size=4, density=0.5, frame_duration_s=0.1, duration_s=1.0)
    >>> noise.pattern().shape, noise.n_noise_frames
    ((10, 4, 4), 10)
    >>> sorted(set(noise.pattern().ravel().tolist()))
    [-1, 0, 1]
    """

    kind: ClassVar[str] = "sparse_noise"

    contrast: float = 1.0
    grid_size: int = 12
    square_deg: float = 0.3
    density: float = 0.05
    frame_duration_s: float = 0.04
    noise_seed: int = 0
    x_deg: float = 0.0
    y_deg: float = 0.0
    duration_s: float = 10.0

    def __post_init__(self) -> None:
        _set(self, "contrast", check_number("contrast", self.contrast, lo=0, lo_open=True, hi=1))
        _set(self, "grid_size", _whole("grid_size", self.grid_size, 1, 128))
        _set(self, "square_deg", _positive("square_deg", self.square_deg))
        _set(self, "density", check_number("density", self.density, lo=0, lo_open=True, hi=1))
        _set(
            self,
            "frame_duration_s",
            check_number("frame_duration_s", self.frame_duration_s, lo=0, lo_open=True, unit="s"),
        )
        _set(self, "noise_seed", _whole("noise_seed", self.noise_seed, 0, 2**63 - 1))
        _set(self, "x_deg", _position("x_deg", self.x_deg))
        _set(self, "y_deg", _position("y_deg", self.y_deg))
        _set(self, "duration_s", _duration(self.duration_s))
        if self.n_noise_frames * self.grid_size**2 > 50_000_000:
            raise ParameterError(
                "duration_s",
                self.duration_s,
                "expected at most 5e7 noise squares in one presentation (split the noise "
                "into several conditions with different noise_seed values)",
            )

    @property
    def n_noise_frames(self) -> int:
        """Number of noise frames in the presentation (the last may be cut short)."""
        return max(1, math.ceil(self.duration_s / self.frame_duration_s - 1e-9))

    def pattern(self) -> np.ndarray:
        """The noise shown: int8 array (n_noise_frames, grid_size, grid_size) of -1, 0, +1.

        Row 0 is the top row of squares and column 0 the left one, as in a frame.
        """
        return _noise_pattern(self.grid_size, self.density, self.n_noise_frames, self.noise_seed)

    def noise_frame_index(self, t_s: Any) -> np.ndarray:
        """Index of the noise frame on screen at times ``t_s`` after onset (clipped)."""
        t = np.asarray(t_s, dtype=np.float64)
        # The 1e-9 keeps t = k · frame_duration (up to round-off) in noise frame k.
        k = np.floor(t / self.frame_duration_s + 1e-9).astype(np.int64)
        return np.clip(k, 0, self.n_noise_frames - 1)

    def square_centres_deg(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres of the squares: ``x`` per column (left to right), ``y`` per row (top down)."""
        offsets = (np.arange(self.grid_size) - 0.5 * (self.grid_size - 1)) * self.square_deg
        return self.x_deg + offsets, self.y_deg - offsets

    def trial_params(self) -> dict[str, float]:
        return {
            "contrast": self.contrast,
            "grid_size": float(self.grid_size),
            "square_deg": self.square_deg,
            "density": self.density,
            "frame_duration_s": self.frame_duration_s,
            "noise_seed": float(self.noise_seed),
            "x_deg": self.x_deg,
            "y_deg": self.y_deg,
        }


STIMULUS_KINDS: dict[str, type[Stimulus]] = {
    cls.kind: cls for cls in (Bar, Spot, Annulus, Grating, FullField, Blank, Image, SparseNoise)
}


def make_stimulus(kind: str, /, **params: Any) -> Stimulus:
    """Build a stimulus from its kind name and parameters (as a protocol gives them).

    Parameters
    ----------
    kind : str
        One of the keys of :data:`STIMULUS_KINDS`.
    **params
        Parameters of that kind; unknown names are refused.

    Returns
    -------
    Stimulus

    Raises
    ------
    ParameterError
        For an unknown kind, an unknown or missing parameter, or a bad value.

    Examples
    --------
    >>> make_stimulus("spot", radius_deg=0.5, contrast=-1)
    Spot(contrast=-1.0, radius_deg=0.5, x_deg=0.0, y_deg=0.0, duration_s=1.0)
    >>> make_stimulus("bar", colour="red")
    Traceback (most recent call last):
    ...
    v1lab._validate.ParameterError: colour = 'red': not a parameter of a 'bar' stimulus; \
allowed: contrast, width_deg, length_deg, orientation_deg, direction_deg, speed_deg_s, x_deg, \
y_deg, duration_s
    """
    check_choice("kind", kind, STIMULUS_KINDS)
    cls = STIMULUS_KINDS[kind]
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    for name, value in params.items():
        if name not in names:
            raise ParameterError(
                name, value, f"not a parameter of a {kind!r} stimulus; allowed: {', '.join(names)}"
            )
    for f in fields:
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in params:
            raise ParameterError(f.name, None, f"required for a {kind!r} stimulus")
    return cls(**params)


# --------------------------------------------------------------------------------------
# Exact coverage of shapes
# --------------------------------------------------------------------------------------


def _corner_difference(cumulative: np.ndarray, pixel_area: float) -> np.ndarray:
    """Covered fraction of each pixel from a cumulative-area function at the pixel corners.

    ``cumulative[..., i, j]`` is A(x_edges[j], y_edges[i]) for any function whose mixed
    difference over a rectangle is the shape's area inside it (y_edges descending).
    """
    area = (
        cumulative[..., :-1, 1:]
        - cumulative[..., :-1, :-1]
        - cumulative[..., 1:, 1:]
        + cumulative[..., 1:, :-1]
    )
    area /= pixel_area
    area[np.abs(area) < _COVERAGE_FLOOR] = 0.0
    return np.clip(area, 0.0, 1.0, out=area)


def _mean_negative_part(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Mean of min(m, 0) along a segment on which m runs linearly from start to stop."""
    lo = np.minimum(start, stop)
    hi = np.maximum(start, stop)
    both_negative = 0.5 * (lo + hi)
    # Only used where lo < 0 < hi, so hi - lo > |lo| and nothing cancels.
    width = np.where(hi > lo, hi - lo, 1.0)
    crossing = -0.5 * lo * lo / width
    return np.where(hi <= 0.0, both_negative, np.where(lo >= 0.0, 0.0, crossing))


def _polygon_coverage(
    vx: np.ndarray, vy: np.ndarray, xs: np.ndarray, ys: np.ndarray, pixel_area: float
) -> np.ndarray:
    """Exact covered fraction of every pixel by a convex polygon, for several placements.

    Parameters
    ----------
    vx, vy : ndarray, shape (k,)
        Vertices, counter-clockwise, in the polygon's own frame.
    xs : ndarray, shape (m, nx + 1)
    ys : ndarray, shape (m, ny + 1)
        Pixel-corner coordinates relative to the polygon's frame, one row per placement
        (ys descending).

    Returns
    -------
    ndarray, shape (m, ny, nx), float64
    """
    # Area of polygon ∩ {x <= X, y <= Y} by Green's theorem: ∮ min(x - X, 0)·[y <= Y] dy,
    # integrated edge by edge in closed form (the X·∮[y <= Y] dy term vanishes).
    X = xs[:, None, :]
    Y = ys[:, :, None]
    cumulative = np.zeros((xs.shape[0], ys.shape[1], xs.shape[1]))
    k = vx.size
    for i in range(k):
        x0, y0 = float(vx[i]), float(vy[i])
        x1, y1 = float(vx[(i + 1) % k]), float(vy[(i + 1) % k])
        if y1 == y0:
            continue  # a horizontal edge has dy = 0 everywhere
        slope = (x1 - x0) / (y1 - y0)
        y_from = np.minimum(y0, Y)
        y_to = np.minimum(y1, Y)
        m_from = (x0 + (y_from - y0) * slope) - X
        m_to = (x0 + (y_to - y0) * slope) - X
        cumulative += (y_to - y_from) * _mean_negative_part(m_from, m_to)
    return _corner_difference(cumulative, pixel_area)


def _circle_primitive(x: np.ndarray, radius: float) -> np.ndarray:
    # ∫_0^x sqrt(R² - s²) ds for 0 <= x <= R; (R - x)(R + x) keeps precision near x = R.
    height = np.sqrt((radius - x) * (radius + x))
    return 0.5 * (x * height + radius * radius * np.arctan2(x, height))


def _disc_rectangle_area(X: np.ndarray, Y: np.ndarray, radius: float) -> np.ndarray:
    """Signed area of the disc x² + y² <= R² inside the rectangle from (0, 0) to (X, Y)."""
    x = np.minimum(np.abs(X), radius)
    y = np.minimum(np.abs(Y), radius)
    inside = x * x + y * y <= radius * radius
    # Otherwise the circle leaves the top edge at x_top < x: a rectangle plus a circular slab.
    x_top = np.sqrt((radius - y) * (radius + y))
    outside = x_top * y + _circle_primitive(x, radius) - _circle_primitive(x_top, radius)
    return np.sign(X) * np.sign(Y) * np.where(inside, x * y, outside)


def _disc_coverage(radius: float, cx: float, cy: float, grid: RetinaGrid) -> np.ndarray:
    """Exact covered fraction of every pixel by a disc, (n, n) float64."""
    xe, ye = grid._edges()
    if radius <= 0.0:
        return np.zeros((grid.n_pixels, grid.n_pixels))
    cumulative = _disc_rectangle_area((xe - cx)[None, :], (ye - cy)[:, None], radius)
    return _corner_difference(cumulative, grid.pixel_deg**2)


# --------------------------------------------------------------------------------------
# Square-wave grating: exact pixel average
# --------------------------------------------------------------------------------------


def _square_wave_integral(z: np.ndarray) -> np.ndarray:
    # Antiderivative of sign(cos 2πz) (in cycles): a zero-mean triangle wave.
    r = z - np.rint(z)
    a = np.abs(r)
    return np.where(a <= 0.25, r, np.sign(r) * (0.5 - a))


def _square_wave_integral2(z: np.ndarray) -> np.ndarray:
    # Antiderivative of the triangle wave: periodic because the triangle has zero mean.
    r = z - np.rint(z)
    a = np.abs(r)
    return np.where(a <= 0.25, 0.5 * r * r, 0.5 * a - 0.5 * a * a - 0.0625)


def _square_wave_average(z: np.ndarray, width_a: float, width_b: float) -> np.ndarray:
    """Pixel average of sign(cos 2πz) when the pixel spans a trapezoid of widths a, b in z.

    The pixel's projection on the grating axis is the sum of two uniforms of widths
    ``a = f p |cos θ|`` and ``b = f p |sin θ|`` (in cycles); averaging the square wave over
    it is a second difference of its second antiderivative.
    """
    big, small = max(width_a, width_b), min(width_a, width_b)
    if big * small >= 1e-9:
        h, g = 0.5 * (big + small), 0.5 * (big - small)
        S2 = _square_wave_integral2
        return (S2(z + h) - S2(z + g) - S2(z - g) + S2(z - h)) / (big * small)
    # A very thin trapezoid: the second difference would cancel; a box of width `big` is
    # within small / (4 big) of it.
    if big >= 1e-9:
        S1 = _square_wave_integral
        return (S1(z + 0.5 * big) - S1(z - 0.5 * big)) / big
    return np.sign(np.cos(2.0 * np.pi * z))


# --------------------------------------------------------------------------------------
# Per-kind renderers. Static ones return one (n, n) frame; moving ones (m, n, n) for t.
# --------------------------------------------------------------------------------------


def _bar_outline(bar: Bar) -> tuple[np.ndarray, np.ndarray]:
    theta = math.radians(bar.orientation_deg)
    along = np.array([math.cos(theta), math.sin(theta)]) * (0.5 * bar.length_deg)
    across = np.array([-math.sin(theta), math.cos(theta)]) * (0.5 * bar.width_deg)
    # Counter-clockwise because along × across > 0.
    corners = np.stack([-along - across, along - across, along + across, -along + across])
    return corners[:, 0], corners[:, 1]


def _bar_frames(bar: Bar, grid: RetinaGrid, t: np.ndarray) -> np.ndarray:
    xe, ye = grid._edges()
    offset = bar.speed_deg_s * (t - 0.5 * bar.duration_s)
    if bar.speed_deg_s > 0:
        rad = math.radians(bar.direction_deg)
        cx = bar.x_deg + offset * math.cos(rad)
        cy = bar.y_deg + offset * math.sin(rad)
    else:
        cx = np.full(t.shape, bar.x_deg)
        cy = np.full(t.shape, bar.y_deg)
    vx, vy = _bar_outline(bar)
    area = grid.pixel_deg**2
    n = grid.n_pixels
    # Pixels outside the bar's bounding box are exactly 0, so only a window around it is
    # integrated: a 4 x 0.5 deg slit covers ~2 % of a 10-deg field, and the window cuts
    # the cost of a sweep 5-40x. A pixel of margin on each side absorbs round-off in
    # the window's placement; the window's corners are the grid's own corner values, so
    # the result is the full-grid result, bit for bit.
    half_w, half_h = float(np.max(np.abs(vx))), float(np.max(np.abs(vy)))
    win_x = math.ceil(2.0 * half_w / grid.pixel_deg) + 3
    win_y = math.ceil(2.0 * half_h / grid.pixel_deg) + 3
    if win_x * win_y * 2 > n * n:
        # Corners are expressed in the bar's frame so that round-off scales with its size.
        xs = xe[None, :] - cx[:, None]
        ys = ye[None, :] - cy[:, None]
        return bar.contrast * _polygon_coverage(vx, vy, xs, ys, area)
    half = 0.5 * grid.extent_deg
    left = np.floor((cx - half_w + half) / grid.pixel_deg) - 1
    top = np.floor((half - cy - half_h) / grid.pixel_deg) - 1
    # A window wholly off the field is clamped into the padding: its pixels are then
    # correctly 0 (the bar is not there) and the canvas stays small.
    col0 = np.clip(left, -win_x, n).astype(np.intp)
    row0 = np.clip(top, -win_y, n).astype(np.intp)
    cols = col0[:, None] + np.arange(win_x + 1)
    rows = row0[:, None] + np.arange(win_y + 1)
    # Same expressions as RetinaGrid._edges, extended past the field's border.
    xs = (cols * grid.pixel_deg - half) - cx[:, None]
    ys = ((n - rows) * grid.pixel_deg - half) - cy[:, None]
    window = _polygon_coverage(vx, vy, xs, ys, area)
    canvas = np.zeros((t.size, n + 2 * win_y, n + 2 * win_x))
    frame = np.arange(t.size)[:, None, None]
    canvas[
        frame,
        (row0 + win_y)[:, None, None] + np.arange(win_y)[None, :, None],
        (col0 + win_x)[:, None, None] + np.arange(win_x)[None, None, :],
    ] = window
    return bar.contrast * canvas[:, win_y : win_y + n, win_x : win_x + n]


def _spot_frame(spot: Spot, grid: RetinaGrid) -> np.ndarray:
    return spot.contrast * _disc_coverage(spot.radius_deg, spot.x_deg, spot.y_deg, grid)


def _annulus_frame(ring: Annulus, grid: RetinaGrid) -> np.ndarray:
    outer = _disc_coverage(ring.outer_radius_deg, ring.x_deg, ring.y_deg, grid)
    inner = _disc_coverage(ring.inner_radius_deg, ring.x_deg, ring.y_deg, grid)
    return ring.contrast * np.clip(outer - inner, 0.0, 1.0)


def _full_field_frame(flash: FullField, grid: RetinaGrid) -> np.ndarray:
    return np.full((grid.n_pixels, grid.n_pixels), flash.contrast)


def _blank_frame(blank: Blank, grid: RetinaGrid) -> np.ndarray:
    return np.zeros((grid.n_pixels, grid.n_pixels))


def _grating_axis_deg(g: Grating) -> float:
    return g.direction_deg if g.motion == "drift" else _wrap(g.orientation_deg + 90.0, 360.0)


def _grating_cycles(g: Grating, grid: RetinaGrid) -> np.ndarray:
    # Position along the grating axis in cycles, phase included, reduced to [0, 1).
    x, y = grid.coords()
    rad = math.radians(_grating_axis_deg(g))
    u = (x - g.x_deg) * math.cos(rad) + (y - g.y_deg) * math.sin(rad)
    z = g.spatial_frequency_cpd * u + g.phase_deg / 360.0
    return z - np.floor(z)


def _grating_profile(g: Grating, grid: RetinaGrid, z: np.ndarray) -> np.ndarray:
    if g.waveform == "sine":
        return np.cos(2.0 * np.pi * z)
    rad = math.radians(_grating_axis_deg(g))
    span = g.spatial_frequency_cpd * grid.pixel_deg
    return _square_wave_average(z, span * abs(math.cos(rad)), span * abs(math.sin(rad)))


def _grating_window(g: Grating, grid: RetinaGrid) -> np.ndarray | float:
    if math.isinf(g.aperture_radius_deg):
        return 1.0
    return _disc_coverage(g.aperture_radius_deg, g.x_deg, g.y_deg, grid)


def _cycles_elapsed(g: Grating, t: np.ndarray) -> np.ndarray:
    # Reduced to [0, 1) before use so that long presentations keep full phase precision.
    cycles = g.temporal_frequency_hz * t
    return cycles - np.floor(cycles)


def _grating_frames(g: Grating, grid: RetinaGrid, t: np.ndarray) -> np.ndarray:
    z0 = _grating_cycles(g, grid)
    window = _grating_window(g, grid)
    if g.motion == "counterphase":
        pattern = g.contrast * window * _grating_profile(g, grid, z0)
        gain = np.cos(2.0 * np.pi * _cycles_elapsed(g, t))
        return gain[:, None, None] * pattern[None]
    z = z0[None] - _cycles_elapsed(g, t)[:, None, None]
    z -= np.floor(z)
    return g.contrast * window * _grating_profile(g, grid, z)


def _overlap(lo_a: np.ndarray, hi_a: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray) -> np.ndarray:
    # Length of the overlap of every interval a with every interval b.
    overlap = np.minimum(hi_a[:, None], hi_b[None, :]) - np.maximum(lo_a[:, None], lo_b[None, :])
    return np.maximum(overlap, 0.0)


@functools.lru_cache(maxsize=8)
def _load_picture(path: str, stamp: tuple[int, int]) -> np.ndarray:
    # `stamp` (mtime, size) makes an edited file reload; it is not used otherwise.
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as picture:
            if picture.mode in ("I", "F") or picture.mode.startswith("I;16"):
                grey = picture.convert("F")
            else:
                grey = picture.convert("L")
            luminance = np.asarray(grey, dtype=np.float64)
    except _pil_errors() as exc:
        raise ParameterError("path", path, f"expected a readable image file ({exc})") from exc
    mean = float(luminance.mean())
    if not mean > 0.0:
        raise ParameterError(
            "path", path, "the image is black everywhere, so its contrast is undefined"
        )
    contrast = luminance / mean - 1.0
    contrast.setflags(write=False)
    return contrast


@functools.lru_cache(maxsize=8)
def _picture_on_grid(
    path: str,
    stamp: tuple[int, int],
    size_deg: float,
    x_deg: float,
    y_deg: float,
    grid: RetinaGrid,
) -> np.ndarray:
    picture = _load_picture(path, stamp)
    rows, cols = picture.shape
    side = size_deg / cols
    left = x_deg - 0.5 * size_deg
    top = y_deg + 0.5 * side * rows
    xe, ye = grid._edges()
    # Both grids are axis-aligned, so the exact area average factorises into two overlap
    # matrices: frame = Oy · picture · Oxᵀ / pixel area.
    col_edges = left + side * np.arange(cols + 1)
    row_edges = top - side * np.arange(rows + 1)
    over_x = _overlap(xe[:-1], xe[1:], col_edges[:-1], col_edges[1:])
    over_y = _overlap(ye[1:], ye[:-1], row_edges[1:], row_edges[:-1])
    frame = over_y @ (picture @ over_x.T) / grid.pixel_deg**2
    frame.setflags(write=False)
    return frame


def _image_frame(image: Image, grid: RetinaGrid) -> np.ndarray:
    try:
        info = os.stat(image.path)
    except OSError as exc:
        raise ParameterError("path", image.path, f"expected a readable image file ({exc})") from exc
    stamp = (info.st_mtime_ns, info.st_size)
    frame = _picture_on_grid(image.path, stamp, image.size_deg, image.x_deg, image.y_deg, grid)
    return image.contrast * frame


def _sparse_noise_frames(noise: SparseNoise, grid: RetinaGrid, t: np.ndarray) -> np.ndarray:
    side = noise.square_deg
    g = noise.grid_size
    xe, ye = grid._edges()
    col_edges = noise.x_deg + side * (np.arange(g + 1) - 0.5 * g)
    row_edges = noise.y_deg - side * (np.arange(g + 1) - 0.5 * g)
    # Squares and pixels are both axis-aligned: exact coverage is Oy · pattern · Oxᵀ.
    over_x = _overlap(xe[:-1], xe[1:], col_edges[:-1], col_edges[1:]) / grid.pixel_deg
    over_y = _overlap(ye[1:], ye[:-1], row_edges[1:], row_edges[:-1]) / grid.pixel_deg
    shown = noise.pattern()[noise.noise_frame_index(t)].astype(np.float64)
    return noise.contrast * (over_y @ shown @ over_x.T)


_STATIC_RENDERERS: dict[type[Stimulus], Callable[[Any, RetinaGrid], np.ndarray]] = {
    Spot: _spot_frame,
    Annulus: _annulus_frame,
    FullField: _full_field_frame,
    Blank: _blank_frame,
    Image: _image_frame,
}


_MOVING_RENDERERS: dict[type[Stimulus], Callable[[Any, RetinaGrid, np.ndarray], np.ndarray]] = {
    Bar: _bar_frames,
    Grating: _grating_frames,
    SparseNoise: _sparse_noise_frames,
}


def _static_frame(stimulus: Stimulus, grid: RetinaGrid) -> np.ndarray | None:
    """The one frame of a stimulus that does not change while it is on; None otherwise."""
    renderer = _STATIC_RENDERERS.get(type(stimulus))
    if renderer is not None:
        return renderer(stimulus, grid)
    if isinstance(stimulus, Bar) and stimulus.speed_deg_s == 0:
        return _bar_frames(stimulus, grid, np.zeros(1))[0]
    if isinstance(stimulus, Grating) and stimulus.temporal_frequency_hz == 0:
        return _grating_frames(stimulus, grid, np.zeros(1))[0]
    return None


def _check_stimulus(stimulus: Any) -> Stimulus:
    if type(stimulus) not in STIMULUS_KINDS.values():
        names = ", ".join(cls.__name__ for cls in STIMULUS_KINDS.values())
        raise ParameterError(
            "stimulus", stimulus, f"expected one of {names}, got {type(stimulus).__name__}"
        )
    return stimulus


def _check_grid(grid: Any) -> RetinaGrid:
    if not isinstance(grid, RetinaGrid):
        raise ParameterError("grid", grid, f"expected a RetinaGrid, got {type(grid).__name__}")
    return grid


def _check_times(t_s: Any) -> np.ndarray:
    try:
        t = np.asarray(t_s, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError("t_s", t_s, "expected a 1-D array of times (s)") from exc
    t = np.atleast_1d(t)
    if t.ndim != 1:
        raise ParameterError("t_s", t_s, f"expected a 1-D array of times (s), got {t.ndim}-D")
    if not np.all(np.isfinite(t)):
        raise ParameterError("t_s", t_s, "expected finite times (s)")
    return t


# --------------------------------------------------------------------------------------
# Public rendering API
# --------------------------------------------------------------------------------------


def render_frames(stimulus: Stimulus, grid: RetinaGrid, t_s: Any) -> np.ndarray:
    """Render a stimulus at arbitrary times.

    Parameters
    ----------
    stimulus : Stimulus
        What to draw.
    grid : RetinaGrid
        Where to draw it.
    t_s : array_like, shape (T,)
        Times from stimulus onset (s). Frames outside ``[0, duration_s)`` are grey (0).

    Returns
    -------
    ndarray, shape (T, n, n), float32
        Signed contrast; row 0 is the top of the field. The whole array is allocated, so
        pass long movies in chunks (see :func:`iter_frames`).

    Examples
    --------
    >>> grid = RetinaGrid(extent_deg=4.0, pixels_per_deg=4.0)
    >>> bar = Bar(orientation_deg=90, width_deg=0.5, length_deg=2.0, speed_deg_s=2.0)
    >>> frames = render_frames(bar, grid, [0.0, 0.5, 1.0])
    >>> frames.shape, frames.dtype
    ((3, 16, 16), dtype('float32'))
    >>> frames.sum(axis=(1, 2)).tolist()  # contrast × area × pixels per deg²; off at t = 1
    [16.0, 16.0, 0.0]
    """
    stimulus = _check_stimulus(stimulus)
    grid = _check_grid(grid)
    t = _check_times(t_s)
    n = grid.n_pixels
    out = np.zeros((t.size, n, n), dtype=np.float32)
    on = np.flatnonzero((t >= 0.0) & (t < stimulus.duration_s))
    if on.size == 0:
        return out
    frame = _static_frame(stimulus, grid)
    if frame is not None:
        out[on] = frame
        return out
    render = _MOVING_RENDERERS[type(stimulus)]
    batch = max(1, _BATCH_ELEMENTS // (n + 1) ** 2)
    for start in range(0, on.size, batch):
        chosen = on[start : start + batch]
        out[chosen] = render(stimulus, grid, t[chosen])
    return out


def _n_frames(stimulus: Stimulus, frame_rate_hz: float) -> int:
    return round(stimulus.duration_s * frame_rate_hz)


def frame_times(stimulus: Stimulus, frame_rate_hz: float) -> np.ndarray:
    """Frame times ``i / frame_rate_hz`` for ``i < round(duration_s · frame_rate_hz)``.

    Examples
    --------
    >>> frame_times(Blank(duration_s=0.1), 50.0).tolist()
    [0.0, 0.02, 0.04, 0.06, 0.08]
    """
    stimulus = _check_stimulus(stimulus)
    fs = check_number("frame_rate_hz", frame_rate_hz, lo=0, lo_open=True, unit="Hz")
    return np.arange(_n_frames(stimulus, fs)) / fs


def iter_frames(
    stimulus: Stimulus, grid: RetinaGrid, frame_rate_hz: float, *, chunk_frames: int = 256
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(t_s, frames)`` chunks covering :func:`frame_times`, to bound memory.

    Parameters
    ----------
    stimulus : Stimulus
    grid : RetinaGrid
    frame_rate_hz : float
        Frames per second (> 0).
    chunk_frames : int
        Frames per chunk (>= 1); the last chunk may be shorter.

    Yields
    ------
    t_s : ndarray, shape (k,), float64
    frames : ndarray, shape (k, n, n), float32

    Examples
    --------
    >>> grid = RetinaGrid(extent_deg=2.0, pixels_per_deg=4.0)
    >>> chunks = iter_frames(Spot(radius_deg=0.5, duration_s=1.0), grid, 10.0, chunk_frames=4)
    >>> [frames.shape[0] for _, frames in chunks]
    [4, 4, 2]
    """
    stimulus = _check_stimulus(stimulus)
    grid = _check_grid(grid)
    fs = check_number("frame_rate_hz", frame_rate_hz, lo=0, lo_open=True, unit="Hz")
    chunk = check_int("chunk_frames", chunk_frames, lo=1)
    total = _n_frames(stimulus, fs)

    def generate() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, total, chunk):
            # Same expression as frame_times, so chunks concatenate to it bit for bit.
            t = np.arange(start, min(start + chunk, total)) / fs
            yield t, render_frames(stimulus, grid, t)

    return generate()


def save_gif(
    stimulus: Stimulus,
    grid: RetinaGrid,
    path: str | os.PathLike[str],
    *,
    frame_rate_hz: float = 25.0,
    max_frames: int = 200,
) -> Path:
    """Write the stimulus as an animated GIF (grey = 128, contrast -1..+1 → 0..255).

    Frames are taken at ``frame_rate_hz``; when there are more than ``max_frames`` (or
    frames shorter than the 20 ms that GIF viewers honour) every k-th frame is kept and
    shown k times longer, so the GIF still plays in real time. A static stimulus may come
    out as a single frame (pillow merges identical frames). The
    file is written to a temporary name in the same folder and then renamed, so a reader
    never sees a half-written GIF.

    Parameters
    ----------
    stimulus : Stimulus
    grid : RetinaGrid
    path : str or os.PathLike
        Output file; its folder must exist.
    frame_rate_hz : float
        Frame rate (> 0).
    max_frames : int
        Largest number of frames to write (>= 1).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    stimulus = _check_stimulus(stimulus)
    grid = _check_grid(grid)
    fs = check_number("frame_rate_hz", frame_rate_hz, lo=0, lo_open=True, unit="Hz")
    limit = check_int("max_frames", max_frames, lo=1)
    if not isinstance(path, str | os.PathLike):
        raise ParameterError("path", path, f"expected a file path, got {type(path).__name__}")
    target = Path(os.fspath(path))
    if not target.parent.is_dir() or target.is_dir():
        raise ParameterError("path", str(path), "expected a file in an existing folder")
    from PIL import Image as PILImage

    total = max(1, _n_frames(stimulus, fs))
    stride = max(-(-total // limit), math.ceil(_GIF_MIN_FRAME_S * fs - 1e-9))
    times = np.arange(0, total, stride) / fs
    pictures = []
    for start in range(0, times.size, 64):
        frames = render_frames(stimulus, grid, times[start : start + 64])
        grey = np.clip(np.rint(128.0 + 128.0 * frames), 0, 255).astype(np.uint8)
        pictures.extend(PILImage.fromarray(frame) for frame in grey)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        pictures[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=round(1000.0 * stride / fs),
            loop=0,
        )
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target

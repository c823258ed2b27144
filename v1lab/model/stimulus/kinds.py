"""Stimulus parameter classes: frozen, validated dataclasses, one per kind.

Each class only holds and checks parameters (the conventions are those of
:mod:`v1lab.model.stimulus`); :mod:`v1lab.model.stimulus.render` draws them.
:func:`make_stimulus` builds one from a kind name, as a protocol gives it.

Every number has a physical range, wider than any real experiment needs (positions within
±180°, sizes 0.001–360°, speeds up to 1000 °/s, spatial frequencies up to 128 c/deg,
temporal frequencies up to 500 Hz, durations up to a day; the reason for each is beside
its range in ``_RANGES``). A value outside it is refused with a
:class:`~v1lab._validate.ParameterError` naming the field, the value and the range.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_number
from v1lab.model.stimulus._common import read_picture, set_frozen, wrap_angle

__all__ = [
    "STIMULUS_KINDS",
    "Annulus",
    "Bar",
    "Blank",
    "FullField",
    "Grating",
    "Image",
    "SparseNoise",
    "Spot",
    "Stimulus",
    "make_stimulus",
]

_ANGLE_TOLERANCE_DEG = 1e-6


def _is_nan(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isnan(value)


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


# The physical range of every numeric field with a unit, as (lo, hi, unit), both bounds
# allowed: wider than any real experiment needs, and narrow enough that nothing overflows
# or loses its precision while rendering (a speed of 1e308 deg/s did). Contrast, density,
# grid_size and noise_seed have their ranges where they are checked.
_RANGES: dict[str, tuple[float, float, str]] = {
    # No direction is more than 180° from the line of sight (the temporal field reaches ~100°).
    "x_deg": (-180.0, 180.0, "deg"),
    "y_deg": (-180.0, 180.0, "deg"),
    # One turn either way names every angle.
    "orientation_deg": (-360.0, 360.0, "deg"),
    "direction_deg": (-360.0, 360.0, "deg"),
    "phase_deg": (-360.0, 360.0, "deg"),
    # From 3.6 arcsec (finer than any display pixel and than foveal cones, 0.5 arcmin apart)
    # to the full circle (a bar larger than the screen draws an edge, as in v1lab.live).
    "width_deg": (1e-3, 360.0, "deg"),
    "length_deg": (1e-3, 360.0, "deg"),
    "size_deg": (1e-3, 360.0, "deg"),
    "square_deg": (1e-3, 360.0, "deg"),
    # Radii: half those sizes; the hole of an annulus may be 0.
    "radius_deg": (1e-3, 180.0, "deg"),
    "inner_radius_deg": (0.0, 180.0, "deg"),
    "outer_radius_deg": (1e-3, 180.0, "deg"),
    "aperture_radius_deg": (1e-3, 180.0, "deg; inf for no aperture"),
    # Saccades peak near 700 deg/s; nothing faster is seen as motion.
    "speed_deg_s": (0.0, 1000.0, "deg/s"),
    # Above the acuity of humans (~60 c/deg) and cats (~9); one cycle in 1000 deg is uniform.
    "spatial_frequency_cpd": (1e-3, 128.0, "cycles/deg"),
    # Faster than any display refreshes and far above flicker fusion (< 100 Hz).
    "temporal_frequency_hz": (0.0, 500.0, "Hz"),
    # From one frame at the fastest frame rate (10 kHz) to a day, a whole recording session.
    "duration_s": (1e-4, 86400.0, "s"),
    # No display shows a new frame sooner than 1 ms.
    "frame_duration_s": (1e-3, 86400.0, "s"),
}


def _bounded(name: str, value: Any) -> float:
    lo, hi, unit = _RANGES[name]
    return check_number(name, value, lo=lo, hi=hi, unit=unit)


def _set_bounded(stimulus: Stimulus, *names: str) -> None:
    # Checks the named fields against their ranges, in order, and stores them as floats.
    for name in names:
        set_frozen(stimulus, name, _bounded(name, getattr(stimulus, name)))


def _contrast(value: Any) -> float:
    return check_number("contrast", value, lo=-1, hi=1, unit="signed contrast")


def _resolve_angles(
    orientation: Any, direction: Any, *, moving: bool, still: str
) -> tuple[float, float]:
    """Return ``(orientation_deg, direction_deg)`` normalised, from either or both.

    ``still`` describes the stimulus when it does not move, for the error message.
    """
    ori = None if orientation is None else _bounded("orientation_deg", orientation)
    # nan counts as "not given" so that dataclasses.replace() on a still stimulus works.
    given_dir = direction is not None and not _is_nan(direction)
    dirn = _bounded("direction_deg", direction) if given_dir else None
    if not moving:
        if dirn is not None:
            raise ParameterError(
                "direction_deg", direction, f"{still} has no direction; leave direction_deg unset"
            )
        return wrap_angle(0.0 if ori is None else ori, 180.0), math.nan
    if ori is None and dirn is None:
        return 0.0, 90.0
    if dirn is None:
        assert ori is not None
        return wrap_angle(ori, 180.0), wrap_angle(ori + 90.0, 360.0)
    if ori is None:
        return wrap_angle(dirn - 90.0, 180.0), wrap_angle(dirn, 360.0)
    off = (dirn - ori - 90.0) % 180.0
    if min(off, 180.0 - off) > _ANGLE_TOLERANCE_DEG:
        raise ParameterError(
            "direction_deg",
            direction,
            f"expected orientation_deg + 90 or + 270 = {wrap_angle(ori + 90, 360):g} or "
            f"{wrap_angle(ori + 270, 360):g} (orientation_deg = {ori:g}): motion is across the "
            "orientation; give only one of the two angles to have the other derived",
        )
    return wrap_angle(ori, 180.0), wrap_angle(dirn, 360.0)


@dataclass(frozen=True, kw_only=True)
class Bar(Stimulus):
    """A rectangular bar (slit) of light or dark, flashed in place or swept across the field.

    Parameters
    ----------
    contrast : float
        Signed contrast in [-1, 1]: > 0 light bar, < 0 dark bar.
    width_deg, length_deg : float
        Size across and along the bar's long axis (deg, 0.001 to 360).
    orientation_deg : float or None
        Orientation of the long axis (0 = horizontal, counter-clockwise positive; deg,
        -360 to 360).
    direction_deg : float or None
        Direction of motion (0 = rightwards, 90 = upwards; deg, -360 to 360); only for a
        moving bar.
        A moving bar given only one of the two angles gets the other from
        ``direction = orientation + 90``; given both, they must satisfy
        ``direction = orientation ± 90``; given neither, it is horizontal and moves up.
        ``None`` or nan means "not given". A flashed bar has ``direction_deg = nan``.
        After construction both fields hold the resolved values, so to turn a bar with
        ``dataclasses.replace`` give both angles (or set the other one to ``None``).
    speed_deg_s : float
        Speed (deg/s, 0 to 1000). 0 flashes the bar for the whole duration.
    x_deg, y_deg : float
        Centre of the bar at the middle of the presentation (deg, -180 to 180); a moving
        bar's centre is
        ``(x, y) + speed · (t - duration / 2) · (cos dir, sin dir)``, so the sweep is centred
        on (x, y) and covers :attr:`travel_deg`.
    duration_s : float
        Presentation time (s, 0.0001 to 86400).

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
        set_frozen(self, "contrast", _contrast(self.contrast))
        _set_bounded(self, "width_deg", "length_deg", "speed_deg_s")
        ori, dirn = _resolve_angles(
            self.orientation_deg,
            self.direction_deg,
            moving=self.speed_deg_s > 0,
            still="a flashed bar (speed_deg_s = 0)",
        )
        set_frozen(self, "orientation_deg", ori)
        set_frozen(self, "direction_deg", dirn)
        _set_bounded(self, "x_deg", "y_deg", "duration_s")

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
        Radius (deg, 0.001 to 180).
    x_deg, y_deg : float
        Centre (deg, -180 to 180).
    duration_s : float
        Presentation time (s, 0.0001 to 86400).

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
        set_frozen(self, "contrast", _contrast(self.contrast))
        _set_bounded(self, "radius_deg", "x_deg", "y_deg", "duration_s")

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
        Radius of the hole (deg, 0 to 180).
    outer_radius_deg : float
        Outer radius (deg, > inner_radius_deg, 0.001 to 180).
    x_deg, y_deg : float
        Centre (deg, -180 to 180).
    duration_s : float
        Presentation time (s, 0.0001 to 86400).

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
        set_frozen(self, "contrast", _contrast(self.contrast))
        _set_bounded(self, "inner_radius_deg", "outer_radius_deg")
        check_number(
            "outer_radius_deg",
            self.outer_radius_deg,
            lo=self.inner_radius_deg,
            lo_open=True,
            unit="deg, > inner_radius_deg",
        )
        _set_bounded(self, "x_deg", "y_deg", "duration_s")

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
    return _bounded(name, value)


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
        Cycles per degree (0.001 to 128).
    temporal_frequency_hz : float
        Drift or reversal rate (Hz, 0 to 500).
    orientation_deg, direction_deg : float or None
        Resolved as for :class:`Bar`; a counterphase grating has ``direction_deg = nan``.
    motion : {'drift', 'counterphase'}
        How the pattern changes in time.
    phase_deg : float
        Spatial phase φ (deg, -360 to 360), stored in [0, 360).
    aperture_radius_deg : float
        Radius of the circular aperture (deg, 0.001 to 180); ``inf`` (default) for full
        field.
    x_deg, y_deg : float
        Centre of the aperture and phase origin (deg, -180 to 180).
    duration_s : float
        Presentation time (s, 0.0001 to 86400).

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
        set_frozen(self, "contrast", _contrast(self.contrast))
        set_frozen(self, "waveform", check_choice("waveform", self.waveform, ("sine", "square")))
        _set_bounded(self, "spatial_frequency_cpd", "temporal_frequency_hz")
        motion = check_choice("motion", self.motion, ("drift", "counterphase"))
        ori, dirn = _resolve_angles(
            self.orientation_deg,
            self.direction_deg,
            moving=motion == "drift",
            still="a counterphase grating",
        )
        set_frozen(self, "orientation_deg", ori)
        set_frozen(self, "direction_deg", dirn)
        set_frozen(self, "motion", motion)
        set_frozen(
            self,
            "phase_deg",
            wrap_angle(_bounded("phase_deg", self.phase_deg), 360),
        )
        set_frozen(
            self,
            "aperture_radius_deg",
            _radius_or_inf("aperture_radius_deg", self.aperture_radius_deg),
        )
        _set_bounded(self, "x_deg", "y_deg", "duration_s")

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
        set_frozen(self, "contrast", _contrast(self.contrast))
        _set_bounded(self, "duration_s")

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
        _set_bounded(self, "duration_s")

    def trial_params(self) -> dict[str, float]:
        return {}


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
        Image file readable by pillow (PNG, JPEG, TIFF, ...) of at most 4096 × 4096
        pixels. Checked on construction, from its header alone.
    size_deg : float
        Width on the screen (deg, 0.001 to 360); the height keeps the picture's aspect
        ratio.
    x_deg, y_deg : float
        Centre of the picture (deg, -180 to 180).
    contrast : float
        Scale of the picture's own contrast, in [0, 1]; 1 shows it as it is (larger
        values would ask for negative luminance in its darkest parts).
    duration_s : float
        Presentation time (s, 0.0001 to 86400).
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
        # Opening reads only the header: cheap, and catches a missing, foreign or huge file now.
        with read_picture(path) as picture:
            width, height = picture.size
        if width < 1 or height < 1:
            raise ParameterError("path", path, "the image has no pixels")
        set_frozen(self, "path", path)
        _set_bounded(self, "size_deg", "x_deg", "y_deg")
        set_frozen(self, "contrast", check_number("contrast", self.contrast, lo=0, hi=1))
        _set_bounded(self, "duration_s")

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
        Side of one square (deg, 0.001 to 360; ``grid_size × square_deg`` at most 360).
    density : float
        Probability that a square is on in a noise frame, in (0, 1].
    frame_duration_s : float
        How long each noise frame is shown (s, 0.001 to 86400).
    noise_seed : int
        Seed of the noise sequence (>= 0).
    x_deg, y_deg : float
        Centre of the grid (deg, -180 to 180).
    duration_s : float
        Presentation time (s, 0.0001 to 86400).

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
        set_frozen(
            self, "contrast", check_number("contrast", self.contrast, lo=0, lo_open=True, hi=1)
        )
        set_frozen(self, "grid_size", _whole("grid_size", self.grid_size, 1, 128))
        _set_bounded(self, "square_deg")
        set_frozen(self, "density", check_number("density", self.density, lo=0, lo_open=True, hi=1))
        _set_bounded(self, "frame_duration_s")
        set_frozen(self, "noise_seed", _whole("noise_seed", self.noise_seed, 0, 2**63 - 1))
        _set_bounded(self, "x_deg", "y_deg", "duration_s")
        side = self.grid_size * self.square_deg
        if side > _RANGES["square_deg"][1]:
            raise ParameterError(
                "square_deg",
                self.square_deg,
                f"expected grid_size × square_deg <= {_RANGES['square_deg'][1]:g} deg, the "
                f"full circle (grid_size = {self.grid_size} gives {side:g})",
            )
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

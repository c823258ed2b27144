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

The area-sampling renderers are explained in :mod:`v1lab.model.stimulus.coverage`.
The frames go on to :mod:`v1lab.model.retina`, which filters them into LGN rates.

Modules
-------
- :mod:`~v1lab.model.stimulus.grid`: :class:`RetinaGrid`, the pixels frames are drawn on.
- :mod:`~v1lab.model.stimulus.kinds`: the stimulus parameter classes, :data:`STIMULUS_KINDS`
  and :func:`make_stimulus`.
- :mod:`~v1lab.model.stimulus.coverage`: exact pixel coverage of polygons, discs and
  square waves (pure numpy functions).
- :mod:`~v1lab.model.stimulus.render`: one renderer per kind and :func:`render_frames`.
- :mod:`~v1lab.model.stimulus.frames`: frame clocks, :func:`frame_times` and :func:`iter_frames`.
- :mod:`~v1lab.model.stimulus.gif`: :func:`save_gif`.

References
----------
Enroth-Cugell C, Robson JG (1966) The contrast sensitivity of retinal ganglion cells of
the cat. J Physiol 187:517-552.
Hubel DH, Wiesel TN (1959) Receptive fields of single neurones in the cat's striate cortex.
J Physiol 148:574-591.
Hubel DH, Wiesel TN (1962) Receptive fields, binocular interaction and functional
architecture in the cat's visual cortex. J Physiol 160:106-154.
Jones JP, Palmer LA (1987) The two-dimensional spatial structure of simple receptive
fields in cat striate cortex. J Neurophysiol 58:1187-1211.
"""

from v1lab.model.stimulus.frames import frame_times, iter_frames
from v1lab.model.stimulus.gif import save_gif
from v1lab.model.stimulus.grid import RetinaGrid
from v1lab.model.stimulus.kinds import (
    STIMULUS_KINDS,
    Annulus,
    Bar,
    Blank,
    FullField,
    Grating,
    Image,
    SparseNoise,
    Spot,
    Stimulus,
    make_stimulus,
)
from v1lab.model.stimulus.render import render_frames

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

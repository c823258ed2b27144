"""Natural images: the photographs inside scikit-image's wheel, or a folder of the user's.

Olshausen & Field (1996) learned their fields from ten photographs of natural scenes;
van Hateren & van der Schaaf (1998) from a calibrated set of thousands. Here the default
set is the photographs that ship inside scikit-image (``skimage.data``; no download):
scenes, a cat, a face, textures of grass, gravel and brick. They are smaller and fewer,
but their spectra fall as ~1/f like any natural scene's (Field 1987), which is what the
learning needs. Every image becomes grey levels in [0, 1] (ITU-R 601 luma, scikit-image's
``rgb2gray``), float64.

References
----------
Field DJ (1987) Relations between the statistics of natural images and the response
properties of cortical cells. J Opt Soc Am A 4:2379-2394.
Olshausen BA, Field DJ (1996) Emergence of simple-cell receptive field properties by
learning a sparse code for natural images. Nature 381:607-609.
van Hateren JH, van der Schaaf A (1998) Independent component filters of natural images
compared with simple cells in primary visual cortex. Proc R Soc Lond B 265:359-366.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from v1lab._validate import ParameterError, check_choice

__all__ = [
    "DEFAULT_IMAGES",
    "IMAGE_SUFFIXES",
    "list_image_files",
    "load_image_folder",
    "load_natural_images",
]

#: The photographs of ``skimage.data`` used by default (natural scenes and textures;
#: not the synthetic, microscopy or text images).
DEFAULT_IMAGES: tuple[str, ...] = (
    "camera", "astronaut", "chelsea", "coffee", "grass", "gravel", "brick", "rocket", "moon",
)  # fmt: skip

#: File endings read from an image folder.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")

#: The smallest side an image may have (pixels): room for patches after whitening's
#: edge is cut away.
MIN_SIDE_PX = 64


def _to_grey(image: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray, rgba2rgb
    from skimage.util import img_as_float

    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 4:
        img = rgba2rgb(img)
    if img.ndim == 3:
        img = rgb2gray(img)
    return np.asarray(img_as_float(img), dtype=np.float64)


def load_natural_images(names: Sequence[str] = DEFAULT_IMAGES) -> list[np.ndarray]:
    """The named photographs of ``skimage.data`` as grey images in [0, 1].

    Examples
    --------
    >>> [im.shape for im in load_natural_images(("camera", "chelsea"))]
    [(512, 512), (300, 451)]
    """
    from skimage import data

    out = []
    for name in names:
        check_choice("images", name, DEFAULT_IMAGES)
        out.append(_to_grey(getattr(data, name)()))
    return out


def list_image_files(folder: str | Path) -> list[Path]:
    """The image files of ``folder`` (by ending, :data:`IMAGE_SUFFIXES`), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def load_image_folder(folder: str | Path) -> list[np.ndarray]:
    """Every image file in ``folder`` (not its sub-folders), grey in [0, 1], by name.

    Raises
    ------
    ParameterError
        ``--images`` is not a folder, holds no image file, or one of them cannot be
        read or is smaller than :data:`MIN_SIDE_PX` on a side (the message names it).
    """
    from skimage.io import imread

    path = Path(folder)
    if not path.is_dir():
        why = "does not exist" if not path.exists() else "is not a folder"
        raise ParameterError("--images", path.name, f"expected a folder of images; {path} {why}")
    files = list_image_files(path)
    if not files:
        listed = " ".join(IMAGE_SUFFIXES)
        raise ParameterError(
            "--images", path.name, f"expected image files ({listed}); {path} holds none"
        )
    images = []
    for file in files:
        try:
            img = _to_grey(imread(file))
        except Exception as exc:  # any decoder's error: one line naming the file
            cause = " ".join(str(exc).split())[:80] or type(exc).__name__
            raise ParameterError(
                "--images", file.name, f"expected a readable image; {file}: {cause}"
            ) from None
        if img.ndim != 2 or min(img.shape) < MIN_SIDE_PX:
            raise ParameterError(
                "--images", file.name, f"expected an image at least {MIN_SIDE_PX} px a side: {file}"
            )
        images.append(img)
    return images

"""Square patches drawn at random from whitened images, as sparse coding's data.

A patch stands for what one small piece of retina sees: Olshausen & Field (1996) drew
12 × 12 (later 16 × 16) pixel patches at random positions of their whitened images.
Positions are drawn uniformly over all the places a patch fits, over all images, so a
large image gives more patches than a small one. Everything goes through the
``numpy.random.Generator`` passed in (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from v1lab._validate import ParameterError, check_int

__all__ = ["sample_patches"]


def sample_patches(
    images: Sequence[np.ndarray], n_patches: int, size_px: int, rng: np.random.Generator
) -> np.ndarray:
    """``n_patches`` patches of ``size_px × size_px`` pixels, one per row, float32.

    Returns
    -------
    ndarray (n_patches, size_px²)
        Row-major pixels of each patch (row 0 at the top of the image).

    Examples
    --------
    >>> img = np.arange(100.0).reshape(10, 10)
    >>> p = sample_patches([img], 2, 3, np.random.default_rng(0))
    >>> p.shape, bool(np.all(np.diff(p.reshape(2, 3, 3), axis=2) == 1))
    ((2, 9), True)
    """
    n = check_int("n_patches", n_patches, lo=1)
    s = check_int("patch_px", size_px, lo=2)
    fits = np.array([(im.shape[0] - s + 1) * (im.shape[1] - s + 1) for im in images])
    if len(images) == 0 or np.any(fits <= 0):
        small = min((min(im.shape) for im in images), default=0)
        raise ParameterError("patch_px", s, f"expected a patch that fits every image ({small} px)")
    which = rng.choice(len(images), size=n, p=fits / fits.sum())
    place = rng.random(n)  # one uniform per patch picks its position within its image
    out = np.empty((n, s, s), dtype=np.float32)
    offsets = np.arange(s)
    for k, im in enumerate(images):
        rows = np.flatnonzero(which == k)
        if rows.size == 0:
            continue
        n_x = im.shape[1] - s + 1
        flat = np.minimum((place[rows] * fits[k]).astype(np.int64), fits[k] - 1)
        y, x = np.divmod(flat, n_x)
        out[rows] = im[(y[:, None] + offsets)[:, :, None], (x[:, None] + offsets)[:, None, :]]
    return out.reshape(n, s * s)

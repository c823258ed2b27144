"""Whitening as Olshausen & Field (1997) did it: a flat spectrum with a low-pass roll-off.

Natural images have amplitude spectra falling as ~1/f (Field 1987): their pixels are
strongly correlated and most of their variance sits at low spatial frequency. Sparse
coding learns the structure left once those second-order correlations are removed, so
the images are first filtered with the zero-phase whitening filter of Olshausen & Field
(1997, Vision Res 37:3311, their Fig. 3)::

    R(f) = f · exp(−(f / f0)^4)

``f`` in cycles per pixel: the ramp flattens a 1/f amplitude spectrum, and the roll-off at
``f0`` (0.4 cycles/pixel: their 200 cycles/picture on 512-pixel images) removes the
corners of the spectrum, where the pixel lattice, noise and aliasing live. Atick &
Redlich (1992) gave the same form as the retina's optimal filter. Each image is then
scaled to unit variance so that every image weighs the same in the patches.

The filter is applied with the FFT of a mirror-padded image, so the image's edges do not
leak a cross of false high frequencies into the spectrum; a border of
:data:`EDGE_PX` pixels is cut away afterwards.

References
----------
Atick JJ, Redlich AN (1992) What does the retina know about natural scenes? Neural
Comput 4:196-210.
Field DJ (1987) J Opt Soc Am A 4:2379-2394.
Olshausen BA, Field DJ (1997) Sparse coding with an overcomplete basis set: a strategy
employed by V1? Vision Res 37:3311-3325.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import check_number

__all__ = [
    "EDGE_PX",
    "compute_radial_power_spectrum",
    "compute_whitened",
    "make_whitening_filter",
]

#: Pixels cut from each side of a whitened image (the filter's support is a few pixels).
EDGE_PX = 4


def make_whitening_filter(shape: tuple[int, int], *, cutoff_cpp: float = 0.4) -> np.ndarray:
    """``R(f) = f exp(−(f/f0)^4)`` on the FFT grid of ``shape`` (cycles/pixel).

    Examples
    --------
    >>> r = make_whitening_filter((8, 8))
    >>> float(r[0, 0]), round(float(r[0, 2]), 4)  # no DC; f = 0.25 c/px
    (0.0, 0.2396)
    """
    f0 = check_number("cutoff_cpp", cutoff_cpp, lo=0, hi=0.5 * np.sqrt(2), lo_open=True,
                      unit="cycles/pixel")  # fmt: skip
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    f = np.hypot(fx, fy)
    return f * np.exp(-((f / f0) ** 4))


def compute_whitened(image: Any, *, cutoff_cpp: float = 0.4) -> np.ndarray:
    """The image filtered by :func:`make_whitening_filter`, edges cut, unit variance.

    Parameters
    ----------
    image : array_like (n_y, n_x)
        Grey levels.
    cutoff_cpp : float
        ``f0`` of the roll-off (cycles/pixel).

    Returns
    -------
    ndarray (n_y − 2·EDGE_PX, n_x − 2·EDGE_PX), float64, mean 0 and variance 1.
    """
    img = np.asarray(image, dtype=np.float64)
    ny, nx = img.shape
    padded = np.pad(img - img.mean(), ((ny // 2, ny // 2), (nx // 2, nx // 2)), mode="symmetric")
    spectrum = np.fft.rfft2(padded)
    filt = make_whitening_filter(padded.shape, cutoff_cpp=cutoff_cpp)[:, : spectrum.shape[1]]
    out = np.fft.irfft2(spectrum * filt, s=padded.shape)
    out = out[
        ny // 2 + EDGE_PX : ny // 2 + ny - EDGE_PX, nx // 2 + EDGE_PX : nx // 2 + nx - EDGE_PX
    ]
    out = out - out.mean()
    sd = out.std()
    return out / sd if sd > 0 else out


def compute_radial_power_spectrum(image: Any, *, n_bins: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Power averaged over rings of spatial frequency (a Hann window against edge leak).

    Returns
    -------
    f_cpp : ndarray (n_bins,)
        Ring centres (cycles/pixel), log-spaced from 2/size to 0.5.
    power : ndarray (n_bins,)
        Mean power in each ring (NaN where a ring holds no frequency).
    """
    img = np.asarray(image, dtype=np.float64)
    img = img - img.mean()
    window = np.outer(np.hanning(img.shape[0]), np.hanning(img.shape[1]))
    power = np.abs(np.fft.fft2(img * window)) ** 2
    f = np.hypot(np.fft.fftfreq(img.shape[0])[:, None], np.fft.fftfreq(img.shape[1])[None, :])
    edges = np.geomspace(2.0 / min(img.shape), 0.5, n_bins + 1)
    which = np.digitize(f.ravel(), edges) - 1
    ok = (which >= 0) & (which < n_bins)
    total = np.bincount(which[ok], weights=power.ravel()[ok], minlength=n_bins)
    count = np.bincount(which[ok], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
    return np.sqrt(edges[:-1] * edges[1:]), mean

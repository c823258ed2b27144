"""Independent component analysis of the same patches: the comparison model.

Bell & Sejnowski (1997) and van Hateren & van der Schaaf (1998) found that the
independent components of natural-image patches are localised, oriented and band-pass
too: sparse coding and ICA are the same idea (a factorial code with sparse,
super-Gaussian marginals), one with a complete, noiseless linear model, the other with an
explicit sparseness cost and noise. The comparison uses scikit-learn's ``FastICA``
(Hyvärinen & Oja 2000; log-cosh contrast) on the same whitened patches that sparse
coding learns from; the fields compared are the basis functions (the columns of the
mixing matrix), the counterpart of the dictionary's rows.

References
----------
Bell AJ, Sejnowski TJ (1997) The "independent components" of natural scenes are edge
filters. Vision Res 37:3327-3338.
Hyvärinen A, Oja E (2000) Independent component analysis: algorithms and applications.
Neural Netw 13:411-430.
van Hateren JH, van der Schaaf A (1998) Proc R Soc Lond B 265:359-366.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from v1lab._validate import check_int
from v1lab.learn.sparse_coding import make_unit_rows

__all__ = ["compute_ica_fields"]


def compute_ica_fields(
    patches: Any, n_components: int, *, seed: int = 0, max_iter: int = 400
) -> np.ndarray:
    """ICA basis functions of ``patches`` as unit-norm rows, (n_components, n_pixels).

    Parameters
    ----------
    patches : array_like (n_patches, n_pixels)
    n_components : int
        Components kept (FastICA's PCA whitening drops the rest).
    seed : int
        FastICA's ``random_state``.
    max_iter : int
        FastICA iterations; a run that has not converged by then is used as it is
        (scikit-learn's ``ConvergenceWarning`` is silenced: the fits measure the result).
    """
    from sklearn.decomposition import FastICA
    from sklearn.exceptions import ConvergenceWarning

    x = np.asarray(patches, dtype=np.float64)
    n = check_int("n_components", n_components, lo=1, hi=x.shape[1])
    ica = FastICA(n_components=n, whiten="unit-variance", random_state=seed, max_iter=max_iter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ica.fit(x)
    return make_unit_rows(ica.mixing_.T)

"""Spike generation: turn firing-rate traces into spike trains with the model a protocol names.

:func:`sim_spikes` dispatches on a model name (what a protocol file names,
:data:`SPIKE_MODELS`):

* ``'poisson'`` (the default) — :func:`v1lab.cells.poisson.sim_poisson_dead_time`, an
  inhomogeneous Poisson process with an absolute dead time;
* ``'lif'`` — :func:`v1lab.cells.lif.sim_lif`, a noisy leaky integrate-and-fire neuron;
* ``'hodgkin_huxley'`` — :func:`v1lab.cells.hh_fi.sim_hodgkin_huxley`, a
  Hodgkin–Huxley membrane.

Rates come as ``rates_hz``, an array ``(n_samples, n_cells)`` that is piecewise constant
over samples of width ``1 / fs``: sample ``i`` covers ``[i / fs, (i + 1) / fs)``. One call
draws ``n_trials`` independent trials of the same rates and returns
:class:`~v1lab.cells.trains.SpikeTrains`, a compressed (CSR) store of all trains with
train index ``trial * n_cells + cell``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice
from v1lab.cells.hh_fi import sim_hodgkin_huxley
from v1lab.cells.lif import sim_lif
from v1lab.cells.poisson import sim_poisson_dead_time
from v1lab.cells.trains import SpikeTrains

__all__ = ["SPIKE_MODELS", "sim_spikes"]

#: Model names accepted by :func:`sim_spikes`.
SPIKE_MODELS = ("poisson", "lif", "hodgkin_huxley")

_MODEL_PARAMS = {
    "poisson": ("dead_time_s",),
    "lif": ("tau_m_s", "refractory_s", "noise_sigma", "dt_s"),
    "hodgkin_huxley": ("temperature_c", "noise_ua_cm2", "noise_tau_s", "dt_s"),
}


def sim_spikes(
    rates_hz: np.ndarray,
    fs: float,
    *,
    model: str = "poisson",
    n_trials: int = 1,
    rng: np.random.Generator,
    **params: Any,
) -> SpikeTrains:
    """Simulate spike trains from rates with the named model.

    Parameters
    ----------
    rates_hz : array_like, shape (n_samples, n_cells)
        Requested rates (spikes/s), piecewise constant over samples of width ``1 / fs``.
    fs : float
        Sampling rate of ``rates_hz`` (Hz).
    model : {'poisson', 'lif'}, default 'poisson'
        ``'poisson'``: :func:`sim_poisson_dead_time`; ``'lif'``: :func:`sim_lif`.
    n_trials : int, default 1
        Number of independent trials.
    rng : numpy.random.Generator
        Source of all randomness.
    **params
        Model parameters: ``dead_time_s`` for ``'poisson'``; ``tau_m_s``,
        ``refractory_s``, ``noise_sigma``, ``dt_s`` for ``'lif'``.

    Returns
    -------
    SpikeTrains

    Raises
    ------
    ParameterError
        For an unknown model, a parameter the model does not take, or a bad value.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> st = sim_spikes(np.full((200, 2), 10.0), 1000.0, model="poisson", n_trials=3,
    ...                 rng=rng, dead_time_s=0.001)
    >>> st.n_trials, st.n_cells, st.duration_s
    (3, 2, 0.2)
    """
    model = check_choice("model", model, SPIKE_MODELS)
    allowed = _MODEL_PARAMS[model]
    for key, value in params.items():
        if key not in allowed:
            raise ParameterError(
                key,
                value,
                f"not a parameter of model {model!r}; expected one of " + ", ".join(allowed),
            )
    if model == "poisson":
        return sim_poisson_dead_time(rates_hz, fs, n_trials=n_trials, rng=rng, **params)
    if model == "hodgkin_huxley":
        return sim_hodgkin_huxley(rates_hz, fs, n_trials=n_trials, rng=rng, **params)
    return sim_lif(rates_hz, fs, n_trials=n_trials, rng=rng, **params)

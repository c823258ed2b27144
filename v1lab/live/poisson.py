"""Live spikes, block by block with carried state: the dead-time Poisson process
(:class:`StreamingPoisson`) and the slow gain that multiplies its rate (:class:`SlowGain`)."""

from __future__ import annotations

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number


class StreamingPoisson:
    """Dead-time Poisson spikes generated block by block, with carried state.

    The same process as :func:`v1lab.cells.poisson.sim_poisson_dead_time`: hazard ``λ(t)`` outside
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


#: Correlation time of the live gain (s): Goris, Movshon & Simoncelli (2014) found the
#: gain of V1 cells fluctuating from one presentation to the next (presentations of about
#: a second), not within one; the batch runs draw one gain per presentation.
GAIN_TAU_S = 1.0


class SlowGain:
    """A slowly fluctuating gain per cell, mean 1 and SD ``gain_sd``, block by block.

    The live counterpart of the batch runs' per-presentation gamma gain
    (:func:`v1lab.experiment.make_trial_gains`; Goris, Movshon & Simoncelli 2014): the
    live mode has no presentations, so the gain drifts continuously instead, as
    ``exp(x − s²/2)`` with ``x`` an Ornstein–Uhlenbeck process of SD ``s`` and
    correlation time :data:`GAIN_TAU_S`, sampled exactly at each block. With
    ``s² = ln(1 + gain_sd²)`` the gain is log-normal with mean 1 and SD ``gain_sd``
    (close to the batch's gamma at the SDs used, ≤ 0.5). ``gain_sd = 0`` gives 1 always
    and draws nothing.

    Examples
    --------
    >>> g = SlowGain(3, 0.2, block_s=0.01, rng=np.random.default_rng(0))
    >>> x = np.array([g.advance() for _ in range(20000)])
    >>> round(float(x.mean()), 1), round(float(x.std()), 1)
    (1.0, 0.2)
    """

    def __init__(
        self, n_cells: int, gain_sd: float, *, block_s: float, rng: np.random.Generator
    ) -> None:
        self.n_cells = check_int("n_cells", n_cells, lo=1)
        gain_sd = check_number("gain_sd", gain_sd, lo=0, hi=2)
        block_s = check_number("block_s", block_s, lo=0, lo_open=True, unit="s")
        self._s = float(np.sqrt(np.log1p(gain_sd**2)))
        self._a = float(np.exp(-block_s / GAIN_TAU_S))
        self._rng = rng
        self._x = self._s * rng.standard_normal(n_cells) if self._s > 0 else np.zeros(n_cells)

    def advance(self) -> np.ndarray:
        """The gain of each cell for the next block, shape (n_cells,)."""
        if self._s == 0:
            return np.ones(self.n_cells)
        noise = self._rng.standard_normal(self.n_cells)
        self._x = self._a * self._x + self._s * np.sqrt(1.0 - self._a**2) * noise
        return np.exp(self._x - 0.5 * self._s**2)

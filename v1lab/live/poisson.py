"""Dead-time Poisson spikes drawn block by block, with carried state (:class:`StreamingPoisson`)."""

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

"""What the live window measures, fed one block at a time: raster, rate, tuning, marks.

:class:`LiveAnalysis` keeps the scrolling raster and the rate meter of the recent past,
fills in the live orientation tuning curve (:class:`TuningAccumulator`) with the spikes
fired while the stimulus was on the RF, and signs a hand-made mark
(:meth:`LiveAnalysis.make_mark`) by what the cell fired for: light, dark or nothing.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from v1lab._validate import check_int
from v1lab.live.engine import BLOCK_S, BlockResult
from v1lab.live.state import LiveState, Mark

# The non-lagged LGN kernel (order 5, tau = 8 ms) peaks 5 tau = 40 ms after a change, so the
# spikes of a block answer the stimulus of about 40 ms before.
_RESPONSE_LAG_S = 0.04

_MARK_WINDOW_S = 0.5  # a mark judges the cell's firing over the last half second


class TuningAccumulator:
    """Spike rate per orientation bin while the stimulus was on the RF.

    Examples
    --------
    >>> acc = TuningAccumulator(n_bins=12)
    >>> acc.add(91.0, 3, 0.1); acc.add(0.0, 0, 0.1)
    >>> acc.rates_hz()[[0, 6]].tolist()
    [0.0, 30.0]
    """

    def __init__(self, n_bins: int = 12) -> None:
        self.n_bins = check_int("n_bins", n_bins, lo=2, hi=180)
        self.spikes = np.zeros(self.n_bins)
        self.seconds = np.zeros(self.n_bins)

    @property
    def bin_width_deg(self) -> float:
        return 180.0 / self.n_bins

    @property
    def centres_deg(self) -> np.ndarray:
        """Orientation at the centre of each bin (deg), starting at 0."""
        return np.arange(self.n_bins) * self.bin_width_deg

    def bin_of(self, orientation_deg: float) -> int:
        return round((orientation_deg % 180.0) / self.bin_width_deg) % self.n_bins

    def add(self, orientation_deg: float, n_spikes: float, seconds: float) -> None:
        b = self.bin_of(orientation_deg)
        self.spikes[b] += n_spikes
        self.seconds[b] += seconds

    def rates_hz(self) -> np.ndarray:
        """Rate per bin (spikes/s); NaN for bins never tried."""
        out = np.full(self.n_bins, np.nan)
        tried = self.seconds > 0
        out[tried] = self.spikes[tried] / self.seconds[tried]
        return out

    def reset(self) -> None:
        self.spikes[:] = 0.0
        self.seconds[:] = 0.0


class LiveAnalysis:
    """The window's measurements, fed one :class:`BlockResult` at a time.

    Spikes of a block are attributed to the stimulus of ``lag_s`` earlier (the LGN's
    response latency), both for the tuning curve and for the marks.

    Parameters
    ----------
    n_cells : int
        Cells in the live population (0 is the electrode's cell).
    block_s : float
    lag_s : float
    raster_s : float
        Length of the scrolling raster (s).
    rate_window_s : float
        Window of the rate meter (s).
    mark_window_s : float
        Firing judged by a mark (s before the key press).
    spontaneous_prior_hz : float
        Prior guess of the spontaneous rate, worth one second of observation, until
        blank-screen time measures it.
    """

    def __init__(
        self,
        n_cells: int,
        *,
        block_s: float = BLOCK_S,
        lag_s: float = _RESPONSE_LAG_S,
        raster_s: float = 3.0,
        rate_window_s: float = 0.25,
        mark_window_s: float = _MARK_WINDOW_S,
        spontaneous_prior_hz: float = 2.0,
    ) -> None:
        self.n_cells = check_int("n_cells", n_cells, lo=1)
        self.block_s = block_s
        self.lag_blocks = max(0, round(lag_s / block_s))
        self.raster_s = raster_s
        self.tuning = TuningAccumulator()
        self._descriptors: deque[tuple[int, bool, float]] = deque(maxlen=self.lag_blocks + 1)
        self._recent: deque[tuple[int, int]] = deque(maxlen=max(1, round(mark_window_s / block_s)))
        self._counts: deque[int] = deque(maxlen=max(1, round(rate_window_s / block_s)))
        self._raster: deque[tuple[np.ndarray, np.ndarray]] = deque(
            maxlen=max(1, round(raster_s / block_s))
        )
        self._baseline_spikes = spontaneous_prior_hz * 1.0
        self._baseline_s = 1.0
        self.now_s = 0.0
        self.n_blocks = 0
        self.n_spikes = 0

    def add(self, result: BlockResult) -> None:
        """Take in one block."""
        n = int(np.count_nonzero(result.spike_cells == 0))
        self._descriptors.append((result.polarity, result.on_rf, result.orientation_deg))
        if len(self._descriptors) == self._descriptors.maxlen:
            polarity, on_rf, orientation = self._descriptors[0]
            if on_rf and math.isfinite(orientation):
                self.tuning.add(orientation, n, self.block_s)
            self._recent.append((polarity, n))
            if polarity == 0:
                self._baseline_spikes += n
                self._baseline_s += self.block_s
        self._counts.append(n)
        self._raster.append((result.spike_cells, result.spike_times))
        self.now_s = result.t0_s + self.block_s
        self.n_blocks += 1
        self.n_spikes += n

    @property
    def spontaneous_hz(self) -> float:
        """Estimated spontaneous rate of the electrode's cell (spikes/s)."""
        return self._baseline_spikes / self._baseline_s

    def rate_hz(self) -> float:
        """Firing rate of the electrode's cell over the rate meter's window (spikes/s)."""
        if not self._counts:
            return 0.0
        return sum(self._counts) / (len(self._counts) * self.block_s)

    def raster(self) -> tuple[np.ndarray, np.ndarray]:
        """Spikes of the last ``raster_s``: (cells, times relative to now, ≤ 0)."""
        if not self._raster:
            return np.zeros(0, np.int64), np.zeros(0)
        cells = np.concatenate([c for c, _ in self._raster])
        times = np.concatenate([t for _, t in self._raster]) - self.now_s
        return cells, times

    def classify_response(self) -> str:
        """'+' (fired for light), 'x' (for dark or the offset of light) or 'o' (no response).

        The firing in the mark window is split by what the screen showed just before it
        (the stimulus polarity, lagged); a response is an excess over the spontaneous
        rate of more than two Poisson SDs plus two spikes.
        """
        base = self.spontaneous_hz
        best, best_excess = "o", 0.0
        for sign, label in ((1, "+"), (-1, "x")):
            seconds = self.block_s * sum(1 for p, _ in self._recent if p == sign)
            if seconds <= 0:
                continue
            count = sum(n for p, n in self._recent if p == sign)
            expected = base * seconds
            excess = count - expected
            if excess > 2.0 * math.sqrt(expected) + 2.0 and excess / seconds > best_excess:
                best, best_excess = label, excess / seconds
        return best

    def make_mark(self, state: LiveState, t_s: float | None = None) -> Mark:
        """A mark at the stimulus' position, signed by :meth:`classify_response`."""
        return Mark(
            t_s=self.now_s if t_s is None else t_s,
            x_deg=state.x_deg,
            y_deg=state.y_deg,
            sign=self.classify_response(),
            kind=state.kind,
        )

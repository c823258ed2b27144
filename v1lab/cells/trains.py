"""Spike trains: the compressed (CSR) store every spike generator returns.

:class:`SpikeTrains` holds the spikes of ``n_trials × n_cells`` trains, train index
``trial * n_cells + cell``, in one sorted-per-train array of times plus offsets. It is
what :mod:`v1lab.cells.poisson`, :mod:`v1lab.cells.lif` and the Hodgkin–Huxley membrane
(:mod:`v1lab.cells.hh_membrane`) hand on to :mod:`v1lab.experiment`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from v1lab._validate import ParameterError, check_int, check_number

__all__ = ["SpikeTrains"]


@dataclass(frozen=True, eq=False)
class SpikeTrains:
    """Spike trains of ``n_trials × n_cells`` trains in compressed (CSR) layout.

    Parameters
    ----------
    times_s : ndarray of float64
        All spike times (s), train after train; sorted within each train. Times of a
        freshly simulated set lie in ``[0, duration_s)``.
    indptr : ndarray of int64, shape (n_trials * n_cells + 1,)
        Train ``k`` is ``times_s[indptr[k]:indptr[k + 1]]``, where
        ``k = trial * n_cells + cell``.
    n_trials : int
        Number of trials.
    n_cells : int
        Number of cells.
    duration_s : float
        Length of the simulated window (s).

    Notes
    -----
    The arrays are stored as read-only views, so a ``SpikeTrains`` cannot be changed
    after it is made; build a new one instead (see :meth:`shifted`). Two sets compare
    equal when every field, and every spike time, is bitwise equal.

    Examples
    --------
    >>> import numpy as np
    >>> st = SpikeTrains(times_s=np.array([0.1, 0.5, 0.2]), indptr=np.array([0, 2, 3]),
    ...                  n_trials=1, n_cells=2, duration_s=1.0)
    >>> st.train(0, 0)
    array([0.1, 0.5])
    >>> st.counts()
    array([[2, 1]])
    """

    times_s: np.ndarray
    indptr: np.ndarray
    n_trials: int
    n_cells: int
    duration_s: float

    def __post_init__(self) -> None:
        n_trials = check_int("n_trials", self.n_trials, lo=0)
        n_cells = check_int("n_cells", self.n_cells, lo=0)
        duration_s = check_number("duration_s", self.duration_s, lo=0, unit="s")
        times = np.asarray(self.times_s, dtype=np.float64)
        indptr = np.asarray(self.indptr)
        if times.ndim != 1:
            raise ParameterError("times_s", f"array of shape {times.shape}", "expected a 1-D array")
        if indptr.shape != (n_trials * n_cells + 1,) or not np.issubdtype(indptr.dtype, np.integer):
            raise ParameterError(
                "indptr",
                f"{indptr.dtype} array of shape {indptr.shape}",
                f"expected an integer array of shape ({n_trials * n_cells + 1},) "
                "= n_trials * n_cells + 1",
            )
        indptr = indptr.astype(np.int64, copy=False)
        if indptr[0] != 0 or indptr[-1] != times.size or np.any(np.diff(indptr) < 0):
            raise ParameterError(
                "indptr",
                f"array from {indptr[0]} to {indptr[-1]}",
                f"expected non-decreasing offsets from 0 to len(times_s) = {times.size}",
            )
        self._freeze(times, indptr, n_trials, n_cells, duration_s)

    def _freeze(
        self, times: np.ndarray, indptr: np.ndarray, n_trials: int, n_cells: int, duration_s: float
    ) -> None:
        # Read-only *views*: freezes this object without touching the caller's arrays.
        times = times.view()
        times.flags.writeable = False
        indptr = indptr.view()
        indptr.flags.writeable = False
        object.__setattr__(self, "times_s", times)
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "n_trials", n_trials)
        object.__setattr__(self, "n_cells", n_cells)
        object.__setattr__(self, "duration_s", duration_s)

    @classmethod
    def _built(
        cls, times: np.ndarray, indptr: np.ndarray, n_trials: int, n_cells: int, duration_s: float
    ) -> SpikeTrains:
        """A set whose arrays a generator of this package built, without checking them.

        For generators whose output meets the invariants by construction (float64
        times, int64 offsets from 0 to ``times.size``, one per train): the checks of
        ``__init__`` read the offsets twice (~0.5 ms per million spikes at N = 10,000),
        which is 1 % of the compiled Poisson generator's time. Input from users goes
        through ``__init__``.
        """
        out = object.__new__(cls)
        out._freeze(times, indptr, int(n_trials), int(n_cells), float(duration_s))
        return out

    @property
    def n_trains(self) -> int:
        """Number of trains, ``n_trials * n_cells``."""
        return self.n_trials * self.n_cells

    @property
    def n_spikes(self) -> int:
        """Total number of spikes over all trains."""
        return int(self.times_s.size)

    def train(self, trial: int, cell: int) -> np.ndarray:
        """Return the spike times (s) of one cell in one trial (a read-only view).

        Examples
        --------
        >>> import numpy as np
        >>> st = SpikeTrains(np.array([0.25]), np.array([0, 0, 1]), 2, 1, 1.0)
        >>> st.train(1, 0)
        array([0.25])
        """
        trial = check_int("trial", trial, lo=0, hi=self.n_trials - 1)
        cell = check_int("cell", cell, lo=0, hi=self.n_cells - 1)
        k = trial * self.n_cells + cell
        return self.times_s[self.indptr[k] : self.indptr[k + 1]]

    def counts(self) -> np.ndarray:
        """Return spike counts as an int64 array of shape ``(n_trials, n_cells)``.

        Examples
        --------
        >>> import numpy as np
        >>> SpikeTrains(np.array([0.1, 0.2]), np.array([0, 2, 2]), 1, 2, 1.0).counts()
        array([[2, 0]])
        """
        return np.diff(self.indptr).reshape(self.n_trials, self.n_cells)

    def shifted(self, offset_s: float) -> SpikeTrains:
        """Return a copy with every spike time moved by ``offset_s`` seconds.

        Used to place a trial's spikes on a session clock; ``duration_s`` (the window
        length) is unchanged, so shifted times lie in
        ``[offset_s, offset_s + duration_s)``.

        Examples
        --------
        >>> import numpy as np
        >>> st = SpikeTrains(np.array([0.1]), np.array([0, 1]), 1, 1, 1.0)
        >>> st.shifted(10.0).times_s
        array([10.1])
        """
        offset_s = check_number("offset_s", offset_s, unit="s")
        return SpikeTrains(
            self.times_s + offset_s,
            self.indptr.copy(),
            self.n_trials,
            self.n_cells,
            self.duration_s,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpikeTrains):
            return NotImplemented
        return (
            self.n_trials == other.n_trials
            and self.n_cells == other.n_cells
            and self.duration_s == other.duration_s
            and np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.times_s, other.times_s)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking arrays: not hashable

    def __repr__(self) -> str:
        return (
            f"SpikeTrains(n_trials={self.n_trials}, n_cells={self.n_cells}, "
            f"duration_s={self.duration_s:g}, n_spikes={self.n_spikes})"
        )

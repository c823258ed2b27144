"""The LGN's temporal filters for one live block, as one small matrix product.

:meth:`v1lab.model.retina.RetinaFilter.process_spatial` runs the retina's two temporal
filters (non-lagged and lagged, :func:`~v1lab.model.retina.make_temporal_iir`) with
:func:`scipy.signal.lfilter`, which walks the 961 LGN positions one by one: for a 10-ms
block (2 frames) that is a few hundred microseconds, a fifth of the block's budget.
:class:`BlockLGN` computes the same thing for blocks of a fixed length in one product:
a linear filter maps (the block's inputs, its state) to (the block's outputs, its next
state) by a constant matrix, built once by running ``lfilter`` on unit inputs and unit
states. The outputs are then rectified as ``process_spatial`` rectifies them, into
buffers that are reused from block to block. The result equals ``process_spatial`` to
float rounding (tests/live/test_live_engine.py checks it).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from v1lab._validate import check_int
from v1lab.model.retina import Retina, make_temporal_iir

# Decaying filter states are set to zero below this (float64 subnormals are slow); the
# signals are of order 1e-3 to 1, so this changes no output by a representable amount.
_STATE_FLOOR = 1e-150
# How often (in blocks) the states are swept for tiny values: a state decays from the
# floor to the subnormal range in hundreds of time constants, seconds of session.
_FLUSH_EVERY = 50
# As RetinaFilter.process_spatial: outputs this small become exactly 0 (no float32
# subnormals).
_OUTPUT_FLOOR = 1e-20


class BlockLGN:
    """The LGN stage of the live engine: DoG responses in, LGN channels out, block by block.

    Parameters
    ----------
    retina : Retina
    n_frames : int
        Frames per block (every call to :meth:`process` gets this many).
    n_positions : int
        LGN positions (columns of the DoG responses).

    Examples
    --------
    >>> from v1lab.model.retina import RetinaFilter
    >>> retina = Retina(extent_deg=4, lgn_extent_deg=1)
    >>> ref = RetinaFilter(retina)
    >>> fast = BlockLGN(retina, 2, ref.n_positions)
    >>> x = np.random.default_rng(0).normal(0, 0.1, (6, ref.n_positions)).astype(np.float32)
    >>> all(np.allclose(fast.process(x[i:i + 2]), ref.process_spatial(x[i:i + 2]), atol=1e-6)
    ...     for i in (0, 2, 4))
    True
    """

    def __init__(self, retina: Retina, n_frames: int, n_positions: int) -> None:
        f = check_int("n_frames", n_frames, lo=1)
        n = check_int("n_positions", n_positions, lo=1)
        # The same filters as RetinaFilter: non-lagged first, then lagged.
        iirs = [
            make_temporal_iir(retina.frame_rate_hz, retina.tau_s, retina.beta),
            make_temporal_iir(retina.frame_rate_hz, retina.lagged_tau_s, retina.lagged_beta),
        ]
        orders = [len(a) - 1 for _, a in iirs]
        n_state = sum(orders)
        state_at = np.cumsum([0, *orders])
        # Columns: the block's f inputs, then every filter's state; rows: each filter's f
        # outputs, then every filter's next state. Column j is the answer to unit input j.
        matrix = np.zeros((len(iirs) * f + n_state, f + n_state))
        for j in range(f + n_state):
            x = np.zeros(f)
            if j < f:
                x[j] = 1.0
            for k, (b, a) in enumerate(iirs):
                zi = np.zeros(orders[k])
                s = j - f - state_at[k]
                if 0 <= s < orders[k]:
                    zi[s] = 1.0
                y, zf = lfilter(b, a, x, zi=zi)
                matrix[k * f : (k + 1) * f, j] = y
                matrix[len(iirs) * f + state_at[k] : len(iirs) * f + state_at[k + 1], j] = zf
        self.n_frames = f
        self.n_positions = n
        self._n_filters = len(iirs)
        self._matrix = matrix
        self._minus_baseline = -np.float32(retina.baseline)
        # Reused buffers: [inputs; states] in, [outputs; next states] out.
        self._stacked = np.zeros((f + n_state, n))
        self._result = np.zeros((len(iirs) * f + n_state, n))
        self._input32 = np.zeros((f, n), dtype=np.float32)
        self._y32 = np.zeros((len(iirs) * f, n), dtype=np.float32)
        self._tiny = np.zeros((len(iirs) * f, n), dtype=bool)
        self._scratch = np.zeros((len(iirs) * f, n))
        self._state_tiny = np.zeros((n_state, n), dtype=bool)
        self._state_scratch = np.zeros((n_state, n))
        self._lgn = np.zeros((f, 2 * len(iirs) * n), dtype=np.float32)
        self._blocks = 0

    def reset(self) -> None:
        """Return to rest (a long-viewed grey screen)."""
        self._stacked[self.n_frames :] = 0.0

    def process(self, spatial: np.ndarray) -> np.ndarray:
        """LGN channels (n_frames, 4 n_positions) float32 from one block's DoG responses.

        As :meth:`~v1lab.model.retina.RetinaFilter.process_spatial` (the input is rounded
        to float32 first, as that method receives it). The returned array is a buffer
        that the next call overwrites.
        """
        f, n = self.n_frames, self.n_positions
        np.copyto(self._input32, spatial, casting="same_kind")
        stacked, result = self._stacked, self._result
        stacked[:f] = self._input32
        np.matmul(self._matrix, stacked, out=result)
        n_out = self._n_filters * f
        stacked[f:] = result[n_out:]
        self._blocks += 1
        if self._blocks % _FLUSH_EVERY == 0:
            state = stacked[f:]
            np.abs(state, out=self._state_scratch)
            np.less(self._state_scratch, _STATE_FLOOR, out=self._state_tiny)
            np.copyto(state, 0.0, where=self._state_tiny)
        y = result[:n_out]
        np.abs(y, out=self._scratch)
        np.less(self._scratch, _OUTPUT_FLOOR, out=self._tiny)
        np.copyto(y, 0.0, where=self._tiny)
        np.copyto(self._y32, y, casting="same_kind")
        lgn, floor = self._lgn, self._minus_baseline
        for k in range(self._n_filters):
            yk = self._y32[k * f : (k + 1) * f]
            # Rectified around the maintained discharge, minus that discharge: ON, OFF.
            np.maximum(yk, floor, out=lgn[:, 2 * k * n : (2 * k + 1) * n])
            off = lgn[:, (2 * k + 1) * n : (2 * k + 2) * n]
            np.negative(yk, out=off)
            np.maximum(off, floor, out=off)
        return lgn

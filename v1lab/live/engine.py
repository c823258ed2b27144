"""The live simulation: :class:`LiveEngine` advances the model by one 10-ms block.

:meth:`LiveEngine.step` takes the stimulus now on the screen and returns a
:class:`BlockResult` (spikes, rates, the block's sound, what the stimulus was a response
to); it logs every frame's stimulus, the spikes and the sound to files, which
:func:`v1lab.live.session.load_session_log` reads back (:class:`SessionSnapshot` says how
much of them is complete). :class:`LiveConfig` says which cells it simulates.

One block
---------
The stimulus is rendered at the retina's frame times inside the block (200 Hz → 2 frames)
by the exact area-sampled renderer of :mod:`v1lab.model.stimulus`, run only on the pixels
the slit covers. When the hand has moved the stimulus since the last block (and changed
nothing else), only the block's last frame is rendered, at the new position; the frames
before it cross-fade from the previous block's last frame to it, so motion stays smooth at
one render per block (the trajectory logs the interpolated position). Any other change
shows from the block's first frame; a drifting grating is rendered at each frame's own
clock. The retina's difference-of-Gaussians stage is computed as two small matrix products
per Gaussian — the Gaussians are separable and the LGN mosaic is a square lattice — which
equals the dense ``frames @ spatial`` product of :class:`~v1lab.model.retina.RetinaFilter`
to float rounding at a fraction of the cost; its temporal filters
(:meth:`~v1lab.model.retina.RetinaFilter.process_spatial`, state carried) run as one matrix
product per block (:class:`~v1lab.live.lgn.BlockLGN`, equal to float rounding). These and
V1 (:class:`~v1lab.model.cortex.V1Layer`) are the stages every batch run uses, so a live
cell is the same cell as in ``v1lab --protocol``. Spikes come from
:class:`~v1lab.live.poisson.StreamingPoisson`, the dead-time Poisson process of
:func:`v1lab.cells.poisson.sim_poisson_dead_time` generated block by block with carried
state, and :class:`~v1lab.audio.SpikeAudioRenderer` turns them into the next 10 ms of sound.
Per-block arrays are buffers reused from block to block.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from v1lab._validate import ParameterError
from v1lab.audio import SpikeAudioRenderer
from v1lab.live.lgn import BlockLGN
from v1lab.live.poisson import SlowGain, StreamingPoisson
from v1lab.live.render import SeparableDoG, make_live_stimulus
from v1lab.live.state import LIVE_KINDS, StimulusParams
from v1lab.model.cortex import V1Layer
from v1lab.model.population import Population
from v1lab.model.retina import Retina, make_lgn_positions
from v1lab.model.stimulus import render_frames

#: Length of one simulation block (s): the unit of the real-time loop.
BLOCK_S = 0.01

# Firing within this long after a light stimulus went off is an OFF response (H&W's ×).
_OFFSET_WINDOW_S = 0.3

#: Columns of the session log's trajectory: one row per retina frame.
TRAJECTORY_COLUMNS = (
    "t_s",
    "kind_code",
    "on",
    "x_deg",
    "y_deg",
    "orientation_deg",
    "length_deg",
    "width_deg",
    "contrast",
    "spatial_frequency_cpd",
    "temporal_frequency_hz",
    "grating_time_s",
)
# Everything a stimulus is but its position: a block whose stimulus differs from the
# previous block's in position only is a glide.
_SHAPE_FIELDS = tuple(
    f.name for f in dataclasses.fields(StimulusParams) if f.name not in ("x_deg", "y_deg")
)


def _stimulus_on_rf(params: StimulusParams, x_rf: float, y_rf: float, r_rf: float) -> bool:
    """Whether the stimulus covers (comes within ``r_rf`` of) the RF centre."""
    if not params.on:
        return False
    dx, dy = x_rf - params.x_deg, y_rf - params.y_deg
    rad = math.radians(params.orientation_deg)
    along = dx * math.cos(rad) + dy * math.sin(rad)
    across = -dx * math.sin(rad) + dy * math.cos(rad)
    if params.kind == "bar":
        return abs(across) <= 0.5 * params.width_deg + r_rf and abs(along) <= (
            0.5 * params.length_deg + r_rf
        )
    if params.kind == "edge":
        return abs(across) <= r_rf
    radius = 0.5 * (params.width_deg if params.kind == "spot" else params.length_deg)
    return math.hypot(dx, dy) <= radius + r_rf


@dataclass(frozen=True)
class LiveConfig:
    """What the engine simulates.

    Attributes
    ----------
    retina : Retina
    population : Population
        Row 0 is the cell under the electrode; the others are its neighbours.
    amplitudes : tuple of float
        Loudness of each cell's spikes (1 = at the electrode tip).
    seed : int
        Seed of the spikes and the sound's hiss.
    dead_time_s : float
        Dead time of the Poisson spike generator (s).
    gain_sd : float
        SD of the slow gain multiplying every cell's rate (:class:`~v1lab.live.poisson.SlowGain`;
        the protocol's ``spiking.gain_sd``; 0: none).
    fs_hz : int
        Audio sampling rate.
    protocol_cells : tuple of int
        Index of each cell in the protocol's population (empty for a mystery cell).
    """

    retina: Retina
    population: Population
    amplitudes: tuple[float, ...]
    seed: int = 0
    dead_time_s: float = 0.002
    gain_sd: float = 0.0
    fs_hz: int = 44100
    protocol_cells: tuple[int, ...] = ()


@dataclass(frozen=True)
class BlockResult:
    """What one block produced, for the window and :class:`~v1lab.live.analysis.LiveAnalysis`.

    Attributes
    ----------
    index : int
    t0_s : float
        Start of the block on the session clock.
    spike_cells, spike_times : ndarray
        Spikes of the block (cell index into the live population, time in s).
    rates_hz : ndarray
        Model rate of each cell, averaged over the block.
    kind : str
    x_deg, y_deg, orientation_deg : float
        The stimulus at the end of the block; orientation in [0, 180) (NaN for a spot).
    polarity : int
        +1 while light is on (or just after dark went off), −1 for dark (or just after
        light went off), 0 otherwise: what a response now would be a response to.
    on_rf : bool
        The stimulus covers the electrode cell's RF centre.
    audio : ndarray or None
        The block's sound (float32); dropped before the result is sent to the window.
    latency_s : float
        Event-to-sound latency measured on this block (NaN if no new event).
    """

    index: int
    t0_s: float
    spike_cells: np.ndarray
    spike_times: np.ndarray
    rates_hz: np.ndarray
    kind: str
    x_deg: float
    y_deg: float
    orientation_deg: float
    polarity: int
    on_rf: bool
    audio: np.ndarray | None = None
    latency_s: float = math.nan


@dataclass(frozen=True)
class SessionSnapshot:
    """Where an engine's session log is, and how much of it is complete.

    Read it with :func:`~v1lab.live.session.load_session_log`; the files stay valid while
    the engine runs.
    """

    log_dir: str
    n_blocks: int
    n_frames: int
    n_spikes: int
    n_audio_samples: int
    audio_offset_samples: int
    frame_rate_hz: float
    fs_hz: int
    extent_deg: float


class LiveEngine:
    """The simulation of the live mode: advance one 10-ms block from the current stimulus.

    :meth:`step` renders the block's frames, runs them through the retina and V1 (state
    carried), draws the spikes (:class:`StreamingPoisson`) and renders the block's sound
    (:class:`~v1lab.audio.SpikeAudioRenderer`). Everything shown is logged to files in
    ``log_dir`` (trajectory per frame, spikes, 16-bit sound) so that memory stays bounded
    and a save never has to copy a long session through a pipe.

    Parameters
    ----------
    config : LiveConfig
    log_dir : path, optional
        Folder for the session log (created; default: a new temporary folder, removed by
        :meth:`close`).

    Examples
    --------
    >>> from v1lab.model.population import population_from_cells
    >>> pop = population_from_cells([{"type": "simple"}])
    >>> engine = LiveEngine(LiveConfig(Retina(extent_deg=6, lgn_extent_deg=3), pop, (1.0,)))
    >>> result = engine.step(StimulusParams(orientation_deg=0.0))
    >>> result.audio.shape, result.t0_s, engine.t_s
    ((441,), 0.0, 0.01)
    >>> engine.close()
    """

    def __init__(self, config: LiveConfig, *, log_dir: str | os.PathLike[str] | None = None):
        self.config = config
        retina = config.retina
        fpb = retina.frame_rate_hz * BLOCK_S
        if abs(fpb - round(fpb)) > 1e-9 or round(fpb) < 1:
            raise ParameterError(
                "retina.frame_rate_hz",
                retina.frame_rate_hz,
                "expected a multiple of 100 Hz for the live mode (whole frames per 10-ms block)",
            )
        self.frames_per_block = round(fpb)
        self.frame_rate_hz = float(retina.frame_rate_hz)
        n_cells = len(config.population)
        self._dog = SeparableDoG(retina)
        self._n_pos = self._dog.side**2
        self.lgn = BlockLGN(retina, self.frames_per_block, self._n_pos)
        positions = make_lgn_positions(retina.lgn_extent_deg, retina.lgn_spacing_deg)
        self.v1 = V1Layer(config.population, retina, positions)
        # The gain's stream is a third child: the first two (spikes, sound) are those of
        # earlier versions, so a session without gain noise is unchanged.
        spikes_seq, audio_seq, gain_seq = np.random.SeedSequence(config.seed).spawn(3)
        self.gain = SlowGain(
            n_cells, config.gain_sd, block_s=BLOCK_S, rng=np.random.default_rng(gain_seq)
        )
        self.poisson = StreamingPoisson(
            n_cells,
            self.frame_rate_hz,
            dead_time_s=config.dead_time_s,
            rng=np.random.default_rng(spikes_seq),
        )
        self.renderer = SpikeAudioRenderer(
            n_cells,
            fs_hz=config.fs_hz,
            amplitudes=np.asarray(config.amplitudes, dtype=float),
            rng=np.random.default_rng(audio_seq),
        )
        self.block_samples = round(BLOCK_S * config.fs_hz)
        pop = config.population
        sf = float(pop.spatial_frequency_cpd[0])
        self._rf = (
            float(pop.x_deg[0]),
            float(pop.y_deg[0]),
            math.sqrt(float(pop.nx[0]) * float(pop.ny[0])) / sf,
        )
        self._owns_log = log_dir is None
        self.log_dir = Path(tempfile.mkdtemp(prefix="v1lab-live-") if log_dir is None else log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._traj_fh = open(self.log_dir / "trajectory.f64", "wb")
        self._spike_fh = open(self.log_dir / "spikes.f64", "wb")
        self._audio_fh = open(self.log_dir / "audio.s16", "wb")
        self.index = 0
        self._n_frames = 0
        self._n_spikes = 0
        self._last: StimulusParams | None = None
        self._grating_t = 0.0
        self._last_on_sign = 0
        self._off_since = -math.inf
        self._cache_key: tuple[Any, ...] | None = None
        self._cache_resp = np.zeros(self._n_pos)
        self._grey = np.zeros(self._n_pos)
        # Per-block buffers, reused: DoG responses, the last frame's (the next glide
        # starts from it), grating clock, trajectory rows, sound as 16-bit PCM.
        self._resp = np.zeros((self.frames_per_block, self._n_pos))
        self._end_resp = np.zeros(self._n_pos)
        self._clock = np.zeros(self.frames_per_block)
        self._traj = np.zeros((self.frames_per_block, len(TRAJECTORY_COLUMNS)))
        self._pcm_f32 = np.zeros(self.block_samples, dtype=np.float32)
        self._pcm = np.zeros(self.block_samples, dtype="<i2")

    @property
    def t_s(self) -> float:
        """Session time at the start of the next block (s)."""
        return self.index * BLOCK_S

    @property
    def n_cells(self) -> int:
        return len(self.config.population)

    def _frame_response(self, params: StimulusParams, grating_t: float) -> np.ndarray:
        dog = self._dog
        if not params.on:
            return self._grey
        if params.kind in ("bar", "spot"):
            key = (params, 0.0)
            if key == self._cache_key:
                return self._cache_resp
            resp = dog.shape_response(params)
            self._cache_key, self._cache_resp = key, resp
            return resp
        key = (params, grating_t if params.kind == "grating" else 0.0)
        if key == self._cache_key:
            return self._cache_resp
        stim = make_live_stimulus(params, extent_deg=dog.extent_deg)
        frame = render_frames(stim, self.config.retina.grid, [grating_t])
        resp = dog.response(frame)[0]
        self._cache_key, self._cache_resp = key, resp
        return resp

    def _fill_responses(self, params: StimulusParams, glide: bool) -> None:
        """The DoG responses of the block's frames into ``self._resp``.

        A glide (the previous block showed the same stimulus elsewhere) is a cross-fade:
        frame k of F is ``(1 - a) · previous end + a · this end`` with ``a = (k + 1) / F``,
        so one frame is rendered per block however the hand moves. Any other change is
        shown from the block's first frame on; a drifting grating renders each frame at
        its own clock, in one call.
        """
        resp, fpb = self._resp, self.frames_per_block
        if glide:
            start, end = self._end_resp, self._frame_response(params, 0.0)
            for k in range(fpb - 1):
                np.subtract(end, start, out=resp[k])
                resp[k] *= (k + 1) / fpb
                resp[k] += start
            resp[fpb - 1] = end
        elif params.on and params.kind == "grating" and self._clock[0] != self._clock[-1]:
            stim = make_live_stimulus(params, extent_deg=self._dog.extent_deg)
            frames = render_frames(stim, self.config.retina.grid, self._clock)
            resp[:] = self._dog.response(frames)
        else:
            resp[:] = self._frame_response(params, float(self._clock[0]))
        self._end_resp[:] = resp[fpb - 1]

    def step(self, params: StimulusParams) -> BlockResult:
        """Simulate the next block with ``params`` on the screen; return what it produced."""
        fpb = self.frames_per_block
        t0 = self.t_s
        prev = self._last
        # A glide: the hand moved the stimulus and changed nothing else. Its frames go
        # smoothly from the previous position to this one.
        glide = (
            prev is not None
            and prev.on
            and params.on
            and params.kind != "grating"
            and (prev.x_deg != params.x_deg or prev.y_deg != params.y_deg)
            and all(getattr(prev, f) == getattr(params, f) for f in _SHAPE_FIELDS)
        )
        x_from = prev.x_deg if glide else params.x_deg
        y_from = prev.y_deg if glide else params.y_deg
        tf = params.temporal_frequency_hz
        clock = self._clock
        for k in range(fpb):
            clock[k] = self._grating_t
            if params.kind == "grating" and not params.frozen and tf > 0:
                # The pattern repeats every 1/tf s: wrapping keeps the phase exact forever.
                self._grating_t = (self._grating_t + 1.0 / self.frame_rate_hz) % (1.0 / tf)
        self._fill_responses(params, glide)
        traj = self._traj
        for k in range(fpb):
            a = (k + 1) / fpb
            traj[k] = (
                (self._n_frames + k) / self.frame_rate_hz,
                LIVE_KINDS.index(params.kind),
                float(params.on),
                x_from + a * (params.x_deg - x_from),
                y_from + a * (params.y_deg - y_from),
                params.orientation_deg,
                params.length_deg,
                params.width_deg,
                params.contrast,
                params.spatial_frequency_cpd,
                tf,
                clock[k],
            )

        rates = self.v1.process(self.lgn.process(self._resp)) * self.gain.advance()[None, :]
        cells, times = self.poisson.advance(rates)
        trains = _split_by_cell(cells, times, self.n_cells)
        audio = self.renderer.render_block(trains, t0, self.block_samples)

        self._traj_fh.write(traj.tobytes())
        if cells.size:
            self._spike_fh.write(np.column_stack([cells, times]).astype(np.float64).tobytes())
        pcm = self._pcm_f32
        np.clip(audio, -1.0, 1.0, out=pcm)
        pcm *= 32767.0
        np.rint(pcm, out=pcm)
        self._pcm[:] = pcm
        self._audio_fh.write(self._pcm.tobytes())
        self._n_frames += fpb
        self._n_spikes += cells.size

        polarity = self._polarity(params, t0)
        x_rf, y_rf, r_rf = self._rf
        result = BlockResult(
            index=self.index,
            t0_s=t0,
            spike_cells=cells,
            spike_times=times,
            rates_hz=rates.mean(axis=0),
            kind=params.kind,
            x_deg=params.x_deg,
            y_deg=params.y_deg,
            orientation_deg=math.nan if params.kind == "spot" else params.orientation_deg % 180.0,
            polarity=polarity,
            on_rf=_stimulus_on_rf(params, x_rf, y_rf, r_rf),
            audio=audio,
        )
        self._last = params
        self.index += 1
        return result

    def _polarity(self, params: StimulusParams, t0: float) -> int:
        if params.on and params.kind != "grating":
            self._last_on_sign = 1 if params.contrast > 0 else -1
            self._off_since = math.inf
            return self._last_on_sign
        if params.on:  # a grating is light and dark at once
            self._last_on_sign = 0
            return 0
        if self._off_since == math.inf:
            self._off_since = t0
        if t0 - self._off_since < _OFFSET_WINDOW_S:
            return -self._last_on_sign  # the offset of light is a dimming: an OFF response
        return 0

    def snapshot(self) -> SessionSnapshot:
        """Flush the log and say how much of it is complete."""
        for fh in (self._traj_fh, self._spike_fh, self._audio_fh):
            fh.flush()
        return SessionSnapshot(
            log_dir=str(self.log_dir),
            n_blocks=self.index,
            n_frames=self._n_frames,
            n_spikes=self._n_spikes,
            n_audio_samples=self.index * self.block_samples,
            audio_offset_samples=self.renderer.latency_samples,
            frame_rate_hz=self.frame_rate_hz,
            fs_hz=self.config.fs_hz,
            extent_deg=self.config.retina.extent_deg,
        )

    def close(self) -> None:
        """Close the log files (and remove the log if the engine made it)."""
        for fh in (self._traj_fh, self._spike_fh, self._audio_fh):
            fh.close()
        if self._owns_log:
            shutil.rmtree(self.log_dir, ignore_errors=True)


def _split_by_cell(cells: np.ndarray, times: np.ndarray, n_cells: int) -> list[np.ndarray]:
    if cells.size == 0:
        return [times[:0]] * n_cells
    order = np.lexsort((times, cells))
    sorted_times = times[order]
    # Slices, not np.split: its per-piece overhead is most of the work for 100 cells.
    bounds = [0, *np.searchsorted(cells[order], np.arange(1, n_cells)).tolist(), cells.size]
    return [sorted_times[a:b] for a, b in itertools.pairwise(bounds)]

"""Saving a live session as a run folder of the data contract (NWB, NPZ, WAV, CSV, JSON).

:func:`load_session_log` reads the engine's log; :func:`compute_presentations` cuts the
hand-steered trajectory into a trials table; :func:`save_live_session` writes the run
folder with the trajectory, the marks, the sound and the session's notes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from v1lab.experiment import STANDARD_PARAM_COLUMNS, Recording
from v1lab.live.engine import BLOCK_S, TRAJECTORY_COLUMNS, SessionSnapshot
from v1lab.live.render import make_live_stimulus
from v1lab.live.state import LIVE_KINDS, Mark, StimulusParams
from v1lab.model.population import Population


@dataclass(frozen=True)
class _SessionLog:
    trajectory: np.ndarray  # (n_frames, len(TRAJECTORY_COLUMNS))
    spike_cells: np.ndarray
    spike_times: np.ndarray
    audio_path: Path
    snapshot: SessionSnapshot


def load_session_log(snapshot: SessionSnapshot) -> _SessionLog:
    """Read the complete part of an engine's session log.

    Returns an object with ``trajectory`` (one row per frame, columns
    ``t_s, kind_code, on, x_deg, y_deg, orientation_deg, length_deg, width_deg, contrast,
    spatial_frequency_cpd, temporal_frequency_hz, grating_time_s``; kind codes index
    :data:`LIVE_KINDS`), ``spike_cells``, ``spike_times`` and ``audio_path`` (raw 16-bit
    PCM, mono).
    """
    folder = Path(snapshot.log_dir)
    n_cols = len(TRAJECTORY_COLUMNS)
    traj = np.fromfile(
        folder / "trajectory.f64", dtype=np.float64, count=snapshot.n_frames * n_cols
    )
    spikes = np.fromfile(folder / "spikes.f64", dtype=np.float64, count=2 * snapshot.n_spikes)
    spikes = spikes.reshape(-1, 2)
    return _SessionLog(
        trajectory=traj.reshape(-1, n_cols),
        spike_cells=spikes[:, 0].astype(np.int64),
        spike_times=spikes[:, 1].copy(),
        audio_path=folder / "audio.s16",
        snapshot=snapshot,
    )


_CONDITION_COLUMNS = ("kind_code", "orientation_deg", "length_deg", "width_deg", "contrast")


def compute_presentations(trajectory: np.ndarray, frame_rate_hz: float) -> dict[str, np.ndarray]:
    """The trials table of a live session: one row per stretch of unchanged stimulus.

    A row starts whenever the shutter opens or the stimulus changes in anything but its
    position (kind, orientation, size, contrast, spatial or temporal frequency); the
    hand's motion within a row is in the trajectory. ``x_deg``/``y_deg`` are the position
    at the row's start and ``speed_deg_s`` the hand's mean speed during it. Rows with the
    same stimulus share a ``stimulus_condition_id``.

    Parameters
    ----------
    trajectory : ndarray, shape (n_frames, 12)
        As logged by :class:`~v1lab.live.engine.LiveEngine` (see :func:`load_session_log`).
    frame_rate_hz : float

    Returns
    -------
    dict of str to ndarray
        ``start_time``, ``stop_time``, ``stimulus_condition_id``, ``repeat``,
        ``stimulus`` and the stimulus-parameter columns (NaN where they do not apply).
    """
    col = {name: i for i, name in enumerate(TRAJECTORY_COLUMNS)}
    n = trajectory.shape[0]
    names = [*_CONDITION_COLUMNS, "spatial_frequency_cpd", "temporal_frequency_hz"]
    if n:
        keys = np.round(trajectory[:, [col[k] for k in names]], 9)
        on = trajectory[:, col["on"]] > 0.5
        changed = np.concatenate([[True], np.any(keys[1:] != keys[:-1], axis=1) | ~on[:-1]])
        starts = np.flatnonzero(on & changed)
        on_ends = np.flatnonzero(on & np.concatenate([~on[1:] | changed[1:], [True]]))
    else:
        keys = np.zeros((0, len(names)))
        starts = on_ends = np.zeros(0, dtype=np.int64)
    dt = 1.0 / frame_rate_hz
    rows = []
    for s in starts:
        e = on_ends[np.searchsorted(on_ends, s)]
        rows.append((int(s), int(e)))
    seen: dict[tuple[float, ...], int] = {}
    cond = np.zeros(len(rows), dtype=np.int64)
    repeat = np.zeros(len(rows), dtype=np.int64)
    counts: dict[int, int] = {}
    for i, (s, _) in enumerate(rows):
        key = tuple(float(v) for v in keys[s])
        cond[i] = seen.setdefault(key, len(seen))
        repeat[i] = counts.get(int(cond[i]), 0)
        counts[int(cond[i])] = repeat[i] + 1
    out: dict[str, np.ndarray] = {
        "start_time": np.array([trajectory[s, 0] for s, _ in rows], dtype=float),
        "stop_time": np.array([trajectory[e, 0] + dt for _, e in rows], dtype=float),
        "stimulus_condition_id": cond,
        "repeat": repeat,
    }
    kinds = [LIVE_KINDS[int(trajectory[s, col["kind_code"]])] for s, _ in rows]
    out["stimulus"] = np.array(kinds, dtype=str) if rows else np.zeros(0, dtype="<U7")
    params: dict[str, list[float]] = {
        name: [] for name in (*STANDARD_PARAM_COLUMNS, "radius_deg", "aperture_radius_deg")
    }
    nan = math.nan
    for (s, e), kind in zip(rows, kinds, strict=True):
        r = trajectory[s]
        ori = float(r[col["orientation_deg"]]) % 360.0
        xy = trajectory[s : e + 1, col["x_deg"] : col["y_deg"] + 1]
        path = float(np.hypot(*np.diff(xy, axis=0).T).sum()) if e > s else 0.0
        values = {
            "orientation_deg": nan if kind == "spot" else (ori % 180.0 if kind == "bar" else ori),
            "direction_deg": (ori + 90.0) % 360.0 if kind == "grating" else nan,
            "contrast": float(r[col["contrast"]]),
            "x_deg": float(r[col["x_deg"]]),
            "y_deg": float(r[col["y_deg"]]),
            "length_deg": float(r[col["length_deg"]]) if kind == "bar" else nan,
            "width_deg": float(r[col["width_deg"]]) if kind == "bar" else nan,
            "speed_deg_s": path / ((e - s + 1) * dt),
            "spatial_frequency_cpd": float(r[col["spatial_frequency_cpd"]])
            if kind == "grating"
            else nan,
            "temporal_frequency_hz": float(r[col["temporal_frequency_hz"]])
            if kind == "grating"
            else nan,
            "radius_deg": 0.5 * float(r[col["width_deg"]]) if kind == "spot" else nan,
            "aperture_radius_deg": 0.5 * float(r[col["length_deg"]]) if kind == "grating" else nan,
        }
        for name in params:
            params[name].append(values[name])
    for name, values_list in params.items():
        out[name] = np.array(values_list, dtype=float)
    return out


def _conditions(trajectory: np.ndarray, presentations: Mapping[str, np.ndarray]) -> list[Any]:
    """A stimulus object per condition id (position: where it was first shown)."""
    out: list[Any] = []
    col = {name: i for i, name in enumerate(TRAJECTORY_COLUMNS)}
    starts = presentations["start_time"]
    frame_t = trajectory[:, 0] if trajectory.size else np.zeros(0)
    for cid in range(int(presentations["stimulus_condition_id"].max(initial=-1)) + 1):
        first = int(np.flatnonzero(presentations["stimulus_condition_id"] == cid)[0])
        r = trajectory[int(np.searchsorted(frame_t, starts[first] - 1e-9))]
        params = StimulusParams(
            kind=LIVE_KINDS[int(r[col["kind_code"]])],
            x_deg=float(r[col["x_deg"]]),
            y_deg=float(r[col["y_deg"]]),
            orientation_deg=float(r[col["orientation_deg"]]),
            length_deg=float(r[col["length_deg"]]),
            width_deg=float(r[col["width_deg"]]),
            contrast=float(r[col["contrast"]]),
            spatial_frequency_cpd=float(r[col["spatial_frequency_cpd"]]),
            temporal_frequency_hz=float(r[col["temporal_frequency_hz"]]),
        )
        out.append(make_live_stimulus(params, extent_deg=10.0))
    return out


def _append_nwb_live(path: Path, trajectory: np.ndarray, marks: Sequence[Mark]) -> None:
    """Add the stimulus trajectory (a time series) and the marks to a written NWB file."""
    from pynwb import NWBHDF5IO, TimeSeries
    from pynwb.epoch import TimeIntervals

    with NWBHDF5IO(str(path), "a") as nwb_io:
        nwb = nwb_io.read()
        if trajectory.shape[0]:
            codes = ", ".join(f"{i} = {k}" for i, k in enumerate(LIVE_KINDS))
            nwb.add_stimulus(
                TimeSeries(
                    name="stimulus_trajectory",
                    data=trajectory[:, 1:],
                    timestamps=trajectory[:, 0],
                    unit="see description",
                    description=(
                        "The live stimulus at every retina frame, steered by hand. Columns: "
                        + ", ".join(TRAJECTORY_COLUMNS[1:])
                        + f". kind_code: {codes}; on: 1 while the shutter was open; "
                        "orientation in [0, 360) (edge: light side 90° counter-clockwise; "
                        "grating: drift direction = orientation + 90); a spot's diameter is "
                        "width_deg, a grating patch's length_deg. Where the hand moved the "
                        "stimulus between two 10-ms blocks, the frames inside the block "
                        "cross-fade from the old position to the new (x_deg, y_deg give the "
                        "interpolated position)."
                    ),
                    comments="columns: " + ", ".join(TRAJECTORY_COLUMNS[1:]),
                )
            )
        if marks:
            table = TimeIntervals(
                name="marks",
                description=(
                    "Hand-made RF marks (Hubel & Wiesel's paper map): '+' the cell fired "
                    "for light, 'x' for dark or at the offset of light, 'o' no response"
                ),
            )
            table.add_column("x_deg", "mark position x (deg)")
            table.add_column("y_deg", "mark position y (deg)")
            table.add_column("mark", "'+', 'x' or 'o'")
            table.add_column("stimulus", "stimulus kind when marked")
            for m in marks:
                table.add_row(
                    start_time=m.t_s,
                    stop_time=m.t_s,
                    x_deg=m.x_deg,
                    y_deg=m.y_deg,
                    mark=m.sign,
                    stimulus=m.kind,
                )
            nwb.add_time_intervals(table)
        nwb_io.write(nwb)


def _write_session_wav(dest: Path, log: _SessionLog) -> None:
    snap = log.snapshot
    skip = snap.audio_offset_samples
    total = snap.n_audio_samples - skip
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(log.audio_path, "rb") as src, wave.open(str(dest), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(snap.fs_hz)
        src.seek(2 * skip)
        left = max(0, total)
        while left:
            chunk = src.read(2 * min(left, 1 << 20))
            if not chunk:
                break
            wav.writeframes(chunk)
            left -= len(chunk) // 2


def save_live_session(
    folder: str | os.PathLike[str],
    snapshot: SessionSnapshot,
    *,
    protocol: Any,
    population: Population,
    marks: Sequence[Mark] = (),
    notes: Mapping[str, Any] | None = None,
    figure_png: bytes | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a live session as a run folder of the data contract (DESIGN.md).

    The folder holds ``protocol.toml`` (the protocol with the live cells listed),
    ``recording.nwb`` (``units`` with the cells' ground truth and spike times, ``trials``
    from :func:`compute_presentations`, the stimulus trajectory as the time series
    ``stimulus/stimulus_trajectory`` and the marks as the interval table ``marks``),
    ``recording.npz``, ``presentations.csv``, ``trajectory.csv``, ``marks.csv``,
    ``audio/session.wav`` (t = 0 at sample 0), ``live_session.json`` (``notes``: electrode,
    audio statistics, mystery guess and score) and, if given, ``figures/live_window.png``.
    It is assembled beside ``folder`` and renamed into place when complete.

    Parameters
    ----------
    folder : path
    snapshot : SessionSnapshot
        From :meth:`~v1lab.live.engine.LiveEngine.snapshot`.
    protocol : Protocol
        The protocol the session started from (retina, spiking, seed).
    population : Population
        The live cells (row 0 under the electrode).
    marks : sequence of Mark
    notes : mapping, optional
        JSON-serialisable facts to keep in ``live_session.json``.
    figure_png : bytes, optional
        A picture of the window.
    overwrite : bool
        Replace an existing folder.
    """
    from v1lab.io import save_run, save_table_csv
    from v1lab.protocol import PopulationSpec

    log = load_session_log(snapshot)
    traj = log.trajectory
    presentations = compute_presentations(traj, snapshot.frame_rate_hz)
    n_cells = len(population)
    spike_times = [np.sort(log.spike_times[log.spike_cells == i]) for i in range(n_cells)]
    live_protocol = dataclasses.replace(
        protocol,
        name=f"{protocol.name}_live",
        description=(
            f"Live session (v1lab --live) started from protocol {protocol.name!r}; the cells "
            "below were under the electrode. The stimuli listed are the protocol's, not the "
            "session's: the session's stimulus is the hand-steered trajectory in "
            "recording.nwb."
        ),
        population=PopulationSpec(n_cells=n_cells, cells=tuple(population.to_cells())),
    )
    recording = Recording(
        protocol=live_protocol,
        population=population,
        conditions=_conditions(traj, presentations),
        presentations=presentations,
        spike_times=spike_times,
        duration_s=snapshot.n_blocks * BLOCK_S,
    )

    def write_live(rec: Recording, tmp: Path) -> None:
        _append_nwb_live(tmp / "recording.nwb", traj, marks)
        _write_session_wav(tmp / "audio" / "session.wav", log)
        save_table_csv(
            tmp / "trajectory.csv",
            {name: traj[:, i] for i, name in enumerate(TRAJECTORY_COLUMNS)},
        )
        save_table_csv(
            tmp / "marks.csv",
            {
                "t_s": np.array([m.t_s for m in marks], dtype=float),
                "x_deg": np.array([m.x_deg for m in marks], dtype=float),
                "y_deg": np.array([m.y_deg for m in marks], dtype=float),
                "mark": np.array([m.sign for m in marks], dtype=str),
                "stimulus": np.array([m.kind for m in marks], dtype=str),
            },
        )
        facts = {
            "duration_s": recording.duration_s,
            "n_spikes": [int(t.size) for t in spike_times],
            "trajectory_columns": list(TRAJECTORY_COLUMNS),
            **dict(notes or {}),
        }
        (tmp / "live_session.json").write_text(json.dumps(facts, indent=2, default=_json_default))
        if figure_png is not None:
            (tmp / "figures").mkdir(exist_ok=True)
            (tmp / "figures" / "live_window.png").write_bytes(figure_png)

    return save_run(recording, folder, overwrite=overwrite, extra={"live": write_live})


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

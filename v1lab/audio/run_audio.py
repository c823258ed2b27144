"""A run's sound: the electrode, the session, each condition, and H&W's demonstration.

:func:`save_run_audio` writes a run folder's ``audio/``: ``session.wav``, one WAV per
condition's first presentation, and ``demo_cell_NNN.wav`` — the preferred condition, a
pause, then its contrast (:func:`render_demo`), the way Hubel & Wiesel (1959) showed
orientation tuning by ear.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_int
from v1lab.audio.mix import render_spikes
from v1lab.audio.pops import make_electrode_amplitudes
from v1lab.audio.wav import save_spikes_wav, save_wav

#: Pause between the two parts of the demonstration (s): no spikes, the hiss runs on.
DEMO_PAUSE_S = 0.5

_NAME_KEYS = {
    "orientation_deg": ("orientation", True),
    "direction_deg": ("dir", True),
    "contrast": ("contrast", False),
    "spatial_frequency_cpd": ("sf", False),
    "temporal_frequency_hz": ("tf", False),
    "length_deg": ("length", False),
    "width_deg": ("width", False),
    "speed_deg_s": ("speed", False),
    "x_deg": ("x", False),
    "y_deg": ("y", False),
    "radius_deg": ("radius", False),
    "phase_deg": ("phase", True),
}


def choose_electrode_cell(recording: Any) -> int:
    """The cell an experimenter would settle the electrode on: the most responsive one.

    Responsiveness is the largest PSTH-peak rate over conditions
    (:func:`v1lab.analysis.compute_peak_rates`).
    """
    from v1lab.analysis import compute_peak_rates, compute_tuning

    _, mean, _ = compute_tuning(
        recording.presentations["stimulus_condition_id"], compute_peak_rates(recording)
    )
    return int(np.argmax(mean.max(axis=0)))


def condition_audio_names(conditions: Sequence[Any]) -> list[str]:
    """File stem per condition from the parameters that vary, e.g. ``orientation_090_dir_000``."""
    params = [c.trial_params() for c in conditions]
    kinds = {c.kind for c in conditions}
    varying = [
        k
        for k in _NAME_KEYS
        if len({repr(p.get(k)) for p in params}) > 1 and any(k in p for p in params)
    ]
    names = []
    for cond, p in zip(conditions, params, strict=True):
        parts = [cond.kind] if len(kinds) > 1 else []
        for key in varying:
            value = p.get(key)
            if value is None or not np.isfinite(value):
                continue
            label, angle = _NAME_KEYS[key]
            parts.append(f"{label}_{round(value) % 360:03d}" if angle else f"{label}_{value:g}")
        names.append("_".join(parts) or cond.kind)
    # Conditions that differ only in parameters not named above get their id appended.
    return [f"{name}_c{i:03d}" if names.count(name) > 1 else name for i, name in enumerate(names)]


def _presentation_window(recording: Any, index: int) -> tuple[float, float]:
    """From a presentation's onset to the next onset (its blank included)."""
    start = float(recording.presentations["start_time"][index])
    later = recording.presentations["start_time"][index + 1 :]
    end = float(later[0]) if len(later) else float(recording.duration_s)
    return start, end


def _condition_window(recording: Any, condition_id: int) -> tuple[float, float]:
    """The window of a condition's first presentation (:func:`_presentation_window`)."""
    rows = np.flatnonzero(recording.presentations["stimulus_condition_id"] == condition_id)
    if len(rows) == 0:
        raise ParameterError("condition_id", condition_id, "expected a condition that was shown")
    return _presentation_window(recording, int(rows[0]))


def _window_trains(recording: Any, lo: float, hi: float) -> list[np.ndarray]:
    return [t[np.searchsorted(t, lo) : np.searchsorted(t, hi)] - lo for t in recording.spike_times]


def make_run_waveform(recording: Any) -> Any:
    """The spike shape a run's cells make: their own for Hodgkin–Huxley cells, else None.

    A Hodgkin–Huxley cell's pop is its extracellular signature, ``−C dV/dt`` of its own
    action potential (:class:`v1lab.cells.HHSpikeShape`); other spike
    generators have no membrane, so they get the default analytic pop.
    """
    spiking = recording.protocol.spiking
    if spiking.model != "hodgkin_huxley":
        return None
    from v1lab.cells import HHParameters, HHSpikeShape

    return HHSpikeShape.make(HHParameters(temperature_c=spiking.temperature_c))


def render_condition_audio(
    recording: Any,
    condition_id: int,
    *,
    amplitudes: np.ndarray,
    fs_hz: int = 44100,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The sound of a condition's first presentation, t = 0 at its onset, blank included."""
    lo, hi = _condition_window(recording, condition_id)
    return render_spikes(
        _window_trains(recording, lo, hi),
        hi - lo,
        fs_hz=fs_hz,
        amplitudes=amplitudes,
        rng=rng,
        waveform=make_run_waveform(recording),
    )


def make_demo_conditions(recording: Any, cell: int) -> tuple[int, int] | None:
    """The two conditions of the demonstration: the cell's preferred one and its contrast.

    The same pair the report plays (:func:`v1lab.analysis.compute_demo_conditions`):
    the slit or grating at the preferred direction, then turned by 90° (Hubel & Wiesel
    1959); the best bar, then the longest (an end-stopped cell falls silent; Hubel &
    Wiesel 1965); the best spot, then one of the opposite sign at the same place (ON
    and OFF subregions; Hubel & Wiesel 1959). None when the protocol has no such pair.
    """
    from v1lab.analysis import compute_demo_conditions

    preferred, contrast = compute_demo_conditions(recording, cell)
    return None if contrast is None else (preferred, contrast)


def describe_demo(recording: Any, pair: tuple[int, int]) -> str:
    """What the demonstration plays, in words (for the ``--play`` message)."""
    first, second = (recording.conditions[c] for c in pair)
    kind = first.kind
    directions = [getattr(stim, "direction_deg", None) for stim in (first, second)]
    if all(isinstance(d, float) and math.isfinite(d) for d in directions) and (
        directions[0] != directions[1]
    ):
        thing = "the slit moving" if kind == "bar" else f"the {kind} drifting"
        return (
            f"{thing} in its preferred direction ({directions[0]:g}°), then turned by 90° "
            f"({directions[1]:g}°)"
        )
    if kind == "bar":
        return (
            f"the best bar ({first.length_deg:g}° long), then the longest ({second.length_deg:g}°)"
        )
    if kind == "spot":
        sign = "light" if first.contrast > 0 else "dark"
        other = "dark" if first.contrast > 0 else "light"
        return (
            f"the best spot ({sign}, at {first.x_deg:g}°, {first.y_deg:g}°), then a {other} "
            "one at the same place"
        )
    return "its preferred condition, then the contrasting one"


def render_demo(
    recording: Any,
    cell: int,
    *,
    amplitudes: np.ndarray,
    fs_hz: int = 44100,
    rng: np.random.Generator | None = None,
    pair: tuple[int, int] | None = None,
) -> np.ndarray | None:
    """Hubel & Wiesel's demonstration: the preferred condition, a pause, then its contrast.

    Crackle, then near silence (:func:`make_demo_conditions`: the orthogonal sweep, the
    longest bar or the spot of opposite sign), or the ``pair`` of condition ids given.
    Each part is its condition's first presentation, blank included (as
    :func:`render_condition_audio`), and the two are :data:`DEMO_PAUSE_S` apart. It is
    rendered as one recording, like ``session.wav``: the amplifier's hiss runs on through
    the pause, and the sound fades in and out only at its very start and end.
    None when the protocol has no such pair.
    """
    pair = make_demo_conditions(recording, cell) if pair is None else pair
    if pair is None:
        return None
    fs = check_int("fs_hz", fs_hz, lo=1)
    parts = []
    offset = 0  # first sample of the next part
    for condition_id in pair:
        lo, hi = _condition_window(recording, condition_id)
        n = round((hi - lo) * fs)
        parts.append([t[t * fs < n] + offset / fs for t in _window_trains(recording, lo, hi)])
        offset += n + round(DEMO_PAUSE_S * fs)
    n_total = offset - round(DEMO_PAUSE_S * fs)
    trains = [np.concatenate(cell_parts) for cell_parts in zip(*parts, strict=True)]
    return render_spikes(
        trains,
        n_total / fs,
        fs_hz=fs,
        amplitudes=amplitudes,
        rng=rng,
        waveform=make_run_waveform(recording),
    )


def save_run_audio(
    recording: Any,
    folder: str | os.PathLike[str],
    *,
    cell: int | None = None,
    fs_hz: int = 44100,
    neighbours: bool = True,
) -> dict[str, Any]:
    """Write ``audio/`` of a run folder: the session, each condition, and the demo.

    ``audio/session.wav`` is the whole session; ``audio/<parameters>.wav`` (e.g.
    ``orientation_090_dir_000.wav``) is each condition's first presentation with t = 0
    at its onset; ``audio/demo_cell_NNN.wav`` is :func:`render_demo` when the protocol
    has a pair to contrast (directions, bar lengths or spots of both signs). The
    electrode is on ``cell`` (default :func:`choose_electrode_cell`), with fainter
    neighbours unless ``neighbours=False``.
    The sound is reproducible: its randomness follows the protocol's seed.

    Returns
    -------
    dict
        ``cell``, ``amplitudes``, ``session``, ``conditions`` (paths), ``demo`` (path
        or None) and ``demo_text`` (:func:`describe_demo`, or None).
    """
    folder = Path(folder) / "audio"
    folder.mkdir(parents=True, exist_ok=True)
    n = recording.n_cells
    if cell is None:
        cell = choose_electrode_cell(recording)
    cell = check_int("listen", cell, lo=0, hi=n - 1)
    seed = recording.protocol.seed
    amplitudes = make_electrode_amplitudes(
        n, cell, np.random.default_rng([seed, 1]), neighbours=neighbours
    )
    session = save_spikes_wav(
        folder / "session.wav", recording.spike_times, recording.duration_s,
        fs_hz=fs_hz, amplitudes=amplitudes, rng=np.random.default_rng([seed, 2]),
    )  # fmt: skip
    paths = []
    for cid, name in enumerate(condition_audio_names(recording.conditions)):
        audio = render_condition_audio(
            recording,
            cid,
            amplitudes=amplitudes,
            fs_hz=fs_hz,
            rng=np.random.default_rng([seed, 3, cid]),
        )
        paths.append(save_wav(folder / f"{name}.wav", audio, fs_hz))
    pair = make_demo_conditions(recording, cell)
    demo_path = demo_text = None
    if pair is not None:
        demo = render_demo(
            recording, cell, amplitudes=amplitudes, fs_hz=fs_hz,
            rng=np.random.default_rng([seed, 4]), pair=pair,
        )  # fmt: skip
        demo_path = save_wav(folder / f"demo_cell_{cell:03d}.wav", demo, fs_hz)
        demo_text = describe_demo(recording, pair)
    return {
        "cell": cell,
        "amplitudes": amplitudes,
        "session": session,
        "conditions": paths,
        "demo": demo_path,
        "demo_text": demo_text,
    }

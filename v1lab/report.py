"""The run report: one self-contained HTML page per run (``report.html``).

The page shows the protocol, the stimulus as an animated GIF, every figure of the run,
a summary of the results, the metrics table, and an audio player per cell for its
preferred and its contrasting condition (the 90°-turned sweep; the opposite-sign spot).

Self-contained, and why embedded
--------------------------------
Everything the page shows — figures (PNG), the stimulus GIFs and the per-cell sound clips
(16-bit WAV at 22.05 kHz, a few seconds each) — is embedded as ``data:`` URIs, so the
page opens from disk with no server, and still shows everything when it is copied out
of the run folder, e-mailed or attached to a lab notebook. Only the bulky raw files
(``recording.nwb``, ``metrics.csv``, ``audio/session.wav``, which can be tens of MB) are
linked by relative paths rather than embedded. The page has no scripts and loads nothing
from the network.

Sizes stay modest: at most 16 cells get clips (spread over the population), clips last
at most 4 s, and the metrics table shows at most 200 rows (all of them are in
``metrics.csv``).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
import tempfile
import wave
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CLIP_FS_HZ", "render_report", "save_report"]

#: Sampling rate of the embedded sound clips: enough for the 100–7000 Hz monitor band.
CLIP_FS_HZ = 22050
# Longest embedded clip (s), and the silence kept around the stimulus (s).
_CLIP_MAX_S = 4.0
_CLIP_PAD_S = 0.25
# Most rows shown in the metrics table.
_MAX_TABLE_ROWS = 200
# Shortened stimuli for the GIFs (s): a 15-s noise sequence needs only a few seconds.
_GIF_MAX_S = 4.0

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc;
     padding-bottom: 0.2em; margin-top: 1.6em; }
.sub { color: #555; margin-top: 0; }
figure { margin: 0.6em 0 1.4em; } figcaption { font-size: 0.85em; color: #555; }
img.fig { max-width: 100%; height: auto; border: 1px solid #eee; }
img.gif { width: 240px; height: 240px; image-rendering: pixelated; border: 1px solid #ccc; }
.gifs { display: flex; flex-wrap: wrap; gap: 1.2em; }
table { border-collapse: collapse; font-size: 0.78em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; position: sticky; top: 0; }
.scroll { max-height: 32em; overflow: auto; border: 1px solid #ddd; }
.cells td:first-child, .cells th:first-child { text-align: left; }
audio { height: 2em; vertical-align: middle; }
pre { background: #f7f7f7; padding: 0.8em; overflow: auto; font-size: 0.8em; }
.note { color: #555; font-size: 0.9em; }
"""


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def _wav_bytes(audio: np.ndarray, fs_hz: int) -> bytes:
    pcm = np.clip(np.rint(np.asarray(audio, dtype=float) * 32767.0), -32768, 32767)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(fs_hz)
        w.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


def _gif_bytes(stimulus: Any, grid: Any) -> bytes:
    from v1lab.model.stimulus import save_gif

    if stimulus.duration_s > _GIF_MAX_S:
        stimulus = dataclasses.replace(stimulus, duration_s=_GIF_MAX_S)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_gif(stimulus, grid, Path(tmp) / "stimulus.gif", max_frames=100)
        return path.read_bytes()


def _describe(stimulus: Any) -> str:
    params = stimulus.trial_params()
    shown = ", ".join(
        f"{k} = {v:g}" for k, v in params.items() if isinstance(v, float) and math.isfinite(v)
    )
    return f"{stimulus.kind}: {shown}, duration_s = {stimulus.duration_s:g}"


def _cell_clip(recording: Any, condition: int, cell: int, amplitudes: np.ndarray) -> bytes:
    """The sound of a cell during the first presentation of a condition, as WAV bytes."""
    from v1lab.audio import render_spikes

    p = recording.presentations
    row = int(np.flatnonzero(p["stimulus_condition_id"] == condition)[0])
    start = max(0.0, float(p["start_time"][row]) - _CLIP_PAD_S)
    stop = min(float(p["stop_time"][row]) + _CLIP_PAD_S, start + _CLIP_MAX_S)
    heard = np.flatnonzero(amplitudes > 0)
    trains = []
    for c in heard:
        t = recording.spike_times[c]
        trains.append(t[np.searchsorted(t, start) : np.searchsorted(t, stop)] - start)
    rng = np.random.default_rng([recording.protocol.seed, 5, cell, condition])
    audio = render_spikes(
        trains, stop - start, fs_hz=CLIP_FS_HZ, amplitudes=amplitudes[heard], rng=rng
    )
    return _wav_bytes(audio, CLIP_FS_HZ)


def _format(value: Any) -> str:
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return ""
        return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.0f}"
    return html.escape(str(value))


def _metrics_table(metrics: Mapping[str, np.ndarray]) -> str:
    names = list(metrics)
    n = len(next(iter(metrics.values()))) if metrics else 0
    rows = []
    for i in range(min(n, _MAX_TABLE_ROWS)):
        cells = "".join(f"<td>{_format(np.asarray(metrics[k])[i])}</td>" for k in names)
        rows.append(f"<tr>{cells}</tr>")
    head = "".join(f"<th>{html.escape(k)}</th>" for k in names)
    note = (
        f'<p class="note">The first {_MAX_TABLE_ROWS} of {n} cells; all are in '
        '<a href="metrics.csv">metrics.csv</a>.</p>'
        if n > _MAX_TABLE_ROWS
        else '<p class="note">Also in <a href="metrics.csv">metrics.csv</a>.</p>'
    )
    return (
        f'<div class="scroll"><table class="cells"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{note}"
    )


#: Metrics summarised per cell type in the results table, with their labels.
_SUMMARY = (
    ("peak_rate_hz", "peak rate (spikes/s)"),
    ("osi", "OSI"),
    ("g_osi", "global OSI"),
    ("dsi", "DSI"),
    ("hwhh_deg", "HWHH (deg)"),
    ("f1_f0", "F1/F0"),
    ("c50_measured", "c50"),
    ("nr_exponent", "Naka–Rushton n"),
    ("suppression_index", "length SI"),
    ("on_off_corr", "ON–OFF correlation"),
    ("overlap_index", "ON/OFF overlap index"),
    ("diffuse_ratio", "diffuse / spot"),
    ("gabor_r2", "Gabor fit r²"),
    ("sta_snr", "STA SNR"),
)


def _summary_table(metrics: Mapping[str, np.ndarray]) -> str:
    types = np.asarray(metrics["cell_type"]).astype(str)
    shown = [(k, label) for k, label in _SUMMARY if k in metrics]
    head = "<th>cell type</th><th>cells</th>" + "".join(
        f"<th>{html.escape(label)}</th>" for _, label in shown
    )
    rows = []
    for kind in dict.fromkeys(types):
        sel = types == kind
        cells = [f"<td>{html.escape(kind)}</td>", f"<td>{int(sel.sum())}</td>"]
        for k, _ in shown:
            v = np.asarray(metrics[k], dtype=float)[sel]
            v = v[np.isfinite(v)]
            text = f"{np.median(v):.2f}" if len(v) else ""
            if k == "hwhh_deg" and "hwhh_below_deg" in metrics:
                # Widths finer than the sampling are not in the median: say how many.
                below = np.asarray(metrics["hwhh_below_deg"], dtype=float)[sel]
                if np.any(np.isfinite(below)):
                    n_below, limit = int(np.isfinite(below).sum()), float(np.nanmax(below))
                    text += f" (+{n_below} below {limit:.3g})"
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="cells"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
        '</tbody></table><p class="note">Medians over the cells of each (ground-truth) '
        "type; HWHHs finer than half the orientation step are counted beside them, not "
        "in them.</p>"
    )


def _map_section(recording: Any, metrics: Mapping[str, np.ndarray]) -> str:
    from v1lab.analysis import compute_map_summary

    s = compute_map_summary(recording, metrics)
    if s is None:
        return ""
    return (
        "<h2>Orientation map</h2><table><tbody>"
        "<tr><th></th><th>measured</th><th>true map</th></tr>"
        f"<tr><td>pinwheels</td><td>{len(s.pinwheels)}</td><td>{len(s.true_pinwheels)}</td></tr>"
        f"<tr><td>column spacing Λ (mm)</td><td>{s.column_spacing_mm:.3f}</td>"
        f"<td>{s.true_column_spacing_mm:.3f}</td></tr>"
        f"<tr><td>pinwheel density (per Λ²)</td><td>{s.pinwheel_density:.2f}</td>"
        f"<td>{s.true_pinwheel_density:.2f}</td></tr>"
        f"<tr><td>sheet area (mm²)</td><td>{s.area_mm2:.1f}</td><td>{s.area_mm2:.1f}</td></tr>"
        "</tbody></table><p class='note'>Kaschube et al. (2010) found π ≈ 3.14 pinwheels per "
        "Λ² in every species they imaged.</p>"
    )


def _figure_order(path: Path) -> tuple[int, str]:
    # Population-level figures first, then the per-cell ones in cell order.
    return (1 if "_cell_" in path.stem else 0, path.stem)


def render_report(
    recording: Any,
    metrics: Mapping[str, np.ndarray],
    figures: list[Path],
    *,
    audio: bool = True,
    links: Mapping[str, str] | None = None,
) -> str:
    """The report page as HTML text (see :func:`save_report`).

    Parameters
    ----------
    recording : Recording
    metrics : mapping
        :func:`v1lab.analysis.compute_metrics`.
    figures : list of Path
        PNG files to embed, in order.
    audio : bool
        Embed a preferred / contrasting sound clip for each shown cell.
    links : mapping of str to str, optional
        Label → relative path of files in the run folder to link to.
    """
    from v1lab.analysis import compute_condition_responses, compute_demo_conditions, compute_design
    from v1lab.audio import make_electrode_amplitudes
    from v1lab.plots import choose_example_cells as _example_cells

    protocol = recording.protocol
    conditions = recording.conditions
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>v1lab report: {html.escape(protocol.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>v1lab: {html.escape(protocol.name)}</h1>",
        f"<p class='sub'>{html.escape(protocol.description)}</p>",
        "<p>",
        f"{len(conditions)} conditions × {protocol.trials.n_trials} trials, "
        f"{recording.n_presentations} presentations, {recording.n_cells} cells, "
        f"session {recording.duration_s:.0f} s, seed {protocol.seed}. "
        f"Report written {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "</p>",
    ]
    if links:
        items = " · ".join(
            f"<a href='{html.escape(href)}'>{html.escape(label)}</a>"
            for label, href in links.items()
        )
        parts.append(f"<p>Files: {items}</p>")

    parts.append("<h2>Stimulus</h2><div class='gifs'>")
    grid = protocol.retina.grid
    start = 0
    for block in protocol.stimuli:
        n = len(block.conditions())
        stim = conditions[start]
        start += n
        parts.append(
            f"<figure><img class='gif' alt='{html.escape(stim.kind)} stimulus' "
            f"src='{_data_uri(_gif_bytes(stim, grid), 'image/gif')}'>"
            f"<figcaption>{n} condition{'s' if n > 1 else ''} of this kind; the first: "
            f"{html.escape(_describe(stim))}</figcaption></figure>"
        )
    parts.append("</div>")
    parts.append(
        "<details><summary>The resolved protocol (protocol.toml)</summary>"
        f"<pre>{html.escape(protocol.to_toml())}</pre></details>"
    )

    parts.append("<h2>Results by cell type</h2>")
    parts.append(_summary_table(metrics))
    parts.append(_map_section(recording, metrics))

    parts.append("<h2>Figures</h2>")
    for path in figures:
        parts.append(
            f"<figure><img class='fig' alt='{html.escape(path.stem)}' "
            f"src='{_data_uri(path.read_bytes(), 'image/png')}'>"
            f"<figcaption>{html.escape(path.name)}</figcaption></figure>"
        )

    if audio:
        design = compute_design(recording)
        mean, _ = compute_condition_responses(recording)
        shown = _example_cells(recording.n_cells)
        neighbours = recording.n_cells <= 64
        parts.append(
            "<h2>Listen</h2><p class='note'>Each cell under the electrode"
            + (", with its neighbours fainter" if neighbours else "")
            + ": first its preferred condition, then the contrasting one (the sweep turned by "
            "90°, the longest bar, or the spot of opposite sign). Clips start 0.25 s before "
            "the stimulus.</p>"
            "<table class='cells'><thead><tr><th>cell</th><th>preferred</th><th></th>"
            "<th>contrast</th><th></th></tr></thead><tbody>"
        )
        for cell in shown:
            amplitudes = make_electrode_amplitudes(
                recording.n_cells,
                cell,
                np.random.default_rng([protocol.seed, 6, cell]),
                neighbours=neighbours,
            )
            best, other = compute_demo_conditions(recording, cell, design=design, mean=mean)
            row = [f"<td>{cell} ({html.escape(str(recording.population.cell_type[cell]))})</td>"]
            for condition in (best, other):
                if condition is None:
                    row.append("<td></td><td></td>")
                    continue
                uri = _data_uri(_cell_clip(recording, condition, cell, amplitudes), "audio/wav")
                row.append(
                    f"<td><audio controls preload='auto' src='{uri}'></audio></td>"
                    f"<td class='note'>{html.escape(_describe(conditions[condition]))}</td>"
                )
            parts.append(f"<tr>{''.join(row)}</tr>")
        parts.append("</tbody></table>")

    parts.append("<h2>Metrics</h2>")
    parts.append(_metrics_table(metrics))
    parts.append(
        "<p class='note'>Generated by v1lab. Ground-truth columns (cell_type, "
        "preferred_orientation_deg, …) are the model cells' own parameters; the others are "
        "measured from the spikes, as an experimenter would.</p></body></html>"
    )
    return "\n".join(p for p in parts if p)


def save_report(
    recording: Any,
    folder: str | Path,
    metrics: Mapping[str, np.ndarray] | None = None,
    *,
    audio: bool | None = None,
) -> Path:
    """Write ``report.html`` into a run folder and return its path.

    Parameters
    ----------
    recording : Recording
    folder : path
        The run folder (or the temporary folder a run is assembled in). Its
        ``figures/*.png`` are embedded; if there are none they are made first
        (:func:`v1lab.plots.save_run_figures`).
    metrics : mapping, optional
        :func:`v1lab.analysis.compute_metrics` (computed if not given).
    audio : bool, optional
        Embed per-cell sound clips. Default: when the folder has an ``audio/`` folder
        (a run written with ``--no-audio`` has none, and its report stays silent).

    Returns
    -------
    pathlib.Path
    """
    from v1lab.analysis import compute_metrics
    from v1lab.io import write_atomic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metrics = compute_metrics(recording) if metrics is None else metrics
    figures_dir = folder / "figures"
    figures = sorted(figures_dir.glob("*.png"), key=_figure_order) if figures_dir.is_dir() else []
    if not figures:
        from v1lab.plots import save_run_figures

        figures = sorted(save_run_figures(recording, figures_dir, metrics), key=_figure_order)
    if audio is None:
        audio = (folder / "audio").is_dir()
    links = {
        label: name
        for label, name in (
            ("protocol.toml", "protocol.toml"),
            ("recording.nwb", "recording.nwb"),
            ("recording.npz", "recording.npz"),
            ("presentations.csv", "presentations.csv"),
            ("metrics.csv", "metrics.csv"),
            ("session sound (WAV)", "audio/session.wav"),
        )
        if (folder / name).exists()
    }
    text = render_report(recording, metrics, figures, audio=audio, links=links)
    path = folder / "report.html"
    write_atomic(path, text)
    return path

"""The synapse lab's entry point: a ``lab = "synapse"`` protocol in, a run folder out.

:func:`run_lab_protocol` validates the whole protocol (:mod:`v1lab.synapse.spec`), runs
its experiment (:mod:`v1lab.synapse.summation_lab`,
:mod:`v1lab.synapse.simple_cell_lab`, :mod:`v1lab.synapse.touch_lab`) and writes the run
folder atomically through :func:`v1lab.io.save_run` (assembled in a temporary folder,
renamed into place when complete; an existing folder replaced only with ``overwrite``):

* ``protocol.toml`` — the resolved protocol (seed included; rerunning it reproduces the run);
* ``recording.nwb`` / ``recording.npz`` / ``presentations.csv`` — the cortical cell's
  spikes on one session clock and one row per presentation;
* ``<measurement>.csv`` — one table per measurement;
* ``figures/*.png``, ``audio/*.wav`` (the cell's pops), ``report.html`` (findings,
  figures, sounds and tables on one page).
"""

from __future__ import annotations

import html
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from v1lab.synapse._common import LabResult
from v1lab.synapse.simple_cell_lab import run_lgn_to_simple_cell
from v1lab.synapse.simulate import DT_MS
from v1lab.synapse.spec import LabProtocol, parse_lab_protocol
from v1lab.synapse.summation_lab import run_synaptic_summation
from v1lab.synapse.touch_lab import run_touch_receptor

__all__ = ["run_lab_protocol"]

_RUNNERS = {
    "synaptic_summation": run_synaptic_summation,
    "lgn_to_simple_cell": run_lgn_to_simple_cell,
    "touch_receptor": run_touch_receptor,
}


@dataclass(frozen=True)
class _Units:
    columns: dict[str, np.ndarray]

    def to_columns(self) -> dict[str, np.ndarray]:
        return self.columns


@dataclass(frozen=True)
class _LabRecording:
    """What :func:`v1lab.io.save_run` reads of a recording, for a lab run."""

    protocol: LabProtocol
    population: _Units
    spike_times: list[np.ndarray]
    presentations: dict[str, np.ndarray]
    duration_s: float
    #: Spike times are threshold crossings of the integrated membrane: known to its step.
    spike_time_resolution_s: float = DT_MS / 1000.0


def _write_tables(res: LabResult, tmp: Path) -> None:
    from v1lab.io import save_table_csv

    for name, columns in res.tables.items():
        save_table_csv(tmp / f"{name}.csv", columns)


def _write_figures(experiment: str, res: LabResult, tmp: Path) -> list[str]:
    from v1lab.io import write_atomic
    from v1lab.synapse.figures import make_lab_figures

    (tmp / "figures").mkdir(exist_ok=True)
    names = []
    for name, fig in make_lab_figures(experiment, res).items():
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        write_atomic(tmp / "figures" / f"{name}.png", buf.getvalue())
        names.append(name)
    return names


def _write_audio(res: LabResult, tmp: Path, seed: int) -> None:
    from v1lab.audio import save_spikes_wav

    (tmp / "audio").mkdir(exist_ok=True)
    for k, (name, (trains, duration, _)) in enumerate(res.sounds.items()):
        save_spikes_wav(
            tmp / "audio" / f"{name}.wav", trains, duration, rng=np.random.default_rng([seed, k])
        )


def _write_report(protocol: LabProtocol, res: LabResult, figures: list[str], tmp: Path) -> None:
    from v1lab.io import write_atomic

    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(protocol.name)} — v1lab synapse lab</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>{esc(protocol.name)}</h1><p>{esc(protocol.description)}</p>",
        f"<p>Experiment <code>{esc(protocol.experiment)}</code>, seed {protocol.seed}.</p>",
        "<h2>Findings</h2>",
        *(f"<p>{esc(line)}</p>" for line in res.findings),
        "<h2>Figures</h2>",
        *(f"<p><img src='figures/{esc(n)}.png' alt='{esc(n)}'></p>" for n in figures),
    ]
    if res.sounds:
        parts.append("<h2>Listen</h2>")
        for name, (_, _, text) in res.sounds.items():
            parts.append(
                f"<p><b>{esc(name)}</b>: {esc(text)}<br>"
                f"<audio controls src='audio/{esc(name)}.wav'></audio></p>"
            )
    parts.append("<h2>Tables</h2><ul>")
    parts += [f"<li><a href='{esc(n)}.csv'>{esc(n)}.csv</a></li>" for n in res.tables]
    parts.append("</ul></body></html>\n")
    write_atomic(tmp / "report.html", "\n".join(parts))


def load_lab_protocol(data: Mapping[str, Any]) -> LabProtocol:
    """Validate a whole synapse-lab protocol without running it (``v1lab --check``).

    Raises ParameterError naming ``section.field`` at the first bad value.
    """
    return parse_lab_protocol(data, name="protocol")


def run_lab_protocol(
    data: Mapping[str, Any],
    folder: Path,
    *,
    name: str,
    overwrite: bool = False,
    play: bool = False,
    quiet: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """Validate, simulate and write the run folder of a synapse-lab protocol.

    Parameters
    ----------
    data : mapping
        The protocol as read from TOML (``lab = "synapse"``).
    folder : Path
        The run folder to write.
    name : str
        The protocol's name (its file stem).
    overwrite : bool
        Replace an existing ``folder`` (only once the new one is complete).
    play : bool
        Afterwards, play the sounds through the default output device.
    quiet : bool
        Print nothing but errors.
    out : text stream

    Returns
    -------
    int
        0.

    Raises
    ------
    ParameterError
        A bad protocol value, naming ``section.field`` (before anything runs).
    RunFolderError
        The folder exists (without ``overwrite``) or cannot be written; nothing is left.
    """
    from v1lab.io import check_run_folder, save_run

    protocol = parse_lab_protocol(data, name=name)
    folder = check_run_folder(Path(folder), overwrite=overwrite)
    if not quiet:
        out.write(f"v1lab: {name} — synapse lab, {protocol.experiment}, seed {protocol.seed}\n")
    res = _RUNNERS[protocol.experiment](protocol)
    recording = _LabRecording(
        protocol, _Units(res.units), res.spike_times, res.presentations, res.duration_s
    )
    figures: list[str] = []

    def tables(_: Any, tmp: Path) -> None:
        _write_tables(res, tmp)

    def audio(_: Any, tmp: Path) -> None:
        _write_audio(res, tmp, protocol.seed)

    def figs(_: Any, tmp: Path) -> None:
        figures.extend(_write_figures(protocol.experiment, res, tmp))

    def report(_: Any, tmp: Path) -> None:
        _write_report(protocol, res, figures, tmp)

    extra = {"tables": tables, "audio": audio, "figures": figs, "report.html": report}
    save_run(recording, folder, overwrite=overwrite, extra=extra)
    if not quiet:
        for line in res.findings:
            out.write(f"  {line}\n")
        out.write(f"wrote {folder}\n")
    if play and res.sounds:
        _play(folder, res, out)
    return 0


def _play(folder: Path, res: LabResult, out: TextIO) -> None:
    from v1lab.audio import check_audio_output, load_wav, play_audio

    problem = check_audio_output(None)
    if problem is not None:
        out.write(f"v1lab: not playing: {problem} (the WAVs are in {folder / 'audio'})\n")
        return
    for name, (_, _, text) in res.sounds.items():
        audio, fs = load_wav(folder / "audio" / f"{name}.wav")
        out.write(f"Playing {name}: {text}\n")
        out.write(f"v1lab: {play_audio(audio, fs).describe()}\n")

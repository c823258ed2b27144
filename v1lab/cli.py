"""Command line: ``v1lab`` (= ``python run_experiment.py``).

With no arguments it runs the default protocol (``hubel_wiesel_bars``) and writes a
run folder. Every problem with the input is reported in one line before any work
(``--check`` stops there), a run folder that cannot be written in one line too, and
Ctrl-C ends in one line at any moment once Python has started (during imports too).

Exit codes: 0 done, 1 the run folder could not be written (nothing was left behind),
2 bad input (nothing was done), 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from v1lab._validate import ParameterError, check_choice

__all__ = ["main", "make_parser"]


SPIKING_CHOICES = ("poisson", "lif", "hodgkin_huxley")

#: Lab protocols: a protocol file whose top level says ``lab = "<kind>"`` is run by the
#: ``run_lab_protocol`` of the package named here, not by the visual experiment.
LABS = {"axon": "v1lab.axon", "synapse": "v1lab.synapse"}


def make_parser() -> argparse.ArgumentParser:
    from v1lab.protocol import DEFAULT_PROTOCOL

    parser = argparse.ArgumentParser(
        prog="v1lab",
        description=(
            "Run a simulated Hubel & Wiesel experiment: stimuli sweep over a model retina, "
            "V1 cells fire, and the run folder gets the spikes (NWB, NPZ), tables and figures."
        ),
    )
    parser.add_argument(
        "--protocol",
        default=DEFAULT_PROTOCOL,
        metavar="NAME|PATH",
        help=(
            "protocol to run: a shipped name (see --list) or a .toml file "
            f"(default: {DEFAULT_PROTOCOL})"
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="run folder to write (default: runs/<YYYYmmdd-HHMMSS>_<protocol>)",
    )
    parser.add_argument(
        "--seed", type=int, metavar="N", help="override the protocol's seed (N >= 0)"
    )
    parser.add_argument("--list", action="store_true", help="list the shipped protocols and exit")
    parser.add_argument(
        "--quiet", action="store_true", help="print only the run folder (and errors)"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out folder (only once the new run is complete)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=(
            "check the protocol, the options, the destination and the memory the run needs, "
            "say what would run, and exit without running it (not with --live)"
        ),
    )
    parser.add_argument(
        "--spiking",
        choices=SPIKING_CHOICES,
        help="override the protocol's spike generator (spiking.model)",
    )
    sound = parser.add_argument_group("sound (the pops Hubel & Wiesel heard)")
    sound.add_argument(
        "--play",
        action="store_true",
        help=(
            "after the run, play the demonstration: the slit swept at the cell's preferred "
            "direction, then at the orthogonal one"
        ),
    )
    sound.add_argument(
        "--listen",
        type=int,
        metavar="CELL",
        help="the cell under the electrode (default: the most responsive); others are fainter",
    )
    sound.add_argument(
        "--device", metavar="NAME|INDEX", help="audio output device (see --list-devices)"
    )
    sound.add_argument("--list-devices", action="store_true", help="list audio outputs and exit")
    sound.add_argument(
        "--no-audio", action="store_true", help="no sound: write no audio/ WAV files, play nothing"
    )
    live = parser.add_argument_group("live (steer a slit with the mouse)")
    live.add_argument(
        "--live", action="store_true", help="open the live tangent screen and hear the cell"
    )
    live.add_argument(
        "--mystery",
        action="store_true",
        help="with --live: map a hidden random cell, then reveal it",
    )
    return parser


def _describe(stimulus: Any) -> str:
    params = stimulus.trial_params()
    keys = [
        k
        for k in ("orientation_deg", "direction_deg", "contrast", "spatial_frequency_cpd")
        if k in params
    ]
    shown = " ".join(f"{k}={params[k]:g}" for k in keys if params[k] == params[k])
    return f"{stimulus.kind} {shown}".strip()


def _progress_printer(stream: TextIO) -> Any:
    width = 24

    def show(index: int, total: int, stimulus: Any, seconds: float) -> None:
        done = index + 1
        filled = round(width * done / total)
        bar = "█" * filled + "·" * (width - filled)
        stream.write(
            f"[{done:>{len(str(total))}}/{total}] |{bar}| {_describe(stimulus)} ({seconds:.2f} s)\n"
        )
        stream.flush()

    return show


def _list(stream: TextIO) -> None:
    from v1lab.protocol import list_protocols

    rows = list_protocols()
    width = max((len(n) for n, _ in rows), default=0)
    for name, description in rows:
        stream.write(f"{name:<{width}}  {description}\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (see the module docstring).

    Everything, the imports of the heavy modules included, runs inside one handler, so
    a Ctrl-C at any moment ends in one line.
    """
    err = sys.stderr
    try:
        with _ctrl_c_waits_for_imports():
            argv = sys.argv[1:] if argv is None else list(argv)
            if argv[:1] == ["card"]:  # `v1lab card …`: the population card (v1lab.card.run)
                from v1lab.card.run import main as card_main

                return card_main(argv[1:])
            if argv[:1] == ["sweep"]:  # `v1lab sweep …`: a parameter sweep (v1lab.sweep.run)
                from v1lab.sweep import main as sweep_main

                return sweep_main(argv[1:], save_folder=save_recording_folder)
            if argv[:1] == ["learn"]:  # `v1lab learn …`: fields from natural images
                from v1lab.learn.run import main as learn_main

                return learn_main(argv[1:])
            args = make_parser().parse_args(argv)
            out = sys.stdout
            if args.list:
                _list(out)
                return 0
            if args.list_devices:
                from v1lab.audio import list_devices

                out.write(list_devices().rstrip("\n") + "\n")
                return 0
            if args.live or args.mystery:
                return _live(args)
            return _run(args, out)
    except ParameterError as exc:
        return _error(exc, 2)
    except OSError as exc:
        from v1lab.io import RunFolderError

        if not isinstance(exc, (FileExistsError, RunFolderError)):
            raise
        return _error(exc, 2)
    except KeyboardInterrupt:
        err.write(INTERRUPTED)
        return 130


#: What Ctrl-C prints (``run_experiment.py`` prints the same while it imports this).
INTERRUPTED = "v1lab: interrupted; nothing was written\n"


def _inside_import(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _ctrl_c_waits_for_imports() -> Iterator[None]:
    """Within it, Ctrl-C raises KeyboardInterrupt at once, except inside an import:
    there it waits for the import to finish.

    A KeyboardInterrupt raised in the middle of numpy's or scipy's import can be
    swallowed by their C code (the run then goes on) or leave a half-made module that
    fails later with another error and its traceback. Held until the import is done, it
    arrives where ``main`` catches it. Outside the main thread, Ctrl-C is left alone.
    """
    import _thread
    import signal
    import threading

    lock = threading.Lock()
    active = True

    def forward_when_imported(main_ident: int) -> None:
        while True:
            time.sleep(0.01)
            with lock:
                frame = sys._current_frames().get(main_ident)
                if not active or frame is None:
                    return
                if not _inside_import(frame):
                    _thread.interrupt_main(signal.SIGINT)  # calls on_ctrl_c again, there
                    return

    def on_ctrl_c(signum: int, frame: FrameType | None) -> None:
        if not _inside_import(frame):
            raise KeyboardInterrupt
        ident = threading.main_thread().ident
        threading.Thread(target=forward_when_imported, args=(ident,), daemon=True).start()

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # a background job: Ctrl-C is off
        yield
        return
    try:
        previous = signal.signal(signal.SIGINT, on_ctrl_c)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        with lock:
            active = False
            if previous is not None:  # None: a handler set outside Python, left as it was
                signal.signal(signal.SIGINT, previous)


def _error(exc: Exception, code: int) -> int:
    """Report ``exc`` in one line on stderr; return ``code``."""
    sys.stderr.write("v1lab: error: " + " ".join(str(exc).splitlines()) + "\n")
    return code


def _lab_data(name_or_path: str) -> tuple[str, dict[str, Any]] | None:
    """``(name, data)`` of a lab protocol whose kind this command runs, or None."""
    from v1lab.protocol import load_lab_data

    lab = load_lab_data(name_or_path)
    if lab is not None:
        check_choice("lab", lab[1]["lab"], tuple(LABS))
    return lab


def _run_lab(args: argparse.Namespace, name: str, data: dict[str, Any], out: TextIO) -> int:
    import importlib

    from v1lab.io import RunFolderError, check_run_folder, default_run_folder

    for option in ("seed", "spiking", "listen", "live", "mystery"):
        if getattr(args, option) not in (None, False):
            value = getattr(args, option)
            raise ParameterError(f"--{option}", value, f"a {data['lab']} lab has no {option}")
    folder = args.out if args.out is not None else default_run_folder(name)
    lab = importlib.import_module(LABS[data["lab"]])
    if args.check:
        lab.load_lab_protocol(data)  # the whole file validated, nothing simulated
        check_run_folder(folder, overwrite=args.overwrite)
        if not args.quiet:
            out.write(f"v1lab: {name} ({data['lab']} lab) is ready; it would write {folder}\n")
        return 0
    try:
        code = lab.run_lab_protocol(
            data, folder, name=name, overwrite=args.overwrite, play=args.play,
            quiet=args.quiet, out=out,
        )  # fmt: skip
    except RunFolderError as exc:
        if isinstance(exc, FileExistsError):
            raise
        return _error(exc, 1)
    if code == 0:
        out.write(f"{folder}\n" if args.quiet else f"Run folder: {folder}\n")
    return code


def _run(args: argparse.Namespace, out: TextIO) -> int:
    from v1lab.experiment import check_resources, estimate_memory_bytes, run_protocol
    from v1lab.io import RunFolderError, check_run_folder, default_run_folder
    from v1lab.plots.worker import start_figure_worker

    lab = _lab_data(args.protocol)
    if lab is not None:
        return _run_lab(args, *lab, out)
    protocol = _load(args)
    folder = args.out if args.out is not None else default_run_folder(protocol.name)
    check_run_folder(folder, overwrite=args.overwrite)
    check_resources(protocol)

    n_cond = len(protocol.conditions())
    if args.check:
        if not args.quiet:
            need = sum(estimate_memory_bytes(protocol).values())
            out.write(
                f"v1lab: {protocol.name} is ready: {n_cond} conditions × "
                f"{protocol.trials.n_trials} trials, seed {protocol.seed}, about "
                f"{need / 1e9:.2f} GB of memory; it would write {folder}\n"
            )
        return 0
    if not args.quiet:
        out.write(
            f"v1lab: {protocol.name} — {n_cond} conditions × {protocol.trials.n_trials} trials, "
            f"seed {protocol.seed}\n"
        )
    tic = time.perf_counter()
    # Started now, so that its imports overlap the simulation; it draws figures later.
    worker = start_figure_worker(protocol.population.n_cells)
    with worker if worker is not None else contextlib.nullcontext():
        recording = run_protocol(protocol, progress=None if args.quiet else _progress_printer(out))
        if args.listen is not None and not 0 <= args.listen < recording.n_cells:
            raise ParameterError(
                "--listen", args.listen, f"expected a cell in [0, {recording.n_cells - 1}]"
            )
        if not args.quiet:
            out.write(f"simulated in {time.perf_counter() - tic:.1f} s; writing {folder} …\n")
        sound: dict[str, Any] = {}
        try:
            save_recording_folder(
                recording, folder, overwrite=args.overwrite, audio=not args.no_audio,
                listen=args.listen, sound=sound, figure_worker=worker,
            )  # fmt: skip
        except RunFolderError as exc:
            return _error(exc, 1)
    out.write(f"{folder}\n" if args.quiet else f"Run folder: {folder}\n")
    if args.play:
        _play(recording, folder, sound, args, out)
    return 0


def _load(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from v1lab.protocol import load_protocol

    protocol = load_protocol(args.protocol)
    if args.seed is not None:
        protocol = protocol.with_seed(args.seed)
    if args.spiking is not None:
        protocol = replace(protocol, spiking=replace(protocol.spiking, model=args.spiking))
    return protocol


def _play(
    recording: Any, folder: Path, sound: dict[str, Any], args: argparse.Namespace, out: TextIO
) -> None:
    """Play H&W's demonstration; if that is impossible, say why in one line."""
    from v1lab.audio import check_audio_output, load_wav, play_audio

    demo = sound.get("demo")
    if demo is None:
        out.write(
            "v1lab: nothing to play: this protocol has no pair of conditions to contrast "
            "(directions, bar lengths or light and dark spots)\n"
        )
        return
    problem = check_audio_output(args.device)
    if problem is not None:
        out.write(f"v1lab: not playing: {problem} (the WAVs are in {folder / 'audio'})\n")
        return
    cell = sound["cell"]
    audio, fs = load_wav(Path(folder) / "audio" / Path(demo).name)
    out.write(
        f"Playing cell {cell} ({recording.population.cell_type[cell]}): {sound['demo_text']} …\n"
    )
    result = play_audio(audio, fs, device=args.device)
    out.write(f"v1lab: {result.describe()}\n")


def _live(args: argparse.Namespace) -> int:
    from v1lab import live

    return live.run_live(
        protocol=_load(args),
        cell=args.listen,
        mystery=args.mystery,
        device=args.device,
        out=args.out,
        overwrite=args.overwrite,
        audio=not args.no_audio,
    )


def save_recording_folder(
    recording: Any,
    folder: Path,
    *,
    overwrite: bool = False,
    audio: bool = True,
    listen: int | None = None,
    sound: dict[str, Any] | None = None,
    figure_worker: Any = None,
) -> Path:
    """Write the full run folder: data files, metrics.csv, figures, audio/ and report.html.

    ``sound``, if given, receives what :func:`v1lab.audio.save_run_audio` returned.
    With a :class:`v1lab.plots.worker.FigureWorker`, figures are drawn in it while the
    data files and the audio are written, and in this process once those are done.
    """
    from v1lab.analysis import compute_metrics
    from v1lab.io import save_run, save_table_csv
    from v1lab.plots.worker import FigureBatch
    from v1lab.report import save_report

    metrics = compute_metrics(recording)
    figures = FigureBatch(recording, metrics, worker=figure_worker)

    def write_metrics(rec: Any, tmp: Path) -> None:
        save_table_csv(tmp / "metrics.csv", metrics)

    def write_figures(rec: Any, tmp: Path) -> None:
        figures.write(tmp / "figures")

    def write_report(rec: Any, tmp: Path) -> None:
        save_report(rec, tmp, metrics, audio=audio)

    def write_audio(rec: Any, tmp: Path) -> None:
        from v1lab.audio import save_run_audio

        result = save_run_audio(rec, tmp, cell=listen)
        if sound is not None:
            sound.update(result)

    # Audio before figures: with a helper process the figures are being drawn meanwhile.
    writers = {"metrics.csv": write_metrics}
    if audio:
        writers["audio"] = write_audio
    writers["figures"] = write_figures
    writers["report.html"] = write_report
    try:
        return save_run(recording, folder, overwrite=overwrite, extra=writers)
    finally:
        figures.cancel()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

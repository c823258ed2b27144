"""The entry point of ``v1lab --live``: :func:`run_live`, and :func:`check_display`.

:func:`run_live` checks that a window can be opened, chooses the cells
(:func:`~v1lab.live.electrode.make_live_config`), starts the engine's process
(:class:`~v1lab.live.realtime.EngineHandle`) and shows the window
(:class:`~v1lab.live.window.LiveWindow`) until the student quits.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from v1lab._validate import check_number
from v1lab.live._common import one_line
from v1lab.live.electrode import make_live_config
from v1lab.live.realtime import EngineHandle
from v1lab.live.window import LiveWindow

_ENV_MAX_SECONDS = "V1LAB_LIVE_MAX_SECONDS"
_ENV_GEOMETRY = "V1LAB_LIVE_GEOMETRY"

_RUN_A_PROTOCOL = "run a protocol instead (`v1lab --protocol hubel_wiesel_bars --play`)"
_NO_DISPLAY_FIX = (
    "run it in a desktop session, over `ssh -X`, or under a virtual display "
    f"(`xvfb-run -a v1lab --live`); without a screen, {_RUN_A_PROTOCOL}"
)


def check_display() -> str | None:
    """Say whether a window can be opened; if not, one line saying why and what to do.

    Examples
    --------
    >>> msg = check_display()
    >>> msg is None or "\\n" not in msg
    True
    """
    if sys.platform.startswith(("linux", "freebsd", "openbsd")) and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return (
            "--live needs a window and there is no display ($DISPLAY is not set); "
            + _NO_DISPLAY_FIX
        )
    try:
        import tkinter
    except ImportError as exc:
        # A Python built without Tk (a Debian/Ubuntu system Python, a venv made from
        # it) fails here: the fix is a package, not a display.
        return (
            f"--live needs tkinter ({one_line(exc)}): install Tk for this Python "
            "(Debian/Ubuntu: `sudo apt install python3-tk`; macOS Homebrew: "
            f"`brew install python-tk`); without it, {_RUN_A_PROTOCOL}"
        )
    try:
        root = tkinter.Tk()
    except tkinter.TclError as exc:
        return f"--live cannot open a window ({one_line(exc)}); {_NO_DISPLAY_FIX}"
    root.destroy()
    return None


def run_live(
    *,
    protocol: Any,
    cell: int | None = None,
    mystery: bool = False,
    device: str | int | None = None,
    out: Path | None = None,
    overwrite: bool = False,
    audio: bool = True,
    max_seconds: float | None = None,
    seed: int | None = None,
) -> int:
    """Open the live tangent screen; return the process exit code.

    Parameters
    ----------
    protocol : Protocol
        Gives the retina, the spike generator, the seed and (normal mode) the population.
    cell : int, optional
        The protocol cell under the electrode (``--listen``); default: the one nearest
        the screen's centre.
    mystery : bool
        Hide a random cell to be mapped, guessed and revealed.
    device : str or int, optional
        Audio output device (``--device``).
    out : path, optional
        Where ``s`` saves the session (default ``runs/<stamp>_<protocol>_live``).
    overwrite : bool
        Allow ``out`` to exist already (``--overwrite``).
    audio : bool
        False: run silent.
    max_seconds : float, optional
        Close the window after this long (also the environment variable
        ``V1LAB_LIVE_MAX_SECONDS``; for kiosks and tests).
    seed : int, optional
        Seed of a mystery cell (default: a fresh one, recorded when the session is saved).

    Returns
    -------
    int
        0 after a normal quit; 1 when no window can be opened (one line on stderr) or the
        engine failed; 2 for a save folder that exists.
    """
    problem = check_display()
    if problem is not None:
        sys.stderr.write(f"v1lab: {problem}\n")
        return 1
    from v1lab.io import check_run_folder, default_run_folder

    if mystery:
        import secrets

        protocol = protocol.with_seed(secrets.randbits(62) if seed is None else seed)
    folder = Path(out) if out is not None else default_run_folder(f"{protocol.name}_live")
    try:
        check_run_folder(folder, overwrite=overwrite)
    except FileExistsError as exc:
        sys.stderr.write(f"v1lab: error: {exc}\n")
        return 2
    config = make_live_config(protocol, cell=cell, mystery=mystery)
    if max_seconds is None and os.environ.get(_ENV_MAX_SECONDS):
        max_seconds = check_number(_ENV_MAX_SECONDS, float(os.environ[_ENV_MAX_SECONDS]), lo=0)
    log_dir = tempfile.mkdtemp(prefix="v1lab-live-")
    engine = EngineHandle(config, device=device, audio=audio, log_dir=log_dir)
    window = None
    try:
        window = LiveWindow(
            engine=engine,
            config=config,
            protocol=protocol,
            mystery=mystery,
            folder=folder,
            overwrite=overwrite,
            max_seconds=max_seconds,
            geometry_path=os.environ.get(_ENV_GEOMETRY),
        )
        code = window.run()
    except KeyboardInterrupt:
        code = 130
    finally:
        stats = engine.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    if window is not None:
        sys.stdout.write(window.summary(stats) + "\n")
        sys.stdout.flush()
    return code

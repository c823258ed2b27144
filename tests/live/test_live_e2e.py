"""``--live`` end to end: a real window (Xvfb), a real pointer (xdotool), real sound (jackd).

Nothing is mocked. A private Xvfb is the display and a private ``jackd --no-realtime -d
dummy`` the sound card; ``python run_experiment.py --live`` runs as a user would start it,
on a protocol whose one cell has a known receptive field. xdotool sweeps the pointer
across that RF with the slit at the cell's preferred orientation, turns the slit with the
scroll wheel, sweeps again at the orthogonal orientation, takes a screenshot of the
window, and presses ``s`` (save) and ``q`` (quit). The assertions read the saved session:
many more spikes in the first sweep than in the second, no audio underflow, a measured
latency under 100 ms, and the slit visible on the screenshot.

Needs the apt packages ``xvfb`` and ``xdotool`` (display), ``libportaudio2`` and ``jackd2``
(sound); it skips (a failure in CI, see conftest.py) without them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import _audio_stack
import _xvfb
import numpy as np
import pytest

from v1lab.io import load_npz
from v1lab.protocol import dump_toml

pytestmark = [pytest.mark.audio, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
jack_server = _audio_stack.jack_server  # fixture: a private dummy jackd
display = _xvfb.display  # fixture: a private Xvfb display

RF_X, RF_Y = 0.5, -0.5  # the cell's receptive-field centre (deg)
PREFERRED_DEG = 90.0  # a vertical slit; the window starts with the slit vertical
SWEEP_DEG = 3.0  # the pointer travels ±3 deg either side of the RF centre
SPEED_DEG_S = 4.0  # as in the hubel_wiesel_bars protocol

KNOWN_CELL = {
    "name": "live_e2e",
    "description": "one complex cell with a known RF, for the --live end-to-end test",
    "seed": 11,
    "population": {
        "cells": [
            {
                "type": "complex",
                "x_deg": RF_X,
                "y_deg": RF_Y,
                "orientation_deg": PREFERRED_DEG,
                "r_max_hz": 150.0,
                "spontaneous_hz": 0.5,
            }
        ]
    },
    "stimuli": [{"kind": "bar", "speed_deg_s": 4.0, "duration_s": 1.0, "direction_deg": 0.0}],
}


class LiveApp:
    """``run_experiment.py --live`` in a subprocess, driven with xdotool."""

    def __init__(self, tmp: Path, display: str, device: int) -> None:
        self.tmp = tmp
        protocol = tmp / "live_e2e.toml"
        protocol.write_text(dump_toml(KNOWN_CELL))
        self.out = tmp / "session"
        self.geometry_path = tmp / "geometry.json"
        self.env = dict(
            os.environ,
            DISPLAY=display,
            V1LAB_LIVE_GEOMETRY=str(self.geometry_path),
            V1LAB_LIVE_MAX_SECONDS="120",  # a safety net: the test quits with q long before
            PYTHONPATH=os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
        )
        cmd = [
            sys.executable,
            str(REPO_ROOT / "run_experiment.py"),
            "--live",
            "--protocol",
            str(protocol),
            "--listen",
            "0",
            "--device",
            str(device),
            "--out",
            str(self.out),
        ]
        self.t_launch = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.geometry: dict = {}

    @staticmethod
    def _read(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def log(self) -> str:
        return "stdout:\n" + "\n".join(self.stdout) + "\nstderr:\n" + "\n".join(self.stderr[-40:])

    def wait_ready(self, timeout_s: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while not self.geometry_path.exists():
            if self.proc.poll() is not None:
                pytest.fail(f"--live exited early ({self.proc.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"--live window not ready after {timeout_s} s:\n{self.log()}")
            time.sleep(0.1)
        self.geometry = json.loads(self.geometry_path.read_text())
        return self.geometry

    def px(self, x_deg: float, y_deg: float) -> tuple[int, int]:
        (ax, bx), (ay, by) = self.geometry["x_px"], self.geometry["y_px"]
        return round(ax + bx * x_deg), round(ay + by * y_deg)

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env, check=True, capture_output=True)

    def move(self, x_deg: float, y_deg: float) -> None:
        x, y = self.px(x_deg, y_deg)
        self.xdotool("mousemove", str(x), str(y))

    def sweep(self, start: tuple[float, float], stop: tuple[float, float]) -> None:
        """Move the pointer from start to stop at SPEED_DEG_S, in 20-ms steps."""
        distance = float(np.hypot(stop[0] - start[0], stop[1] - start[1]))
        n = max(1, round(distance / SPEED_DEG_S / 0.02))
        t0 = time.monotonic()
        for i in range(n + 1):
            a = i / n
            self.move(start[0] + a * (stop[0] - start[0]), start[1] + a * (stop[1] - start[1]))
            # Keep the speed whatever xdotool's own start-up time is.
            delay = t0 + (i + 1) * 0.02 - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def wait_stdout(self, pattern: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.stdout:
                if re.search(pattern, line):
                    return line
            if self.proc.poll() is not None and not any(r.is_alive() for r in self._readers):
                break
            time.sleep(0.1)
        pytest.fail(f"no stdout line matching {pattern!r}:\n{self.log()}")

    def close(self) -> None:
        if self.proc.poll() is None:  # a failed test: stop the app (its engine follows it)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _screenshot(display: str):
    from PIL import ImageGrab

    return ImageGrab.grab(xdisplay=display)


def _bright_blob(image, box: tuple[int, int, int, int]) -> tuple[int, int]:
    """Width and height (px) of the near-white pixels inside box (x0, y0, x1, y1)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    x0, y0, x1, y1 = (round(v) for v in box)
    inside = rgb[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
    white = np.all(inside >= 235, axis=2)
    rows, cols = np.flatnonzero(white.any(axis=1)), np.flatnonzero(white.any(axis=0))
    if rows.size == 0:
        return 0, 0
    return int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def _sweep_window(traj: np.ndarray, columns: list[str], orientation: float) -> tuple[float, float]:
    """First and last frame time (s) at which the hand moved the slit at this orientation."""
    col = {c: i for i, c in enumerate(columns)}
    t = traj[:, col["t_s"]]
    ori = traj[:, col["orientation_deg"]] % 180.0
    moving = np.concatenate(
        [[False], np.hypot(np.diff(traj[:, col["x_deg"]]), np.diff(traj[:, col["y_deg"]])) > 0]
    )
    sel = moving & (np.abs(ori - orientation % 180.0) < 1e-6)
    assert sel.any(), f"no movement at orientation {orientation}"
    return float(t[sel][0]), float(t[sel][-1])


def test_live_window_slit_sweeps_and_sound(jack_server, display, tmp_path):
    app = LiveApp(tmp_path, display, jack_server.device)
    try:
        geometry = app.wait_ready()
        assert geometry["notice"] is None, f"running silent: {geometry['notice']}"
        t_ready = time.monotonic() - app.t_launch
        # Sweep 1: the vertical slit (the cell's preferred orientation) moved across the RF,
        # there and back, as in the film.
        left, right = (RF_X - SWEEP_DEG, RF_Y), (RF_X + SWEEP_DEG, RF_Y)
        app.move(*left)
        time.sleep(0.5)
        app.sweep(left, right)
        app.sweep(right, left)
        # Turn the slit by 90° with the scroll wheel (6 notches of 15°).
        below, above = (RF_X, RF_Y - SWEEP_DEG), (RF_X, RF_Y + SWEEP_DEG)
        app.move(*below)
        for _ in range(6):
            app.xdotool("click", "4")
            time.sleep(0.05)
        time.sleep(0.5)
        # Sweep 2: the horizontal slit moved across the RF, there and back.
        app.sweep(below, above)
        app.sweep(above, below)
        app.move(RF_X, RF_Y)  # park the slit on the RF for the screenshot
        time.sleep(0.5)
        shot = _screenshot(display)
        shot.save(tmp_path / "live_window.png")
        app.xdotool("key", "s")
        app.wait_stdout(r"saved the session to", timeout_s=120.0)
        app.xdotool("key", "q")
        code = app.proc.wait(timeout=60)
        summary = app.wait_stdout(r"^v1lab live:", timeout_s=10.0)
    finally:
        app.close()
    assert code == 0, app.log()
    assert t_ready < 90.0

    # The screenshot shows the slit: a white horizontal bar of 4 × 0.5 deg on the grey
    # screen (horizontal because the wheel turned it), centred where the pointer parked.
    scale = geometry["x_px"][1]  # pixels per degree
    width_px, height_px = _bright_blob(shot, geometry["screen_axes_px"])
    assert abs(width_px - 4.0 * scale) < 0.15 * 4.0 * scale, (width_px, height_px, scale)
    assert abs(height_px - 0.5 * scale) < 0.3 * 0.5 * scale + 3, (width_px, height_px, scale)
    cx, cy = app.px(RF_X, RF_Y)
    rgb = np.asarray(shot.convert("RGB"), dtype=np.int16)
    assert np.all(rgb[cy, cx] >= 235), rgb[cy, cx]  # on the slit: white
    gx, gy = app.px(RF_X, RF_Y + 1.0)
    assert np.all(np.abs(rgb[gy, gx] - 128) <= 12), rgb[gy, gx]  # beside it: the grey screen

    # The saved session: the trajectory says when each sweep happened; the spikes of the
    # cell (allowing 0.1 s for its response latency) say how it answered.
    out = app.out
    facts = json.loads((out / "live_session.json").read_text())
    columns = facts["trajectory_columns"]
    traj = np.loadtxt(out / "trajectory.csv", delimiter=",", skiprows=1)
    spikes = load_npz(out / "recording.npz")["spike_times"][0]
    counts = []
    for orientation in (PREFERRED_DEG, PREFERRED_DEG + 90.0):
        lo, hi = _sweep_window(traj, columns, orientation)
        counts.append(int(np.count_nonzero((spikes >= lo) & (spikes < hi + 0.1))))
    preferred, orthogonal = counts
    assert preferred >= 20, counts
    assert preferred > 4 * orthogonal, counts

    # The NWB file has the trajectory as a time series and the sweeps in its trials table.
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(out / "recording.nwb"), "r") as nwb_io:
        nwb = nwb_io.read()
        series = nwb.stimulus["stimulus_trajectory"]
        assert series.data.shape == (traj.shape[0], len(columns) - 1)
        orientations = set(np.round(nwb.trials["orientation_deg"][:], 6))
        assert {90.0, 0.0} <= orientations, orientations
    assert (out / "audio" / "session.wav").is_file()

    # Sound: no underflow, and a mouse-to-sound latency under 100 ms (target 50 ms).
    audio = facts["audio"]
    assert audio["audio"] and "JACK" in (audio["host_api"] or ""), audio
    assert audio["underflows"] == 0, (audio["underflows"], audio["underflow_at_s"], audio)
    match = re.search(r"(\d+) underflows", summary)
    assert match and int(match.group(1)) == 0, summary
    latency = facts["latency_ms"]
    assert latency["n_events"] >= 30, latency
    assert latency["median"] < 100.0, latency
    print(
        f"\nlive e2e: spikes preferred {preferred}, orthogonal {orthogonal}; "
        f"latency median {latency['median']:.1f} ms (p90 {latency['p90']:.1f}, "
        f"{latency['n_events']} events); {summary}"
    )

"""A fixture of the live tests: a private X display (Xvfb) for the tests that open the window.

Use it as ``display = _xvfb.display`` in a test module.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_display() -> int:
    for n in range(90, 190):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    pytest.fail("no free X display number in :90–:189")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb display (1280 × 1024, 24 bit); skips if Xvfb or xdotool is missing."""
    xvfb, xdotool = shutil.which("Xvfb"), shutil.which("xdotool")
    if xvfb is None or xdotool is None:
        pytest.skip("Xvfb or xdotool not installed; apt-get install xvfb xdotool")
    name = f":{_free_display()}"
    proc = subprocess.Popen(
        [xvfb, name, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    env = dict(os.environ, DISPLAY=name)
    deadline = time.monotonic() + 15.0
    try:
        while True:
            ok = subprocess.run(
                [xdotool, "getdisplaygeometry"], env=env, capture_output=True, check=False
            )
            if ok.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Xvfb {name} did not start: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.1)
        yield name
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

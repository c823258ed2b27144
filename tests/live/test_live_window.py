"""The live window says which scheduling priority the engine runs at: real-time or normal.

The window runs in a subprocess on a private Xvfb display (so that this process keeps its
own matplotlib backend). Once with a stand-in engine that reports normal priority, once with
the real engine process (silent): the footer must say what the kernel granted that process,
read independently with ``os.sched_getscheduler``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import _xvfb
import pytest

from v1lab.live.window import priority_text

ROOT = Path(__file__).resolve().parents[2]
display = _xvfb.display  # fixture: a private Xvfb display

WINDOW_SCRIPT = r"""
import json, os, sys, tempfile, time
from pathlib import Path

import matplotlib.pyplot as plt

from v1lab.live.electrode import make_live_config
from v1lab.live.realtime import EngineHandle
from v1lab.live.window import LiveWindow
from v1lab.protocol import load_protocol


class StandInEngine:
    def __init__(self, info):
        self.sent, self._messages = [], [("ready", info)]

    def send(self, *msg):
        self.sent.append(msg)

    def messages(self):
        out, self._messages = self._messages, []
        return out


def show(engine, config, protocol, folder):
    window = LiveWindow(
        engine=engine, config=config, protocol=protocol, mystery=False, folder=folder,
        overwrite=False, max_seconds=None, geometry_path=None,
    )
    deadline = time.monotonic() + 120.0
    while not window.ready and window.error is None and time.monotonic() < deadline:
        plt.pause(0.05)
    plt.pause(0.2)  # a few more ticks: the footer is drawn
    texts = [t.get_text() for t in window.fig.texts]
    plt.close(window.fig)
    return {"ready": window.ready, "error": window.error, "texts": texts}


protocol = load_protocol("hubel_wiesel_bars")
config = make_live_config(protocol)
log_dir = tempfile.mkdtemp(prefix="v1lab-live-test-")
out = {"stand_in": show(StandInEngine({"notice": "sound off", "priority": "normal"}), config,
                        protocol, Path(log_dir) / "unused")}
engine = EngineHandle(config, device=None, audio=False, log_dir=log_dir)
try:
    out["real"] = show(engine, config, protocol, Path(log_dir) / "unused")
    policy = os.sched_getscheduler(engine.process.pid)
    out["real"]["kernel_real_time"] = policy in (os.SCHED_RR, os.SCHED_FIFO)
finally:
    engine.stop()
print(json.dumps(out))
"""


@pytest.mark.parametrize("priority", ["real-time (SCHED_RR 10)", "normal (nice -5)", "normal"])
def test_priority_text_names_the_policy(priority):
    assert priority_text(priority) == f"engine priority: {priority}"


@pytest.mark.slow  # a display and the engine's process: tens of seconds on a busy machine
def test_the_window_shows_the_engine_s_scheduling_priority(display, tmp_path):
    env = dict(os.environ, DISPLAY=display)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", WINDOW_SCRIPT],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    stand_in = out["stand_in"]
    assert stand_in["ready"] and "engine priority: normal" in stand_in["texts"]
    real = out["real"]
    assert real["ready"] and real["error"] is None, real
    shown = [t for t in real["texts"] if t.startswith("engine priority: ")]
    assert len(shown) == 1, real["texts"]
    expected = (
        "engine priority: real-time" if real["kernel_real_time"] else "engine priority: normal"
    )
    assert shown[0].startswith(expected), (shown, real["kernel_real_time"])

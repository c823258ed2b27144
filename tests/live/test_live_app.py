"""``--live`` without a display: one line saying why and what to do, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from v1lab.live import (
    check_display,
    run_live,
)
from v1lab.protocol import load_protocol

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------
# Without a display
# --------------------------------------------------------------------------------------


def test_without_a_display_live_says_so_in_one_line(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    message = check_display()
    assert message is not None and "\n" not in message and "xvfb-run" in message
    protocol = load_protocol("hubel_wiesel_bars")
    assert run_live(protocol=protocol, out=None) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "display" in err and "--protocol" in err


def test_without_tkinter_live_names_the_package_to_install(monkeypatch):
    # A Python built without Tk (a Debian/Ubuntu system Python and venvs made from it):
    # the display is there, the module is not; the fix is a package, said in one line.
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setitem(sys.modules, "tkinter", None)  # makes `import tkinter` fail
    message = check_display()
    assert message is not None and "\n" not in message
    assert "needs tkinter" in message and "python3-tk" in message and "--protocol" in message


def test_cli_live_without_a_display_exits_at_once_without_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run_experiment.py"), "--live", "--out", str(tmp_path / "x")],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.startswith("v1lab: --live needs a window") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "x").exists()

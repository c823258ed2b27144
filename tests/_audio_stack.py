"""Fixtures and helpers for tests that use the REAL audio stack (no mocks).

* :func:`jack_server` starts ``jackd --no-realtime -d dummy -r 44100 -p 256`` — a clocked
  virtual sound card — under a private server name, points PortAudio's JACK host API at it
  (``JACK_DEFAULT_SERVER``) and re-initialises PortAudio so it sees the new device. The
  dummy card's clock is a thread of jackd: at normal priority on a busy machine it wakes
  late ("JackTimedDriver::Process XRun") and every client is told of an xrun, which a
  card's hardware clock never causes. So the fixture gives the server's threads
  real-time priority when the OS permits (:attr:`JackServer.realtime`). ``--no-realtime``
  stays: it keeps JACK from making its clients real-time, so the priority of the thread
  that runs v1lab's callback is v1lab's own doing (:func:`v1lab.audio.stream.request_realtime`).
* :func:`run_alsa_capture` plays audio with :func:`v1lab.audio.play_audio` in a subprocess
  whose ``$HOME`` holds an ``.asoundrc`` that routes ALSA's default PCM into a ``file``
  plugin over ``null``: the file records exactly what PortAudio's ALSA host API played.

Both skip (with the reason and the fix) when jackd or PortAudio is missing; CI must
install them so that these tests run rather than skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
JACK_RATE_HZ = 44100
JACK_PERIOD = 256
JACK_SERVER_PRIORITY = 20  # SCHED_FIFO, above the client's (v1lab.audio.stream.REALTIME_PRIORITY)


def import_sounddevice():
    """Return the sounddevice module, or skip the test saying how to install PortAudio."""
    try:
        import sounddevice as sd
    except (OSError, ImportError) as exc:
        pytest.skip(f"PortAudio/sounddevice unavailable ({exc}); apt-get install libportaudio2")
    return sd


def reinit_portaudio(sd) -> None:
    """Re-scan devices: PortAudio only sees host APIs/devices present at initialisation."""
    sd._terminate()
    sd._initialize()


def find_output_device(sd, hostapi_substring: str, name: str | None = None) -> int | None:
    """Index of the first output device of a host API (optionally with a given name)."""
    for api in sd.query_hostapis():
        if hostapi_substring.lower() not in api["name"].lower():
            continue
        for idx in api["devices"]:
            dev = sd.query_devices(idx)
            if dev["max_output_channels"] > 0 and (name is None or dev["name"] == name):
                return int(idx)
    return None


@dataclass(frozen=True)
class JackServer:
    """A running dummy-driver jackd and the PortAudio device that plays into it."""

    name: str
    device: int
    rate_hz: int
    process: subprocess.Popen
    log_path: Path
    realtime: bool  # the server's threads run SCHED_FIFO

    def log_lines(self) -> list[str]:
        """jackd's log so far."""
        return self.log_path.read_text(errors="replace").splitlines()

    def log_xruns(self, since: int = 0) -> list[str]:
        """jackd's xrun lines from log line ``since`` on (late clients, late driver)."""
        return [ln for ln in self.log_lines()[since:] if "XRun" in ln or "not finished" in ln]

    def machine_stalls(self, since: int = 0, *, client_realtime: bool) -> list[str]:
        """xrun lines from log line ``since`` on that no client's code can cause.

        The card's clock thread woke late ("JackTimedDriver::Process XRun"), or — when the
        client's thread has real-time priority — it had been woken but not yet run
        ("state = Triggered"): the machine did not run real-time threads in time. On a
        shared VM (2 vCPUs, many busy processes, a kernel without preemption) that happens
        a few times a minute even to a C client (jack_metro at SCHED_FIFO 10: 4 in 30 s
        at load 11). A client whose callback is too slow shows up as "state = Running";
        one at normal priority is "Triggered" because of its own priority.
        """
        marks = ["JackTimedDriver::Process XRun"] + (
            ["state = Triggered"] if client_realtime else []
        )
        return [ln for ln in self.log_xruns(since) if any(m in ln for m in marks)]


def make_threads_realtime(pid: int, priority: int) -> bool:
    """Give every thread of process ``pid`` SCHED_FIFO ``priority``; False if not permitted."""
    setter = getattr(os, "sched_setscheduler", None)
    if setter is None:
        return False
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            setter(int(tid), os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, ValueError):
        return False
    return True


def _stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JackServer]:
    """Start a private ``jackd --no-realtime -d dummy`` and yield its PortAudio device.

    Skips if jackd (apt package ``jackd2``) or PortAudio (``libportaudio2``) is missing.
    Fails (does not skip) if jackd is installed but does not come up.
    """
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip("jackd not installed; apt-get install jackd2 (virtual clocked sound card)")
    sd = import_sounddevice()
    name = f"v1lab-test-{os.getpid()}"
    log_path = tmp_path_factory.mktemp("jackd") / "jackd.log"
    cmd = [
        jackd,
        "-n",
        name,
        "--no-realtime",
        "-d",
        "dummy",
        "-r",
        str(JACK_RATE_HZ),
        "-p",
        str(JACK_PERIOD),
    ]
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("JACK_DEFAULT_SERVER", name)  # libjack (inside PortAudio) connects here
        mp.setenv("JACK_NO_START_SERVER", "1")
        deadline = time.monotonic() + 15.0
        jack_wait = shutil.which("jack_wait")
        if jack_wait is not None:
            subprocess.run(
                [jack_wait, "-s", name, "-w", "-t", "10"],
                capture_output=True,
                timeout=15,
                check=False,
            )
        device = None
        while device is None:
            if proc.poll() is not None:
                pytest.fail(f"jackd exited with {proc.returncode}: {log_path.read_text()}")
            reinit_portaudio(sd)
            device = find_output_device(sd, "JACK")
            if device is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"PortAudio does not see jackd {name!r}: {log_path.read_text()}")
                time.sleep(0.2)
        yield JackServer(
            name=name,
            device=device,
            rate_hz=JACK_RATE_HZ,
            process=proc,
            log_path=log_path,
            realtime=make_threads_realtime(proc.pid, JACK_SERVER_PRIORITY),
        )
    finally:
        # Close PortAudio's JACK client while the server is still there (killing the
        # server under a connected client aborts the process), then re-scan without it.
        sd._terminate()
        _stop_process(proc)
        mp.undo()
        sd._initialize()


# ----------------------------------------------------------------------------------------
# ALSA `file` plugin capture (run in a subprocess: ALSA reads $HOME/.asoundrc when PortAudio
# initialises, and the parent process must keep its own configuration).
# ----------------------------------------------------------------------------------------

ASOUNDRC = """pcm.!default {{
    type file
    slave.pcm "null"
    file "{capture}"
    format "raw"
}}
"""

_PLAYER = r"""
import json, sys
import numpy as np
import sounddevice as sd
from v1lab.audio import play_audio

audio = np.load(sys.argv[1])
fs = int(sys.argv[2])
device = None
for api in sd.query_hostapis():
    if api["name"] == "ALSA":
        for idx in api["devices"]:
            dev = sd.query_devices(idx)
            if dev["name"] == "default" and dev["max_output_channels"] > 0:
                device = idx
if device is None:
    print(json.dumps({"error": "no ALSA 'default' device", "devices": str(sd.query_devices())}))
    sys.exit(3)
res = play_audio(audio, fs, device=device)
print(json.dumps({"device": res.device, "host_api": res.host_api, "underflows": res.underflows,
                  "frames_played": res.frames_played, "wall_time_s": res.wall_time_s}))
"""


@dataclass(frozen=True)
class AlsaCapture:
    """What the ALSA ``file`` plugin recorded, and what the player reported."""

    raw: bytes
    report: dict


def run_alsa_capture(audio: np.ndarray, fs_hz: int, workdir: Path) -> AlsaCapture:
    """Play ``audio`` via PortAudio's ALSA default device into a raw capture file."""
    import_sounddevice()  # skip early if PortAudio is missing
    home = workdir / "home"
    home.mkdir()
    capture = workdir / "capture.raw"
    (home / ".asoundrc").write_text(ASOUNDRC.format(capture=capture))
    npy = workdir / "audio.npy"
    np.save(npy, audio)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JACK_")}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", _PLAYER, str(npy), str(fs_hz)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        pytest.fail(f"ALSA player failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    if not capture.exists():
        pytest.fail(f"ALSA file plugin wrote nothing to {capture}: {proc.stderr}")
    return AlsaCapture(raw=capture.read_bytes(), report=json.loads(lines[-1]))


def decode_raw(raw: bytes, channels: int) -> np.ndarray:
    """Decode the ``file`` plugin's headerless output.

    The plugin writes the slave's stream exactly as negotiated; on this machine PortAudio
    opens ALSA with FLOAT_LE (float32), the requested channel count and rate, interleaved.
    Fall back to S16_LE if the bytes are not plausible float32 audio.
    """
    if len(raw) % (4 * channels) == 0:
        f32 = np.frombuffer(raw, dtype="<f4")
        if np.all(np.isfinite(f32)) and np.max(np.abs(f32), initial=0.0) <= 1.0:
            return f32.reshape(-1, channels)
    i16 = np.frombuffer(raw[: len(raw) // (2 * channels) * 2 * channels], dtype="<i2")
    return (i16.astype(np.float32) / 32767.0).reshape(-1, channels)

"""Playback without a sound card (v1lab.audio.stream): ring buffer and "cannot play" lines.

The PortAudio callback is driven directly; tests on a real (virtual) sound card are in
test_audio_device.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from v1lab.audio import (
    AudioOutputError,
    AudioStream,
    check_audio_output,
    list_devices,
    play_audio,
)
from v1lab.audio.stream import PlaybackResult, _StreamDone, request_realtime

REPO_ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------
# Ring buffer (the callback logic, driven directly) and the "cannot play" messages
# --------------------------------------------------------------------------------------


def _drive(stream, frames, *, xrun=False):
    out = np.full((frames, stream.channels), np.nan, dtype=np.float32)
    stream._callback(
        out,
        frames,
        SimpleNamespace(outputBufferDacTime=1.01, currentTime=1.0),
        SimpleNamespace(output_underflow=xrun),
    )
    return out


def test_ring_buffer_push_wraps_fades_and_counts_underflows():
    s = AudioStream(fs_hz=1000, blocksize=10, buffer_s=0.05, fade_s=0.01)  # 50 frames, 10 fade
    assert s.capacity_frames == 50 and s.push(np.ones(30))
    assert not s.push(np.ones(30))  # full: refused, nothing queued
    out = _drive(s, 20)
    assert out[0, 0] == 0 and np.all(np.diff(out[:10, 0]) > 0) and np.all(out[10:, 0] == 1)
    assert s.push(np.full(30, 0.5))  # wraps around the end of the ring
    out = _drive(s, 50)
    np.testing.assert_array_equal(out[:, 0], np.r_[np.ones(10), np.full(30, 0.5), np.zeros(10)])
    assert s.stats.underflows == 1 and s.stats.underflow_frames == 10
    assert s.stats.measured_latency_s == pytest.approx(0.01)
    s.push(np.ones(25))
    s.finish()  # end of input: the last 10 frames fade out, then the stream stops
    with pytest.raises(_StreamDone):  # sounddevice.CallbackStop once started
        _drive(s, 30)
    assert s.stats.underflows == 1 and s.stats.frames_played == 85
    with pytest.raises(RuntimeError):
        s.push(np.ones(1))


def test_device_xruns_are_counted_apart_from_underflows():
    s = AudioStream(fs_hz=1000, blocksize=10, buffer_s=1.0)
    s.push(np.ones(100))
    _drive(s, 10, xrun=True)  # before the first call nothing of ours was playing
    _drive(s, 10)
    _drive(s, 10, xrun=True)  # PortAudio: the device missed samples since the last call
    _drive(s, 10, xrun=True)
    assert s.stats.xruns == 2 and s.stats.underflows == 0 and s.stats.blocks_played == 4


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux scheduling only")
def test_realtime_is_asked_for_on_the_device_thread_only():
    # Driven directly (no start()), the callback leaves the caller's scheduling alone.
    policy = os.sched_getscheduler(0)
    s = AudioStream(fs_hz=1000, blocksize=10, buffer_s=0.1)
    s.push(np.ones(20))
    _drive(s, 10)
    assert os.sched_getscheduler(0) == policy and not s.stats.realtime
    # On a thread of its own, request_realtime gives it SCHED_FIFO, or says it could not.
    seen = {}

    def audio_thread():
        seen["granted"] = request_realtime()
        seen["policy"] = os.sched_getscheduler(0)

    thread = threading.Thread(target=audio_thread)
    thread.start()
    thread.join()
    assert seen["policy"] == (os.SCHED_FIFO if seen["granted"] else policy)
    assert os.sched_getscheduler(0) == policy


def test_playback_line_names_xruns_underflows_and_latency():
    result = PlaybackResult(1.0, 1.01, 44100, 1, 2, 0.005, 0.0116, "system", "JACK", False)
    line = result.describe()
    assert line.startswith("played 1.0 s on 'system' [JACK]: 2 xruns, 1 underflows, latency 11.6")
    assert "real-time priority" in line and "\n" not in line  # why, when it could not get it
    ok = PlaybackResult(1.0, 1.01, 44100, 0, 0, 0.005, float("nan"), "d", "ALSA", True)
    assert ok.describe().endswith("0 xruns, 0 underflows, latency 5.0 ms (reported)")


def test_missing_portaudio_gives_one_line_with_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # `import sounddevice` fails
    msg = check_audio_output()
    assert "libportaudio2" in msg and "\n" not in msg
    assert "libportaudio2" in list_devices()
    with pytest.raises(AudioOutputError, match="libportaudio2"):
        AudioStream().start()
    with pytest.raises(AudioOutputError, match="libportaudio2"):
        play_audio(np.zeros(100, np.float32), 44100)


def test_portaudio_library_missing_oserror(monkeypatch, tmp_path):
    # What sounddevice really does without libportaudio: raise OSError on import.
    (tmp_path / "sounddevice.py").write_text("raise OSError('PortAudio library not found')\n")
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    msg = check_audio_output()
    assert "apt-get install libportaudio2" in msg and "\n" not in msg


def test_import_works_without_portaudio():
    code = (
        "import sys; sys.modules['sounddevice'] = None; import v1lab.audio as a; "
        "print(a.check_audio_output())"
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "libportaudio2" in proc.stdout


def test_bad_device_gives_one_line_with_the_fix():
    try:
        import sounddevice  # noqa: F401
    except (OSError, ImportError) as exc:
        pytest.skip(f"PortAudio unavailable ({exc}); apt-get install libportaudio2")
    for device in ("no-such-device", 9999):
        msg = check_audio_output(device=device)
        assert msg is not None and "--device" in msg and "--list-devices" in msg
        assert "\n" not in msg
    with pytest.raises(AudioOutputError, match="--device"):
        AudioStream(device="no-such-device").start()

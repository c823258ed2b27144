"""The real-time loop: the engine in its own process, feeding the sound card.

:class:`EngineHandle` starts a process (a fresh interpreter, so that neither the window nor
Python's GIL can starve the sound card) that runs :class:`~v1lab.live.engine.LiveEngine`
against :class:`~v1lab.audio.AudioStream`: it keeps the stream's queue a few blocks deep and
renders each next block from the latest stimulus the window sent. The audio callback only
copies samples. Messages go both ways through two queues. :func:`raise_priority` asks for
real-time scheduling for the process.

Latency
-------
Each input event is time-stamped where the window receives it. The engine applies it to
the next block it renders; when that block is pushed, the sound of the new stimulus will
reach the DAC after the frames already queued, the renderer's look-ahead and the device's
output latency. The window shows ``push time − event time + (queued + look-ahead) / fs +
output latency`` (median of recent events). This is the system's latency; the cell's own
response latency (the LGN kernels peak about 40 ms after a change) comes on top, as it did
for Hubel & Wiesel.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import queue
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

from v1lab.live._common import one_line
from v1lab.live.engine import BlockResult, LiveConfig, LiveEngine
from v1lab.live.state import StimulusParams

# Audio queue kept ahead of the DAC, in blocks; grows by one block after an underflow.
_QUEUE_BLOCKS = 3
_MAX_QUEUE_BLOCKS = 8


def raise_priority() -> str:
    """Ask for a (low) real-time priority, as audio programs do; say what is in force.

    The engine needs about a tenth of a core, but needs it within a few milliseconds: on a
    busy machine a normal-priority process can wait longer than the audio queue lasts.
    Threads started afterwards (PortAudio's, JACK's) inherit the policy. Without the
    privilege (CAP_SYS_NICE or an rtprio limit) the engine runs at normal priority, a
    little raised (nice −5) if that is allowed.

    Returns
    -------
    str
        The policy the process has now, read back from the kernel:
        ``'real-time (SCHED_RR 10)'``, ``'normal (nice -5)'`` or ``'normal'``.
    """
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(10))
    with contextlib.suppress(AttributeError, OSError):
        policy = os.sched_getscheduler(0)
        names = {os.SCHED_RR: "SCHED_RR", os.SCHED_FIFO: "SCHED_FIFO"}
        if policy in names:
            return f"real-time ({names[policy]} {os.sched_getparam(0).sched_priority})"
    with contextlib.suppress(AttributeError, OSError):
        os.nice(-5)
    with contextlib.suppress(AttributeError, OSError):
        niceness = os.getpriority(os.PRIO_PROCESS, 0)
        if niceness < 0:
            return f"normal (nice {niceness})"
    return "normal"


def _engine_process(
    inbox: Any, outbox: Any, config: LiveConfig, device: Any, audio: bool, log_dir: str
) -> None:
    """Run the engine against the sound card until told to stop (child process)."""
    stream = None
    stats: dict[str, Any] = {}
    parent = os.getppid()
    orphaned = False
    # The audio callback needs the GIL too: let it in within a millisecond.
    sys.setswitchinterval(0.001)
    priority = raise_priority()
    try:
        engine = LiveEngine(config, log_dir=log_dir)
        notice = None
        if audio:
            from v1lab.audio import AudioOutputError, AudioStream, check_audio_output

            notice = check_audio_output(device, fs_hz=config.fs_hz)
            if notice is None:
                stream = AudioStream(
                    fs_hz=config.fs_hz, blocksize=0, device=device, buffer_s=0.25, latency="low"
                )
        else:
            notice = "sound off"
        params = StimulusParams()
        block = engine.block_samples
        target = _QUEUE_BLOCKS * block
        pending_event = math.nan
        # Pre-fill the queue so the stream starts with sound to play.
        for _ in range(_QUEUE_BLOCKS):
            r = engine.step(params)
            if stream is not None:
                stream.push(r.audio)
        if stream is not None:
            try:
                stream.start()
            except AudioOutputError as exc:
                notice, stream = str(exc), None
        info = {
            "notice": notice,
            "device": None if stream is None else stream.device_name,
            "host_api": None if stream is None else stream.host_api,
            "latency_samples": engine.renderer.latency_samples,
            "priority": priority,
        }
        outbox.put(("ready", info))
        ready_s = time.monotonic()
        t_start = ready_s - engine.t_s
        underflows = 0
        underflow_at: list[float] = []  # session times (s), for the record
        results: list[BlockResult] = []
        last_send = time.monotonic()
        while True:
            stop = False
            while True:
                try:
                    msg = inbox.get_nowait()
                except queue.Empty:
                    break
                if msg[0] == "stim":
                    params = msg[1]
                    # Events from before the sound started are not a latency.
                    if not math.isfinite(pending_event) and msg[2] >= ready_s:
                        pending_event = msg[2]
                elif msg[0] == "snapshot":
                    outbox.put(
                        ("snapshot", engine.snapshot(), _stream_stats(stream, target, underflow_at))
                    )
                elif msg[0] == "stop":
                    stop = True
            if stop:
                break
            if os.getppid() != parent:  # the window's process died: nobody is listening
                orphaned = True
                break
            now = time.monotonic()
            if stream is not None:
                if stream.queued_frames + block > target:
                    if not stream.active:  # the device went away: carry on, silent
                        lost = stream.stats
                        stream.stop(drain=False, timeout_s=0.5)
                        stream, t_start = None, now - engine.t_s
                        outbox.put(("notice", f"the audio device stopped at {engine.t_s:.1f} s"))
                        stats["lost_audio"] = {"at_s": engine.t_s, "underflows": lost.underflows}
                        continue
                    time.sleep(0.001)
                    continue
            elif now < t_start + engine.t_s:
                time.sleep(min(0.002, t_start + engine.t_s - now))
                continue
            r = engine.step(params)
            latency = math.nan
            if stream is not None:
                queued = stream.queued_frames
                stream.push(r.audio)
                if math.isfinite(pending_event):
                    st = stream.stats
                    device_s = (
                        st.measured_latency_s
                        if math.isfinite(st.measured_latency_s)
                        else max(st.latency_s, 0.0)
                    )
                    latency = (
                        time.monotonic()
                        - pending_event
                        + (queued + engine.renderer.latency_samples) / config.fs_hz
                        + device_s
                    )
                if stream.stats.underflows > underflows:
                    underflows = stream.stats.underflows
                    underflow_at.append(round(engine.t_s, 2))
                    target = min(target + block, _MAX_QUEUE_BLOCKS * block)
            pending_event = math.nan
            results.append(dataclasses.replace(r, audio=None, latency_s=latency))
            if time.monotonic() - last_send >= 0.02:
                outbox.put(("blocks", results, _stream_stats(stream, target, underflow_at)))
                results = []
                last_send = time.monotonic()
        stats = {**stats, **_stream_stats(stream, target, underflow_at), "blocks": engine.index}
        engine.close()
    except Exception as exc:  # the window must hear about it, in one line
        outbox.put(("error", f"{type(exc).__name__}: {one_line(exc)}"))
    finally:
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop(drain=False, timeout_s=1.0)
            final = _stream_stats(stream, 0)
            stats = {**final, **stats, **{k: final[k] for k in ("underflows", "xruns")}}
        if orphaned:
            shutil.rmtree(log_dir, ignore_errors=True)
        else:
            outbox.put(("stopped", stats))


def _stream_stats(stream: Any, target: int, underflow_at: Sequence[float] = ()) -> dict[str, Any]:
    if stream is None:
        return {"audio": False}
    st = stream.stats
    return {
        "underflow_at_s": list(underflow_at),
        "audio": True,
        "underflows": st.underflows,
        "xruns": st.xruns,
        "frames_played": st.frames_played,
        "device_latency_s": st.latency_s,
        "measured_latency_s": st.measured_latency_s,
        "queue_target_frames": target,
    }


class EngineHandle:
    """The engine's process and its two message queues, seen from the window."""

    def __init__(self, config: LiveConfig, *, device: Any, audio: bool, log_dir: str) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no Tk, no GIL sharing
        self.inbox = ctx.Queue()
        self.outbox = ctx.Queue()
        # One BLAS thread: the other core belongs to the window and the sound server.
        saved = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            self.process = ctx.Process(
                target=_engine_process,
                args=(self.inbox, self.outbox, config, device, audio, log_dir),
                name="v1lab-live-engine",
                daemon=True,
            )
            self.process.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def send(self, *msg: Any) -> None:
        self.inbox.put(msg)

    def messages(self) -> list[tuple[Any, ...]]:
        out = []
        while True:
            try:
                out.append(self.outbox.get_nowait())
            except queue.Empty:
                return out

    def stop(self, timeout_s: float = 5.0) -> dict[str, Any]:
        """Stop the engine; return its final statistics."""
        stats: dict[str, Any] = {}
        if self.process.is_alive():
            self.send("stop")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                msg = self.outbox.get(timeout=0.05)
            except queue.Empty:
                if not self.process.is_alive():
                    break
                continue
            if msg[0] == "stopped":
                stats = msg[1]
                break
        self.process.join(timeout=max(0.1, deadline - time.monotonic()))
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=2.0)
        return stats

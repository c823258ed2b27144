"""Playback through PortAudio (sounddevice): devices, a ring-buffer stream, play and wait.

``sounddevice`` is imported lazily inside the functions that need it, so importing this
module works on machines without PortAudio; :func:`check_audio_output` then says, in one
line, why playback is impossible and how to fix it. :class:`AudioStream` plays pushed
blocks from a preallocated ring buffer; its PortAudio callback only copies.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_bool, check_choice, check_int, check_number
from v1lab.audio._common import check_audio_array

_VIRTUAL_CARD_HINT = "`jackd --no-realtime -d dummy -r 44100 -p 256`"
#: SCHED_FIFO priority the callback thread asks for (1–99): a low one, above every normal
#: thread and below the kernel's interrupt threads (50).
REALTIME_PRIORITY = 10


class AudioOutputError(RuntimeError):
    """Audio cannot be played; the message is one line saying why and how to fix it."""


class _StreamDone(Exception):
    """Raised by the callback at the end of a stream (replaced by sd.CallbackStop)."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _import_sounddevice() -> tuple[Any, str | None]:
    """Return ``(sounddevice, None)`` or ``(None, one-line reason)``."""
    try:
        import sounddevice as sd
    except OSError as exc:  # the module is there but libportaudio is not
        return None, (
            f"cannot play audio: the PortAudio library is missing ({_one_line(exc)}); "
            "install it with `apt-get install libportaudio2` (Debian/Ubuntu) or "
            "`brew install portaudio` (macOS)"
        )
    except ImportError as exc:
        return None, (
            f"cannot play audio: sounddevice/PortAudio is not available ({_one_line(exc)}); "
            "install PortAudio with `apt-get install libportaudio2` and the module with "
            "`pip install sounddevice`"
        )
    return sd, None


def _normalise_device(device: Any) -> int | str | None:
    if device is None:
        return None
    if isinstance(device, str):
        text = device.strip()
        if not text:
            raise ParameterError("device", device, "expected a device name or index")
        return int(text) if text.isdigit() else text
    if isinstance(device, bool) or not isinstance(device, (int, np.integer)):
        raise ParameterError("device", device, "expected a device name (str) or index (int)")
    if device < 0:
        raise ParameterError("device", device, "expected a device index >= 0")
    return int(device)


def _device_problem(sd: Any, device: int | str | None, fs_hz: int, channels: int) -> str | None:
    """One-line reason why ``device`` cannot play ``fs_hz`` × ``channels``, or None."""
    fix = "choose one with --device (see --list-devices)"
    try:
        info = sd.query_devices(device, kind="output")
    except (ValueError, sd.PortAudioError) as exc:
        if device is None:
            return (
                f"cannot play audio: no default audio output device ({_one_line(exc)}); "
                f"{fix}, or start a virtual sound card with {_VIRTUAL_CARD_HINT}"
            )
        return (
            f"cannot play audio: no audio output device matches {device!r} "
            f"({_one_line(exc)}); {fix}"
        )
    try:
        sd.check_output_settings(
            device=device, samplerate=fs_hz, channels=channels, dtype="float32"
        )
    except (ValueError, sd.PortAudioError) as exc:
        return (
            f"cannot play audio: device {info['name']!r} cannot play {fs_hz} Hz × "
            f"{channels} channel(s) ({_one_line(exc)}); {fix}"
        )
    return None


def check_audio_output(
    device: int | str | None = None, *, fs_hz: int = 44100, channels: int = 1
) -> str | None:
    """Say whether audio can be played, and if not, why and how to fix it.

    Parameters
    ----------
    device : int or str, optional
        PortAudio device index or (part of its) name; ``None`` = the default output.
    fs_hz : int
        Sampling rate to check (Hz).
    channels : {1, 2}
        Channel count to check.

    Returns
    -------
    str or None
        ``None`` if playback is possible, else ONE line: PortAudio missing → how to
        install ``libportaudio2``; no or bad device → choose one with ``--device``
        (see ``--list-devices``).

    Examples
    --------
    >>> msg = check_audio_output()
    >>> msg is None or (isinstance(msg, str) and "\\n" not in msg)
    True
    """
    fs = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
    ch = check_int("channels", channels, lo=1, hi=2)
    dev = _normalise_device(device)
    sd, problem = _import_sounddevice()
    if problem is not None:
        return problem
    return _device_problem(sd, dev, fs, ch)


def list_devices() -> str:
    """List the audio output devices PortAudio sees, one per line.

    Returns
    -------
    str
        Lines ``index: name [host API], N out, default Hz`` with ``*`` marking the
        default output; or one line saying why no device can be listed.

    Examples
    --------
    >>> isinstance(list_devices(), str)
    True
    """
    sd, problem = _import_sounddevice()
    if problem is not None:
        return problem
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
        default_out = sd.default.device[1]
    except sd.PortAudioError as exc:
        return f"cannot list audio devices: {_one_line(exc)}"
    if default_out is None or default_out < 0:
        try:
            default_out = sd.query_devices(kind="output")["index"]
        except (ValueError, sd.PortAudioError):
            default_out = -1
    lines = []
    for i, dev in enumerate(devices):
        if dev["max_output_channels"] < 1:
            continue
        mark = "*" if i == default_out else " "
        api = hostapis[dev["hostapi"]]["name"]
        lines.append(
            f"{mark}{i:3d}: {dev['name']} [{api}], {dev['max_output_channels']} out, "
            f"{dev['default_samplerate']:.0f} Hz"
        )
    if not lines:
        return (
            "no audio output devices found; connect one or start a virtual sound card "
            f"with {_VIRTUAL_CARD_HINT}"
        )
    return "\n".join(lines)


def request_realtime(priority: int = REALTIME_PRIORITY) -> bool:
    """Ask the OS to run the calling thread with real-time (``SCHED_FIFO``) priority.

    An audio callback has one device period to finish (5.8 ms for 256 frames at 44.1
    kHz). At normal priority on a busy machine the thread that runs it is often not even
    scheduled in time: JACK then logs "client was not finished, state = Triggered" and
    PortAudio flags an output underflow (an xrun), although the callback itself takes
    about 0.03 ms. Real-time audio threads are how JACK (``jackd -R``), PulseAudio (rtkit)
    and PortAudio's ALSA host API (``PaAlsa_EnableRealtimeScheduling``) avoid that; this
    does the same for the thread that calls it. Linux only; needs root, ``CAP_SYS_NICE``
    or an ``RLIMIT_RTPRIO`` (e.g. membership of the ``audio`` group), and otherwise
    changes nothing.

    Parameters
    ----------
    priority : int
        ``SCHED_FIFO`` priority, 1–99.

    Returns
    -------
    bool
        True if the calling thread now has real-time priority.
    """
    prio = check_int("priority", priority, lo=1, hi=99)
    setter = getattr(os, "sched_setscheduler", None)
    if setter is None:  # not Linux
        return False
    try:
        setter(0, os.SCHED_FIFO, os.sched_param(prio))  # 0: the calling thread
    except OSError:  # EPERM: no permission for real-time scheduling
        return False
    return True


@dataclass(frozen=True)
class AudioStreamStats:
    """Counters of an :class:`AudioStream` (a snapshot).

    Attributes
    ----------
    underflows : int
        Callbacks that found fewer queued frames than they needed while more input was
        expected (the gap was filled with silence).
    underflow_frames : int
        Frames of silence inserted by those underflows.
    xruns : int
        Callbacks in which PortAudio itself flagged an output underflow: the device
        missed samples because a callback came too late (on JACK: "client was not
        finished"). A flag on the first callback concerns the time before the stream
        played anything and is not counted.
    blocks_played : int
        Callbacks served.
    frames_played : int
        Queued (pushed) frames handed to the device.
    latency_s : float
        Output latency PortAudio reports for the stream (``stream.latency``).
    measured_latency_s : float
        Mean of ``outputBufferDacTime - currentTime`` over the callbacks (NaN if the host
        API gives no time stamps).
    queued_frames : int
        Frames pushed but not yet played.
    realtime : bool
        Whether the callback thread runs with real-time priority
        (:func:`request_realtime`).
    """

    underflows: int
    underflow_frames: int
    xruns: int
    blocks_played: int
    frames_played: int
    latency_s: float
    measured_latency_s: float
    queued_frames: int
    realtime: bool


class AudioStream:
    """Real-time audio output from a preallocated ring buffer (PortAudio via sounddevice).

    The producer (e.g. a live simulation rendering 10-ms blocks with
    :class:`SpikeAudioRenderer`) calls :meth:`push`; the PortAudio callback only copies
    queued frames into the device buffer — no allocation, no simulation — and fills
    silence (counted in :attr:`stats`) when the queue runs dry. The stream fades in over
    ``fade_s`` when it starts, and fades out over ``fade_s`` when it stops (on the last
    queued frames when draining, on whatever is playing when not).

    Parameters
    ----------
    fs_hz : int
        Sampling rate (Hz).
    channels : {1, 2}
        Mono or stereo.
    blocksize : int
        Frames per callback (441 = 10 ms at 44.1 kHz); 0 lets PortAudio choose.
    device : int or str, optional
        PortAudio output device index or name; ``None`` = default.
    buffer_s : float
        Capacity of the ring buffer (s).
    fade_s : float
        Fade-in / fade-out length (s).
    latency : float or {"low", "high"}, optional
        Requested device latency, passed to :class:`sounddevice.OutputStream`.
    realtime : bool
        On its first call, the callback asks for real-time priority for the thread that
        runs it (:func:`request_realtime`), so that a busy machine does not make it miss
        the device's deadlines.

    Examples
    --------
    >>> with AudioStream(fs_hz=44100, blocksize=441) as stream:  # doctest: +SKIP
    ...     for block in blocks:
    ...         while not stream.push(block):
    ...             time.sleep(0.002)
    >>> stream.stats.underflows  # doctest: +SKIP
    0
    """

    def __init__(
        self,
        *,
        fs_hz: int = 44100,
        channels: int = 1,
        blocksize: int = 441,
        device: int | str | None = None,
        buffer_s: float = 0.5,
        fade_s: float = 0.01,
        latency: float | str | None = None,
        realtime: bool = True,
    ) -> None:
        self.fs_hz = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
        self.channels = check_int("channels", channels, lo=1, hi=2)
        self.blocksize = check_int("blocksize", blocksize, lo=0, hi=1 << 16)
        self.device = _normalise_device(device)
        buf = check_number("buffer_s", buffer_s, lo=0, lo_open=True, hi=3600, unit="s")
        fade = check_number("fade_s", fade_s, lo=0, hi=1.0, unit="s")
        if latency is not None and not isinstance(latency, str):
            latency = check_number("latency", latency, lo=0, hi=10, unit="s")
        elif isinstance(latency, str):
            check_choice("latency", latency, ("low", "high"))
        self.latency = latency
        self.realtime = check_bool("realtime", realtime)
        self._cap = max(round(buf * self.fs_hz), 2 * max(self.blocksize, 1))
        self._ring = np.zeros((self._cap, self.channels), dtype=np.float32)
        nf = max(1, round(fade * self.fs_hz))
        self._nfade = nf
        ramp = np.sin(0.5 * np.pi * np.arange(nf) / nf) ** 2
        self._ramp_up = ramp.astype(np.float32)[:, None]  # gain of output frame i
        self._ramp_tail = ramp[::-1].astype(np.float32)[:, None]  # last frame -> 0
        self._write = 0  # producer-owned counter of frames pushed
        self._read = 0  # callback-owned counter of frames played
        self._final_write: int | None = None  # set by finish(): no more input
        self._abort = False
        self._abort_pos = 0
        self._fade_in_pos = 0
        self._underflows = 0
        self._underflow_frames = 0
        self._xruns = 0
        self._blocks = 0
        self._lat_sum = 0.0
        self._lat_n = 0
        self._stream: Any = None
        self._stop_exc: type[BaseException] = _StreamDone
        self._done = threading.Event()
        self._started = False
        self._rt_pending = False  # set by start(): ask for real-time priority once
        self._rt = False
        self._closed = False
        self._latency_s = math.nan
        self.device_name: str | None = None
        self.host_api: str | None = None

    # -- producer side -----------------------------------------------------------------

    @property
    def capacity_frames(self) -> int:
        """Size of the ring buffer in frames."""
        return self._cap

    @property
    def queued_frames(self) -> int:
        """Frames pushed but not yet played."""
        return self._write - self._read

    @property
    def free_frames(self) -> int:
        """Frames that :meth:`push` can accept right now."""
        return self._cap - (self._write - self._read)

    def push(self, block: Any) -> bool:
        """Queue a block of frames without blocking.

        Parameters
        ----------
        block : array_like
            ``(n,)`` (mono) or ``(n, channels)`` float samples in [−1, 1].

        Returns
        -------
        bool
            True if queued; False if the ring buffer has no room for the whole block
            (nothing is queued then; retry after a few milliseconds).
        """
        if self._final_write is not None or self._closed:
            raise RuntimeError("AudioStream.push after finish()/stop(): no more input")
        arr = np.asarray(block, dtype=np.float32)
        if arr.ndim == 1 and self.channels == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] != self.channels:
            raise ParameterError(
                "block", block, f"expected shape (n,) or (n, {self.channels}), got {arr.shape}"
            )
        n = arr.shape[0]
        if n > self._cap:
            raise ParameterError("block", block, f"expected at most {self._cap} frames")
        w = self._write
        if n > self._cap - (w - self._read):
            return False
        i = w % self._cap
        first = min(n, self._cap - i)
        self._ring[i : i + first] = arr[:first]
        if n > first:
            self._ring[: n - first] = arr[first:]
        self._write = w + n  # publish after the copy
        return True

    def finish(self) -> None:
        """Declare the end of input: play what is queued, fading out its last frames."""
        if self._final_write is None:
            self._final_write = self._write

    # -- stream control ----------------------------------------------------------------

    def start(self) -> AudioStream:
        """Open the output device and start playing (with a fade-in).

        Raises
        ------
        AudioOutputError
            If PortAudio or the device is unavailable (one-line reason and fix).
        """
        if self._started:
            raise RuntimeError("AudioStream can be started only once")
        sd, problem = _import_sounddevice()
        if problem is None:
            problem = _device_problem(sd, self.device, self.fs_hz, self.channels)
        if problem is not None:
            raise AudioOutputError(problem)
        self._stop_exc = sd.CallbackStop
        kwargs: dict[str, Any] = {}
        if self.latency is not None:
            kwargs["latency"] = self.latency
        try:
            self._stream = sd.OutputStream(
                samplerate=self.fs_hz,
                channels=self.channels,
                dtype="float32",
                blocksize=self.blocksize,
                device=self.device,
                callback=self._callback,
                finished_callback=self._done.set,
                **kwargs,
            )
        except (ValueError, sd.PortAudioError) as exc:
            raise AudioOutputError(
                f"cannot open audio output ({_one_line(exc)}); choose a device with "
                "--device (see --list-devices)"
            ) from exc
        self._latency_s = float(self._stream.latency)
        dev = sd.query_devices(self._stream.device)
        self.device_name = str(dev["name"])
        self.host_api = str(sd.query_hostapis(dev["hostapi"])["name"])
        self._started = True
        self._rt_pending = self.realtime
        self._stream.start()
        return self

    def stop(self, *, drain: bool = True, timeout_s: float | None = None) -> None:
        """Stop the stream with a fade-out and close the device.

        Parameters
        ----------
        drain : bool
            True: play everything queued, fading out its last ``fade_s``. False: fade
            out whatever is playing now over ``fade_s`` and drop the rest.
        timeout_s : float, optional
            Give up waiting (and abort the stream) after this long; default: the queued
            audio's duration plus 2 s.
        """
        if self._stream is None:
            self._closed = True
            return
        if drain:
            self.finish()
        else:
            self._abort = True
        wait = (self.queued_frames if drain else self._nfade) / self.fs_hz
        if timeout_s is None:
            timeout_s = wait + max(self._latency_s, 0.0) + 2.0
        finished = self._done.wait(timeout_s)
        stream, self._stream = self._stream, None
        try:
            if finished:
                stream.stop()
            else:
                stream.abort()
        finally:
            stream.close()
            self._closed = True

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until the stream has finished playing; True if it has."""
        return self._done.wait(timeout_s)

    def __enter__(self) -> AudioStream:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(drain=exc_type is None)

    @property
    def active(self) -> bool:
        """True while the device is open and the stream has not finished."""
        return self._stream is not None and not self._done.is_set()

    @property
    def stats(self) -> AudioStreamStats:
        """Counters so far (underflows, blocks played, latency)."""
        return AudioStreamStats(
            underflows=self._underflows,
            underflow_frames=self._underflow_frames,
            xruns=self._xruns,
            blocks_played=self._blocks,
            frames_played=self._read,
            latency_s=self._latency_s,
            measured_latency_s=self._lat_sum / self._lat_n if self._lat_n else math.nan,
            queued_frames=self._write - self._read,
            realtime=self._rt,
        )

    # -- PortAudio thread --------------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """Copy queued frames to the device; no allocation beyond array views."""
        if self._rt_pending:  # first call on the device's thread
            self._rt_pending = False
            self._rt = request_realtime()
        # A flag on the very first call reports an xrun from before this stream played a
        # sample (PortAudio's JACK host API passes on the server's last xrun notice): none
        # of ours was missed, so it is not counted.
        if status.output_underflow and self._blocks:
            self._xruns += 1
        dac, now = time_info.outputBufferDacTime, time_info.currentTime
        if dac > 0 and now > 0:
            self._lat_sum += dac - now
            self._lat_n += 1
        r = self._read
        end = self._final_write
        avail = self._write - r
        if end is not None:
            avail = min(avail, end - r)
        k = max(0, min(frames, avail))
        if k:
            i = r % self._cap
            first = min(k, self._cap - i)
            outdata[:first] = self._ring[i : i + first]
            if k > first:
                outdata[first:k] = self._ring[: k - first]
        if k < frames:
            outdata[k:] = 0.0
            if end is None and not self._abort:
                self._underflows += 1
                self._underflow_frames += frames - k
        self._read = r + k
        self._blocks += 1
        nf = self._nfade
        pos = self._fade_in_pos
        if pos < nf:
            m = min(frames, nf - pos)
            outdata[:m] *= self._ramp_up[pos : pos + m]
            self._fade_in_pos = pos + m
        if end is not None:  # fade out the last nf queued frames
            s = max(r, end - nf)
            if s < r + k:
                j = s - (end - nf)
                outdata[s - r : k] *= self._ramp_tail[j : j + (r + k - s)]
            if r + k >= end:
                raise self._stop_exc
        if self._abort:  # fade out over the next nf output frames, then stop
            apos = self._abort_pos
            m = min(frames, nf - apos)
            outdata[:m] *= self._ramp_tail[apos : apos + m]
            outdata[m:] = 0.0
            self._abort_pos = apos + m
            if apos + m >= nf:
                raise self._stop_exc


@dataclass(frozen=True)
class PlaybackResult:
    """What :func:`play_audio` measured.

    Attributes
    ----------
    duration_s : float
        Length of the audio (s).
    wall_time_s : float
        Wall-clock time from stream start until the device finished (s).
    frames_played : int
        Frames handed to the device.
    underflows : int
        Times the queue ran dry (silence was inserted).
    xruns : int
        Output underflows reported by PortAudio: times the device missed samples.
    latency_s : float
        Output latency reported by PortAudio (s).
    measured_latency_s : float
        Mean callback-to-DAC time from PortAudio's time stamps (s; NaN if none).
    device : str
        Device name.
    host_api : str
        PortAudio host API (ALSA, JACK Audio Connection Kit, …).
    realtime : bool
        Whether the callback thread ran with real-time priority.
    """

    duration_s: float
    wall_time_s: float
    frames_played: int
    underflows: int
    xruns: int
    latency_s: float
    measured_latency_s: float
    device: str
    host_api: str
    realtime: bool

    def describe(self) -> str:
        """One line: what played where, the device's xruns, the underflows, the latency.

        Examples
        --------
        >>> PlaybackResult(3.5, 3.53, 154350, 0, 0, 0.0058, 0.0116, "system", "JACK",
        ...                True).describe()
        "played 3.5 s on 'system' [JACK]: 0 xruns, 0 underflows, latency 11.6 ms"
        """
        measured = math.isfinite(self.measured_latency_s)
        latency = self.measured_latency_s if measured else self.latency_s
        text = (
            f"played {self.duration_s:.1f} s on {self.device!r} [{self.host_api}]: "
            f"{self.xruns} xruns, {self.underflows} underflows, "
            f"latency {latency * 1e3:.1f} ms{'' if measured else ' (reported)'}"
        )
        if self.xruns and not self.realtime:
            text += (
                " (the audio thread got no real-time priority; allow it with an rtprio "
                "limit, e.g. as a member of the `audio` group)"
            )
        return text


def play_audio(
    audio: Any,
    fs_hz: int,
    *,
    device: int | str | None = None,
    blocksize: int = 0,
    buffer_s: float = 30.0,
) -> PlaybackResult:
    """Play audio through :class:`AudioStream` and wait until it has been heard.

    Parameters
    ----------
    audio : array_like
        Float samples in [−1, 1], ``(n,)`` or ``(n, 2)`` (e.g. from
        :func:`render_spikes`).
    fs_hz : int
        Sampling rate (Hz).
    device : int or str, optional
        Output device index or name (see :func:`list_devices`); ``None`` = default.
    blocksize : int
        Frames per callback; 0 (default) = 10 ms.
    buffer_s : float
        Audio up to this long is queued before the stream starts (so even a device that
        consumes faster than real time never runs dry); longer audio is fed as it plays.

    Returns
    -------
    PlaybackResult

    Raises
    ------
    AudioOutputError
        If playback is impossible (one-line reason, see :func:`check_audio_output`) or
        the device stops responding.

    Examples
    --------
    >>> from v1lab.audio import render_spikes
    >>> audio = render_spikes([np.array([0.1, 0.2])], 0.5)
    >>> play_audio(audio, 44100).underflows  # doctest: +SKIP
    0
    """
    fs = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
    arr = check_audio_array(audio).astype(np.float32, copy=False)
    block = check_int("blocksize", blocksize, lo=0, hi=1 << 16) or max(1, round(fs / 100))
    channels = 1 if arr.ndim == 1 else 2
    n = arr.shape[0]
    buf_s = check_number("buffer_s", buffer_s, lo=0.05, hi=3600, unit="s")
    cap_s = min(buf_s, n / fs + 0.1)
    stream = AudioStream(
        fs_hz=fs, channels=channels, blocksize=block, device=device, buffer_s=cap_s
    )
    pos = min(n, stream.capacity_frames)
    stream.push(arr[:pos])
    if pos == n:
        stream.finish()
    t_start = time.perf_counter()
    stream.start()
    try:
        while pos < n:
            chunk = min(block, n - pos)
            if stream.push(arr[pos : pos + chunk]):
                pos += chunk
            else:
                if not stream.active:
                    break
                time.sleep(0.25 * block / fs)
        stream.finish()
        ok = stream.wait(stream.queued_frames / fs + max(stream.stats.latency_s, 0) + 5.0)
        wall = time.perf_counter() - t_start
    finally:
        stream.stop(drain=True, timeout_s=1.0)
    if not ok:
        raise AudioOutputError(
            "audio output stopped responding (playback did not finish); choose another "
            "device with --device (see --list-devices)"
        )
    st = stream.stats
    return PlaybackResult(
        duration_s=n / fs,
        wall_time_s=wall,
        frames_played=st.frames_played,
        underflows=st.underflows,
        xruns=st.xruns,
        latency_s=st.latency_s,
        measured_latency_s=st.measured_latency_s,
        device=stream.device_name or "",
        host_api=stream.host_api or "",
        realtime=st.realtime,
    )

"""WAV files: 16-bit PCM written atomically (whole, or streamed block by block), and read.

:func:`save_spikes_wav` renders spike trains (:func:`v1lab.audio.mix.iter_spike_audio`)
straight into a file without holding the whole session in memory.
"""

from __future__ import annotations

import os
import tempfile
import wave
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_int
from v1lab.audio._common import check_audio_array
from v1lab.audio.mix import iter_spike_audio


def save_wav(
    path: str | os.PathLike[str], audio: Any, fs_hz: int, *, overwrite: bool = False
) -> Path:
    """Write audio as a 16-bit PCM WAV file, atomically.

    The file is written to a temporary file in the same folder and then moved into
    place, so a reader never sees a half-written WAV and a crash never leaves one.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its folder must exist.
    audio : array_like
        Float samples in [−1, 1], shape ``(n,)`` (mono) or ``(n, 2)`` (stereo);
        scaled by 32767 and rounded.
    fs_hz : int
        Sampling rate (Hz).
    overwrite : bool
        Replace an existing file; otherwise an existing ``path`` raises
        :class:`FileExistsError`.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> p = save_wav(folder / "pops.wav", np.zeros(441, np.float32), 44100)
    >>> load_wav(p)[0].shape, load_wav(p)[1]
    ((441,), 44100)
    """
    arr = check_audio_array(audio)
    return _write_wav_blocks(path, [arr], fs_hz, 1 if arr.ndim == 1 else 2, overwrite=overwrite)


def _write_wav_blocks(
    path: str | os.PathLike[str],
    blocks: Iterable[np.ndarray],
    fs_hz: int,
    channels: int,
    *,
    overwrite: bool = False,
) -> Path:
    """Stream float blocks into a 16-bit WAV written atomically (see :func:`save_wav`)."""
    fs = check_int("fs_hz", fs_hz, lo=1000, hi=384000)
    if not isinstance(overwrite, bool):
        raise ParameterError("overwrite", overwrite, "expected true or false")
    dest = Path(path)
    if not dest.parent.is_dir():
        raise FileNotFoundError(f"folder {str(dest.parent)!r} does not exist")
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{str(dest)!r} exists; pass overwrite=True to replace it")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with wave.open(fh, "wb") as wav:
                wav.setnchannels(channels)
                wav.setsampwidth(2)
                wav.setframerate(fs)
                for block in blocks:
                    pcm = np.round(np.asarray(block, np.float64) * 32767.0).astype("<i2")
                    wav.writeframes(pcm.tobytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, dest)
        else:
            try:
                os.link(tmp, dest)  # atomic and refuses to clobber a file created meanwhile
            except FileExistsError:
                raise FileExistsError(
                    f"{str(dest)!r} exists; pass overwrite=True to replace it"
                ) from None
            except OSError:  # file system without hard links
                if dest.exists():
                    raise FileExistsError(
                        f"{str(dest)!r} exists; pass overwrite=True to replace it"
                    ) from None
                os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def load_wav(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV file written by :func:`save_wav`.

    Parameters
    ----------
    path : str or os.PathLike
        WAV file (16-bit PCM, mono or stereo).

    Returns
    -------
    audio : numpy.ndarray
        float32 samples (int16 / 32767), ``(n,)`` or ``(n, channels)``.
    fs_hz : int
        Sampling rate (Hz).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
    >>> _ = save_wav(p, np.full((10, 2), 0.5), 48000)
    >>> audio, fs = load_wav(p)
    >>> audio.shape, fs, round(float(audio[0, 0]), 4)
    ((10, 2), 48000, 0.5)
    """
    with wave.open(os.fspath(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(
                f"{os.fspath(path)!r}: expected 16-bit PCM, got {8 * wav.getsampwidth()}-bit"
            )
        n_ch = wav.getnchannels()
        fs = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = (data.astype(np.float32) / np.float32(32767.0)).reshape(-1, n_ch)
    return (audio[:, 0] if n_ch == 1 else audio), fs


def save_spikes_wav(
    path: str | os.PathLike[str],
    spike_times_s: Sequence[np.ndarray],
    duration_s: float,
    *,
    fs_hz: int = 44100,
    amplitudes: Any = None,
    rng: np.random.Generator | None = None,
    overwrite: bool = False,
    waveform: Any = None,
) -> Path:
    """Render spike trains and write them as a WAV, block by block (bounded memory)."""
    blocks = iter_spike_audio(
        spike_times_s, duration_s, fs_hz=fs_hz, amplitudes=amplitudes, rng=rng, waveform=waveform
    )
    return _write_wav_blocks(path, blocks, fs_hz, 1, overwrite=overwrite)

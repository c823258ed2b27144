"""Spikes you can hear: the loudspeaker of Hubel & Wiesel's amplifier, rebuilt.

Hubel & Wiesel found orientation tuning by ear: the amplified electrode signal went to a
loudspeaker, and a cell's discharge came out as a burst of crackle whenever the edge of a
projected slide swept across its receptive field at the right angle (Hubel & Wiesel 1959;
Hubel 1982, Nobel lecture). This stage turns spike times back into that sound:

* every spike becomes an extracellular-like waveform — biphasic, negative first, about
  1 ms long, 0.3–0.5 ms from trough to peak (Henze et al. 2000; Gold et al. 2006;
  Barthó et al. 2004) — placed with sub-sample accuracy so its trough lands on the
  spike time;
* each cell is as loud as its distance from the electrode allows; extracellular spike
  amplitude falls off steeply within ~50–150 µm (Henze et al. 2000; Buzsáki 2004),
  modelled here as ``1 / (1 + (r / r0)**2)`` (:func:`electrode_amplitudes`);
* a quiet band-limited hiss sits underneath, and the mix is band-passed 100–7000 Hz like
  an electrophysiology audio monitor (the Open Ephys GUI Audio Monitor band-passes with a
  2nd-order Butterworth "to enhance the sound of spikes"; Siegle et al. 2017);
* a look-ahead peak limiter with a slow release keeps every sample at or below
  ``peak_dbfs`` (−1 dBFS by default) without clipping or per-buffer renormalisation
  (Giannoulis, Massberg & Reiss 2012), and streams fade in and out with raised-cosine
  ramps.

Rendering is vectorised (no Python loop per spike): the analytic waveform is evaluated at
each spike's fractional sample offsets as one ``(n_spikes, n_taps)`` block and scattered
into the signal with :func:`numpy.bincount`. :class:`SpikeAudioRenderer` renders block by
block with carried filter, limiter and noise state, so block-wise output equals one-shot
output (:func:`render_spikes`); :class:`AudioStream` plays pre-rendered blocks from a
preallocated ring buffer through :mod:`sounddevice` (PortAudio).

``sounddevice`` is imported lazily inside the functions that need it, so
``import v1lab.audio`` works on machines without PortAudio; :func:`check_audio_output`
then says, in one line, why playback is impossible and how to fix it.

The stage takes spike times (a :class:`~v1lab.experiment.Recording`, or any per-cell
arrays) and hands on sound: float32 sample blocks, WAV files in a run folder's ``audio/``
and playback on an output device. Its modules, in the order the sound flows:

* :mod:`v1lab.audio.pops` — the spike waveform and per-cell electrode amplitudes;
* :mod:`v1lab.audio.mix` — the renderer: pops, hiss, band-pass, limiter, fades;
* :mod:`v1lab.audio.wav` — WAV writing (atomic, streamed) and reading;
* :mod:`v1lab.audio.stream` — PortAudio devices, the ring-buffer stream, playback;
* :mod:`v1lab.audio.run_audio` — a run's ``audio/``: session, conditions, demonstration.

References
----------
Barthó P, Hirase H, Monconduit L, Zugaro M, Harris KD, Buzsáki G (2004). Characterization
of neocortical principal cells and interneurons by network interactions and extracellular
features. J Neurophysiol 92:600–608.
Buzsáki G (2004). Large-scale recording of neuronal ensembles. Nat Neurosci 7:446–451.
Giannoulis D, Massberg M, Reiss JD (2012). Digital dynamic range compressor design — a
tutorial and analysis. J Audio Eng Soc 60:399–408.
Gold C, Henze DA, Koch C, Buzsáki G (2006). On the origin of the extracellular action
potential waveform: a modeling study. J Neurophysiol 95:3113–3128.
Henze DA, Borhegyi Z, Csicsvari J, Mamiya A, Harris KD, Buzsáki G (2000). Intracellular
features predicted by extracellular recordings in the hippocampus in vivo.
J Neurophysiol 84:390–400.
Hubel DH, Wiesel TN (1959). Receptive fields of single neurones in the cat's striate
cortex. J Physiol 148:574–591.
Siegle JH, López AC, Patel YA, Abramov K, Ohayon S, Voigts J (2017). Open Ephys: an
open-source, plugin-based platform for multichannel electrophysiology. J Neural Eng
14:045003.
"""

from __future__ import annotations

from v1lab.audio.mix import (
    MONITOR_BAND_HZ,
    SpikeAudioRenderer,
    iter_spike_audio,
    render_spikes,
)
from v1lab.audio.pops import (
    NEIGHBOUR_DISTANCE_UM,
    electrode_amplitudes,
    make_electrode_amplitudes,
    make_spike_waveform,
)
from v1lab.audio.run_audio import (
    choose_electrode_cell,
    condition_audio_names,
    describe_demo,
    make_demo_conditions,
    make_run_waveform,
    render_condition_audio,
    render_demo,
    save_run_audio,
)
from v1lab.audio.stream import (
    AudioOutputError,
    AudioStream,
    AudioStreamStats,
    PlaybackResult,
    check_audio_output,
    list_devices,
    play_audio,
)
from v1lab.audio.wav import load_wav, save_spikes_wav, save_wav

__all__ = [
    "MONITOR_BAND_HZ",
    "NEIGHBOUR_DISTANCE_UM",
    "AudioOutputError",
    "AudioStream",
    "AudioStreamStats",
    "PlaybackResult",
    "SpikeAudioRenderer",
    "check_audio_output",
    "choose_electrode_cell",
    "condition_audio_names",
    "describe_demo",
    "electrode_amplitudes",
    "iter_spike_audio",
    "list_devices",
    "load_wav",
    "make_demo_conditions",
    "make_electrode_amplitudes",
    "make_run_waveform",
    "make_spike_waveform",
    "play_audio",
    "render_condition_audio",
    "render_demo",
    "render_spikes",
    "save_run_audio",
    "save_spikes_wav",
    "save_wav",
]

"""Hubel & Wiesel's simple cell at the synapse: LGN spike trains converging on one cell.

Hubel & Wiesel (1962, their Fig. 19) explained the simple cell as a row of LGN cells
whose centres lie along a line converging on one cortical cell. Here the spike trains of
the project's own LGN cells (:class:`~v1lab.model.retina.RetinaFilter`: DoG ON and OFF
centres, untuned for orientation, for the same stimuli as the visual protocols) drive
AMPA synapses on the regular-spiking cortical cell of :mod:`v1lab.synapse.cell`.

Connectivity (Alonso, Usrey & Reid 2001; Reid & Alonso 1995)
------------------------------------------------------------
Recording LGN cells and simple cells together in the cat, Alonso et al. found that an
LGN cell connects to a simple cell mostly when its centre overlaps a subregion *of the
same sign* (ON centre on an ON subregion, OFF on OFF), that the probability of a
connection grows with that overlap, and that connections are stronger where the overlap
is greater; each connected LGN cell contributes a few percent of the cortical cell's
spikes. The rule here: the simple cell's receptive field is a Gabor (``orientation_deg``,
``spatial_frequency_cpd``, ``phase_deg``, envelope ``sigma_deg`` across and
``aspect`` × longer along the subregions, as the elongated subregions of Jones & Palmer
1987); the overlap of an LGN cell is its sign × the Gabor at its centre, over the
Gabor's peak, clipped at 0; it connects with probability ``p_max × overlap`` and a peak
conductance ``overlap ×`` the weight of a ``unitary_epsp_mv`` EPSP. Two LGN spikes
interact on the cell only within the few milliseconds over which their EPSPs overlap at
the rising phase (Usrey, Alonso & Reid 2000 measured a ~7 ms window of enhanced
efficacy for pairs of LGN spikes); that is a consequence of the membrane here, not a
rule imposed.

Optional push–pull inhibition (Troyer, Krukowski, Priebe & Miller 1998; Ferster 1988):
LGN cells of the *opposite* sign under each subregion drive GABA-A conductances (the
disynaptic route through inhibitory simple cells, represented by its net effect),
``push_pull`` × the excitatory weight. Off by default: the pure Hubel–Wiesel circuit.

Optional background noise (``vm_noise_sd_mv``): LGN synapses are only 5–10 % of the
excitatory synapses on a layer-4 simple cell (Ahmed, Anderson, Douglas, Martin & Nelson
1994; Peters & Payne 1993); the rest — other cortical cells — make the membrane
potential fluctuate by a few mV from trial to trial in vivo (Anderson, Lampl, Gillespie
& Ferster 2000; Carandini 2004). That bombardment is represented by its net effect, an
Ornstein–Uhlenbeck current with correlation time ``noise_tau_ms`` (synaptic currents
decay in ~3–10 ms: Destexhe, Rudolph, Fellous & Sejnowski 2001's point-conductance
model used 2.7 ms for excitation, 10.5 ms for inhibition) scaled to give that SD of Vm at
rest (:func:`~v1lab.synapse.simulate.compute_noise_sd_pa`). Noise smooths the spike
threshold: the trial-averaged rate becomes an expansive power law of the mean Vm, which
keeps the spike tuning width nearly independent of contrast (Anderson et al. 2000;
Miller & Troyer 2002; Hansel & van Vreeswijk 2002). 0 by default.

The same bombardment also opens conductance: in vivo a cortical cell's input resistance
is several times lower than in a quiet slice (Destexhe & Paré 1999; visual stimulation
raises it further, Borg-Graham, Monier & Frégnac 1998), which shortens the effective
membrane time constant and with it the time over which two EPSPs sum. ``background_ns``
adds that mean conductance, reversing at ``background_e_rev_mv`` — Destexhe et al.
(2001) fitted g_e = 12 nS (E = 0 mV) and g_i = 57 nS (E = −75 mV) on a 34,636-µm² cell;
on this cell's 20,106 µm² that is ~40 nS reversing at ~−62 mV
(:func:`add_background_conductance`). The LGN weights are calibrated on the cell in that
state (``unitary_epsp_mv`` is the EPSP it gives there). 0 by default (a quiet cell).

LGN firing
----------
An LGN cell fires at ``spontaneous_hz + gain_hz · y``, ``y`` the retina stage's rectified
drive (zero on a grey screen, floored at ``−baseline``; the rate is floored at 0), as a
Poisson process with a 2-ms dead time (:func:`~v1lab.cells.sim_poisson_dead_time`).
Cat X cells fire spontaneously at ~10–20 spikes/s (Kaplan, Purpura & Shapley 1987); the
default gain (150 spikes/s per unit) takes a cell to ~100 spikes/s at the peak of a
full-contrast 0.8-cpd, 4-Hz grating.

References
----------
Ahmed B, Anderson JC, Douglas RJ, Martin KAC, Nelson JC (1994). Polyneuronal innervation
of spiny stellate neurons in cat visual cortex. J Comp Neurol 341:39–49.
Alonso JM, Usrey WM, Reid RC (2001). Rules of connectivity between geniculate cells and
simple cells in cat primary visual cortex. J Neurosci 21:4002–4015.
Anderson JS, Lampl I, Gillespie DC, Ferster D (2000). The contribution of noise to
contrast invariance of orientation tuning in cat visual cortex. Science 290:1968–1972.
Carandini M (2004). Amplification of trial-to-trial response variability by neurons in
visual cortex. PLoS Biol 2:e264.
Destexhe A, Rudolph M, Fellous JM, Sejnowski TJ (2001). Fluctuating synaptic
conductances recreate in vivo-like activity in neocortical neurons. Neuroscience
107:13–24.
Borg-Graham LJ, Monier C, Frégnac Y (1998). Visual input evokes transient and strong
shunting inhibition in visual cortical neurons. Nature 393:369–373.
Destexhe A, Paré D (1999). Impact of network activity on the integrative properties of
neocortical pyramidal neurons in vivo. J Neurophysiol 81:1531–1547.
Ferster D (1988). Spatially opponent excitation and inhibition in simple cells of the
cat visual cortex. J Neurosci 8:1172–1180.
Hansel D, van Vreeswijk C (2002). How noise contributes to contrast invariance of
orientation tuning in cat visual cortex. J Neurosci 22:5118–5128.
Hubel DH, Wiesel TN (1962). J Physiol 160:106–154.
Jones JP, Palmer LA (1987). J Neurophysiol 58:1233–1258.
Miller KD, Troyer TW (2002). Neural noise can explain expansive, power-law
nonlinearities in neural response functions. J Neurophysiol 87:653–659.
Kaplan E, Purpura K, Shapley RM (1987). Contrast affects the transmission of visual
information through the mammalian lateral geniculate nucleus. J Physiol 391:267–288.
Reid RC, Alonso JM (1995). Specificity of monosynaptic connections from thalamus to
visual cortex. Nature 378:281–284.
Troyer TW, Krukowski AE, Priebe NJ, Miller KD (1998). Contrast-invariant orientation
tuning in cat visual cortex: thalamocortical input tuning and correlation-based
intracortical connectivity. J Neurosci 18:5908–5927.
Usrey WM, Alonso JM, Reid RC (2000). Synaptic interactions between thalamic inputs to
simple cells in cat visual cortex. J Neurosci 20:5461–5467.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from v1lab._validate import ParameterError
from v1lab.cells import sim_poisson_dead_time
from v1lab.model.retina import Retina, RetinaFilter
from v1lab.model.stimulus import Stimulus, render_frames
from v1lab.synapse._common import Bound, check_fields
from v1lab.synapse.cell import CellParameters
from v1lab.synapse.receptors import AMPA, GABA_A
from v1lab.synapse.simulate import (
    SynapticTrace,
    compute_noise_sd_pa,
    make_events,
    sim_synaptic_cell,
)
from v1lab.synapse.summation import calibrate_weight_ns

__all__ = [
    "LGNInputs",
    "SimpleCellWiring",
    "add_background_conductance",
    "make_lgn_inputs",
    "sim_lgn_to_cell",
]


@dataclass(frozen=True)
class SimpleCellWiring:
    """The simple cell's receptive field and the Alonso et al. (2001) connection rule.

    Parameters
    ----------
    orientation_deg : float
        Orientation of the subregions (0 = horizontal).
    spatial_frequency_cpd : float
        Cycles per degree across the subregions.
    phase_deg : float
        Gabor phase (0 = ON subregion centred on the RF centre).
    sigma_deg : float
        Envelope SD across the subregions (deg).
    aspect : float
        Envelope SD along the subregions / across (>= 1: elongated subregions).
    p_max : float
        Connection probability at full overlap.
    unitary_epsp_mv : float
        EPSP (mV, from rest) of a fully overlapping input.
    push_pull : float
        Weight of opposite-sign (inhibitory) inputs relative to the excitatory ones.
    spontaneous_hz : float
        LGN maintained discharge on a grey screen.
    gain_hz : float
        LGN spikes/s per unit of the retina stage's drive.
    vm_noise_sd_mv : float
        SD (mV) of the background Vm noise at rest (0 = a noiseless cell).
    noise_tau_ms : float
        Correlation time of the background noise current (ms).
    background_ns : float
        Tonic conductance of the cortical bombardment (nS; 0 = a quiet cell).
    background_e_rev_mv : float
        Its reversal potential (mV).
    """

    orientation_deg: float = 90.0
    spatial_frequency_cpd: float = 0.8
    phase_deg: float = 0.0
    sigma_deg: float = 0.35
    aspect: float = 2.0
    p_max: float = 0.8
    unitary_epsp_mv: float = 1.0
    push_pull: float = 0.0
    spontaneous_hz: float = 10.0
    gain_hz: float = 150.0
    vm_noise_sd_mv: float = 0.0
    noise_tau_ms: float = 5.0
    background_ns: float = 0.0
    background_e_rev_mv: float = -62.0

    def __post_init__(self) -> None:
        check_fields(self, {
            "orientation_deg": Bound("number", -360, 360, "deg"),
            "spatial_frequency_cpd": Bound("number", 0.05, 4, "cycles/deg"),
            "phase_deg": Bound("number", -360, 360, "deg"),
            "sigma_deg": Bound("number", 0.05, 3, "deg"),
            "aspect": Bound("number", 1, 5),
            "p_max": Bound("number", 0, 1, "", True),
            "unitary_epsp_mv": Bound("number", 0.01, 5, "mV"),
            "push_pull": Bound("number", 0, 10),
            "spontaneous_hz": Bound("number", 0, 100, "Hz", True),
            "gain_hz": Bound("number", 0, 2000, "Hz", True),
            "vm_noise_sd_mv": Bound("number", 0, 10, "mV"),
            "noise_tau_ms": Bound("number", 0.5, 100, "ms"),
            "background_ns": Bound("number", 0, 500, "nS"),
            "background_e_rev_mv": Bound("number", -90, 0, "mV"),
        })  # fmt: skip

    def gabor(self, xy_deg: np.ndarray) -> np.ndarray:
        """The receptive field at positions ``xy_deg`` (n, 2), peak 1."""
        th = math.radians(self.orientation_deg)
        along = xy_deg[:, 0] * math.cos(th) + xy_deg[:, 1] * math.sin(th)
        across = -xy_deg[:, 0] * math.sin(th) + xy_deg[:, 1] * math.cos(th)
        env = np.exp(-0.5 * (across**2 + (along / self.aspect) ** 2) / self.sigma_deg**2)
        phase = math.radians(self.phase_deg)
        return env * np.cos(2 * math.pi * self.spatial_frequency_cpd * across + phase)


@dataclass(frozen=True, eq=False)
class LGNInputs:
    """The LGN cells wired to the simple cell.

    Attributes
    ----------
    columns : ndarray of int (n,)
        Column of each input in the retina stage's output (ON non-lagged, OFF non-lagged).
    position_deg : ndarray (n, 2)
        RF centre of each input.
    sign : ndarray of int (n,)
        +1 ON centre, −1 OFF centre.
    overlap : ndarray (n,)
        Same-sign overlap (0–1) for excitatory inputs, opposite-sign for inhibitory ones.
    weight_ns : ndarray (n,)
        Peak conductance of each input's synapse.
    receptor : ndarray of int (n,)
        0 AMPA (excitatory), 1 GABA-A (push–pull inhibitory).
    """

    columns: np.ndarray
    position_deg: np.ndarray
    sign: np.ndarray
    overlap: np.ndarray
    weight_ns: np.ndarray
    receptor: np.ndarray

    @property
    def n_excitatory(self) -> int:
        return int(np.sum(self.receptor == 0))


def add_background_conductance(
    cell: CellParameters, background_ns: float, e_rev_mv: float
) -> CellParameters:
    """``cell`` with a tonic conductance added: a constant conductance beside the leak is
    one leak of summed conductance and conductance-weighted reversal, exactly.

    Examples
    --------
    >>> from v1lab.synapse import make_cell
    >>> c = add_background_conductance(make_cell("passive"), 40.0, -62.0)
    >>> round(c.tau_m_ms, 2), round(c.e_leak_mv, 2)
    (4.0, -63.6)
    """
    if background_ns == 0:
        return cell
    if cell.kind == "hh":
        raise ParameterError(
            "simple_cell.background_ns", background_ns, "expected 0 for the 'hh' cell"
        )
    g_l = cell.conductances_ns[3]
    g = g_l + background_ns
    e = (g_l * cell.e_leak_mv + background_ns * e_rev_mv) / g
    return replace(cell, g_leak_ms_cm2=cell.g_leak_ms_cm2 * g / g_l, e_leak_mv=e)


def make_lgn_inputs(
    wiring: SimpleCellWiring,
    positions_deg: np.ndarray,
    cell: CellParameters,
    rng: np.random.Generator,
) -> LGNInputs:
    """Draw which LGN cells connect and how strongly (Alonso et al. 2001's rules).

    Examples
    --------
    >>> from v1lab.synapse import make_cell
    >>> from v1lab.model.retina import make_lgn_positions
    >>> pos = make_lgn_positions(2.4, 0.2)
    >>> inp = make_lgn_inputs(SimpleCellWiring(), pos, make_cell("rs"), np.random.default_rng(0))
    >>> bool(np.all(inp.sign * SimpleCellWiring().gabor(inp.position_deg) > 0))
    True
    """
    n_pos = positions_deg.shape[0]
    g = wiring.gabor(positions_deg)
    g = g / np.abs(g).max()
    sign = np.concatenate([np.ones(n_pos, int), -np.ones(n_pos, int)])
    pos = np.concatenate([positions_deg, positions_deg])
    same = np.clip(sign * np.concatenate([g, g]), 0.0, None)
    u = rng.random(2 * n_pos)
    w1 = calibrate_weight_ns(cell, AMPA, target_mv=wiring.unitary_epsp_mv)
    exc = u < wiring.p_max * same
    columns = [np.flatnonzero(exc)]
    overlap = [same[exc]]
    weight = [w1 * same[exc]]
    receptor = [np.zeros(int(exc.sum()), int)]
    if wiring.push_pull > 0:
        opposite = np.clip(-sign * np.concatenate([g, g]), 0.0, None)
        inh = rng.random(2 * n_pos) < wiring.p_max * opposite
        columns.append(np.flatnonzero(inh))
        overlap.append(opposite[inh])
        weight.append(wiring.push_pull * w1 * opposite[inh])
        receptor.append(np.ones(int(inh.sum()), int))
    cols = np.concatenate(columns)
    return LGNInputs(
        columns=cols,
        position_deg=pos[cols],
        sign=sign[cols],
        overlap=np.concatenate(overlap),
        weight_ns=np.concatenate(weight),
        receptor=np.concatenate(receptor),
    )


def compute_lgn_rates(
    stimuli: Sequence[Stimulus],
    retina: Retina,
    columns: np.ndarray,
    *,
    pre_s: float,
    spontaneous_hz: float,
    gain_hz: float,
) -> np.ndarray:
    """LGN rates (Hz), shape (n_frames, n_stimuli × n_columns), each stimulus after
    ``pre_s`` of grey, all stimuli of one duration."""
    fs = retina.frame_rate_hz
    n_pre = round(pre_s * fs)
    blocks = []
    for stim in stimuli:
        rf = RetinaFilter(retina)
        t = np.arange(round(stim.duration_s * fs)) / fs
        frames = render_frames(stim, retina.grid, t)
        out = rf.process(frames)[:, columns]  # ON non-lagged, OFF non-lagged first
        y = np.concatenate([np.zeros((n_pre, columns.size), np.float32), out])
        blocks.append(np.maximum(spontaneous_hz + gain_hz * y, 0.0))
    return np.concatenate(blocks, axis=1).astype(np.float64)


def sim_lgn_to_cell(
    stimuli: Sequence[Stimulus],
    inputs: LGNInputs,
    cell: CellParameters,
    retina: Retina,
    *,
    n_trials: int,
    rng: np.random.Generator,
    wiring: SimpleCellWiring,
    pre_s: float = 0.25,
    record_dt_ms: float = 0.1,
    noise_seed: int = 0,
) -> tuple[SynapticTrace, np.ndarray, dict[str, np.ndarray]]:
    """Run every stimulus × trial: LGN spikes → synapses → the cortical cell.

    Returns the trace (train ``stimulus * n_trials + trial``, all recorded), the LGN
    rates that drove it (n_frames, n_stimuli × n_inputs) and the LGN spikes as flat
    arrays ``time_s``, ``train`` (the cortical train they reach) and ``input`` (index
    into ``inputs``). ``noise_seed`` seeds the background noise (``wiring.vm_noise_sd_mv``).
    """
    durations = sorted({round(s.duration_s, 9) for s in stimuli})
    if len(durations) != 1:
        raise ParameterError("stimuli", durations, "expected one duration_s for every stimulus")
    n_in = inputs.columns.size
    n_stim = len(stimuli)
    rates = compute_lgn_rates(
        stimuli,
        retina,
        inputs.columns,
        pre_s=pre_s,
        spontaneous_hz=wiring.spontaneous_hz,
        gain_hz=wiring.gain_hz,
    )
    lgn = sim_poisson_dead_time(rates, retina.frame_rate_hz, n_trials=n_trials, rng=rng)
    # LGN train index = trial * (n_stim * n_in) + stim * n_in + input
    counts = np.diff(lgn.indptr)
    idx = np.arange(counts.size)
    trial, rest = np.divmod(idx, n_stim * n_in)
    stim, which = np.divmod(rest, n_in)
    target = np.repeat(stim * n_trials + trial, counts)
    which = np.repeat(which, counts)
    events = make_events(
        target,
        lgn.times_s,
        inputs.weight_ns[which],
        receptor=inputs.receptor[which],
        n_trains=n_stim * n_trials,
    )
    duration = lgn.duration_s
    noise_pa = (
        compute_noise_sd_pa(cell, wiring.vm_noise_sd_mv, wiring.noise_tau_ms)
        if wiring.vm_noise_sd_mv > 0
        else 0.0
    )
    trace = sim_synaptic_cell(
        cell, [AMPA, GABA_A], events, duration, record="all", record_dt_ms=record_dt_ms,
        noise_sd_pa=noise_pa, noise_tau_ms=wiring.noise_tau_ms, noise_seed=noise_seed,
    )  # fmt: skip
    spikes = {"time_s": lgn.times_s, "train": target, "input": which}
    return trace, rates, spikes

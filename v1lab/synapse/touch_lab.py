"""The ``touch_receptor`` lab: stretch → receptor potential → spike train.

:func:`run_touch_receptor` stretches a slowly and a rapidly adapting receptor ending
(:class:`~v1lab.synapse.touch.StretchReceptor`) with ramp-and-hold stretches of growing
amplitude. On the passive cell (spikes blocked) it records the receptor potential; on the
spiking cell the spike train it starts. The stimulus–response relation, the sustained
against the transient response and the sounds of both endings come back in a
:class:`~v1lab.synapse._common.LabResult`. (The issue asks for the train to continue into
the axon of "The spike travels"; that lab has not landed, so the train ends here.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from v1lab.synapse._common import LabResult, session_times
from v1lab.synapse.cell import make_cell
from v1lab.synapse.receptors import AMPA
from v1lab.synapse.simulate import make_events, sim_synaptic_cell
from v1lab.synapse.spec import LabProtocol
from v1lab.synapse.touch import compute_receptor_conductance, make_ramp_and_hold

__all__ = ["run_touch_receptor"]

DT_MS = 0.1  # sampling of the stretch and of the channels' conductance
PRE_MS = 100.0
POST_MS = 300.0
ONSET_WINDOW_MS = 100.0  # "transient": from the start of the ramp
LATE_WINDOW_MS = 500.0  # "sustained": the last part of the hold


def _count(spikes: Any, lo_s: float, hi_s: float) -> np.ndarray:
    """Spikes of each train in ``[lo_s, hi_s)``."""
    train = np.repeat(np.arange(spikes.n_trains), np.diff(spikes.indptr))
    inside = (spikes.times_s >= lo_s) & (spikes.times_s < hi_s)
    return np.bincount(train[inside], minlength=spikes.n_trains)


def run_touch_receptor(protocol: LabProtocol) -> LabResult:
    """Both endings, every stretch amplitude: receptor potential and spikes."""
    s = protocol.sections
    st = s["stretch"]
    amps = np.array(st.amplitudes_pct)
    stretch = make_ramp_and_hold(
        amps, ramp_ms=st.ramp_ms, hold_ms=st.hold_ms, pre_ms=PRE_MS, post_ms=POST_MS, dt_ms=DT_MS
    )
    duration_s = stretch.shape[1] * DT_MS * 1e-3
    no_events = make_events([], [], [], n_trains=amps.size)
    passive, spiking = make_cell("passive"), make_cell(protocol.cell)
    res = LabResult()
    rows: dict[str, list] = {
        k: []
        for k in (
            "ending", "stretch_pct", "peak_receptor_potential_mv",
            "sustained_receptor_potential_mv", "onset_spikes", "sustained_rate_hz", "spikes",
        )
    }  # fmt: skip
    hold_end_s = (PRE_MS + st.ramp_ms + st.hold_ms) * 1e-3
    onset = ((PRE_MS) * 1e-3, (PRE_MS + ONSET_WINDOW_MS) * 1e-3)
    late = (hold_end_s - LATE_WINDOW_MS * 1e-3, hold_end_s)
    spikes_all, starts_all, offset = [], [], 0.0
    for ending in ("slowly_adapting", "rapidly_adapting"):
        receptor = s[ending]
        g = compute_receptor_conductance(receptor, stretch, DT_MS)
        kw = {"drive_ns": g, "drive_dt_ms": DT_MS, "drive_e_rev_mv": receptor.e_rev_mv}
        rp = sim_synaptic_cell(
            passive, [AMPA], no_events, duration_s, record="all", record_dt_ms=1.0, **kw
        )
        sp = sim_synaptic_cell(
            spiking, [AMPA], no_events, duration_s, record="all", record_dt_ms=0.1, **kw
        )
        v = rp.v_mv - rp.rest_mv
        at_end = np.searchsorted(rp.t_s, hold_end_s - 1e-3)
        indptr = sp.spikes.indptr
        n_onset, n_late = _count(sp.spikes, *onset), _count(sp.spikes, *late)
        for col, val in (
            ("ending", [ending] * amps.size), ("stretch_pct", amps),
            ("peak_receptor_potential_mv", v.max(axis=1)),
            ("sustained_receptor_potential_mv", v[:, at_end]),
            ("onset_spikes", n_onset), ("sustained_rate_hz", n_late / (LATE_WINDOW_MS * 1e-3)),
            ("spikes", np.diff(indptr)),
        ):  # fmt: skip
            rows[col] += list(val)
        res.traces.setdefault("receptor", []).append((ending, rp.t_s, v, sp.t_s, sp.v_mv, amps, g))
        t_all, starts = session_times(sp.spikes, duration_s, offset)
        spikes_all.append(t_all)
        starts_all.append(starts)
        offset = float(starts[-1] + duration_s)
        res.sounds[ending] = (
            [t_all - starts[0]], amps.size * duration_s,
            f"The {ending.replace('_', ' ')} ending, stretched to "
            f"{', '.join(f'{a:g}' for a in amps)} % in turn, {duration_s:g} s each.",
        )  # fmt: skip
        i_top = amps.size - 1
        res.findings.append(
            f"{ending.replace('_', ' ').capitalize()} ending (g_max {receptor.g_max_ns:g} nS, "
            f"Boltzmann s½ {receptor.s_half_pct:g} %, slope {receptor.slope_pct:g} %, "
            f"adaptation {receptor.adapt_fraction:g} with τ {receptor.adapt_tau_ms:g} ms): the "
            f"receptor potential grows with stretch to {v.max(axis=1)[i_top]:.1f} mV at "
            f"{amps[i_top]:g} %, and {v[i_top, at_end]:.1f} mV remain at the end of the hold; "
            f"the cell fires {n_onset[i_top]} spikes in the first {ONSET_WINDOW_MS:g} ms and "
            f"{n_late[i_top] / (LATE_WINDOW_MS * 1e-3):.0f} spikes/s over the last "
            f"{LATE_WINDOW_MS:g} ms of the hold. Threshold stretch: "
            + (
                f"{amps[np.argmax(np.diff(indptr) > 0)]:g} %."
                if np.diff(indptr).any()
                else "none reached."
            )
        )
    res.tables["stretch_responses"] = {k: np.asarray(v) for k, v in rows.items()}
    starts = np.concatenate(starts_all)
    res.spike_times = spikes_all
    res.units = {"cell_type": np.array(["slowly_adapting", "rapidly_adapting"])}
    res.presentations = {
        "start_time": starts,
        "stop_time": starts + duration_s,
        "stimulus_condition_id": np.tile(np.arange(amps.size), 2),
        "stimulus": np.array(["ramp_and_hold_stretch"] * starts.size),
        "unit_index": np.repeat([0, 1], amps.size),
        "stretch_pct": np.tile(amps, 2),
    }
    res.duration_s = offset
    return res

"""Inside the cell: figures of a Hodgkin–Huxley membrane (:mod:`v1lab.cells`).

:func:`plot_membrane` draws V(t) of a recorded train; :func:`plot_spike_phases` one
action potential, enlarged, with its six phases (:data:`v1lab.cells.SPIKE_PHASES`)
coloured and labelled; :func:`plot_gates` the gates m, h, n and :func:`plot_ionic_currents`
the Na⁺ and K⁺ currents around it. :func:`make_membrane_figure` puts them together for
one cell's preferred and orthogonal sweeps, and :func:`make_recording_membrane_figure`
simulates those sweeps from a run's own model rates (the ``membrane`` figure of a run
with Hodgkin–Huxley spiking).

The model itself is imported inside the functions (as matplotlib and
:mod:`v1lab.analysis` are elsewhere in :mod:`v1lab.plots`), so that importing the plots
stage does not load it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from v1lab._validate import ParameterError, check_int
from v1lab.plots.style import OKABE_ITO, load_pyplot

if TYPE_CHECKING:
    from v1lab.cells import HHParameters, MembraneTrace

__all__ = [
    "make_membrane_figure",
    "make_recording_membrane_figure",
    "plot_gates",
    "plot_ionic_currents",
    "plot_membrane",
    "plot_spike_phases",
]

_PHASE_COLOURS = ("#7f7f7f", "#E69F00", "#D55E00", "#0072B2", "#009E73", "#CC79A7")


def _plt_and_palette() -> tuple[Any, tuple[str, ...]]:
    return load_pyplot(), OKABE_ITO


def _pick_row(trace: MembraneTrace, train: int | None) -> int:
    from v1lab.cells import MembraneTrace

    if not isinstance(trace, MembraneTrace):
        raise ParameterError("trace", trace, "expected a MembraneTrace (sim_* with record=)")
    return 0 if train is None else trace.row(train)


@lru_cache(maxsize=8)
def _reference_features(params: HHParameters) -> dict[str, float]:
    """Phase timings of a noise-free spike of this membrane (sets the zoom window)."""
    from v1lab.cells import (
        compute_resting_potential,
        compute_spike_features,
        sim_action_potential,
    )

    tr = sim_action_potential(params, dt_s=5e-6, duration_s=0.05)
    return compute_spike_features(
        tr.v_mv[0], tr.dt_s, baseline_mv=compute_resting_potential(params)
    )


def _default_window_ms(params: HHParameters) -> tuple[float, float]:
    f = _reference_features(params)
    pre = (f["t_peak_s"] - f["t_threshold_s"]) * 1e3 + 1.5
    post = (f["t_return_s"] - f["t_peak_s"]) * 1e3 + 1.5
    return pre, post


def _isolated_spike(spikes: np.ndarray, lo: float, hi: float) -> float | None:
    """The spike inside [lo, hi] farthest from its neighbours (its AHP is undisturbed)."""
    ok = np.flatnonzero((spikes >= lo) & (spikes <= hi))
    if not ok.size:
        return None
    gaps = np.diff(np.concatenate([[-np.inf], spikes, [np.inf]]))
    room = np.minimum(gaps[:-1], 2.0 * gaps[1:])[ok]  # the AHP needs more room after
    return float(spikes[ok[int(np.argmax(room))]])


def _window(
    trace: MembraneTrace, row: int, spike_time_s: float | None, window_ms: Any
) -> tuple[float, slice, tuple[float, float]]:
    pre, post = _default_window_ms(trace.params) if window_ms is None else window_ms
    dt = trace.dt_s
    t_end = trace.t_s[-1]
    if spike_time_s is None:
        spike_time_s = _isolated_spike(
            trace.spike_times_s[row], trace.t_s[0] + pre * 1e-3, t_end - post * 1e-3
        )
        if spike_time_s is None:
            raise ParameterError(
                "trace", trace, "expected a spike with room for the zoom window; none found"
            )
    i0 = max(0, round((spike_time_s - pre * 1e-3 - trace.t_s[0]) / dt))
    i1 = min(trace.t_s.size, round((spike_time_s + post * 1e-3 - trace.t_s[0]) / dt) + 1)
    return float(spike_time_s), slice(i0, i1), (pre, post)


def plot_membrane(
    trace: MembraneTrace,
    *,
    train: int | None = None,
    ax: Any = None,
    t_range_s: tuple[float, float] | None = None,
    color: str | None = None,
    label: str | None = None,
    show_rest: bool = True,
) -> Any:
    """Membrane potential V(t) of one recorded train, with the resting potential.

    Parameters
    ----------
    trace : MembraneTrace
        From :func:`sim_hodgkin_huxley` or :func:`sim_membrane` with ``record=``.
    train : int, optional
        Which recorded train (default: the first).
    ax : matplotlib Axes, optional
    t_range_s : (float, float), optional
        Time range to draw (s).
    color, label : str, optional
    show_rest : bool, default True
        Draw the resting potential the parameters imply as a dotted line.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from v1lab.cells import sim_hodgkin_huxley
    >>> st, tr = sim_hodgkin_huxley(np.full((100, 1), 30.0), 200.0, rng=np.random.default_rng(0),
    ...                             record=[0])
    >>> ax = plot_membrane(tr)
    >>> ax.get_ylabel()
    'V (mV)'
    """
    from v1lab.cells import compute_resting_potential

    plt, palette = _plt_and_palette()
    row = _pick_row(trace, train)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.5))
    sel = slice(None)
    if t_range_s is not None:
        sel = (trace.t_s >= t_range_s[0]) & (trace.t_s <= t_range_s[1])
    ax.plot(trace.t_s[sel], trace.v_mv[row, sel], color=color or palette[7], lw=0.6, label=label)
    if show_rest:
        rest = compute_resting_potential(trace.params)
        ax.axhline(rest, color="0.5", ls=":", lw=0.8)
        ax.annotate(
            f"rest {rest:.0f} mV",
            (1.0, rest),
            xycoords=("axes fraction", "data"),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            color="0.4",
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("V (mV)")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_spike_phases(
    trace: MembraneTrace,
    *,
    train: int | None = None,
    spike_time_s: float | None = None,
    window_ms: tuple[float, float] | None = None,
    ax: Any = None,
) -> Any:
    """One action potential, enlarged, with its six phases coloured and labelled.

    The phases (:data:`SPIKE_PHASES`, boundaries from :func:`compute_spike_features`):
    the resting potential (before the spike), depolarisation to threshold, the upstroke
    and overshoot (above 0 mV, Na⁺ channels open), repolarisation (Na⁺ channels
    inactivate, K⁺ channels open), the after-hyperpolarisation (K⁺ channels still open,
    V below rest, towards E_K) and the return to rest.

    Parameters
    ----------
    trace : MembraneTrace
    train : int, optional
        Recorded train (default: the first).
    spike_time_s : float, optional
        Spike to show (s); default: the most isolated spike of the train.
    window_ms : (float, float), optional
        Milliseconds shown before and after the spike; default from this membrane's
        spike (threshold-to-peak + 1.5 ms before, peak-to-recovery + 1.5 ms after).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
        x is time from the spike (ms).

    Examples
    --------
    >>> from v1lab.cells import sim_action_potential
    >>> ax = plot_spike_phases(sim_action_potential())
    >>> len(ax.texts) >= 6
    True
    """
    from v1lab.cells import (
        SPIKE_PHASES,
        compute_resting_potential,
        compute_spike_features,
    )

    plt, _ = _plt_and_palette()
    row = _pick_row(trace, train)
    t_sp, sl, _ = _window(trace, row, spike_time_s, window_ms)
    t_ms = (trace.t_s[sl] - t_sp) * 1e3
    v = trace.v_mv[row, sl]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    rest = compute_resting_potential(trace.params)
    f = compute_spike_features(v, trace.dt_s)
    t0 = (trace.t_s[sl][0] - t_sp) * 1e3
    bounds = (
        [t0]
        + [
            t0 + f[k] * 1e3
            for k in (
                "t_depolarisation_s",
                "t_threshold_s",
                "t_peak_s",
                "t_repolarised_s",
                "t_ahp_s",
                "t_return_s",
            )
        ]
        + [t_ms[-1]]
    )
    # Phase k spans bounds[k]..bounds[k+1]; the last two (AHP, return) extend to the end.
    # bounds: window start, depolarisation, threshold, peak, back through the baseline,
    # AHP minimum, 90 % recovered, window end. Phase k spans bounds[k]..bounds[k + 1];
    # after the recovery the trace is at rest again (grey).
    spans = [(bounds[k], bounds[k + 1]) for k in range(6)] + [(bounds[6], bounds[7])]
    colours = (*_PHASE_COLOURS, _PHASE_COLOURS[0])
    for (a, b), colour in zip(spans, colours, strict=True):
        sel = (t_ms >= a) & (t_ms <= b)
        ax.plot(t_ms[sel], v[sel], color=colour, lw=2.0, solid_capstyle="round")
    ax.axhline(rest, color="0.5", ls=":", lw=0.8)
    ax.axhline(0.0, color="0.8", lw=0.6)
    thr_t = bounds[2]

    def at(t: float) -> tuple[float, float]:
        return t, float(np.interp(t, t_ms, v))

    # Each label sits at a fixed place in the axes (a spike always has this layout) and
    # points at its phase.
    labels = (
        (at(0.5 * (bounds[0] + bounds[1])), (0.02, 0.10)),
        ((thr_t, f["threshold_mv"]), (0.02, 0.50)),
        ((bounds[3], f["peak_mv"]), (0.30, 0.93)),
        (at(0.5 * (bounds[3] + bounds[4])), (0.42, 0.66)),
        ((bounds[5], f["ahp_mv"]), (0.34, 0.03)),
        (at(0.5 * (bounds[5] + bounds[6])), (0.62, 0.32)),
    )
    for text, (xy, where), colour in zip(SPIKE_PHASES, labels, _PHASE_COLOURS, strict=True):
        ax.annotate(
            text,
            xy,
            xytext=where,
            textcoords="axes fraction",
            fontsize=7.5,
            color=colour,
            arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6, "shrinkB": 2},
        )
    ax.plot([thr_t], [f["threshold_mv"]], "o", ms=3.5, color=_PHASE_COLOURS[1])
    ax.set_ylim(min(float(v.min()), rest) - 14, f["peak_mv"] + 14)
    ax.set_xlabel("time from spike (ms)")
    ax.set_ylabel("V (mV)")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_gates(
    trace: MembraneTrace,
    *,
    train: int | None = None,
    spike_time_s: float | None = None,
    window_ms: tuple[float, float] | None = None,
    ax: Any = None,
) -> Any:
    """Gating variables m (Na⁺ activation), h (Na⁺ inactivation), n (K⁺ activation).

    Same window and time axis as :func:`plot_spike_phases`.

    Examples
    --------
    >>> from v1lab.cells import sim_action_potential
    >>> ax = plot_gates(sim_action_potential())
    >>> ax.get_ylabel()
    'gate open probability'
    """
    plt, palette = _plt_and_palette()
    row = _pick_row(trace, train)
    t_sp, sl, _ = _window(trace, row, spike_time_s, window_ms)
    t_ms = (trace.t_s[sl] - t_sp) * 1e3
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2))
    for name, colour, text in (
        ("m", palette[5], "m (Na⁺ activation)"),
        ("h", palette[1], "h (Na⁺ inactivation)"),
        ("n", palette[4], "n (K⁺ activation)"),
    ):
        ax.plot(t_ms, getattr(trace, name)[row, sl], color=colour, lw=1.3, label=text)
    ax.set_ylim(-0.03, 1.32)
    ax.set_yticks([0.0, 0.5, 1.0])
    ax.set_xlabel("time from spike (ms)")
    ax.set_ylabel("gate open probability")
    ax.legend(fontsize=7, frameon=False, loc="upper center", ncol=3, handlelength=1.2)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_ionic_currents(
    trace: MembraneTrace,
    *,
    train: int | None = None,
    spike_time_s: float | None = None,
    window_ms: tuple[float, float] | None = None,
    ax: Any = None,
) -> Any:
    """Sodium and potassium currents (µA/cm²; inward negative) around one spike.

    Same window and time axis as :func:`plot_spike_phases`.

    Examples
    --------
    >>> from v1lab.cells import sim_action_potential
    >>> ax = plot_ionic_currents(sim_action_potential())
    >>> ax.get_ylabel()
    'current (µA/cm²)'
    """
    plt, palette = _plt_and_palette()
    row = _pick_row(trace, train)
    t_sp, sl, _ = _window(trace, row, spike_time_s, window_ms)
    t_ms = (trace.t_s[sl] - t_sp) * 1e3
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2))
    ax.axhline(0.0, color="0.8", lw=0.6)
    ax.plot(t_ms, trace.i_na[row, sl], color=palette[5], lw=1.3, label="I_Na (inward)")
    ax.plot(t_ms, trace.i_k[row, sl], color=palette[4], lw=1.3, label="I_K (outward)")
    ax.set_xlabel("time from spike (ms)")
    ax.set_ylabel("current (µA/cm²)")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def make_membrane_figure(
    preferred: MembraneTrace,
    orthogonal: MembraneTrace,
    *,
    train: int | None = None,
    spike_time_s: float | None = None,
    titles: tuple[str, str] = ("preferred sweep", "orthogonal sweep"),
    suptitle: str | None = None,
) -> Any:
    """The membrane of one cell during its preferred and orthogonal sweeps (a Figure).

    Left: V(t) during the preferred sweep (one spike marked), V(t) during the orthogonal
    sweep on the same scale, and the input current of both (V1 drive plus noise). Right:
    the marked spike enlarged with its six phases labelled, and beneath it, on the same
    time axis, the gates m, h, n and the Na⁺ and K⁺ currents.

    Parameters
    ----------
    preferred, orthogonal : MembraneTrace
        Recorded traces of the same cell (and parameters) for the two sweeps.
    train : int, optional
        Recorded train to draw from each (default: the first).
    spike_time_s : float, optional
        Spike of the preferred sweep to enlarge (default: its most isolated spike).
    titles : (str, str)
        Titles of the two sweeps.
    suptitle : str, optional

    Returns
    -------
    matplotlib Figure

    Examples
    --------
    >>> from v1lab.cells import sim_hodgkin_huxley
    >>> rng = np.random.default_rng(0)
    >>> up = np.concatenate([np.full(40, 2.0), np.full(120, 60.0), np.full(40, 2.0)])[:, None]
    >>> _, pref = sim_hodgkin_huxley(up, 200.0, rng=rng, record=[0])
    >>> _, orth = sim_hodgkin_huxley(np.full((200, 1), 2.0), 200.0, rng=rng, record=[0])
    >>> fig = make_membrane_figure(pref, orth)
    >>> len(fig.axes)
    6
    """
    from v1lab.cells import compute_resting_potential

    plt, palette = _plt_and_palette()
    row_p = _pick_row(preferred, train)
    row_o = _pick_row(orthogonal, train)
    t_sp, _, (pre, post) = _window(preferred, row_p, spike_time_s, None)
    fig = plt.figure(figsize=(12.0, 8.0), layout="constrained")
    grid = fig.add_gridspec(3, 2, width_ratios=(1.35, 1.0))
    ax_p = fig.add_subplot(grid[0, 0])
    ax_o = fig.add_subplot(grid[1, 0], sharex=ax_p, sharey=ax_p)
    ax_i = fig.add_subplot(grid[2, 0], sharex=ax_p)
    ax_s = fig.add_subplot(grid[0, 1])
    ax_g = fig.add_subplot(grid[1, 1], sharex=ax_s)
    ax_c = fig.add_subplot(grid[2, 1], sharex=ax_s)
    plot_membrane(preferred, train=train, ax=ax_p, color=palette[5])
    plot_membrane(orthogonal, train=train, ax=ax_o, color=palette[4])
    for ax, tr, row, title in (
        (ax_p, preferred, row_p, titles[0]),
        (ax_o, orthogonal, row_o, titles[1]),
    ):
        n = tr.spike_times_s[row].size
        ax.set_title(f"{title}: {n} spike{'' if n == 1 else 's'}", fontsize=9)
    ax_p.axvspan(t_sp - pre * 1e-3, t_sp + post * 1e-3, color=_PHASE_COLOURS[2], alpha=0.25)
    ax_p.annotate(
        "enlarged →",
        (t_sp, float(preferred.v_mv[row_p].max())),
        fontsize=7,
        xytext=(6, -2),
        textcoords="offset points",
        color=_PHASE_COLOURS[2],
    )
    for tr, row, colour, text in (
        (preferred, row_p, palette[5], titles[0]),
        (orthogonal, row_o, palette[4], titles[1]),
    ):
        ax_i.plot(tr.t_s, tr.i_input[row], color=colour, lw=0.4, alpha=0.8, label=text)
    ax_i.set_xlabel("time (s)")
    ax_i.set_ylabel("input current (µA/cm²)")
    ax_i.set_title("input: V1 drive + synaptic noise", fontsize=9)
    ax_i.legend(fontsize=7, frameon=False, loc="upper right")
    ax_i.spines[["top", "right"]].set_visible(False)
    plot_spike_phases(preferred, train=train, spike_time_s=t_sp, ax=ax_s)
    ax_s.set_title("one action potential, enlarged", fontsize=9)
    plot_gates(preferred, train=train, spike_time_s=t_sp, ax=ax_g)
    ax_g.set_title("ion-channel gates", fontsize=9)
    plot_ionic_currents(preferred, train=train, spike_time_s=t_sp, ax=ax_c)
    ax_c.set_title("ionic currents", fontsize=9)
    p = preferred.params
    fig.suptitle(
        suptitle
        or f"Inside the cell: Hodgkin–Huxley membrane at {p.temperature_c:g} °C "
        f"(rest {compute_resting_potential(p):.0f} mV)",
        fontsize=11,
    )
    return fig


def make_recording_membrane_figure(
    recording: Any,
    *,
    cell: int | None = None,
    rng: np.random.Generator,
    **hh_params: Any,
) -> Any:
    """The membrane figure of one cell of a run, from the run's own model rates.

    Picks the cell's preferred sweep (the condition with the highest mean model rate
    among those with a ``direction_deg``) and the orthogonal one (direction ± 90°, the
    nearest shown), simulates that cell's Hodgkin–Huxley membrane for one presentation
    of each with :func:`sim_hodgkin_huxley` (recording everything), and draws
    :func:`make_membrane_figure`.

    Parameters
    ----------
    recording : v1lab.experiment.Recording
        A run whose ``condition_rates`` were kept (conditions computed independently).
    cell : int, optional
        Cell index; default: the cell with the highest peak model rate.
    rng : numpy.random.Generator
    **hh_params
        Passed to :func:`sim_hodgkin_huxley` (``temperature_c``, ``noise_ua_cm2``, …).

    Returns
    -------
    matplotlib Figure
    """
    from v1lab.cells import sim_hodgkin_huxley

    rates = list(getattr(recording, "condition_rates", []) or [])
    conditions = list(recording.conditions)
    if not rates or len(rates) != len(conditions):
        raise ParameterError(
            "recording.condition_rates",
            "(empty)",
            "expected the per-condition model rates (a run whose conditions were simulated "
            "independently, i.e. trials.isi_s longer than the retina's kernels)",
        )
    directions = np.array(
        [float(c.trial_params().get("direction_deg", np.nan)) for c in conditions]
    )
    usable = np.flatnonzero(np.isfinite(directions))
    if usable.size < 2:
        raise ParameterError(
            "recording.conditions", len(usable), "expected at least two sweep directions"
        )
    n_cells = recording.n_cells
    if cell is None:
        peaks = np.max([np.max(rates[i], axis=0) for i in usable], axis=0)
        cell = int(np.argmax(peaks))
    cell = check_int("cell", cell, lo=0, hi=n_cells - 1)
    mean = np.array([float(np.mean(rates[i][:, cell])) for i in usable])
    pref = int(usable[int(np.argmax(mean))])
    diff = np.abs(((directions[usable] - directions[pref] - 90.0) + 90.0) % 180.0 - 90.0)
    orth = int(usable[int(np.argmin(diff))])
    fs = float(recording.protocol.retina.frame_rate_hz)
    traces = []
    for c in (pref, orth):
        _, tr = sim_hodgkin_huxley(
            np.asarray(rates[c][:, [cell]], dtype=np.float64),
            fs,
            rng=rng,
            record=[0],
            **hh_params,
        )
        traces.append(tr)
    kind = str(recording.population.cell_type[cell])
    return make_membrane_figure(
        traces[0],
        traces[1],
        titles=(
            f"preferred sweep ({directions[pref]:.0f}°)",
            f"orthogonal sweep ({directions[orth]:.0f}°)",
        ),
        suptitle=f"Inside cell {cell} ({kind}): Hodgkin–Huxley membrane at "
        f"{traces[0].params.temperature_c:g} °C",
    )

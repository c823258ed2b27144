"""The axon lab: a protocol file (``lab = "axon"``) in, a complete run folder out.

:func:`run_lab_protocol` validates the whole protocol first (every error a
:class:`~v1lab.ParameterError` naming ``section.field``), then simulates and writes the
run folder under a temporary name, renamed into place only when complete:

* ``protocol.toml`` — the protocol as given;
* ``measurements.csv`` — quantity, value, unit: the velocity (fitted and between the
  electrodes), the electrode crossing times, HH 1952's three reference velocities where
  the axon is theirs, the sweeps' fitted slopes, optimum and block values, the lesions'
  delays and block thresholds;
* ``velocity_vs_*.csv``, ``lesions.csv`` — the curves;
* ``figures/`` — space–time, V(x) snapshots (nodes marked), electrode traces, the
  velocity curves, the lesion traces;
* ``recording.nwb`` — the electrode voltages as icephys ``CurrentClampSeries`` (the way
  the field stores intracellular recordings), one per electrode;
* ``sound/electrodes.wav`` — the stereo clicks (:mod:`v1lab.axon.sound`);
* ``report.html`` — one self-contained page with the numbers, figures and sound.

The folder is written by :func:`v1lab.io.save_folder` (a temporary folder renamed into
place when complete; nothing is left behind by a failure).

The protocol's sections: ``[axon]`` (``kind`` and the geometry of
:func:`~v1lab.axon.make_unmyelinated_axon` / :func:`~v1lab.axon.make_myelinated_axon`),
``[run]`` (``duration_ms``, ``dt_us``, ``stim_ms``, ``stim_na``, ``electrodes_mm``,
``snap_every``, ``method``: ``"backward_euler"`` or ``"crank_nicolson"``), and the
optional ``[sweeps]``, ``[lesions]`` and ``[sound]``; see the
shipped ``stimuli/axon_conduction.toml``, ``myelinated_axon.toml`` and
``demyelination.toml``.
"""

from __future__ import annotations

import base64
import html
import io as _io
import json
import sys
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from v1lab._validate import ParameterError, check_bool, check_choice, check_int, check_number
from v1lab.axon.cable import MAX_DT_PHI_US, CableRun, check_run_settings, sim_cable
from v1lab.axon.clinic import MEDIAN_MOTOR_LLN_M_S, classify_velocity
from v1lab.axon.figures import (
    plot_lesion_traces,
    plot_snapshots,
    plot_space_time,
    plot_traces,
    plot_velocity_curve,
    plot_velocity_diameter,
)
from v1lab.axon.geometry import Cable, make_myelinated_axon, make_unmyelinated_axon
from v1lab.axon.lesions import find_block_threshold, make_lesioned_fibre, run_fibre
from v1lab.axon.measure import compute_electrode_velocity, compute_velocity
from v1lab.axon.sound import make_stereo_clicks
from v1lab.axon.sweeps import (
    compute_velocity_vs_diameter,
    compute_velocity_vs_internode,
    compute_velocity_vs_temperature,
    fit_loglog_slope,
)
from v1lab.io import (
    check_run_folder,
    make_simulated_subject,
    save_folder,
    save_table_csv,
    write_atomic,
)

__all__ = ["LAB", "load_lab_protocol", "run_lab_protocol"]

LAB = "axon"

_AXON_COMMON = ("kind", "diameter_um", "ra_ohm_cm", "cm_uf_cm2", "temperature_c")
_AXON_KEYS = {
    "unmyelinated": (*_AXON_COMMON, "length_mm", "dx_um"),
    "myelinated": (
        *_AXON_COMMON,
        "n_nodes",
        "node_length_um",
        "internode_length_um",
        "myelin_insulation",
        "segments_per_internode",
        "node_density_scale",
        "node_model",
    ),
}
_SECTIONS: dict[str, tuple[str, ...]] = {
    "run": (
        "duration_ms",
        "dt_us",
        "stim_ms",
        "stim_na",
        "electrodes_mm",
        "snap_every",
        "method",
    ),
    "sweeps": ("diameters_um", "internode_lengths_um", "temperatures_c", "dt_us"),
    "lesions": ("myelin_divisors", "n_internodes", "find_block"),
    "sound": ("enabled", "fs_hz", "repeats", "period_s", "electrodes"),
    "clinic": ("lower_limit_m_s", "myelin_insulations"),
}
_TOP = ("lab", "description", "name", "axon", *_SECTIONS)
# A clinic fibre slower than this is not waited for: reported as conduction block.
_SLOWEST_M_S = 5.0

#: HH 1952's velocities for their axon at 18.5 °C (m/s): the exact travelling wave of
#: their equations, their hand computation (K = 10.47 /ms) and the fibre's measurement.
HH1952_VELOCITIES = {
    "exact travelling wave": 18.73,
    "HH 1952 computed": 18.8,
    "HH 1952 fibre measured": 21.2,
}


def _section(data: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    sec = data.get(name, {})
    if not isinstance(sec, Mapping):
        raise ParameterError(name, sec, "expected a [section] table")
    for key in sec:
        if key not in allowed:
            raise ParameterError(
                f"{name}.{key}", sec[key], f"unknown field; allowed: {', '.join(allowed)}"
            )
    return dict(sec)


def _number_list(
    name: str, value: Any, *, lo: float, hi: float, max_len: int = 40, integer: bool = False
) -> list[float]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= max_len:
        raise ParameterError(name, value, f"expected a list of 1 to {max_len} numbers")
    check = check_int if integer else check_number
    return [check(f"{name}[{i}]", v, lo=lo, hi=hi) for i, v in enumerate(value)]


def _prefixed(section: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except ParameterError as err:
        raise err.with_prefix(section) from None


def load_lab_protocol(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a whole axon protocol; returns the plan :func:`run_lab_protocol` runs.

    Raises ParameterError naming ``section.field`` at the first bad value.
    """
    if not isinstance(data, Mapping):
        raise ParameterError("protocol", data, "expected a TOML table")
    for key in data:
        if key not in _TOP:
            raise ParameterError(key, data[key], f"unknown field; allowed: {', '.join(_TOP)}")
    if data.get("lab") != LAB:
        raise ParameterError("lab", data.get("lab"), f'expected "{LAB}"')
    desc = data.get("description")
    if not isinstance(desc, str) or not desc.strip():
        raise ParameterError("description", desc, "expected a non-empty string")
    axon = data.get("axon", {})
    if not isinstance(axon, Mapping):
        raise ParameterError("axon", axon, "expected a [section] table")
    kind = check_choice("axon.kind", axon.get("kind", "unmyelinated"), tuple(_AXON_KEYS))
    axon = _section(data, "axon", _AXON_KEYS[kind])
    axon.pop("kind", None)
    make = make_unmyelinated_axon if kind == "unmyelinated" else make_myelinated_axon
    cable: Cable = _prefixed("axon", make, **axon)

    run = _section(data, "run", _SECTIONS["run"])
    electrodes_mm = run.pop("electrodes_mm", None)
    total_mm = cable.total_length_um / 1000.0
    if electrodes_mm is None:
        electrodes_mm = [total_mm / 3, 2 * total_mm / 3]
    electrodes_mm = _number_list("run.electrodes_mm", electrodes_mm, lo=0, hi=total_mm, max_len=16)
    run.setdefault("snap_every", 4)
    stim_na = run.pop("stim_na", None)
    if stim_na is not None:
        stim_na = check_number("run.stim_na", stim_na, lo=-1e7, hi=1e7, unit="nA")
    settings = _prefixed(
        "run", check_run_settings, cable, electrodes_um=[1000.0 * x for x in electrodes_mm], **run
    )
    duration, dt_us, stim_ms, electrodes_um, snap_every = settings
    method = run.get("method", "backward_euler")

    sweeps = _section(data, "sweeps", _SECTIONS["sweeps"])
    dt_hi = MAX_DT_PHI_US / cable.speed
    sweep_dt = check_number(
        "sweeps.dt_us", sweeps.pop("dt_us", min(5.0, dt_hi)), lo=0.01, hi=dt_hi, unit="µs"
    )
    plan_sweeps: dict[str, list[float]] = {}
    bounds = {
        "diameters_um": (0.5, 2000.0),
        "internode_lengths_um": (10.0, 20_000.0),
        "temperatures_c": (0.0, 45.0),
    }
    for key, val in sweeps.items():
        if key == "internode_lengths_um" and kind != "myelinated":
            raise ParameterError(
                "sweeps.internode_lengths_um", val, "needs a myelinated axon (axon.kind)"
            )
        plan_sweeps[key] = _number_list(f"sweeps.{key}", val, lo=bounds[key][0], hi=bounds[key][1])

    lesions = _section(data, "lesions", _SECTIONS["lesions"])
    if lesions and kind != "myelinated":
        raise ParameterError("lesions", lesions, "lesions need a myelinated axon (axon.kind)")
    plan_lesions = None
    if lesions:
        n_nodes = cable.node_index.size
        plan_lesions = {
            "myelin_divisors": _number_list(
                "lesions.myelin_divisors",
                lesions.get("myelin_divisors", [1, 2, 5, 10, 20]),
                lo=1,
                hi=1000,
                max_len=12,
            ),
            "n_internodes": check_int(
                "lesions.n_internodes",
                lesions.get("n_internodes", 3),
                lo=1,
                hi=max(1, n_nodes // 2 - 1),
            ),
            "find_block": check_bool("lesions.find_block", lesions.get("find_block", True)),
        }
        if n_nodes < 8:
            raise ParameterError("axon.n_nodes", n_nodes, "lesions need at least 8 nodes")

    sound = _section(data, "sound", _SECTIONS["sound"])
    plan_sound = None
    if check_bool("sound.enabled", sound.get("enabled", True)):
        pair = sound.get("electrodes", [0, 1])
        pair = _number_list(
            "sound.electrodes", pair, lo=0, hi=len(electrodes_um) - 1, max_len=2, integer=True
        )
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ParameterError("sound.electrodes", pair, "expected two different electrodes")
        plan_sound = {
            "pair": pair,
            "fs_hz": check_int("sound.fs_hz", sound.get("fs_hz", 44100), lo=16000, hi=192000),
            "repeats": check_int("sound.repeats", sound.get("repeats", 4), lo=1, hi=100),
            "period_s": check_number(
                "sound.period_s", sound.get("period_s", 0.5), lo=0.05, hi=10.0, unit="s"
            ),
        }
    clinic = _section(data, "clinic", _SECTIONS["clinic"])
    plan_clinic = None
    if clinic:
        if len(electrodes_um) < 2:
            raise ParameterError(
                "run.electrodes_mm", electrodes_mm, "the clinic needs two electrodes"
            )
        insul = clinic.get("myelin_insulations", [])
        if insul and kind != "myelinated":
            raise ParameterError(
                "clinic.myelin_insulations", insul, "needs a myelinated axon (axon.kind)"
            )
        lln = clinic.get("lower_limit_m_s", MEDIAN_MOTOR_LLN_M_S)
        plan_clinic = {
            "lower_limit_m_s": check_number("clinic.lower_limit_m_s", lln, lo=1, hi=200),
            "myelin_insulations": (
                _number_list("clinic.myelin_insulations", insul, lo=1, hi=1e5, max_len=8)
                if insul
                else []
            ),
        }
    return {
        "kind": kind,
        "axon": axon,
        "cable": cable,
        "clinic": plan_clinic,
        "run": {
            "duration_ms": duration,
            "dt_us": dt_us,
            "stim_ms": stim_ms,
            "stim_na": stim_na,
            "electrodes_um": electrodes_um,
            "snap_every": snap_every,
            "method": method,
        },
        "sweeps": plan_sweeps,
        "sweep_dt_us": sweep_dt,
        "lesions": plan_lesions,
        "sound": plan_sound,
        "description": desc.strip(),
    }


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------


def _simulate(plan: dict[str, Any], say: Callable[[str], None]) -> dict[str, Any]:
    cable, kind = plan["cable"], plan["kind"]
    run = sim_cable(cable, **plan["run"])
    rows: list[tuple[str, float, str]] = []
    v_fit = compute_velocity(run)
    rows.append(("velocity (fit, middle half)", v_fit, "m/s"))
    for i, x in enumerate(run.electrodes_um):
        rows.append(
            (
                f"crossing time at electrode {i} ({x / 1000:g} mm)",
                float(run.cross_ms[run.electrode_index[i]]),
                "ms",
            )
        )
    if run.electrodes_um.size >= 2:
        rows.append(("velocity between electrodes 0 and 1", compute_electrode_velocity(run), "m/s"))
    hh = cable.info
    if (
        kind == "unmyelinated"
        and abs(hh["diameter_um"] - 476) < 1
        and abs(hh["ra_ohm_cm"] - 35.4) < 0.05
        and abs(hh["temperature_c"] - 18.5) < 0.05
    ):
        for name, value in HH1952_VELOCITIES.items():
            rows.append((f"reference: {name}", value, "m/s"))
    say(f"velocity {v_fit:.4g} m/s")
    curves: dict[str, dict[str, np.ndarray]] = {}
    geometry = {k: v for k, v in plan["axon"].items() if k != "temperature_c"}
    dt = plan["sweep_dt_us"]
    for key, values in plan["sweeps"].items():
        x = np.asarray(values)
        if key == "diameters_um":
            v = compute_velocity_vs_diameter(
                x, kind=kind, dt_us=dt, temperature_c=cable.temperature_c
            )
            curves[key] = {"diameter_um": x, "velocity_m_s": v}
            rows.append(("log-log slope of velocity on diameter", fit_loglog_slope(x, v), "1"))
        elif key == "internode_lengths_um":
            fibre = {k: v for k, v in geometry.items() if k != "internode_length_um"}
            fibre.pop("n_nodes", None)
            v = compute_velocity_vs_internode(
                x, dt_us=dt, temperature_c=cable.temperature_c, **fibre
            )
            curves[key] = {"internode_length_um": x, "velocity_m_s": v}
            rows += _optimum_rows(x, v, "internode length", "µm")
        else:
            v = compute_velocity_vs_temperature(x, kind=kind, **geometry)
            curves[key] = {"temperature_c": x, "velocity_m_s": v}
            rows += _optimum_rows(x, v, "temperature", "°C")
        say(f"sweep {key}: {np.round(v, 3).tolist()}")
    lesion_runs: dict[str, CableRun] = {}
    lesion_table: dict[str, np.ndarray] = {}
    if plan["lesions"]:
        les = plan["lesions"]
        fibre = dict(geometry)
        fibre["temperature_c"] = cable.temperature_c
        fibre.pop("myelin_insulation", None)
        insul = cable.info["myelin_insulation"]
        delays = []
        n_int = les["n_internodes"]
        base = None
        for f in les["myelin_divisors"]:
            fib = make_lesioned_fibre(
                "myelin", f, n_internodes=n_int, myelin_insulation=insul, **fibre
            )
            far = fib.node_index[-3]
            r = run_fibre(fib)
            r = sim_cable(
                fib,
                duration_ms=r.t_ms[-1],
                dt_us=5.0,
                electrodes_um=[fib.x_um[fib.node_index[2]], fib.x_um[far]],
            )
            lesion_runs[f"myelin ÷ {f:g}"] = r
            t = float(r.cross_ms[far] - r.cross_ms[fib.node_index[2]])
            base = t if base is None and f == 1 else base
            delays.append(t)
        delays_a = np.asarray(delays)
        lesion_table = {
            "myelin_divisor": np.asarray(les["myelin_divisors"], dtype=float),
            "travel_time_ms": delays_a,
            "extra_delay_ms": delays_a - (base if base is not None else np.nan),
        }
        if les["find_block"]:
            for k, unit, what in (
                ("myelin", "÷", "myelin thinning factor"),
                ("dead_nodes", "nodes", "consecutive inexcitable nodes"),
                ("sodium", "fraction", "sodium removed (all distal nodes)"),
            ):
                thr = find_block_threshold(k, n_internodes=n_int, myelin_insulation=insul, **fibre)
                rows.append((f"block threshold: {what}", thr, unit))
                say(f"block threshold ({what}): {thr:.4g}")
    return {
        "run": run,
        "rows": rows,
        "curves": curves,
        "lesion_runs": lesion_runs,
        "lesion_table": lesion_table,
        **_clinic(plan, run, rows, say),
    }


def _clinic(
    plan: dict[str, Any],
    run: CableRun,
    rows: list[tuple[str, float, str]],
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The nerve conduction study: the fibre, and the same fibre with thinner myelin."""
    out: dict[str, Any] = {"clinic_table": {}, "clinic_runs": []}
    clinic = plan["clinic"]
    if clinic is None:
        return out
    lln = clinic["lower_limit_m_s"]
    v = compute_electrode_velocity(run)
    rows.append(("nerve conduction velocity (electrodes 0 to 1)", v, "m/s"))
    rows.append((f"clinic: {classify_velocity(v, lln)} (lower limit {lln:g} m/s)", v, "m/s"))
    insulations = clinic["myelin_insulations"]
    if not insulations:
        return out
    geometry = {k: x for k, x in plan["axon"].items() if k != "myelin_insulation"}
    settings = dict(plan["run"], snap_every=0)
    settings["duration_ms"] = max(
        settings["duration_ms"], 3.0 + plan["cable"].total_length_um * 1e-3 / _SLOWEST_M_S
    )
    velocities = []
    for ins in insulations:
        r = sim_cable(make_myelinated_axon(myelin_insulation=ins, **geometry), **settings)
        out["clinic_runs"].append(r)
        velocities.append(compute_electrode_velocity(r))
        reading = classify_velocity(velocities[-1], lln)
        say(f"clinic: myelin insulation {ins:g}: {velocities[-1]:.4g} m/s, {reading}")
    vel = np.asarray(velocities)
    out["clinic_table"] = {
        "myelin_insulation": np.asarray(insulations, dtype=float),
        "velocity_m_s": vel,
        "percent_of_lower_limit": 100.0 * vel / lln,
        "reading": np.array([classify_velocity(x, lln) for x in vel], dtype=object),
    }
    return out


def _optimum_rows(
    x: np.ndarray, v: np.ndarray, what: str, unit: str
) -> list[tuple[str, float, str]]:
    ok = np.isfinite(v)
    rows = []
    if ok.any():
        i = int(np.nanargmax(v))
        rows += [
            (f"{what} of the fastest conduction", float(x[i]), unit),
            (f"fastest velocity over {what}", float(v[i]), "m/s"),
        ]
        after = np.flatnonzero(~ok & (np.arange(x.size) > i))
        rows.append(
            (f"first {what} that blocks", float(x[after[0]]) if after.size else np.nan, unit)
        )
    return rows


# --------------------------------------------------------------------------------------
# The run folder
# --------------------------------------------------------------------------------------


def _save_figure(fig: Any, path: Path) -> bytes:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    load = fig.canvas.figure
    import matplotlib.pyplot as plt

    plt.close(load)
    data = buf.getvalue()
    write_atomic(path, data)
    return data


#: The animal each node membrane is measured in, for the NWB subject (DANDI asks for one):
#: Hodgkin & Huxley's (1952) squid, and the human nerve of the clinic's CRRSS node.
_NWB_SUBJECT = {
    "hh": ("Loligo forbesi", "a model of the squid giant axon of Hodgkin & Huxley (1952)"),
    "crrss": ("Homo sapiens", "a model of a human myelinated motor fibre"),
}


def _save_nwb(
    run: CableRun, text: str, description: str, path: Path, node_model: str = "hh"
) -> None:
    from datetime import datetime

    import h5py
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.icephys import CurrentClampSeries

    from v1lab._version import __version__

    nwb = NWBFile(
        session_description=description,
        identifier=str(uuid.uuid5(uuid.NAMESPACE_URL, text)),
        session_start_time=datetime(2000, 1, 1, tzinfo=UTC),
        source_script=f"v1lab {__version__} (v1lab.axon)",
        source_script_file_name="v1lab/axon/lab.py",
        protocol=text,
        session_id=f"axon-{uuid.uuid5(uuid.NAMESPACE_URL, text).hex[:12]}",
        subject=make_simulated_subject(
            "simulated-axon",
            _NWB_SUBJECT[node_model][0],
            f"simulated: {_NWB_SUBJECT[node_model][1]}; no animal was used",
        ),
    )
    device = nwb.create_device(name="v1lab_axon", description="simulated cable (v1lab.axon)")
    for i, x in enumerate(run.electrodes_um):
        elec = nwb.create_icephys_electrode(
            name=f"electrode_{i}",
            device=device,
            cell_id="simulated-axon",
            description=f"intracellular electrode at {x:g} µm from the stimulated end",
        )
        nwb.add_acquisition(
            CurrentClampSeries(
                name=f"V_electrode_{i}",
                data=run.v_mv[i],
                electrode=elec,
                gain=1.0,
                conversion=1e-3,
                rate=1000.0 / (run.t_ms[1] - run.t_ms[0]),
                starting_time=0.0,
                description=f"membrane potential at {x:g} µm (mV stored; conversion to V)",
            )
        )
    buffer = _io.BytesIO()
    with h5py.File(buffer, "w") as h5, NWBHDF5IO(file=h5, mode="w") as nwb_io:
        nwb_io.write(nwb)
    write_atomic(path, buffer.getvalue())


def _report(
    name: str,
    description: str,
    rows: list[tuple[str, float, str]],
    figures: dict[str, bytes],
    wav: bytes | None,
) -> str:
    def fmt(v: float) -> str:
        return "—" if not np.isfinite(v) else f"{v:.5g}"

    table = "".join(
        f"<tr><td>{html.escape(q)}</td><td>{fmt(v)}</td><td>{html.escape(u)}</td></tr>"
        for q, v, u in rows
    )
    imgs = "".join(
        f'<figure><img alt="{html.escape(k)}" src="data:image/png;base64,'
        f'{base64.b64encode(b).decode()}"><figcaption>{html.escape(k)}</figcaption></figure>'
        for k, b in figures.items()
    )
    audio = (
        ""
        if wav is None
        else '<h2>Hear it travel</h2><audio controls src="data:audio/wav;'
        f'base64,{base64.b64encode(wav).decode()}"></audio><p>Left: first electrode; '
        "right: second. The gap is the conduction delay.</p>"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)}"
        "</title><style>body{font-family:sans-serif;max-width:900px;margin:auto}"
        "td{padding:2px 8px}img{max-width:100%}</style></head><body>"
        f"<h1>{html.escape(name)}</h1><p>{html.escape(description)}</p>"
        f"<h2>Measurements</h2><table>{table}</table>{audio}<h2>Figures</h2>{imgs}"
        "</body></html>"
    )


def run_lab_protocol(
    data: Mapping[str, Any],
    folder: Path,
    *,
    name: str,
    overwrite: bool = False,
    play: bool = False,
    quiet: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """Validate, simulate and write the run folder of an axon protocol; returns 0.

    Bad input raises :class:`~v1lab.ParameterError` (``section.field``) before any work;
    an existing ``folder`` without ``overwrite``, or one that cannot be written, raises
    :class:`~v1lab.io.RunFolderError` (the command line turns both into one line and
    exit code 2). ``play`` plays the stereo clicks through :mod:`v1lab.audio` after the
    folder is written.
    """
    plan = load_lab_protocol(data)
    folder = check_run_folder(Path(folder), overwrite=overwrite)

    def say(msg: str) -> None:
        if not quiet:
            out.write(f"{name}: {msg}\n")

    result = _simulate(plan, say)
    run: CableRun = result["run"]
    wav = None
    audio_delay = None
    if plan["sound"] is not None:
        s = plan["sound"]
        i, j = (int(k) for k in s["pair"])
        audio, audio_delay = make_stereo_clicks(
            float(run.cross_ms[run.electrode_index[i]]),
            float(run.cross_ms[run.electrode_index[j]]),
            s["fs_hz"],
            repeats=s["repeats"],
            period_s=s["period_s"],
        )
        result["rows"].append(("stereo delay (right − left)", audio_delay / s["fs_hz"] * 1e3, "ms"))
    text = _toml_text(data)

    def write(tmp: Path) -> None:
        nonlocal wav
        write_atomic(tmp / "protocol.toml", text)
        rows = result["rows"]
        save_table_csv(
            tmp / "measurements.csv",
            {
                "quantity": np.array([r[0] for r in rows], dtype=object),
                "value": np.array([r[1] for r in rows], dtype=float),
                "unit": np.array([r[2] for r in rows], dtype=object),
            },
        )
        for key, cols in result["curves"].items():
            save_table_csv(tmp / f"velocity_vs_{key.rsplit('_', 1)[0]}.csv", cols)
        if result["lesion_table"]:
            save_table_csv(tmp / "lesions.csv", result["lesion_table"])
        if result["clinic_table"]:
            save_table_csv(tmp / "nerve_study.csv", result["clinic_table"])
        figs: dict[str, bytes] = {}
        fdir = tmp / "figures"
        figs["space-time"] = _save_figure(plot_space_time(run), fdir / "space_time.png")
        figs["V(x) snapshots"] = _save_figure(plot_snapshots(run), fdir / "snapshots.png")
        figs["electrode traces"] = _save_figure(plot_traces(run), fdir / "traces.png")
        labels = {
            "diameters_um": "diameter (µm)",
            "internode_lengths_um": "internode length (µm)",
            "temperatures_c": "temperature (°C)",
        }
        for key, cols in result["curves"].items():
            x, v = next(iter(cols.values())), cols["velocity_m_s"]
            fig = (
                plot_velocity_diameter({plan["kind"]: (x, v)})
                if key == "diameters_um"
                else plot_velocity_curve(x, v, labels[key])
            )
            figs[labels[key]] = _save_figure(fig, fdir / f"velocity_vs_{key}.png")
        if result["lesion_runs"]:
            figs["lesions"] = _save_figure(
                plot_lesion_traces(result["lesion_runs"]), fdir / "lesion_traces.png"
            )
        node_model = str(plan["axon"].get("node_model", "hh"))
        _save_nwb(run, text, plan["description"], tmp / "recording.nwb", node_model)
        if plan["sound"] is not None:
            from v1lab.audio.wav import save_wav

            (tmp / "sound").mkdir()
            save_wav(tmp / "sound" / "electrodes.wav", audio, plan["sound"]["fs_hz"])
            if result["clinic_runs"]:
                nerve = _clinic_audio(result["clinic_runs"], plan["sound"]["fs_hz"])
                save_wav(tmp / "sound" / "nerve_study.wav", nerve, plan["sound"]["fs_hz"])
            wav = (tmp / "sound" / "electrodes.wav").read_bytes()
        write_atomic(
            tmp / "report.html", _report(name, plan["description"], result["rows"], figs, wav)
        )

    save_folder(folder, {"the run folder": write}, overwrite=overwrite)
    say(f"wrote {folder}")
    if play and plan["sound"] is not None:
        from v1lab.audio import play_audio

        play_audio(audio, plan["sound"]["fs_hz"])
    return 0


def _clinic_audio(runs: list[CableRun], fs_hz: int) -> np.ndarray:
    """One left-right click pair per fibre of the study, a second apart (block: silence)."""
    parts = []
    for r in runs:
        t0, t1 = (float(r.cross_ms[r.electrode_index[k]]) for k in (0, 1))
        audio = np.zeros((fs_hz, 2), dtype=np.float32)
        if np.isfinite(t0) and np.isfinite(t1):
            clicks, _ = make_stereo_clicks(t0, t1, fs_hz, repeats=1, period_s=1.0)
            audio[: min(fs_hz, len(clicks))] = clicks[:fs_hz]
        parts.append(audio)
    return np.concatenate(parts)


def _toml_text(data: Mapping[str, Any]) -> str:
    """The protocol as TOML (flat tables of scalars and lists, as the lab protocols are)."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    for key, table in tables:
        lines.append(f"\n[{key}]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"

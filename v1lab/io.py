"""Files: the run folder of the data contract (NWB, NPZ, CSV, TOML), written atomically.

A run folder is assembled in a hidden temporary folder beside its destination and
renamed into place only when every file is complete, so an interrupted run never
leaves a half-written folder, and an existing folder is never replaced unless asked.
The destination is checked writable before any work; a write that fails (a full disk)
leaves nothing and is reported as one :class:`RunFolderError` naming the path and the
cause. A run killed outright (SIGKILL) leaves its temporary folder; it holds a marker
naming its process, and the next run into the same place removes it once that process
is gone.

pynwb is imported only inside the NWB functions, so ``import v1lab`` stays fast.
"""

from __future__ import annotations

import csv
import glob
import io as _io
import json
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RunFolderError",
    "RunFolderExistsError",
    "check_run_folder",
    "compute_spike_time_resolution_s",
    "default_run_folder",
    "load_npz",
    "load_nwb_tables",
    "make_nwb_session_id",
    "make_nwb_subject",
    "make_simulated_subject",
    "remove_stale_temporary_folders",
    "save_folder",
    "save_npz",
    "save_nwb",
    "save_run",
    "save_table_csv",
    "write_atomic",
]

UNIT_DESCRIPTIONS = {
    "cell_type": "ground truth: simple, complex, ds_simple or end_stopped",
    "preferred_orientation_deg": "ground truth preferred bar orientation (0 = horizontal, ccw)",
    "preferred_direction_deg": (
        "ground truth preferred direction of motion; NaN if not direction-selective"
    ),
    "rf_x_deg": "ground truth RF centre x (deg, right positive)",
    "rf_y_deg": "ground truth RF centre y (deg, up positive)",
    "spatial_frequency_cpd": "ground truth Gabor carrier spatial frequency (cycles/deg)",
    "phase_deg": "ground truth Gabor phase (0 = even ON-centre, 90 = odd)",
}


#: The units table's own description (NWB asks every table for one).
UNITS_DESCRIPTION = (
    "simulated V1 single units: spike times (s, session time) and the model's ground truth"
)

#: The experiment v1lab replicates, as DOIs (DANDI and nwbinspector want ``doi:`` links):
#: Hubel & Wiesel (1959) J Physiol 148:574–591, receptive fields of single neurones in the
#: cat's striate cortex (orientation selectivity found with swept slits); Hubel & Wiesel
#: (1962) J Physiol 160:106–154, simple and complex cells and the functional architecture.
RELATED_PUBLICATIONS = (
    "doi:10.1113/jphysiol.1959.sp006308",
    "doi:10.1113/jphysiol.1962.sp006837",
)

NWB_KEYWORDS = (
    "simulation", "primary visual cortex", "area 17", "orientation selectivity",
    "receptive field", "Hubel and Wiesel",
)  # fmt: skip


#: The model animal of each species (``population.species``): Latin binomial and area.
_NWB_SPECIES = {
    "cat": ("Felis catus", "adult cat area 17, the animal of Hubel & Wiesel (1959, 1962)"),
    "macaque": ("Macaca mulatta", "adult macaque V1"),
}


def make_simulated_subject(subject_id: str, species: str, description: str) -> Any:
    """An NWB ``Subject`` for a simulated animal, with what DANDI requires of one.

    DANDI's inspector configuration makes a subject with an id, a species (Latin
    binomial), a sex and an age critical. A model has no sex: ``U`` (unknown), which DANDI
    allows; it is an adult, one year or more (``P1Y/``, ISO 8601 with an open upper bound).
    """
    from pynwb.file import Subject

    return Subject(
        subject_id=subject_id, species=species, sex="U", age="P1Y/", description=description
    )


def make_nwb_subject(protocol: Any) -> Any:
    """The NWB ``Subject`` of a simulated run: the model animal
    (:func:`make_simulated_subject`).

    The species is the protocol's ``population.species``: *Felis catus* (area 17, Hubel &
    Wiesel's animal; the default) or *Macaca mulatta* (V1). The id says it is simulated
    and names the seed, since the seed draws the population (the "animal") from its
    distributions.
    """
    # Lab protocols (the synapse labs) have no population: their cells are the cat's.
    species = getattr(getattr(protocol, "population", None), "species", "cat")
    binomial, model = _NWB_SPECIES[species]
    return make_simulated_subject(
        f"simulated-seed{protocol.seed}",
        binomial,
        f"simulated: a model of {model} (v1lab); no animal was used. The seed "
        "draws the cell population from its published distributions.",
    )


def make_nwb_session_id(protocol: Any) -> str:
    """``<protocol>-seed<seed>`` in letters, digits and hyphens: the session's id.

    DANDI forbids slashes; ``dandi organize`` names a file
    ``sub-<subject_id>_ses-<session_id>_….nwb`` and ``_`` separates those parts, so the
    protocol's underscores become hyphens (``docs/field_tools.md``).
    """
    return f"{protocol.name.replace('_', '-')}-seed{protocol.seed}"


def compute_spike_time_resolution_s(recording: Any) -> float:
    """The smallest possible difference between two spike times (``Units.resolution``).

    LIF and Hodgkin–Huxley spike times are threshold crossings interpolated within one
    integration step, so they are known to that step (``spiking.dt_s``, ``hh_dt_s``).
    The Poisson generator draws event times in continuous time (time rescaling), so its
    only limit is the float64 clock: the spacing of doubles at the session's end.
    """
    spiking = getattr(recording.protocol, "spiking", None)
    if spiking is None:  # a lab's recording (v1lab.synapse) says its own
        return float(recording.spike_time_resolution_s)
    if spiking.model == "lif":
        return float(spiking.dt_s)
    if spiking.model == "hodgkin_huxley":
        return float(spiking.hh_dt_s)
    return float(np.spacing(max(float(recording.duration_s), 1.0)))


class RunFolderError(OSError):
    """The run folder cannot be written; the message names the path and the cause."""


class RunFolderExistsError(FileExistsError, RunFolderError):
    """The run folder exists and overwriting was not asked for."""


def check_run_folder(folder: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse, before any work, a destination that exists (unless ``overwrite``) or
    that cannot be written.

    Writability is tried, not guessed from permission bits (root ignores them): a
    one-byte temporary file is written in the nearest existing folder above the
    destination.

    Raises
    ------
    RunFolderExistsError
        The destination exists (and ``overwrite`` is false), or is not a folder.
    RunFolderError
        A folder on the way is a file, or the place cannot be written (read-only, full).
    """
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise RunFolderExistsError(
            f"{folder} already exists; choose another --out, or pass --overwrite to replace it"
        )
    if folder.exists() and not folder.is_dir():
        raise RunFolderExistsError(f"{folder} exists and is not a folder")
    base = next(
        p for p in (folder.parent, *folder.parent.parents) if p.exists() or p == Path(p.anchor)
    )
    if not base.is_dir():
        raise RunFolderError(
            f"cannot write the run folder {folder}: {base} is a file, not a folder"
        )
    try:
        # Unnamed where the system allows (O_TMPFILE): even a Ctrl-C leaves nothing.
        with tempfile.TemporaryFile(dir=base) as probe:
            probe.write(b"\0")
            probe.flush()
    except OSError as err:
        raise _write_error(folder, err, f"trying {base}") from None
    return folder


def _write_error(folder: Path, err: OSError, doing: str) -> RunFolderError:
    """One line for a failed write: the destination, the cause and what was being done."""
    cause = os.strerror(err.errno) if err.errno else (str(err).splitlines() or [repr(err)])[0]
    error = RunFolderError(
        f"cannot write the run folder {folder}: {cause} ({doing}); nothing was written"
    )
    error.errno = err.errno
    return error


#: Written inside a temporary run folder while it is being filled (removed before the
#: rename): who owns it, so that a later run can tell a folder left by a killed run.
OWNER_MARKER = ".v1lab-run-in-progress"


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks after boot), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner(folder: Path) -> dict[str, Any]:
    return {
        "v1lab": "temporary run folder",
        "destination": folder.name,
        "pid": os.getpid(),
        "started": _process_start(os.getpid()),
        "host": socket.gethostname(),
    }


def _left_by_a_dead_run(tmp: Path, folder: Path) -> bool:
    """True only for a temporary folder of ``folder`` whose marker names a dead process."""
    try:
        owner = json.loads((tmp / OWNER_MARKER).read_text())
    except (OSError, ValueError):
        return False
    expected = _owner(folder)
    if not isinstance(owner, dict) or any(
        owner.get(k) != expected[k] for k in ("v1lab", "destination", "host")
    ):
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (owned by another user)
        pass
    started = _process_start(pid)  # the number may have been reused by another process
    return owner.get("started") is not None and started is not None and started != owner["started"]


def remove_stale_temporary_folders(folder: str | Path) -> list[Path]:
    """Remove the temporary folders that killed runs left beside ``folder``.

    Only hidden ``.<name>.*.tmp`` folders whose owner marker names ``folder``, this host
    and a process that no longer runs are removed; anything else is left alone.

    Returns
    -------
    list of Path
        The folders removed.
    """
    folder = Path(folder)
    removed = []
    for tmp in sorted(folder.parent.glob(f".{glob.escape(folder.name)}.*.tmp")):
        if tmp.is_dir() and not tmp.is_symlink() and _left_by_a_dead_run(tmp, folder):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _usual_mode(path: Path, *, folder: bool = False) -> None:
    """Give a temporary file or folder the permissions a plain open() would have."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        _usual_mode(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_table_csv(path: str | Path, columns: Mapping[str, np.ndarray]) -> None:
    """Write equal-length columns as a CSV file (NaN written as empty)."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    cols = [np.asarray(columns[k]) for k in names]
    for i in range(n):
        row = []
        for col in cols:
            v = col[i]
            if isinstance(v, (float, np.floating)):
                row.append("" if np.isnan(v) else f"{float(v):.10g}")
            else:
                row.append(str(v))
        writer.writerow(row)
    write_atomic(path, buf.getvalue())


def save_npz(recording: Any, path: str | Path) -> None:
    """Save spikes and tables for people without pynwb.

    Layout: ``spike_times`` (all cells, concatenated) with ``spike_index`` (CSR
    offsets: cell ``i`` owns ``spike_times[spike_index[i]:spike_index[i+1]]``),
    ``units_<column>`` and ``trials_<column>`` arrays, and ``protocol_toml``.
    """
    counts = [len(t) for t in recording.spike_times]
    arrays: dict[str, np.ndarray] = {
        "spike_times": np.concatenate(recording.spike_times)
        if recording.spike_times
        else np.zeros(0),
        "spike_index": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "duration_s": np.array(recording.duration_s),
        "protocol_toml": np.array(recording.protocol.to_toml()),
    }
    for name, col in recording.population.to_columns().items():
        arrays[f"units_{name}"] = np.asarray(col)
    for name, col in recording.presentations.items():
        arrays[f"trials_{name}"] = np.asarray(col)
    buf = _io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_atomic(path, buf.getvalue())


def load_npz(path: str | Path) -> dict[str, Any]:
    """Read a ``recording.npz``: spike_times per cell, units and trials tables.

    Returns
    -------
    dict
        ``spike_times`` (list of arrays), ``units`` and ``trials`` (dicts of columns),
        ``duration_s`` and ``protocol_toml``.
    """
    with np.load(path, allow_pickle=False) as z:
        index = z["spike_index"]
        times = z["spike_times"]
        return {
            "spike_times": [times[index[i] : index[i + 1]] for i in range(len(index) - 1)],
            "units": {k[6:]: z[k] for k in z.files if k.startswith("units_")},
            "trials": {k[7:]: z[k] for k in z.files if k.startswith("trials_")},
            "duration_s": float(z["duration_s"]),
            "protocol_toml": str(z["protocol_toml"]),
        }


def _nwb_column_data(col: np.ndarray) -> list[Any]:
    col = np.asarray(col)
    if col.dtype.kind in "US":
        return [str(v) for v in col]
    if col.dtype.kind in "iu":
        return [int(v) for v in col]
    return [float(v) for v in col]


def save_nwb(recording: Any, path: str | Path) -> None:
    """Save the recording as an NWB 2.x file (DESIGN.md's ``units`` and ``trials``).

    The resolved protocol (TOML) is stored in the file's ``protocol`` field.
    """
    from hdmf.common import VectorData, VectorIndex
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.epoch import TimeIntervals
    from pynwb.misc import Units

    from v1lab._version import __version__

    protocol = recording.protocol
    nwb = NWBFile(
        session_description=f"v1lab simulation: {protocol.name}. {protocol.description}",
        identifier=str(uuid.uuid4()),
        session_start_time=datetime.now(UTC),
        session_id=make_nwb_session_id(protocol),
        experiment_description="Simulated Hubel & Wiesel experiment (v1lab)",
        protocol=protocol.to_toml(),
        source_script=f"v1lab {__version__}",
        source_script_file_name="run_experiment.py",
        notes=(
            "Spike times in seconds from session start; units columns are the model's ground "
            "truth. A simulation: the settings are in the protocol field (and protocol.toml "
            "beside this file), the outputs in the file."
        ),
        related_publications=list(RELATED_PUBLICATIONS),
        keywords=list(NWB_KEYWORDS),
        subject=make_nwb_subject(protocol),
    )
    # Both tables are built whole, column by column: row by row (add_unit, add_trial)
    # pynwb took 8.4 s for the 10,000 units of orientation_map, this 0.08 s, and the
    # file is the same (same datasets, types and attributes; tests/test_io.py).
    unit_columns = [
        VectorData(name=name, description=UNIT_DESCRIPTIONS.get(name, name), data=values)
        for name, values in (
            (k, _nwb_column_data(v)) for k, v in recording.population.to_columns().items()
        )
    ]
    counts = np.array([len(t) for t in recording.spike_times], dtype=np.int64)
    spike_times = VectorData(
        name="spike_times",
        description=_standard_description(Units, "spike_times"),
        data=np.concatenate([np.asarray(t, dtype=float) for t in recording.spike_times])
        if len(counts)
        else np.zeros(0),
    )
    unit_columns += [
        spike_times,
        VectorIndex(name="spike_times_index", data=np.cumsum(counts), target=spike_times),
    ]
    nwb.units = Units(
        name="units", description=UNITS_DESCRIPTION, id=np.arange(len(counts)),
        columns=unit_columns, resolution=compute_spike_time_resolution_s(recording),
    )  # fmt: skip
    p = recording.presentations
    nwb.trials = TimeIntervals(
        name="trials",
        description="experimental trials",
        id=np.arange(len(p["start_time"])),
        columns=[
            VectorData(
                name=name,
                description=_standard_description(TimeIntervals, name) or _trial_description(name),
                data=_nwb_column_data(values),
            )
            for name, values in p.items()
        ],
    )

    # HDF5 writes into memory, and the bytes reach the disk through write_atomic: a
    # full disk (or any write error) is then an ordinary OSError, and HDF5 never holds a
    # half-written file. (Writing to the disk directly, a full disk left HDF5's objects
    # in a state that crashed the interpreter at exit.)
    import h5py

    buffer = _io.BytesIO()
    with h5py.File(buffer, "w") as h5, NWBHDF5IO(file=h5, mode="w") as nwb_io:
        nwb_io.write(nwb)
    write_atomic(path, buffer.getvalue())


def _standard_description(table: type, name: str) -> str:
    """pynwb's own description of one of a table's predefined columns ('' if none)."""
    return next((c["description"] for c in table.__columns__ if c["name"] == name), "")


def _trial_description(name: str) -> str:
    known = {
        "stimulus_condition_id": "index of the stimulus condition (same id, same stimulus)",
        "repeat": "how many earlier presentations had this condition",
        "stimulus": "stimulus kind",
    }
    return known.get(name, f"stimulus parameter {name} (NaN where it does not apply)")


def load_nwb_tables(path: str | Path) -> dict[str, Any]:
    """Read back an NWB file's units and trials tables as dicts of numpy columns."""
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        units = {name: np.asarray(nwb.units[name][:], dtype=object) for name in nwb.units.colnames}
        units["spike_times"] = [np.asarray(t) for t in nwb.units["spike_times"][:]]
        trials = {name: np.asarray(nwb.trials[name][:]) for name in nwb.trials.colnames}
        return {"units": units, "trials": trials, "protocol": nwb.protocol}


Writer = Callable[[Any, Path], None]


def save_run(
    recording: Any,
    folder: str | Path,
    *,
    overwrite: bool = False,
    extra: Mapping[str, Writer] | None = None,
) -> Path:
    """Write the run folder of the data contract; returns its path.

    Parameters
    ----------
    recording : Recording
    folder : path
        Destination. It is built under a temporary name beside it and renamed into
        place when complete (:func:`save_folder`).
    overwrite : bool
        Replace an existing folder (only after the new one is complete).
    extra : mapping of name to callable, optional
        More writers ``fn(recording, tmp_folder)`` (figures, metrics, audio); the name
        is used in error messages.

    Raises
    ------
    RunFolderExistsError, RunFolderError
        As :func:`save_folder`.
    """
    writers: dict[str, Callable[[Path], None]] = {
        "protocol.toml": lambda tmp: write_atomic(
            tmp / "protocol.toml", recording.protocol.to_toml()
        ),
        "recording.nwb": lambda tmp: save_nwb(recording, tmp / "recording.nwb"),
        "recording.npz": lambda tmp: save_npz(recording, tmp / "recording.npz"),
        "presentations.csv": lambda tmp: save_table_csv(
            tmp / "presentations.csv", recording.presentations
        ),
    }
    for name, writer in (extra or {}).items():
        writers[name] = lambda tmp, writer=writer: writer(recording, tmp)
    return save_folder(folder, writers, overwrite=overwrite)


def save_folder(
    folder: str | Path,
    writers: Mapping[str, Callable[[Path], None]],
    *,
    overwrite: bool = False,
) -> Path:
    """Write a folder atomically: ``writers`` fill a temporary folder, renamed into place.

    Each writer is ``fn(tmp_folder)``; its name is used in error messages
    (``writing <name>``). Used by :func:`save_run` and by the labs' run folders.

    Raises
    ------
    RunFolderExistsError
        ``folder`` exists and ``overwrite`` is false.
    RunFolderError
        A write failed (read-only place, full disk); nothing was left behind.
    """
    folder = check_run_folder(folder, overwrite=overwrite)
    remove_stale_temporary_folders(folder)
    missing = [p for p in (folder.parent, *folder.parent.parents) if not p.exists()]
    tmp: Path | None = None
    doing = f"making a temporary folder in {folder.parent}"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        # Named before it is made, so that the cleanup below knows it whenever it stops.
        tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir()
        (tmp / OWNER_MARKER).write_text(json.dumps(_owner(folder)))
        for name, writer in writers.items():
            doing = f"writing {name}"
            writer(tmp)
        doing = "moving it into place"
        (tmp / OWNER_MARKER).unlink()
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    except BaseException as err:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for made in missing:  # the folders made for it, deepest first, if still empty
            try:
                made.rmdir()
            except OSError:
                break
        if isinstance(err, OSError) and not isinstance(err, RunFolderError):
            raise _write_error(folder, err, doing) from err
        raise
    return folder


def default_run_folder(protocol_name: str, root: str | Path = "runs") -> Path:
    """``runs/<YYYYmmdd-HHMMSS>_<protocol>`` (DESIGN.md)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{stamp}_{protocol_name}"

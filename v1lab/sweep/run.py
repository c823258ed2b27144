"""``v1lab sweep``: run every point of a sweep into its own run folder, and index them.

The sweep folder (``--out``) holds ``sweep.toml`` (the base protocol and the axes: what
makes this sweep this sweep), one ordinary run folder per point, ``sweep.csv`` (one row
per point: its values, folder, status, duration, spike hash and median metrics, rewritten
atomically as points finish) and ``sweep.png`` (:func:`make_sweep_figure`). Rerunning
the same command resumes: complete points are skipped. Every point is validated before
any work (exit 2); a point that fails is reported in ``sweep.csv`` and the others go on
(exit 1).

The run folder of a point is written by the command line's writer
(:func:`v1lab.cli.save_recording_folder`), passed in as ``save_folder``: the sweep sits
below the command line in the layers of the package, and the command line hands it down.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from v1lab._validate import ParameterError, check_int
from v1lab.io import RunFolderError, check_run_folder, write_atomic
from v1lab.sweep.engine import (
    MAX_ROUNDS,
    RECORDS,
    PointTask,
    WorkersLost,
    check_engine,
    is_point_complete,
    iter_dask_results,
    iter_joblib_results,
    save_data_folder,
)
from v1lab.sweep.index import compute_point_summary, save_sweep_csv
from v1lab.sweep.spec import (
    Point,
    SweepSpec,
    load_sweep_file,
    make_points,
    make_sweep_spec,
    parse_set,
)

__all__ = ["main", "make_sweep_parser", "run_sweep"]

SaveFolder = Callable[..., Any]

#: What Ctrl-C during a sweep prints (exit 130).
INTERRUPTED = (
    "v1lab sweep: interrupted; the complete points in {out} are kept (no half-written "
    "point): rerun the same command to resume\n"
)


def make_sweep_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="v1lab sweep",
        description=(
            "Run a protocol over the full factorial of parameter values, one run folder per "
            "point, locally (joblib) or on a Dask cluster; rerun to resume."
        ),
    )
    parser.add_argument("--protocol", metavar="NAME|PATH", help="the base protocol")
    parser.add_argument(
        "--file", type=Path, metavar="SWEEP.toml", help="a sweep file: protocol and [set] axes"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUES",
        help="an axis: a protocol field and its values, e.g. seed=1..8, spiking.model=poisson,lif,"
        " stimuli[0].contrast=0.25,0.5,1 (repeat for more axes)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="the sweep folder (resumed if it exists)",
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="local worker processes (joblib; default 1)"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://host:8786 (dask-scheduler, dask-worker)",
    )
    parser.add_argument("--no-audio", action="store_true", help="write no audio/ in the points")
    parser.add_argument(
        "--data-only",
        action="store_true",
        help="write only the data files and metrics.csv in the points (no figures, report, audio)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the sweep folder")
    parser.add_argument(
        "--check", action="store_true", help="validate every point, list them, and exit"
    )
    return parser


def main(argv: Sequence[str], *, save_folder: SaveFolder, out: TextIO | None = None) -> int:
    """``v1lab sweep …``; returns the exit code (0 done, 1 a point failed, 2 bad input).

    ``ParameterError`` and ``RunFolderError`` propagate to the caller's one-line report.
    """
    out = sys.stdout if out is None else out
    args = make_sweep_parser().parse_args(list(argv))
    protocol, axes = (None, []) if args.file is None else load_sweep_file(args.file)
    protocol = args.protocol or protocol
    if protocol is None:
        raise ParameterError("--protocol", None, "expected a protocol (or a --file naming one)")
    axes += [parse_set(text) for text in args.set]
    if args.scheduler is not None and args.jobs is not None:
        raise ParameterError(
            "--jobs", args.jobs, "expected no --jobs with --scheduler (the cluster has the workers)"
        )
    jobs = check_int("--jobs", 1 if args.jobs is None else args.jobs, lo=1, hi=1024)
    spec = make_sweep_spec(protocol, axes)
    points = make_points(spec)
    if args.check:
        check_sweep_folder(args.out, spec)
        if not args.quiet:
            out.write(f"v1lab sweep: {len(points)} points of {spec.protocol.name}; "
                      f"it would write {args.out}\n")  # fmt: skip
            for point in points:
                out.write(f"  {point.name}\n")
        return 0
    try:
        rows = run_sweep(
            spec,
            args.out,
            save_folder=save_data_folder if args.data_only else save_folder,
            jobs=jobs,
            scheduler=args.scheduler,
            audio=not args.no_audio,
            points=points,
            progress=None if args.quiet else out,
        )
    except KeyboardInterrupt:  # the complete points stay: they are what a rerun skips
        sys.stderr.write(INTERRUPTED.format(out=args.out))
        return 130
    failed = [r for r in rows if r["status"] != "done"]
    if args.quiet:
        out.write(f"{args.out}\n")
    else:
        out.write(f"Sweep folder: {args.out} ({len(rows) - len(failed)} of {len(rows)} points "
                  "done; sweep.csv, sweep.png)\n")  # fmt: skip
    for row in failed:
        sys.stderr.write(f"v1lab sweep: {row['folder']}: {row['status']}\n")
    return 1 if failed else 0


def check_sweep_folder(out: Path, spec: SweepSpec) -> bool:
    """Check ``out`` can hold this sweep; True if it already holds it (a resume).

    Raises
    ------
    RunFolderError
        ``out`` is not a folder, cannot be written, or holds something else.
    """
    out = Path(out)
    check_run_folder(out, overwrite=True)
    if not out.exists():
        return False
    if not out.is_dir():
        raise RunFolderError(f"{out} exists and is not a folder")
    index = out / "sweep.toml"
    if index.is_file():
        if index.read_text() != spec.to_toml():
            raise RunFolderError(
                f"{out} holds another sweep (its sweep.toml differs); choose another --out"
            )
        return True
    if any(out.iterdir()):
        raise RunFolderError(f"{out} exists and is not a sweep folder; choose another --out")
    return False


def _progress(out: TextIO | None, done: int, total: int, name: str, what: str) -> None:
    if out is None:
        return
    width = 24
    filled = round(width * done / total) if total else width
    bar = "█" * filled + "·" * (width - filled)
    out.write(f"[{done:>{len(str(total))}}/{total}] |{bar}| {name} {what}\n")
    out.flush()


def _record_duration(record: Path) -> float:
    try:
        return float(json.loads(record.read_text())["duration_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return math.nan


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    save_folder: SaveFolder,
    jobs: int = 1,
    scheduler: str | None = None,
    audio: bool = True,
    points: list[Point] | None = None,
    progress: TextIO | None = None,
) -> list[dict[str, Any]]:
    """Run every point of ``spec`` not yet complete in ``out``; return the rows of sweep.csv.

    Parameters
    ----------
    spec : SweepSpec
    out : path
        The sweep folder; made if absent, resumed if it holds this sweep.
    save_folder : callable
        ``save_folder(recording, folder, audio=...)`` writes a point's run folder
        atomically (:func:`v1lab.cli.save_recording_folder`).
    jobs : int
        Local worker processes (joblib's loky backend; 1 runs in this process).
    scheduler : str, optional
        A Dask scheduler's address: run there instead.
    audio : bool
        Write each point's audio/ WAVs.
    points : list of Point, optional
        ``make_points(spec)``, if already made.
    progress : text stream, optional
        Where a progress line per point goes.

    Returns
    -------
    list of dict
        One row per point, in point order (what sweep.csv holds).
    """
    out = Path(out)
    check_engine("joblib" if scheduler is None else "dask")
    points = make_points(spec) if points is None else points
    from v1lab.experiment import check_resources

    for point in points:
        check_resources(point.protocol)
    check_sweep_folder(out, spec)
    (out / RECORDS).mkdir(parents=True, exist_ok=True)
    write_atomic(out / "sweep.toml", spec.to_toml())
    params = [path for path, _ in spec.axes]
    tomls = {p.index: p.protocol.to_toml() for p in points}
    rows: dict[int, dict[str, Any]] = {}
    errors: dict[int, str] = {}

    def finish(point: Point, status: str, duration: float, what: str) -> None:
        row: dict[str, Any] = {"point": point.index, **point.params, "folder": point.name,
                               "status": status, "duration_s": duration}  # fmt: skip
        if status == "done":
            row.update(compute_point_summary(out / point.name))
        rows[point.index] = row
        save_sweep_csv(out / "sweep.csv", [rows[i] for i in sorted(rows)], params)
        _progress(progress, len(rows), len(points), point.name, what)

    for point in points:
        if is_point_complete(out / point.name, tomls[point.index]):
            duration = _record_duration(out / RECORDS / f"{point.name}.json")
            finish(point, "done", duration, "already complete")
    by_index = {p.index: p for p in points}
    for _ in range(MAX_ROUNDS):
        pending = [p for p in points if p.index not in rows and p.index not in errors]
        if not pending:
            break
        tasks = [
            PointTask(
                p.index,
                tomls[p.index],
                str(out / p.name),
                str(out / RECORDS / f"{p.name}.json"),
                audio,
            )
            for p in pending
        ]
        if scheduler is not None:
            results = iter_dask_results(tasks, save_folder, scheduler)
        else:
            results = iter_joblib_results(tasks, save_folder, jobs)
        try:
            for result in results:
                point = by_index[result["index"]]
                if "error" in result:
                    errors[point.index] = result["error"]
                    _progress(progress, len(rows), len(points), point.name,
                              f"FAILED: {result['error']}")  # fmt: skip
                else:
                    duration = result["duration_s"]
                    took = f" in {duration:.1f} s" if math.isfinite(duration) else ""
                    finish(point, "done", duration, f"done{took}")
        except WorkersLost as lost:
            if progress is not None:
                progress.write(f"v1lab sweep: a worker died ({lost}); rerunning its points\n")
            # Points finished by the surviving workers are complete on disk: pick them up.
            for point in pending:
                if point.index not in rows and is_point_complete(
                    out / point.name, tomls[point.index]
                ):
                    duration = _record_duration(out / RECORDS / f"{point.name}.json")
                    finish(point, "done", duration, "done")
    for point in points:
        if point.index not in rows:
            status = "failed: " + errors.get(point.index, "its workers died")
            finish(point, status, math.nan, status)
    ordered = [rows[i] for i in sorted(rows)]
    save_sweep_figure(out / "sweep.png", ordered, params)
    return ordered


def save_sweep_figure(path: Path, rows: list[dict[str, Any]], params: list[str]) -> None:
    """Draw ``sweep.png`` (:func:`make_sweep_figure`) and write it atomically."""
    from v1lab.plots.save import save_figure
    from v1lab.sweep.figure import make_sweep_figure

    save_figure(make_sweep_figure(rows, params), path)

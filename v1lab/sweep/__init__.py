"""Parameter sweeps: one protocol over the full factorial of values of any of its fields.

:mod:`~v1lab.sweep.spec` builds the points (``--set seed=1..8``, a sweep file) and
validates each point's protocol; :mod:`~v1lab.sweep.engine` runs them on an existing
engine (joblib locally, ``dask.distributed`` on a cluster), each an ordinary run folder
written atomically; :mod:`~v1lab.sweep.index` reads the per-point summary row of
``sweep.csv``; :mod:`~v1lab.sweep.figure` draws ``sweep.png``; :mod:`~v1lab.sweep.run`
is ``v1lab sweep`` and :func:`run_sweep`. Above the run's stages, below the command line.
"""

from v1lab.sweep.engine import PointTask, is_point_complete, run_point, save_data_folder
from v1lab.sweep.figure import make_sweep_figure
from v1lab.sweep.index import compute_point_summary, compute_spikes_sha256, save_sweep_csv
from v1lab.sweep.run import main, make_sweep_parser, run_sweep, save_sweep_figure
from v1lab.sweep.spec import (
    MAX_POINTS,
    Point,
    SweepSpec,
    load_sweep_file,
    make_points,
    make_sweep_spec,
    parse_set,
    set_path,
)

__all__ = [
    "MAX_POINTS",
    "Point",
    "PointTask",
    "SweepSpec",
    "compute_point_summary",
    "compute_spikes_sha256",
    "is_point_complete",
    "load_sweep_file",
    "main",
    "make_points",
    "make_sweep_figure",
    "make_sweep_parser",
    "make_sweep_spec",
    "parse_set",
    "run_point",
    "run_sweep",
    "save_data_folder",
    "save_sweep_csv",
    "save_sweep_figure",
    "set_path",
]

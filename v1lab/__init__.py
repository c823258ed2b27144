"""v1lab: a faithful, fast, audible replica of Hubel & Wiesel's visual-cortex experiment.

The flow is one way, and the package is laid out along it::

    protocol ─► model (stimulus ─► retina ─► cortex) ─► cells (spike generators)
             ─► experiment (Recording) ─► analysis ─► plots | audio ─► report | live ─► cli

Each subpackage's docstring says what its stage does and what it hands on; ``lint-imports``
(import-linter, contracts in ``pyproject.toml``) checks in CI that imports only point down
this flow. The names below are the public API; they are loaded on first use (PEP 562), so
``import v1lab`` stays fast and heavy optional libraries (pynwb, matplotlib, sounddevice)
are imported only where they are used.

Examples
--------
>>> import v1lab
>>> recording = v1lab.run_protocol(v1lab.load_protocol("hubel_wiesel_bars"))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from v1lab._validate import ParameterError
from v1lab._version import __version__

#: Public name -> the module that defines it.
_PUBLIC: dict[str, str] = {
    # protocol
    "DEFAULT_PROTOCOL": "v1lab.protocol",
    "Protocol": "v1lab.protocol",
    "find_protocol": "v1lab.protocol",
    "list_protocols": "v1lab.protocol",
    "load_protocol": "v1lab.protocol",
    "parse_protocol": "v1lab.protocol",
    # model
    "Bar": "v1lab.model.stimulus",
    "Grating": "v1lab.model.stimulus",
    "Spot": "v1lab.model.stimulus",
    "make_stimulus": "v1lab.model.stimulus",
    "render_frames": "v1lab.model.stimulus",
    "Retina": "v1lab.model.retina",
    "Population": "v1lab.model.cortex",
    "V1Layer": "v1lab.model.cortex",
    "make_population": "v1lab.model.cortex",
    "population_from_cells": "v1lab.model.cortex",
    # cells
    "SpikeTrains": "v1lab.cells",
    "sim_spikes": "v1lab.cells",
    "sim_hodgkin_huxley": "v1lab.cells",
    # experiment and files
    "Circuit": "v1lab.experiment",
    "Recording": "v1lab.experiment",
    "run_protocol": "v1lab.experiment",
    "load_npz": "v1lab.io",
    "load_nwb_tables": "v1lab.io",
    "save_run": "v1lab.io",
    # measurement, sound, figures, report
    "compute_metrics": "v1lab.analysis",
    "compute_tuning": "v1lab.analysis",
    "render_spikes": "v1lab.audio",
    "play_audio": "v1lab.audio",
    "save_run_figures": "v1lab.plots",
    "save_report": "v1lab.report",
}

__all__ = ["ParameterError", "__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'v1lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))

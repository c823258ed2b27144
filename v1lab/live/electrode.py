"""Choosing the cells under the electrode: :func:`make_live_config`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from v1lab._validate import check_int
from v1lab.audio import make_electrode_amplitudes
from v1lab.live.engine import LiveConfig
from v1lab.live.mystery import make_mystery_cell
from v1lab.model.population import Population


def _subset(population: Population, rows: Sequence[int]) -> Population:
    return population.select(rows)  # learned cells keep their RF images


def make_live_config(
    protocol: Any,
    *,
    cell: int | None = None,
    mystery: bool = False,
    n_neighbours: int = 3,
    rng: np.random.Generator | None = None,
) -> LiveConfig:
    """Choose the cells under the electrode and build the engine's configuration.

    Normal mode: the protocol's population is drawn as a batch run draws it (same seed,
    same cells); the electrode sits on ``cell`` (default: the cell whose RF is nearest the
    screen's centre) and hears its ``n_neighbours`` nearest neighbours fainter
    (:func:`~v1lab.audio.make_electrode_amplitudes`). Mystery mode: one hidden cell from
    :func:`make_mystery_cell`, drawn with ``rng`` (default: from the protocol's seed).
    """
    from v1lab.model.population import population_from_cells

    seed = protocol.seed
    spiking = protocol.spiking
    dead_time = spiking.dead_time_s if spiking.model == "poisson" else spiking.refractory_s
    if mystery:
        rng = np.random.default_rng([seed, 7]) if rng is None else rng
        pop = population_from_cells([make_mystery_cell(rng, retina=protocol.retina)])
        return LiveConfig(
            retina=protocol.retina, population=pop, amplitudes=(1.0,), seed=seed,
            dead_time_s=dead_time, gain_sd=spiking.gain_sd,
        )  # fmt: skip
    seq_pop = np.random.SeedSequence(seed).spawn(4)[0]  # as v1lab.experiment.run_protocol
    full = protocol.population.make(
        np.random.default_rng(seq_pop), lgn_spacing_deg=protocol.retina.lgn_spacing_deg
    )
    n = len(full)
    if cell is None:
        cell = int(np.argmin(np.hypot(full.x_deg, full.y_deg)))
    cell = check_int("--listen", cell, lo=0, hi=n - 1)
    distance = np.hypot(full.x_deg - full.x_deg[cell], full.y_deg - full.y_deg[cell])
    distance[cell] = -1.0
    rows = [int(i) for i in np.argsort(distance, kind="stable")[: 1 + max(0, n_neighbours)]]
    amplitudes = make_electrode_amplitudes(len(rows), 0, np.random.default_rng([seed, 1]))
    return LiveConfig(
        retina=protocol.retina,
        population=_subset(full, rows),
        amplitudes=tuple(float(a) for a in amplitudes),
        seed=seed,
        dead_time_s=dead_time,
        gain_sd=spiking.gain_sd,
        protocol_cells=tuple(rows),
    )

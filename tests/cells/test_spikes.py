"""Tests for v1lab.cells.spikes: the dispatcher, and the generators' argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.cells.lif import sim_lif
from v1lab.cells.poisson import sim_poisson_dead_time
from v1lab.cells.spikes import SPIKE_MODELS, sim_spikes

FS = 1000.0


# --------------------------------------------------------------------------------------
# Dispatcher
# --------------------------------------------------------------------------------------


def test_sim_spikes_dispatches():
    rates = np.full((200, 5), 25.0)
    assert SPIKE_MODELS == ("poisson", "lif", "hodgkin_huxley")
    direct = sim_poisson_dead_time(
        rates, FS, n_trials=2, dead_time_s=0.001, rng=np.random.default_rng(16)
    )
    via = sim_spikes(
        rates, FS, model="poisson", n_trials=2, dead_time_s=0.001, rng=np.random.default_rng(16)
    )
    assert direct == via
    direct = sim_lif(rates, FS, n_trials=2, tau_m_s=0.01, rng=np.random.default_rng(17))
    via = sim_spikes(
        rates, FS, model="lif", n_trials=2, tau_m_s=0.01, rng=np.random.default_rng(17)
    )
    assert direct == via


# --------------------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------------------

GOOD = np.full((100, 2), 10.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda rng: sim_poisson_dead_time(-GOOD, FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.where(GOOD > 0, np.nan, 0), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.full((10, 2), np.inf), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.full((10, 2), 500.0), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.full(10, 5.0), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(np.zeros((0, 3)), FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time("fast", FS, rng=rng), "rates_hz"),
        (lambda rng: sim_poisson_dead_time(GOOD, 0.0, rng=rng), "fs"),
        (lambda rng: sim_poisson_dead_time(GOOD, -1000.0, rng=rng), "fs"),
        (lambda rng: sim_poisson_dead_time(GOOD, FS, n_trials=0, rng=rng), "n_trials"),
        (lambda rng: sim_poisson_dead_time(GOOD, FS, dead_time_s=-0.001, rng=rng), "dead_time_s"),
        (lambda rng: sim_poisson_dead_time(GOOD, FS, rng=42), "rng"),
        (lambda rng: sim_lif(-GOOD, FS, rng=rng), "drive_rates_hz"),
        (lambda rng: sim_lif(np.full((10, 2), 1000.0), FS, rng=rng), "drive_rates_hz"),
        (lambda rng: sim_lif(GOOD, FS, dt_s=0.01, rng=rng), "dt_s"),
        (lambda rng: sim_lif(GOOD, FS, noise_sigma=0.0, rng=rng), "noise_sigma"),
        (lambda rng: sim_lif(GOOD, FS, tau_m_s=0.0, rng=rng), "tau_m_s"),
        (lambda rng: sim_spikes(GOOD, FS, model="hodgkin-huxley", rng=rng), "model"),
        (lambda rng: sim_spikes(GOOD, FS, model="poisson", tau_m_s=0.02, rng=rng), "tau_m_s"),
        (lambda rng: sim_spikes(GOOD, -5.0, model="lif", rng=rng), "fs"),
    ],
)
def test_bad_arguments_name_the_field(call, field):
    with pytest.raises(ParameterError) as info:
        call(np.random.default_rng(0))
    assert info.value.field == field
    assert field in str(info.value)

"""Experiment: simple cells' measured tuning, reproducibility, timeline, variability."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab.analysis import compute_metrics
from v1lab.experiment import Circuit, make_schedule, run_protocol, sim_rates
from v1lab.model.stimulus import Bar
from v1lab.protocol import parse_protocol

RETINA = {"extent_deg": 8.0, "pixels_per_deg": 8.0, "lgn_extent_deg": 5.0}
TRUE_ORIENTATIONS = [0.0, 22.0, 47.0, 90.0, 118.0, 161.0]


def _protocol(**overrides) -> dict:
    data = {
        "name": "simple_cells",
        "seed": 11,
        "retina": RETINA,
        "population": {
            "cells": [
                {"type": "simple", "orientation_deg": o, "phase_deg": p, "x_deg": x, "y_deg": y}
                for o, p, x, y in zip(
                    TRUE_ORIENTATIONS, [0, 90, 180, 270, 45, 135], [0, 0.3, -0.3, 0, 0.2, -0.2],
                    [0, -0.2, 0.2, 0.3, 0, -0.3], strict=True,
                )
            ]
        },
        "trials": {"n_trials": 10, "isi_s": 0.5},
        "stimuli": [
            {
                "kind": "bar", "width_deg": 0.5, "length_deg": 4.0, "speed_deg_s": 4.0,
                "duration_s": 1.5, "direction_deg": {"start": 0, "stop": 360, "step": 15},
            }
        ],
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def recording():
    return run_protocol(parse_protocol(_protocol()))


def _circular_diff(a: np.ndarray, b: np.ndarray, period: float) -> np.ndarray:
    return np.abs((a - b + period / 2) % period - period / 2)


def test_simple_cells_measured_orientation_matches_ground_truth(recording):
    metrics = compute_metrics(recording)
    error = _circular_diff(
        metrics["preferred_orientation_measured_deg"], metrics["preferred_orientation_deg"], 180.0
    )
    assert np.all(error <= 15.0), error  # within one orientation step
    assert np.all(metrics["osi"] > 0.3)


def test_same_seed_same_spikes_other_seed_different(recording):
    again = run_protocol(parse_protocol(_protocol()))
    for a, b in zip(recording.spike_times, again.spike_times, strict=True):
        np.testing.assert_array_equal(a, b)
    other = run_protocol(parse_protocol(_protocol(seed=12)))
    assert any(
        len(a) != len(b) or not np.array_equal(a, b)
        for a, b in zip(recording.spike_times, other.spike_times, strict=True)
    )


def test_no_interspike_interval_is_shorter_than_the_dead_time(recording):
    dead = recording.protocol.spiking.dead_time_s
    for times in recording.spike_times:
        assert np.all(np.diff(times) >= dead)
        assert np.all((times >= 0) & (times < recording.duration_s))


def test_timeline_and_interleaving(recording):
    p = recording.presentations
    n_cond = len(recording.conditions)
    isi = recording.protocol.trials.isi_s
    np.testing.assert_allclose(p["start_time"][0], isi)
    np.testing.assert_allclose(p["start_time"][1:], p["stop_time"][:-1] + isi)
    np.testing.assert_allclose(p["stop_time"] - p["start_time"], 1.5)
    blocks = p["stimulus_condition_id"].reshape(10, n_cond)
    assert all(sorted(b) == list(range(n_cond)) for b in blocks)  # every condition once a block
    assert len({tuple(b) for b in blocks}) > 1  # in a fresh random order each time
    assert np.all(p["repeat"].reshape(10, n_cond) == np.arange(10)[:, None])
    for column in ("orientation_deg", "direction_deg", "contrast", "length_deg", "width_deg",
                   "speed_deg_s", "x_deg", "y_deg", "spatial_frequency_cpd", "temporal_frequency_hz"):  # fmt: skip
        assert column in p
    assert np.all(np.isnan(p["spatial_frequency_cpd"]))  # not a grating parameter
    np.testing.assert_allclose(np.mod(p["direction_deg"] - p["orientation_deg"], 180.0), 90.0)


def test_schedule_without_interleaving_runs_conditions_in_order():
    protocol = parse_protocol(_protocol(trials={"n_trials": 3, "interleave": False}))
    schedule = make_schedule(protocol, np.random.default_rng(0))
    assert schedule.tolist()[:4] == [0, 0, 0, 1]


def test_trial_to_trial_variability_is_poisson_like():
    # One preferred-direction sweep, many trials: the counts' Fano factor. For a
    # Poisson process with a 2 ms dead time at these rates theory gives ~0.9–1; the
    # estimate from 60 trials has SD ≈ sqrt(2/59) ≈ 0.18 per cell, ≈ 0.08 averaged
    # over 6 cells, so [0.7, 1.15] is about ±3 SD.
    stimuli = [{"kind": "bar", "speed_deg_s": 4.0, "duration_s": 1.5, "direction_deg": 90.0}]
    data = _protocol(trials={"n_trials": 60, "isi_s": 0.5}, stimuli=stimuli)
    data["population"]["cells"] = [{"type": "complex", "orientation_deg": 0.0}] * 6
    data["spiking"] = {"model": "poisson", "gain_sd": 0.0}  # the generator alone
    rec = run_protocol(parse_protocol(data))
    counts = rec.spike_counts()
    assert counts.mean() > 5
    fano = counts.var(axis=0, ddof=1) / counts.mean(axis=0)
    assert 0.7 < fano.mean() < 1.15, fano


def test_gain_fluctuation_makes_variance_grow_faster_than_the_mean():
    # Goris, Movshon & Simoncelli (2014): with a gamma gain of SD s the count variance is
    # mean + s² mean² (plus the dead time's small reduction), so the Fano factor exceeds
    # 1 and grows with the mean, and log variance against log mean has a slope above 1.
    # Six contrasts give six mean counts for each of 6 cells, 80 trials each.
    stimuli = [{"kind": "bar", "speed_deg_s": 4.0, "duration_s": 1.5, "direction_deg": 90.0,
                "contrast": [0.1, 0.15, 0.2, 0.3, 0.5, 1.0]}]  # fmt: skip
    data = _protocol(trials={"n_trials": 80, "isi_s": 0.5}, stimuli=stimuli)
    data["population"]["cells"] = [{"type": "complex", "orientation_deg": 0.0}] * 6
    data["spiking"] = {"model": "poisson", "gain_sd": 0.3}
    rec = run_protocol(parse_protocol(data))
    counts = rec.spike_counts()
    cond = rec.presentations["stimulus_condition_id"]
    means = np.array([counts[cond == c].mean(axis=0) for c in range(6)]).ravel()
    variances = np.array([counts[cond == c].var(axis=0, ddof=1) for c in range(6)]).ravel()
    keep = means > 1.0
    slope = np.polyfit(np.log(means[keep]), np.log(variances[keep]), 1)[0]
    # Expected FF at the largest mean m: 1 + 0.09 m (>= 2 at m >= 11); the estimate's SD
    # from 80 trials is about FF * sqrt(2/79) ≈ 0.16 FF, so > 1.5 is far below.
    top = means.argmax()
    assert means[top] > 11
    assert variances[top] / means[top] > 1.5
    assert slope > 1.0, slope


def test_condition_rates_do_not_depend_on_the_previous_presentation():
    # The fast path computes each condition once from rest: valid because the blank
    # after each presentation outlasts the temporal kernels.
    protocol = parse_protocol(_protocol())
    circuit = Circuit(protocol.retina, protocol.population.make(np.random.default_rng(0)))
    first = Bar(direction_deg=90.0, speed_deg_s=4.0, duration_s=1.5)
    second = Bar(direction_deg=200.0, speed_deg_s=4.0, duration_s=1.5)
    circuit.reset()
    sim_rates(circuit, first, tail_s=protocol.trials.isi_s)
    carried = sim_rates(circuit, second)
    circuit.reset()
    fresh = sim_rates(circuit, second)
    assert protocol.trials.isi_s >= protocol.retina.kernel_s
    np.testing.assert_allclose(carried, fresh, atol=1e-3)


def test_short_blanks_are_simulated_in_sequence():
    data = _protocol(trials={"n_trials": 2, "isi_s": 0.05})
    data["stimuli"][0]["direction_deg"] = [0.0, 90.0]
    calls = []
    rec = run_protocol(parse_protocol(data), progress=lambda i, n, s, t: calls.append((i, n)))
    assert calls[-1] == (3, 4)  # one progress call per presentation, 2 conditions × 2 trials
    assert rec.condition_rates == []
    assert sum(len(t) for t in rec.spike_times) > 0


@pytest.mark.parametrize("seed", range(3))
def test_spikes_are_gathered_per_cell_in_time_order(seed):
    from v1lab.cells import apply_dead_time
    from v1lab.experiment import _gather

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    # Several pieces, unsorted, with tied times (rounded to 10 ms) and empty cells.
    pieces = [
        (rng.integers(0, n, m), np.round(rng.uniform(0.0, 10.0, m), 2))
        for m in rng.integers(0, 3000, int(rng.integers(1, 6)))
    ]
    got = _gather(pieces, n, 0.002)
    # The definition: sorted by cell, then by time (lexsort), then the dead time.
    cells = np.concatenate([c for c, _ in pieces])
    times = np.concatenate([t for _, t in pieces])
    order = np.lexsort((times, cells))
    bounds = np.searchsorted(cells[order], np.arange(n + 1))
    want_times, want_bounds = apply_dead_time(times[order], bounds, 0.002)
    assert len(got) == n
    for i in range(n):
        np.testing.assert_array_equal(got[i], want_times[want_bounds[i] : want_bounds[i + 1]])

"""Sweep points: --set values, dotted paths, the full factorial, validation before any work."""

from __future__ import annotations

import pytest
from _sweep_tiny import TINY

from v1lab._validate import ParameterError
from v1lab.sweep import load_sweep_file, make_points, make_sweep_spec, parse_set, set_path


@pytest.fixture()
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("seed=1..4", ("seed", (1, 2, 3, 4))),
        ("spiking.model=poisson,lif", ("spiking.model", ("poisson", "lif"))),
        ("stimuli[0].contrast = 0.25, -1", ("stimuli[0].contrast", (0.25, -1))),
        ("trials.interleave=true,false", ("trials.interleave", (True, False))),
        ("population.center_deg=[[0, 0], [1.5, 0]]", ("population.center_deg", ([0, 0], [1.5, 0]))),
        ('spiking.model="lif"', ("spiking.model", ("lif",))),
    ],
)
def test_parse_set(text, want):
    assert parse_set(text) == want


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("seed", "--set"),
        ("seed=", "--set"),
        ("=1,2", "--set"),
        ("seed=1,,2", "--set seed"),
        ("seed=5..1", "--set seed"),
        ("a..b=1", "--set"),
        ("seed=[]", "--set seed"),
    ],
)
def test_parse_set_refuses_bad_text_in_one_line(text, field):
    with pytest.raises(ParameterError) as err:
        parse_set(text)
    assert err.value.field == field
    assert "\n" not in str(err.value)


def test_set_path_walks_tables_and_lists():
    data = {"seed": 1, "spiking": {"model": "poisson"}, "stimuli": [{"kind": "bar"}]}
    set_path(data, "spiking.model", "lif")
    set_path(data, "stimuli[0].contrast", 0.5)  # a new last key: the protocol validates it
    set_path(data, "seed", 9)
    assert data == {"seed": 9, "spiking": {"model": "lif"},
                    "stimuli": [{"kind": "bar", "contrast": 0.5}]}  # fmt: skip
    with pytest.raises(ParameterError, match="no such entry: the protocol has 1"):
        set_path(data, "stimuli[3].contrast", 1.0)
    with pytest.raises(ParameterError, match="no such field"):
        set_path(data, "spikes.model", "lif")


def test_points_are_the_full_factorial_last_axis_fastest(tiny):
    spec = make_sweep_spec(tiny, [parse_set("spiking.model=poisson,lif"), parse_set("seed=1..3")])
    points = make_points(spec)
    assert spec.n_points == len(points) == 6
    assert [(p.protocol.spiking.model, p.protocol.seed) for p in points] == [
        ("poisson", 1), ("poisson", 2), ("poisson", 3), ("lif", 1), ("lif", 2), ("lif", 3),
    ]  # fmt: skip
    assert [p.name for p in points[:2]] == [
        "p000_model-poisson_seed-1",
        "p001_model-poisson_seed-2",
    ]
    assert len({p.name for p in points}) == 6
    # Only the swept fields change; the rest is the base protocol.
    assert points[4].protocol.trials == spec.protocol.trials
    assert points[4].protocol.stimuli == spec.protocol.stimuli


def test_a_bad_point_is_refused_before_any_work_naming_point_and_field(tiny):
    spec = make_sweep_spec(tiny, [parse_set("population.n_cells=2,0")])
    with pytest.raises(ParameterError) as err:
        make_points(spec)
    assert str(err.value).startswith("sweep point 1 (population.n_cells=0): population.n_cells = 0")
    with pytest.raises(ParameterError, match=r"spiking\.modle"):
        make_points(make_sweep_spec(tiny, [parse_set("spiking.modle=lif")]))


def test_an_axis_given_twice_is_refused(tiny):
    with pytest.raises(ParameterError, match="given twice"):
        make_sweep_spec(tiny, [parse_set("seed=1"), parse_set("seed=2")])


def test_sweep_file(tiny, tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        'protocol = "tiny.toml"\n[set]\n"spiking.model" = ["poisson", "lif"]\nseed = [4, 5]\n'
    )
    protocol, axes = load_sweep_file(sweep)
    assert protocol == str(tiny)
    assert axes == [("spiking.model", ("poisson", "lif")), ("seed", (4, 5))]
    sweep.write_text("[set]\nspiking = { model = ['lif'] }\n")
    with pytest.raises(ParameterError, match="quote dotted paths"):
        load_sweep_file(sweep)
    sweep.write_text("protocl = 'x'\n")
    with pytest.raises(ParameterError, match="allowed: protocol, set"):
        load_sweep_file(sweep)

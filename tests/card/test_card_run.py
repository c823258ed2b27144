"""``v1lab card`` end to end on a small card, and its refusals of bad input."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from v1lab.card.battery import BatterySpec
from v1lab.card.published import MACAQUE
from v1lab.card.run import format_card_table, main, save_card
from v1lab.card.scores import EXTRA_PROPERTIES, compute_card
from v1lab.cli import main as cli_main

ALL_PROPERTIES = [d.name for d in (*MACAQUE, *EXTRA_PROPERTIES)]


@pytest.fixture(scope="module")
def small_card():
    tic = time.perf_counter()
    card = compute_card("macaque", 40, seed=2, spec=BatterySpec.quick())
    return card, time.perf_counter() - tic


def test_small_card_measures_every_property(small_card):
    card, seconds = small_card
    assert [r["property"] for r in card.rows] == ALL_PROPERTIES
    assert card.cells["band_factor"].shape == (40,)
    assert np.isfinite(card.cells["band_factor"]).all()
    scored = [r for r in card.rows if r["scored"]]
    assert len(scored) == 7
    for r in scored:
        assert 0.0 <= r["ks_similarity"] <= 1.0 and 0.9 < r["ceiling"] < 1.0, r["property"]
        assert r["model_n"] > 0, r["property"]
    assert {"orientation", "spatial_frequency", "size", "spots", "length", "setup"} <= set(
        card.seconds
    )
    text = format_card_table(card)
    assert "mean of 7 scored" in text and "preferred_orientation" in text
    print(f"small card: {seconds:.1f} s")  # design target: well under a minute


def test_small_card_folder(small_card, tmp_path):
    card, _ = small_card
    folder = save_card(card, tmp_path / "card")
    with open(folder / "card.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["property"] for r in rows] == ALL_PROPERTIES
    assert {"model_n", "data_n", "ks_similarity", "alexnet", "source", "score"} <= set(rows[0])
    assert rows[0]["alexnet"] == "0.895"
    with open(folder / "cells.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 40
    assert sorted(p.stem for p in (folder / "figures").glob("*.png")) == sorted(ALL_PROPERTIES)
    page = (folder / "card.html").read_text()
    assert page.count("data:image/png;base64,") == len(ALL_PROPERTIES) and "<script" not in page
    assert [p.name for p in tmp_path.iterdir()] == ["card"]  # no temporary left behind
    with pytest.raises(FileExistsError):
        save_card(card, folder)


@pytest.mark.parametrize(
    "args",
    [
        ["--species", "mouse"],
        ["--cells", "0"],
        ["--cells", "-3"],
        ["--cells", "many"],
        ["--seed", "-1"],
        ["--frobnicate"],
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(args, tmp_path, capsys):
    out = tmp_path / "card"
    assert main([*args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("v1lab card: error:"), captured.err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_folder_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "card").mkdir()
    tic = time.perf_counter()
    assert main(["--out", str(tmp_path / "card")]) == 2
    assert time.perf_counter() - tic < 5
    assert "already exists" in capsys.readouterr().err


def test_cli_dispatches_card(tmp_path, capsys):
    assert cli_main(["card", "--species", "dog", "--out", str(tmp_path / "x")]) == 2
    assert "v1lab card: error:" in capsys.readouterr().err


def test_run_experiment_still_parses_its_own_options():
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "run_experiment.py"), "--list"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0 and "hubel_wiesel_bars" in result.stdout

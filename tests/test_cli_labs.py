"""Lab protocols (``lab = "<kind>"``) run through the same command line as visual ones."""

from __future__ import annotations

import io

import pytest

from v1lab.cli import LABS, main


@pytest.mark.parametrize(
    ("name", "kind"), [("axon_conduction", "axon"), ("synaptic_summation", "synapse")]
)
def test_a_lab_protocol_is_checked_without_writing(tmp_path, capsys, name, kind):
    out = tmp_path / "run"
    assert main(["--protocol", name, "--out", str(out), "--check"]) == 0
    assert f"{kind} lab" in capsys.readouterr().out
    assert not out.exists()


def test_options_a_lab_has_not_are_refused_in_one_line(tmp_path, capsys):
    assert main(["--protocol", "axon_conduction", "--seed", "3", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed = 3" in err and "no seed" in err


def test_an_unknown_lab_names_the_field_and_the_labs(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text('lab = "kidney"\ndescription = "x"\n')
    assert main(["--protocol", str(path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "lab = 'kidney'" in err and all(repr(k) in err for k in LABS)


def test_a_bad_field_of_a_lab_protocol_is_named(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text('lab = "axon"\ndescription = "x"\n[axon]\ndiameter_um = -1\n')
    assert main(["--protocol", str(path), "--check", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "diameter_um" in err and not (tmp_path / "r").exists()


def test_the_shipped_labs_are_listed():
    buf = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(buf):
        assert main(["--list"]) == 0
    assert "axon_conduction" in buf.getvalue()

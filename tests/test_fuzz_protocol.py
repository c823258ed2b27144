"""Fuzz: any TOML value in any field of a protocol ends, through the command line, either
accepted or in one line naming a field, and nothing is ever written (issue 12).

Every field of the shipped default protocol's resolved form (and the keys it leaves at
their defaults) gets random TOML values of every type — integers of any size, floats
with NaN and ±inf, text, booleans, dates and times, arrays and tables. The command runs
with ``--check`` (validate, check the destination and the memory, run nothing), so an
accepted value costs no simulation. Hypothesis runs derandomized: the same examples on
every run, reproducible anywhere.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import io
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from v1lab.cli import main
from v1lab.protocol import DEFAULT_PROTOCOL, PopulationSpec, dump_toml, load_protocol

_PROTOCOL = load_protocol(DEFAULT_PROTOCOL)
DEFAULT = _PROTOCOL.to_dict()

Path_ = tuple[str | int, ...]


def _walk(node: Any, path: Path_) -> list[Path_]:
    paths = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _walk(value, (*path, key))
    elif isinstance(node, list) and node:
        paths += _walk(node[0], (*path, 0))  # the first element stands for the others
    return paths


def _fields() -> list[Path_]:
    paths = _walk(DEFAULT, ())
    # Keys the resolved default leaves out, at their defaults: the sheet layout, explicit
    # cells, and the stimulus kind's other parameters.
    paths += [("population", f.name) for f in dataclasses.fields(PopulationSpec)]
    paths += [("stimuli", 0, f.name) for f in dataclasses.fields(_PROTOCOL.conditions()[0])]
    return sorted(set(paths), key=str)


FIELDS = _fields()


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


_scalars = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 10**400, -(10**400), 2**63, 2**63 - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 5e-324, 1e-300, 1e-4, 1e300, 1.7976931348623157e308]),
    st.text(max_size=12),
    st.booleans(),
    st.dates(),
    st.times(),
    st.datetimes(timezones=st.none() | st.just(datetime.UTC)),
)
VALUES = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

ONE_LINE = re.compile(r"v1lab: error: (?P<field>\S.*?) = .+: .+")


def _set(data: dict, path: Path_, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _related(line: str, named: str, fuzzed: Path_) -> bool:
    """The line names the fuzzed field, a field inside it or around it (its table, its
    block), or a field whose bound it sets (and then says so: ``lgn_extent_deg = 6.0:
    expected at most extent_deg = 1``)."""
    dotted = _dotted(fuzzed)
    if named.startswith(dotted) or dotted.startswith(named):
        return True
    leaf = next(p for p in reversed(fuzzed) if isinstance(p, str))
    return leaf in line.split(": ", 2)[-1]


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,  # derandomized: nothing to remember, and no .hypothesis/ folder left
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(path=st.sampled_from(FIELDS), value=VALUES)
def test_any_value_in_any_field_is_accepted_or_one_line_naming_a_field(path, value):
    data = copy.deepcopy(DEFAULT)
    _set(data, path, value)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        protocol = folder / "fuzz.toml"
        protocol.write_text(dump_toml(data), encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--protocol", str(protocol), "--out", str(folder / "run"), "--check"])
        assert code in (0, 2), err.getvalue()
        lines = err.getvalue().splitlines()
        if code == 2:
            assert len(lines) == 1, lines
            match = ONE_LINE.fullmatch(lines[0])
            assert match, lines[0]
            assert _related(lines[0], match["field"], path), (_dotted(path), lines[0])
        else:
            assert lines == []
        assert [p.name for p in folder.iterdir()] == ["fuzz.toml"]  # no run, no temp folder

"""What a sweep runs: a protocol, its axes (dotted paths and values), their full factorial.

A sweep names any field of a protocol's resolved TOML by a dotted path
(``spiking.model``, ``stimuli[0].contrast``, ``population.n_cells``, ``seed``) and a list
of values for it; the points are every combination of the axes (the full factorial, as
Mozaik's parameter search does; Antolík & Davison 2013, *Front Neuroinform* 7:34). Values come from
``--set PATH=VALUES`` (``seed=1..8``, ``spiking.model=poisson,lif``) or from a sweep file::

    protocol = "hubel_wiesel_bars"      # a shipped name, or a path relative to this file
    [set]
    "spiking.model" = ["poisson", "lif"]
    seed = [1, 2, 3, 4]

Every point's protocol is built and validated before any work, so a bad value stops the
sweep in one line naming the point and the field (:class:`~v1lab._validate.ParameterError`).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from v1lab._validate import ParameterError
from v1lab.protocol import Protocol, dump_toml, find_protocol, load_protocol, parse_protocol

__all__ = [
    "MAX_POINTS",
    "Point",
    "SweepSpec",
    "load_sweep_file",
    "make_points",
    "make_sweep_spec",
    "parse_set",
    "set_path",
]

#: A sweep of more points than this is refused before any work (a typo such as
#: ``seed=1..100000`` would otherwise fill the disk with run folders).
MAX_POINTS = 10_000

_PATH_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")
_RANGE = re.compile(r"\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*")


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: the base protocol and its axes, in the order they vary (last fastest).

    Attributes
    ----------
    protocol : Protocol
        The base protocol, as loaded.
    axes : tuple of (str, tuple)
        ``(dotted path, values)`` per axis.
    """

    protocol: Protocol
    axes: tuple[tuple[str, tuple[Any, ...]], ...]

    @property
    def n_points(self) -> int:
        n = 1
        for _, values in self.axes:
            n *= len(values)
        return n

    def to_toml(self) -> str:
        """The sweep as a TOML file (base protocol inline): what ``sweep.toml`` holds."""
        header = "# v1lab sweep: the base protocol and the axes (full factorial, last fastest).\n"
        data = {
            "axes": {path: list(values) for path, values in self.axes},
            "protocol": self.protocol.to_dict(),
        }
        return header + dump_toml(data)


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its index, its axis values, its folder name and protocol."""

    index: int
    params: dict[str, Any]
    name: str
    protocol: Protocol


def _split_path(path: str) -> list[str | int]:
    """``'stimuli[0].contrast'`` -> ``['stimuli', 0, 'contrast']``."""
    keys: list[str | int] = []
    for part in path.split("."):
        match = _PATH_TOKEN.fullmatch(part)
        if match is None:
            raise ParameterError(
                "--set", path, "expected a dotted path such as spiking.model or stimuli[0].contrast"
            )
        keys.append(match.group(1))
        keys.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return keys


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the field at dotted ``path`` of protocol data (in place).

    Every step but the last must exist (a table, or a list and an index in it); the last
    key may be new: the protocol's own validation then names it if it is unknown.
    """
    keys = _split_path(path)
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        where = _format_path(keys[: depth + 1])
        if isinstance(key, int):
            if not isinstance(node, list) or not 0 <= key < len(node):
                n = len(node) if isinstance(node, list) else 0
                raise ParameterError(path, where, f"no such entry: the protocol has {n}")
        elif not isinstance(node, Mapping) or key not in node:
            raise ParameterError(path, where, "no such field in the protocol")
        node = node[key]
    last = keys[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or not 0 <= last < len(node):
            raise ParameterError(path, _format_path(keys), "no such entry in the protocol")
    elif not isinstance(node, dict):
        raise ParameterError(path, _format_path(keys[:-1]), "is not a table")
    node[last] = value


def _format_path(keys: Sequence[str | int]) -> str:
    out = ""
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def _parse_value(text: str) -> Any:
    """A TOML scalar (``1``, ``0.5``, ``true``, ``"a"``) or, failing that, a bare word."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_set(text: str) -> tuple[str, tuple[Any, ...]]:
    """Parse one ``--set PATH=VALUES``: comma-separated values, ``a..b`` integer ranges
    (inclusive), or one TOML array (``[[0, 0], [1, 1]]``).

    Examples
    --------
    >>> parse_set("seed=1..3")
    ('seed', (1, 2, 3))
    >>> parse_set("spiking.model=poisson,lif")
    ('spiking.model', ('poisson', 'lif'))
    >>> parse_set("stimuli[0].contrast=0.25, 1")
    ('stimuli[0].contrast', (0.25, 1))
    """
    path, sep, rhs = text.partition("=")
    path = path.strip()
    if not sep or not path or not rhs.strip():
        raise ParameterError("--set", text, "expected PATH=VALUES, e.g. seed=1..8")
    _split_path(path)
    rhs = rhs.strip()
    if rhs.startswith("["):
        value = _parse_value(rhs)
        if not isinstance(value, list) or not value:
            raise ParameterError(f"--set {path}", rhs, "expected a non-empty TOML array")
        return path, tuple(value)
    values: list[Any] = []
    for item in rhs.split(","):
        item = item.strip()
        if not item:
            raise ParameterError(f"--set {path}", rhs, "expected values separated by commas")
        match = _RANGE.fullmatch(item)
        if match:
            lo, hi = int(match.group(1)), int(match.group(2))
            if hi < lo or hi - lo >= MAX_POINTS:
                raise ParameterError(
                    f"--set {path}", item, f"expected a..b with a <= b, at most {MAX_POINTS} values"
                )
            values.extend(range(lo, hi + 1))
        else:
            values.append(_parse_value(item))
    return path, tuple(values)


def load_sweep_file(path: str | Path) -> tuple[str | None, list[tuple[str, tuple[Any, ...]]]]:
    """Read a sweep file: the protocol it names (resolved beside the file) and its axes."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as err:
        raise ParameterError("--file", str(path), f"cannot be read: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ParameterError("--file", str(path), f"is not valid TOML: {err}") from None
    unknown = sorted(set(data) - {"protocol", "set"})
    if unknown:
        raise ParameterError(f"{path}: {unknown[0]}", data[unknown[0]], "allowed: protocol, set")
    protocol = data.get("protocol")
    if protocol is not None:
        if not isinstance(protocol, str):
            raise ParameterError(f"{path}: protocol", protocol, "expected a name or a path")
        beside = path.parent / protocol
        if protocol.endswith(".toml") and beside.is_file():
            protocol = str(beside)
    table = data.get("set", {})
    if not isinstance(table, dict):
        raise ParameterError(f"{path}: set", table, "expected a table of PATH = [values]")
    axes = []
    for key, values in table.items():
        if isinstance(values, dict):
            raise ParameterError(
                f"{path}: set.{key}", values, 'expected values; quote dotted paths: "a.b" = [...]'
            )
        values = tuple(values) if isinstance(values, list) else (values,)
        if not values:
            raise ParameterError(f"{path}: set.{key}", [], "expected at least one value")
        _split_path(key)
        axes.append((key, values))
    return protocol, axes


def make_sweep_spec(protocol: str | Path, axes: Sequence[tuple[str, Sequence[Any]]]) -> SweepSpec:
    """Load the base protocol and check the axes (no path twice, at most
    :data:`MAX_POINTS` points)."""
    find_protocol(protocol)
    base = load_protocol(protocol)
    seen: set[str] = set()
    clean = []
    for path, values in axes:
        if path in seen:
            raise ParameterError("--set", path, "is given twice; give its values once")
        seen.add(path)
        clean.append((path, tuple(values)))
    spec = SweepSpec(base, tuple(clean))
    if spec.n_points > MAX_POINTS:
        raise ParameterError("sweep", f"{spec.n_points} points", f"expected at most {MAX_POINTS}")
    return spec


def _slug(value: Any) -> str:
    text = format(value, "g") if isinstance(value, float) else str(value)
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "x"


def _point_name(index: int, width: int, params: Mapping[str, Any]) -> str:
    """``p003_model-lif_seed-2``: index first (unique, sorts), then the last key of
    each path and its value (readable)."""
    parts = [f"p{index:0{width}d}"]
    for path, value in params.items():
        leaf = _split_path(path)[-1]
        parts.append(f"{leaf if isinstance(leaf, str) else 'item'}-{_slug(value)}")
    return "_".join(parts)[:120]


def make_points(spec: SweepSpec) -> list[Point]:
    """Every point of the full factorial, its protocol built and validated.

    Raises
    ------
    ParameterError
        Naming the point (its values) and the field, for the first invalid point.
    """
    base = spec.protocol.to_dict()
    paths = [path for path, _ in spec.axes]
    width = max(3, len(str(spec.n_points - 1)))
    points = []
    for index, combo in enumerate(itertools.product(*(v for _, v in spec.axes))):
        data = tomllib.loads(dump_toml(base))  # a deep copy, in TOML's own types
        params = dict(zip(paths, combo, strict=True))
        for path, value in params.items():
            set_path(data, path, value)
        try:
            protocol = parse_protocol(data, name=spec.protocol.name)
        except ParameterError as err:
            shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
            raise ParameterError(f"sweep point {index} ({shown}): {err.field}", err.value,
                                 err.allowed) from None  # fmt: skip
        points.append(Point(index, params, _point_name(index, width, params), protocol))
    return points

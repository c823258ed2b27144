"""Parameter checks shared by every declarative class in v1lab.

Every check raises :class:`ParameterError` whose message names the field, the value
it got and what is allowed, so that a bad protocol or a bad call never ends in a
traceback from deep inside numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral, Real
from typing import Any

__all__ = ["ParameterError", "check_bool", "check_choice", "check_int", "check_number"]


class ParameterError(ValueError):
    """A parameter value that is not allowed.

    Parameters
    ----------
    field : str
        Name of the parameter (a dotted path when it comes from a protocol).
    value : object
        The offending value.
    allowed : str
        Plain-language description of what is allowed.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} = {_show(value)}: {allowed}")

    def with_prefix(self, prefix: str) -> ParameterError:
        """Return the same error with ``prefix`` prepended to the field path."""
        joined = f"{prefix}.{self.field}" if prefix and self.field else prefix or self.field
        return ParameterError(joined, self.value, self.allowed)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    return type(value).__name__


def _range_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    if lo is None and hi is None:
        return "a finite number"
    if hi is None:
        return f"a number {'>' if lo_open else '>='} {lo:g}"
    if lo is None:
        return f"a number {'<' if hi_open else '<='} {hi:g}"
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    return f"a number in {left}{lo:g}, {hi:g}{right}"


def check_number(
    name: str,
    value: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    unit: str = "",
) -> float:
    """Return ``value`` as a float after checking it is a finite number in range.

    Parameters
    ----------
    name : str
        Field name used in the error message.
    value : object
        Value to check. ``bool`` and strings are refused even though Python can
        convert them.
    lo, hi : float, optional
        Bounds; ``None`` means unbounded.
    lo_open, hi_open : bool
        Whether the bounds are exclusive.
    unit : str
        Unit appended to the description of what is allowed.

    Returns
    -------
    float

    Examples
    --------
    >>> check_number("width_deg", 0.5, lo=0, lo_open=True)
    0.5
    """
    allowed = _range_text(lo, hi, lo_open, hi_open) + (f" ({unit})" if unit else "")
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ParameterError(name, value, f"expected {allowed}, got {_type_name(value)}")
    try:
        x = float(value)
    except OverflowError:  # an integer beyond float range (TOML integers are unbounded)
        x = math.inf
    if not math.isfinite(x):
        raise ParameterError(name, value, f"expected {allowed}")
    if lo is not None and (x < lo or (lo_open and x == lo)):
        raise ParameterError(name, value, f"expected {allowed}")
    if hi is not None and (x > hi or (hi_open and x == hi)):
        raise ParameterError(name, value, f"expected {allowed}")
    return x


def check_int(name: str, value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int after checking it is a whole number in ``[lo, hi]``.

    Examples
    --------
    >>> check_int("n_trials", 10, lo=1)
    10
    """
    if lo is not None and hi is not None:
        allowed = f"a whole number in [{lo}, {hi}]"
    elif lo is not None:
        allowed = f"a whole number >= {lo}"
    elif hi is not None:
        allowed = f"a whole number <= {hi}"
    else:
        allowed = "a whole number"
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParameterError(name, value, f"expected {allowed}, got {_type_name(value)}")
    x = int(value)
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise ParameterError(name, value, f"expected {allowed}")
    return x


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` after checking it is one of ``choices``.

    Examples
    --------
    >>> check_choice("waveform", "sine", ("sine", "square"))
    'sine'
    """
    options = tuple(choices)
    listed = ", ".join(repr(c) for c in options)
    if not isinstance(value, str) or value not in options:
        raise ParameterError(name, value, f"expected one of {listed}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` after checking it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ParameterError(name, value, f"expected true or false, got {_type_name(value)}")
    return value

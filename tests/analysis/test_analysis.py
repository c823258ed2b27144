"""The analysis stage as a whole: every module's docstring examples run."""

from __future__ import annotations

import doctest

import pytest

from v1lab.analysis import (
    conditions,
    contrast,
    length,
    maps,
    receptive_fields,
    responses,
    temporal,
    tuning,
)


@pytest.mark.parametrize(
    "module",
    [responses, conditions, tuning, temporal, contrast, length, receptive_fields, maps],
    ids=lambda m: m.__name__,
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

"""Lesions as data: what each changes, the delay they add, bad lesions refused."""

from __future__ import annotations

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.axon.lesions import compute_lesion_delay, make_lesioned_fibre


def test_myelin_lesion_changes_only_its_internodes():
    intact = make_lesioned_fibre("myelin", 1.0)
    hurt = make_lesioned_fibre("myelin", 10.0, first_node=5, n_internodes=2)
    changed = np.flatnonzero(hurt.cm_uf_cm2 != intact.cm_uf_cm2)
    k = intact.info["segments_per_internode"]
    expected = np.concatenate([intact.node_index[i] + 1 + np.arange(k) for i in (5, 6)])
    np.testing.assert_array_equal(changed, expected)
    np.testing.assert_allclose(hurt.cm_uf_cm2[changed], intact.cm_uf_cm2[changed] * 10)


def test_dead_nodes_lose_sodium_only():
    fib = make_lesioned_fibre("dead_nodes", 2, first_node=5)
    ni = fib.node_index
    assert (fib.g_na_ms_cm2[ni[6:8]] == 0).all() and (fib.g_na_ms_cm2[ni[8]] > 0)
    assert (fib.g_k_ms_cm2[ni[6:8]] > 0).all()


def test_delay_grows_with_thinning():
    d = [compute_lesion_delay("myelin", f) for f in (2.0, 5.0, 10.0)]
    assert 0 < d[0] < d[1] < d[2], d


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("bone", 1.0), "kind"),
        (("myelin", 0.5), "severity"),
        (("sodium", 1.5), "severity"),
        (("dead_nodes", -1), "severity"),
        (("dead_nodes", 2.5), "severity"),
    ],
)
def test_bad_lesions_are_refused(args, field):
    with pytest.raises(ParameterError) as err:
        make_lesioned_fibre(*args)
    assert str(err.value).startswith(field + " = ")

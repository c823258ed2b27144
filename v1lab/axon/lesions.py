"""Lesions of a myelinated fibre as data: thinned myelin, dead nodes, less sodium.

A lesion starts at node ``first_node`` of the fibre (default: the middle) and spans
``n_internodes`` internodes (the nodes inside it for the nodal lesions):

* ``"myelin"`` — the insulation of those internodes divided by ``severity`` (paranodal
  and segmental demyelination; Waxman 1977; Koles & Rasminsky 1972);
* ``"dead_nodes"`` — ``severity`` consecutive nodes made inexcitable (sodium 0);
* ``"sodium"`` — the sodium density of every node from the lesion on × (1 − ``severity``)
  (a conduction block by sodium-channel loss or blockers must hold over many nodes: a
  spike jumps a few dead ones).

:func:`make_lesioned_fibre` builds the fibre, :func:`compute_lesion_delay` the extra
delay across the lesion (crossing time at the node after it minus the node before it,
minus the same on the intact fibre), :func:`find_block_threshold` the severity at which
conduction fails (bisection on a monotone outcome; dead nodes: the smallest count).

The runs go through ``simulate`` (default :func:`v1lab.axon.sim_cable`), so the same
lesion is measured in NEURON by passing its runner
(:func:`v1lab.axon.reference.sim_neuron_cable`).

References
----------
Koles ZJ, Rasminsky M (1972). A computer simulation of conduction in demyelinated nerve
fibres. J Physiol 227:351–364.
Waxman SG (1977). Conduction in myelinated, unmyelinated, and demyelinated fibers.
Arch Neurol 34:585–589.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.axon.cable import CableRun, default_stim_na, sim_cable
from v1lab.axon.geometry import MOORE_1978, Cable, make_myelinated_axon
from v1lab.axon.measure import conducts

__all__ = [
    "LESION_KINDS",
    "compute_lesion_delay",
    "find_block_threshold",
    "make_lesioned_fibre",
    "run_fibre",
]

LESION_KINDS = ("myelin", "dead_nodes", "sodium")


def make_lesioned_fibre(
    kind: str,
    severity: float,
    *,
    n_nodes: int = 41,
    first_node: int | None = None,
    n_internodes: int = 3,
    **fibre: Any,
) -> Cable:
    """A :func:`~v1lab.axon.make_myelinated_axon` fibre with one lesion (module notes)."""
    kind = check_choice("kind", kind, LESION_KINDS)
    n_nodes = check_int("n_nodes", n_nodes, lo=8, hi=100_000)
    first = (
        n_nodes // 2 - 1
        if first_node is None
        else check_int("first_node", first_node, lo=1, hi=n_nodes - 3)
    )
    insulation = np.full(
        n_nodes - 1, float(fibre.pop("myelin_insulation", MOORE_1978["myelin_insulation"]))
    )
    na = np.ones(n_nodes)
    if kind == "myelin":
        k = check_int("n_internodes", n_internodes, lo=1, hi=n_nodes - 1 - first)
        f = check_number(
            "severity", severity, lo=1, hi=1000, unit="(insulation divided by this factor)"
        )
        insulation[first : first + k] = np.maximum(insulation[first : first + k] / f, 1.0)
    elif kind == "dead_nodes":
        k = check_int("severity", severity, lo=0, hi=n_nodes - 2 - first)
        na[first + 1 : first + 1 + k] = 0.0
    else:
        f = check_number("severity", severity, lo=0, hi=1, unit="(fraction of sodium removed)")
        na[first + 1 :] = 1.0 - f
    return make_myelinated_axon(
        n_nodes=n_nodes, myelin_insulation=insulation, node_na_scale=na, **fibre
    )


def run_fibre(
    fib: Cable, simulate: Callable[..., CableRun] | None = None, dt_us: float = 5.0
) -> CableRun:
    """Run a fibre long enough for a 2-m/s spike to cross it (stimulus as sim_cable's)."""
    duration = 3.0 + fib.total_length_um * 1e-3 / 2.0
    if simulate is None:
        return sim_cable(fib, duration_ms=duration, dt_us=dt_us)
    return simulate(fib, duration_ms=duration, dt_us=dt_us, stim_na=default_stim_na(fib))


def _across(fib: Cable, first_node: int | None, span: int) -> tuple[int, int]:
    nodes = fib.node_index
    first = nodes.size // 2 - 1 if first_node is None else first_node
    return int(nodes[first - 1]), int(nodes[min(first + span + 1, nodes.size - 1)])


def compute_lesion_delay(
    kind: str,
    severity: float,
    *,
    simulate: Callable[..., CableRun] | None = None,
    n_internodes: int = 3,
    **fibre: Any,
) -> float:
    """Extra delay (ms) across the lesion, against the intact fibre (NaN: blocked)."""
    span = int(severity) if kind == "dead_nodes" else n_internodes
    if kind == "sodium":
        raise ParameterError(
            "kind",
            kind,
            'expected "myelin" or "dead_nodes": the sodium lesion reaches the fibre\'s end',
        )
    hurt = make_lesioned_fibre(kind, severity, n_internodes=n_internodes, **fibre)
    intact = make_lesioned_fibre(
        kind, 1.0 if kind == "myelin" else 0, n_internodes=n_internodes, **fibre
    )
    a, b = _across(hurt, fibre.get("first_node"), span)
    r1, r0 = run_fibre(hurt, simulate), run_fibre(intact, simulate)
    if not conducts(r1):
        return float("nan")
    return float((r1.cross_ms[b] - r1.cross_ms[a]) - (r0.cross_ms[b] - r0.cross_ms[a]))


def find_block_threshold(
    kind: str,
    *,
    simulate: Callable[..., CableRun] | None = None,
    tol: float = 0.01,
    n_internodes: int = 3,
    **fibre: Any,
) -> float:
    """Smallest severity that blocks conduction to the far end.

    ``"myelin"``: the insulation divisor (bisection in log, to relative ``tol``);
    ``"sodium"``: the fraction removed (to ``tol``); ``"dead_nodes"``: the count.
    NaN if even the most severe lesion conducts.
    """

    def blocks(sev: float) -> bool:
        fib = make_lesioned_fibre(kind, sev, n_internodes=n_internodes, **fibre)
        return not conducts(run_fibre(fib, simulate))

    if kind == "dead_nodes":
        n_nodes = fibre.get("n_nodes", 41)
        first = fibre.get("first_node", n_nodes // 2 - 1)
        for k in range(1, n_nodes - 2 - first + 1):
            if blocks(k):
                return float(k)
        return float("nan")
    lo, hi = (1.0, 250.0) if kind == "myelin" else (0.0, 1.0)
    if not blocks(hi):
        return float("nan")
    while (hi / lo - 1 if kind == "myelin" else hi - lo) > tol:
        mid = np.sqrt(lo * hi) if kind == "myelin" else 0.5 * (lo + hi)
        lo, hi = (lo, mid) if blocks(mid) else (mid, hi)
    return float(hi)

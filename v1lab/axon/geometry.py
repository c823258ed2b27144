"""An axon as a chain of compartments: unmyelinated cables and myelinated fibres.

:class:`Cable` holds, per compartment, the geometry (position, length, diameter) and the
membrane densities (capacitance, Hodgkin–Huxley sodium and potassium, leak), with the
axial resistivity and temperature of the whole axon. It is data: a lesion is a changed
array, and the solver (:mod:`v1lab.axon.cable`) never asks which kind of axon it has.

* :func:`make_unmyelinated_axon` — a uniform HH cable. With ``diameter_um = 476``,
  ``ra_ohm_cm = 35.4``, ``cm_uf_cm2 = 1`` and ``temperature_c = 18.5`` it is the squid
  giant axon whose propagated action potential Hodgkin & Huxley (1952, part V) computed.
* :func:`make_myelinated_axon` — nodes of Ranvier with the HH membrane (densities scaled,
  as Moore et al. 1978) or the mammalian CRRSS node, one compartment each, joined by
  passive internodes whose membrane capacitance and conductance are those of the axon
  membrane divided by the myelin's insulation factor (the number of
  membranes in series; FitzHugh 1962; Moore et al. 1978). Internode length, node length
  and the myelin of every internode are settable, as is each node's sodium density, so
  the lesions of :mod:`v1lab.axon.lesions` are arrays.

The standard myelinated fibre
-----------------------------
:data:`MOORE_1978` gathers the defaults of :func:`make_myelinated_axon`: the standard
fibre of Moore, Joyner, Brill, Waxman & Najar-Joa (1978), as Michael Hines rebuilt it in
NEURON for ModelDB (accession 9851, ``cable.hoc``; the entry reproduces the paper's
figures 2 and 3): axon diameter 10 µm at the nodes and under the myelin; nodes of
Ranvier of 100 µm² (3.183 µm long) carrying the HH 1952 kinetics with every density ten
times the squid's (ḡNa 1200, ḡK 360, g_L 3 mS/cm², so rest stays at −65 mV); internodes
2 mm long whose capacitance and leak (0.005 µF/cm², 1.5 µS/cm²) are the axon membrane's
(1 µF/cm², 0.3 mS/cm²) divided by 200; axoplasm 100 Ω·cm; 18.5 °C. Confirmed against
the ModelDB code, each value: ``L = 3.183`` with ``diam = 10`` ("area = 100 um2"),
``gnabar_hh = 1.2``, ``gkbar_hh = .36``, ``gl_hh = .003`` (S/cm²), ``ena = 115 − 65``,
``ek = −12 − 65``, myelin ``cm = .005``, ``g_pas = 1.5e-6``, ``e_pas = −65``,
``Ra = 100``, ``celsius = 18.5``, ``make(20, 2000)`` (20 nodes, 2000-µm internodes).
Not confirmed against the paper's own text, which could not be read from here: the
ModelDB README notes that the paper does not give the temperature at which the
conductances' Q10s are referred; nothing in the velocity of the standard fibre depends
on it. The ModelDB model run verbatim in NEURON 9.0.2 (its ``init.hoc`` settings:
Crank–Nicolson, dt 5 µs, a 10-nA, 0.1-ms pulse, velocity between nodes 10 and 11 at
−15 mV) conducts at 22.655 m/s (``tests/axon/golden/moore1978_modeldb.json``).

Units: positions and lengths µm, resistivity Ω·cm, densities µF/cm² and mS/cm²,
potentials mV, temperature °C.

References
----------
Brill MH, Waxman SG, Moore JW, Joyner RW (1977). Conduction velocity and spike
configuration in myelinated fibres: computed dependence on internode distance.
J Neurol Neurosurg Psychiatry 40:769–774.
FitzHugh R (1962). Computation of impulse initiation and saltatory conduction in a
myelinated nerve fiber. Biophys J 2:11–21.
Hodgkin AL, Huxley AF (1952). A quantitative description of membrane current and its
application to conduction and excitation in nerve. J Physiol 117:500–544.
Moore JW, Joyner RW, Brill MH, Waxman SG, Najar-Joa M (1978). Simulations of conduction
in uniform myelinated fibers: relative sensitivity to changes in nodal and internodal
parameters. Biophys J 21:147–160.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from v1lab._validate import ParameterError, check_choice, check_int, check_number
from v1lab.axon.nodes import (
    NODE_MODELS,
    SPEED_VS_HH,
    CRRSSParameters,
    membrane_state,
    node_model_name,
    rate_factor,
)
from v1lab.cells.hh_kinetics import HHParameters, check_params

__all__ = [
    "HH1952_AXON",
    "MOORE_1978",
    "Cable",
    "make_myelinated_axon",
    "make_unmyelinated_axon",
]

#: Hodgkin & Huxley's (1952) propagated-action-potential axon (part V of the paper).
HH1952_AXON: dict[str, float] = {
    "diameter_um": 476.0,
    "ra_ohm_cm": 35.4,
    "cm_uf_cm2": 1.0,
    "temperature_c": 18.5,
}

#: The standard myelinated fibre (see the module notes).
MOORE_1978: dict[str, float] = {
    "diameter_um": 10.0,
    "node_length_um": 100.0 / (np.pi * 10.0),  # 3.183 µm: 100 µm² of node
    "internode_length_um": 2000.0,
    "ra_ohm_cm": 100.0,
    "cm_uf_cm2": 1.0,
    "myelin_insulation": 200.0,
    "node_density_scale": 10.0,
    "temperature_c": 18.5,
}

# Bounds of the geometry: wide enough for a 1-µm C fibre and a 1-mm squid axon, a
# 1-m human nerve, and still refusing units confused by 10^3 or more.
_DIAMETER_UM = (0.05, 2000.0)
_LENGTH_MM = (0.01, 2000.0)
_RA_OHM_CM = (1.0, 10_000.0)
_CM_UF_CM2 = (0.01, 10.0)
_TEMPERATURE_C = (0.0, 45.0)
_MAX_COMPARTMENTS = 2_000_000


@dataclass(frozen=True, eq=False)
class Cable:
    """A chain of compartments (sealed ends) ready for :func:`v1lab.axon.sim_cable`.

    Attributes
    ----------
    x_um, length_um, diameter_um : ndarray (n,)
        Centre, length and diameter of each compartment (µm).
    cm_uf_cm2, g_na_ms_cm2, g_k_ms_cm2, g_l_ms_cm2 : ndarray (n,)
        Membrane capacitance and maximal conductances per area of membrane.
    e_l_mv : ndarray (n,)
        Leak reversal of each compartment (internodes: the nodes' resting potential).
    ra_ohm_cm : float
        Axial resistivity of the axoplasm.
    temperature_c : float
        Temperature of the kinetics (Q10 scaling from 6.3 °C as HH 1952); 0–45 °C (the
        membrane's own 30 °C limit is lifted because a travelling wave's heat block is
        one of the things measured here).
    membrane : HHParameters or CRRSSParameters
        Reversal potentials, Q10 and the potential reference of the excitable membrane
        (:mod:`v1lab.axon.nodes`).
    is_node : ndarray of bool (n,)
        Compartments that are nodes of Ranvier (myelinated fibres); all False otherwise.
    kind : str
        ``"unmyelinated"`` or ``"myelinated"``.
    info : dict
        The parameters the cable was made from (for reports).
    """

    x_um: np.ndarray
    length_um: np.ndarray
    diameter_um: np.ndarray
    cm_uf_cm2: np.ndarray
    g_na_ms_cm2: np.ndarray
    g_k_ms_cm2: np.ndarray
    g_l_ms_cm2: np.ndarray
    e_l_mv: np.ndarray
    ra_ohm_cm: float
    temperature_c: float
    membrane: HHParameters | CRRSSParameters
    is_node: np.ndarray
    kind: str = "unmyelinated"
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of compartments."""
        return int(self.x_um.size)

    @property
    def total_length_um(self) -> float:
        """Length of the axon (µm)."""
        return float(self.length_um.sum())

    @property
    def phi(self) -> float:
        """Temperature factor of the gating rates (HH: ``q10 ** ((T − 6.3) / 10)``)."""
        return rate_factor(self.membrane, self.temperature_c)

    @property
    def speed(self) -> float:
        """How much faster than HH 1952's at 6.3 °C the rates are (sets the step bound)."""
        return self.phi * SPEED_VS_HH[node_model_name(self.membrane)]

    @property
    def node_index(self) -> np.ndarray:
        """Compartment index of each node of Ranvier (empty for unmyelinated cables)."""
        return np.flatnonzero(self.is_node)

    def index_at(self, x_um: float, *, name: str = "x_um") -> int:
        """Index of the compartment whose extent holds position ``x_um``."""
        x = check_number(name, x_um, lo=0, hi=self.total_length_um, unit="µm along the axon")
        edges = np.concatenate(([0.0], np.cumsum(self.length_um)))
        return int(min(np.searchsorted(edges, x, side="right") - 1, self.n - 1))

    def with_temperature(self, temperature_c: float) -> Cable:
        """The same cable at another temperature."""
        t = check_number(
            "temperature_c", temperature_c, lo=_TEMPERATURE_C[0], hi=_TEMPERATURE_C[1], unit="°C"
        )
        return replace(self, temperature_c=t, info={**self.info, "temperature_c": t})


def _check_geometry(
    diameter_um: Any, ra_ohm_cm: Any, cm_uf_cm2: Any, temperature_c: Any
) -> tuple[float, float, float, float]:
    d = check_number("diameter_um", diameter_um, lo=_DIAMETER_UM[0], hi=_DIAMETER_UM[1], unit="µm")
    ra = check_number("ra_ohm_cm", ra_ohm_cm, lo=_RA_OHM_CM[0], hi=_RA_OHM_CM[1], unit="Ω·cm")
    cm = check_number("cm_uf_cm2", cm_uf_cm2, lo=_CM_UF_CM2[0], hi=_CM_UF_CM2[1], unit="µF/cm²")
    t = check_number(
        "temperature_c", temperature_c, lo=_TEMPERATURE_C[0], hi=_TEMPERATURE_C[1], unit="°C"
    )
    return d, ra, cm, t


def _check_count(name: str, n: int) -> None:
    if n > _MAX_COMPARTMENTS:
        raise ParameterError(
            name, n, f"the axon would have {n} compartments; at most {_MAX_COMPARTMENTS}"
        )


def make_unmyelinated_axon(
    *,
    diameter_um: float = HH1952_AXON["diameter_um"],
    length_mm: float = 60.0,
    dx_um: float = 250.0,
    ra_ohm_cm: float = HH1952_AXON["ra_ohm_cm"],
    cm_uf_cm2: float = HH1952_AXON["cm_uf_cm2"],
    temperature_c: float = HH1952_AXON["temperature_c"],
    membrane: HHParameters | None = None,
) -> Cable:
    """A uniform unmyelinated axon with the HH 1952 membrane everywhere.

    Parameters
    ----------
    diameter_um : float, default 476
        Axon diameter (HH 1952's propagated spike: radius 238 µm).
    length_mm : float, default 60
        Length; split into compartments of (at most) ``dx_um``.
    dx_um : float, default 250
        Compartment length. 250 µm is λ/42 of the squid axon's DC length constant
        (10.6 mm) and gives the velocity within 3 % (see ``tests/axon``).
    ra_ohm_cm, cm_uf_cm2 : float, default 35.4, 1
        Axial resistivity and membrane capacitance (HH 1952).
    temperature_c : float, default 18.5
        The temperature of HH 1952's propagated action potential.
    membrane : HHParameters, optional
        Densities and reversal potentials; default the 1952 set.

    Examples
    --------
    >>> cab = make_unmyelinated_axon(length_mm=10, dx_um=500)
    >>> cab.n, round(cab.total_length_um)
    (20, 10000)
    """
    d, ra, cm, t = _check_geometry(diameter_um, ra_ohm_cm, cm_uf_cm2, temperature_c)
    length_um = 1000.0 * check_number(
        "length_mm", length_mm, lo=_LENGTH_MM[0], hi=_LENGTH_MM[1], unit="mm"
    )
    dx = check_number("dx_um", dx_um, lo=0.1, hi=length_um, unit="µm, at most the length")
    membrane = check_params(membrane)
    n = int(np.ceil(length_um / dx - 1e-9))
    _check_count("dx_um", n)
    seg = np.full(n, length_um / n)
    return Cable(
        x_um=(np.arange(n) + 0.5) * seg[0],
        length_um=seg,
        diameter_um=np.full(n, d),
        cm_uf_cm2=np.full(n, cm),
        g_na_ms_cm2=np.full(n, membrane.g_na_ms_cm2),
        g_k_ms_cm2=np.full(n, membrane.g_k_ms_cm2),
        g_l_ms_cm2=np.full(n, membrane.g_l_ms_cm2),
        e_l_mv=np.full(n, membrane.reversal_mv[2]),
        ra_ohm_cm=ra,
        temperature_c=t,
        membrane=membrane,
        is_node=np.zeros(n, dtype=bool),
        kind="unmyelinated",
        info={
            "diameter_um": d,
            "length_mm": length_um / 1000.0,
            "dx_um": length_um / n,
            "ra_ohm_cm": ra,
            "cm_uf_cm2": cm,
            "temperature_c": t,
        },
    )


def _per_internode(
    name: str, value: Any, n_int: int, *, lo: float, hi: float, lo_open: bool = False
) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64) if not np.isscalar(value) else None
    if arr is None:
        v = check_number(name, value, lo=lo, hi=hi, lo_open=lo_open)
        return np.full(n_int, v)
    if arr.shape != (n_int,):
        raise ParameterError(
            name, f"array of shape {arr.shape}", f"expected one value or one per item ({n_int})"
        )
    for v in arr:
        check_number(name, float(v), lo=lo, hi=hi, lo_open=lo_open)
    return arr.copy()


def make_myelinated_axon(
    *,
    n_nodes: int = 41,
    diameter_um: float = MOORE_1978["diameter_um"],
    node_length_um: float = MOORE_1978["node_length_um"],
    internode_length_um: Any = MOORE_1978["internode_length_um"],
    ra_ohm_cm: float = MOORE_1978["ra_ohm_cm"],
    cm_uf_cm2: float = MOORE_1978["cm_uf_cm2"],
    myelin_insulation: Any = MOORE_1978["myelin_insulation"],
    node_na_scale: Any = 1.0,
    node_density_scale: float | None = None,
    segments_per_internode: int = 9,
    temperature_c: float = MOORE_1978["temperature_c"],
    membrane: HHParameters | None = None,
    node_model: str = "hh",
) -> Cable:
    """A myelinated fibre: HH nodes of Ranvier joined by passive myelinated internodes.

    Parameters
    ----------
    n_nodes : int, default 41
        Nodes of Ranvier (the fibre starts and ends with a node).
    diameter_um : float, default 10
        Axon diameter, the same at the nodes and under the myelin.
    node_length_um : float, default 3.183
        Length of each node's excitable membrane (Moore et al.: 100 µm² of node).
    internode_length_um : float or array (n_nodes − 1,), default 2000
        Length of each internode.
    ra_ohm_cm, cm_uf_cm2 : float, default 100, 1
        Axoplasm resistivity and the axon membrane's capacitance.
    myelin_insulation : float or array (n_nodes − 1,), default 200
        Factor by which myelin divides the internodal membrane's capacitance and leak
        conductance (the membranes in series); 1 = bare axon membrane (fully
        demyelinated, still passive), per internode so a lesion is data.
    node_na_scale : float or array (n_nodes,), default 1
        Sodium density of each node relative to the node membrane's (0 = inexcitable
        node).
    node_density_scale : float, optional
        Factor on every density of the HH node membrane (ḡNa, ḡK, g_L) — default 10, as
        Moore et al. 1978; must be None or 1 with ``node_model='crrss'``, whose densities
        are the node's own. The internodal axolemma's leak is not scaled.
    segments_per_internode : int, default 9
        Compartments per internode (an odd number puts one mid-internode).
    temperature_c : float, default 18.5
        Moore et al.'s standard temperature (HH 1952's propagated spike's).
    membrane : HHParameters, optional
        The nodal HH membrane before ``node_density_scale``; default the HH 1952 set.
    node_model : {'hh', 'crrss'}, default 'hh'
        The nodes' membrane (:mod:`v1lab.axon.nodes`): ``'crrss'`` is the mammalian node
        (its own densities and 2.5 µF/cm²; ``membrane`` must then be None). The
        internodal axolemma under the myelin keeps ``cm_uf_cm2`` and the HH 1952 leak
        (0.3 mS/cm², the membrane's leak with a HH node), both divided by the insulation.

    Examples
    --------
    >>> fib = make_myelinated_axon(n_nodes=3, segments_per_internode=3)
    >>> fib.n, fib.node_index.tolist()
    (9, [0, 4, 8])
    >>> float(fib.g_na_ms_cm2[0]), round(float(fib.cm_uf_cm2[1]), 4)   # Moore's node, myelin
    (1200.0, 0.005)
    """
    n_nodes = check_int("n_nodes", n_nodes, lo=2, hi=100_000)
    d, ra, cm, t = _check_geometry(diameter_um, ra_ohm_cm, cm_uf_cm2, temperature_c)
    node_len = check_number("node_length_um", node_length_um, lo=0.1, hi=100.0, unit="µm")
    n_int = n_nodes - 1
    int_len = _per_internode("internode_length_um", internode_length_um, n_int, lo=1.0, hi=20_000.0)
    insul = _per_internode("myelin_insulation", myelin_insulation, n_int, lo=1.0, hi=10_000.0)
    na_scale = _per_internode("node_na_scale", node_na_scale, n_nodes, lo=0.0, hi=10.0)
    k = check_int("segments_per_internode", segments_per_internode, lo=1, hi=1001)
    node_model = check_choice("node_model", node_model, NODE_MODELS)
    axolemma = HHParameters()
    if node_model == "crrss":
        if membrane is not None:
            raise ParameterError("membrane", membrane, "expected None with node_model 'crrss'")
        if node_density_scale not in (None, 1, 1.0):
            raise ParameterError(
                "node_density_scale",
                node_density_scale,
                "expected None or 1 with node_model 'crrss'",
            )
        membrane = CRRSSParameters()
        node_cm = membrane.c_m_uf_cm2
        scale = 1.0
    else:
        membrane = check_params(membrane)
        node_cm = cm
        axolemma = membrane
        scale = check_number(
            "node_density_scale",
            MOORE_1978["node_density_scale"] if node_density_scale is None else node_density_scale,
            lo=0.01,
            hi=100.0,
        )
    n = n_nodes + n_int * k
    _check_count("n_nodes", n)
    rest = membrane_state(membrane).rest_mv
    is_node = np.zeros(n, dtype=bool)
    is_node[:: k + 1] = True
    length = np.empty(n)
    length[is_node] = node_len
    length[~is_node] = np.repeat(int_len / k, k)
    insul_c = np.ones(n)
    insul_c[~is_node] = np.repeat(insul, k)
    edges = np.concatenate(([0.0], np.cumsum(length)))
    g_na = np.zeros(n)
    g_k = np.zeros(n)
    g_na[is_node] = scale * membrane.g_na_ms_cm2 * na_scale
    g_k[is_node] = scale * membrane.g_k_ms_cm2
    e_l = np.full(n, rest)
    e_l[is_node] = membrane.reversal_mv[2]
    c_m = cm / insul_c
    c_m[is_node] = node_cm
    g_l = axolemma.g_l_ms_cm2 / insul_c
    g_l[is_node] = scale * membrane.g_l_ms_cm2
    return Cable(
        x_um=0.5 * (edges[:-1] + edges[1:]),
        length_um=length,
        diameter_um=np.full(n, d),
        cm_uf_cm2=c_m,
        g_na_ms_cm2=g_na,
        g_k_ms_cm2=g_k,
        g_l_ms_cm2=g_l,
        e_l_mv=e_l,
        ra_ohm_cm=ra,
        temperature_c=t,
        membrane=membrane,
        is_node=is_node,
        kind="myelinated",
        info={
            "n_nodes": n_nodes,
            "diameter_um": d,
            "node_length_um": node_len,
            "internode_length_um": float(np.median(int_len)),
            "ra_ohm_cm": ra,
            "cm_uf_cm2": cm,
            "myelin_insulation": float(np.median(insul)),
            "segments_per_internode": k,
            "node_density_scale": scale,
            "temperature_c": t,
            "node_model": node_model,
        },
    )

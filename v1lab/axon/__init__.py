"""The axon: a spike that travels, on unmyelinated cables and myelinated fibres.

(Provisional docstring; filled in below as the package grows.)
"""

from v1lab.axon.cable import CableRun, sim_cable
from v1lab.axon.geometry import (
    HH1952_AXON,
    MOORE_1978,
    Cable,
    make_myelinated_axon,
    make_unmyelinated_axon,
)

__all__ = [
    "HH1952_AXON",
    "MOORE_1978",
    "Cable",
    "CableRun",
    "make_myelinated_axon",
    "make_unmyelinated_axon",
    "sim_cable",
]

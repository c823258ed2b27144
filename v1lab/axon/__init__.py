"""The axon lab: the spike travels — unmyelinated cables, myelinated fibres, lesions.

A multi-compartment axon with the project's Hodgkin–Huxley membrane (the kinetics of
:mod:`v1lab.cells.hh_kinetics`), solved implicitly, measured as a physiologist would,
checked against NEURON, heard on two stereo channels, and run from protocol files
(``lab = "axon"``) into run folders.

* ``geometry`` — :class:`Cable` and its builders :func:`make_unmyelinated_axon` (HH 1952's
  squid axon by default) and :func:`make_myelinated_axon` (HH or mammalian CRRSS nodes,
  passive myelinated internodes; :data:`MOORE_1978`, Moore et al.'s fibre as ModelDB
  9851 builds it).
* ``cable`` — :func:`sim_cable`: backward Euler or Crank–Nicolson with the tridiagonal
  solve (``_kernel``, compiled by numba; numpy + LAPACK as the reference), electrodes,
  snapshots, crossings.
* ``measure`` — velocities, delays, conduction; ``sweeps`` — velocity against diameter,
  internode length and temperature; ``lesions`` — thinned myelin, dead nodes, sodium loss
  and their block thresholds.
* ``reference`` — the same cable in NEURON (optional extra ``neuron``; the CRRSS node
  through an NMODL mechanism compiled on first use).
* ``sound`` — stereo clicks whose delay is the conduction delay.
* ``figures``, ``lab`` — the figures and :func:`run_lab_protocol`, the entry point the
  command line calls for ``lab = "axon"`` protocols.

Layering: the package sits beside :mod:`v1lab.report` (the lab writes run folders with
:mod:`v1lab.io`, draws with :mod:`v1lab.plots.style`, writes WAV with
:mod:`v1lab.audio`); its science modules (``geometry``, ``cable``, ``_kernel``,
``measure``, ``sweeps``, ``lesions``, ``sound``) import only :mod:`v1lab.cells` and
:mod:`v1lab._validate` (``tests/axon/test_layers.py``).
"""

from v1lab.axon.cable import CableRun, sim_cable
from v1lab.axon.geometry import (
    HH1952_AXON,
    MOORE_1978,
    Cable,
    make_myelinated_axon,
    make_unmyelinated_axon,
)
from v1lab.axon.lab import load_lab_protocol, run_lab_protocol
from v1lab.axon.measure import compute_electrode_velocity, compute_velocity

__all__ = [
    "HH1952_AXON",
    "MOORE_1978",
    "Cable",
    "CableRun",
    "compute_electrode_velocity",
    "compute_velocity",
    "load_lab_protocol",
    "make_myelinated_axon",
    "make_unmyelinated_axon",
    "run_lab_protocol",
    "sim_cable",
]

"""Inputs that add up: synapses, EPSPs summing to threshold, a simple cell built from LGN.

The input side of the neuron (issue 20). Chemically gated channels (AMPA, NMDA with its
Mg²⁺ block, GABA-A) are conductances on one cortical compartment — passive, the
regular-spiking cell of Pospischil et al. (2008), or the project's Hodgkin–Huxley squid
membrane — integrated by a compiled kernel over many trains at once. On that cell the
package measures the unitary EPSP, temporal and spatial summation, the probability of a
spike against the number of synchronous inputs, shunting and hyperpolarising inhibition
and NMDA's voltage dependence; and it builds Hubel & Wiesel's simple cell from the
spike trains of the project's own LGN cells with the connectivity of Alonso, Usrey & Reid
(2001). It imports :mod:`v1lab.cells` (spike trains, the HH kinetics), :mod:`v1lab.model`
(stimuli and the retina/LGN stage) and :mod:`v1lab.io` / :mod:`v1lab.audio` (the run
folder, the sound); nothing below imports it.

Modules: ``receptors`` (the synapses), ``cell`` (the membranes), ``simulate`` (the
integrator's front end; ``_kernel`` is the numba loop).
"""

from v1lab.synapse.cell import CELL_KINDS, CellParameters, compute_rest_mv, make_cell
from v1lab.synapse.receptors import (
    AMPA,
    GABA_A,
    NMDA,
    RECEPTORS,
    Receptor,
    Release,
    compute_mg_block,
    exp2_peak_factor,
)
from v1lab.synapse.simulate import (
    SynapticEvents,
    SynapticTrace,
    make_events,
    sim_synaptic_cell,
)

__all__ = [
    "AMPA",
    "CELL_KINDS",
    "GABA_A",
    "NMDA",
    "RECEPTORS",
    "CellParameters",
    "Receptor",
    "Release",
    "SynapticEvents",
    "SynapticTrace",
    "compute_mg_block",
    "compute_rest_mv",
    "exp2_peak_factor",
    "make_cell",
    "make_events",
    "sim_synaptic_cell",
]

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
(stimuli and the retina/LGN stage), :mod:`v1lab.analysis` (tuning fits, F1/F0) and
:mod:`v1lab.io` / :mod:`v1lab.audio` (the run folder, the sound); nothing below imports it
(it sits beside :mod:`v1lab.report` in the layers: its entry point writes a run folder).

It also shows the third kind of gate, the mechanically gated channel: a stretch
receptor's Boltzmann open probability, adapting, its receptor potential and spike train.

Modules: ``receptors`` (the synapses), ``cell`` (the membranes), ``simulate`` (the
integrator's front end; ``_kernel`` is the numba loop), ``summation`` (the EPSP
measurements), ``lgn`` and ``responses`` (LGN → simple cell, and its Vm and spike
tuning), ``touch`` (the stretch receptor); the labs: ``spec`` (their protocols),
``summation_lab``, ``simple_cell_lab``, ``touch_lab``, ``figures`` and ``lab``
(:func:`run_lab_protocol`, the entry point); ``_common`` what they share.
"""

from v1lab.synapse.cell import CELL_KINDS, CellParameters, compute_rest_mv, make_cell
from v1lab.synapse.lab import load_lab_protocol, run_lab_protocol
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
    compute_noise_sd_pa,
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
    "compute_noise_sd_pa",
    "compute_rest_mv",
    "exp2_peak_factor",
    "load_lab_protocol",
    "make_cell",
    "make_events",
    "run_lab_protocol",
    "sim_synaptic_cell",
]

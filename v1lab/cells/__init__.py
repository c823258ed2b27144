"""Spiking cells: firing rates in, spike trains out.

The stage takes the V1 cells' firing-rate traces and draws the spikes they fire, with the
model a protocol names (:func:`sim_spikes`), and hands the trains
(:class:`SpikeTrains`) to :mod:`v1lab.experiment`. It imports nothing of the model or
later stages.

* ``trains`` — :class:`SpikeTrains`, the compressed store every generator returns.
* ``spikes`` — :func:`sim_spikes`, the dispatcher on the model name (:data:`SPIKE_MODELS`).
* ``poisson`` — :func:`sim_poisson_dead_time` (the default model) and
  :func:`apply_dead_time`.
* ``lif`` — :func:`sim_lif`, the noisy leaky integrate-and-fire neuron.
* ``hh_kinetics``, ``hh_membrane``, ``hh_fi``, ``hh_measure``, ``hh_waveform`` — the
  Hodgkin–Huxley membrane: :class:`HHParameters` and its kinetics; :func:`sim_membrane`
  from given currents; :func:`sim_hodgkin_huxley` from rates, through the inverse of the
  membrane's own f–I curve; the classical measurements; the extracellular spike
  (:class:`HHSpikeShape`) the audio monitor plays. ``hodgkin_huxley`` re-exports them
  with the membrane figure.
* ``_kernels`` (Poisson and LIF) and ``_hh_integrate`` (Hodgkin–Huxley) hold the compiled
  (numba) inner loops; ``_common`` and ``_hh_common`` what the generators share.
"""

from v1lab.cells.hh_fi import hh_current_for_rates, sim_hodgkin_huxley
from v1lab.cells.hh_kinetics import HHParameters, compute_resting_potential
from v1lab.cells.hh_measure import (
    FI_STARTS,
    RHEOBASE_KINDS,
    SPIKE_PHASES,
    compute_absolute_refractory_period,
    compute_fi_curve,
    compute_hopf_current,
    compute_spike_features,
    find_rheobase,
    sim_action_potential,
)
from v1lab.cells.hh_membrane import BACKENDS, MembraneTrace, hh_backend, sim_membrane
from v1lab.cells.hh_waveform import HHSpikeShape, make_hh_spike_waveform
from v1lab.cells.lif import sim_lif
from v1lab.cells.poisson import apply_dead_time, sim_poisson_dead_time
from v1lab.cells.spikes import SPIKE_MODELS, sim_spikes
from v1lab.cells.trains import SpikeTrains

__all__ = [
    "BACKENDS",
    "FI_STARTS",
    "RHEOBASE_KINDS",
    "SPIKE_MODELS",
    "SPIKE_PHASES",
    "HHParameters",
    "HHSpikeShape",
    "MembraneTrace",
    "SpikeTrains",
    "apply_dead_time",
    "compute_absolute_refractory_period",
    "compute_fi_curve",
    "compute_hopf_current",
    "compute_resting_potential",
    "compute_spike_features",
    "find_rheobase",
    "hh_backend",
    "hh_current_for_rates",
    "make_hh_spike_waveform",
    "sim_action_potential",
    "sim_hodgkin_huxley",
    "sim_lif",
    "sim_membrane",
    "sim_poisson_dead_time",
    "sim_spikes",
]

"""Spiking cells: firing rates in, spike trains out.

``spikes`` holds the generators (inhomogeneous Poisson with dead time, noisy leaky
integrate-and-fire) and :class:`~v1lab.cells.spikes.SpikeTrains`; ``hodgkin_huxley`` the
conductance-based membrane; ``_kernels`` their compiled (numba) inner loops. The stage
hands spike times to :mod:`v1lab.experiment`; it imports nothing of the model or later stages.
"""

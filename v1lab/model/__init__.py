"""The eye and the cortex as a model: stimulus frames in, V1 firing rates out.

``stimulus`` renders protocols' stimuli as luminance frames on the retina's pixel grid;
``retina`` filters them through ON/OFF centre–surround LGN cells; ``cortex`` draws V1
cells (simple, complex, direction-selective, end-stopped) and turns LGN responses into
firing rates; ``maps`` lays cells out on an orientation-map sheet. The stage hands firing
rates (frames × cells, spikes/s) to :mod:`v1lab.cells`; it never imports from later stages.
"""

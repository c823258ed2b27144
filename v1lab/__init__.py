"""v1lab: a faithful, fast, audible replica of Hubel & Wiesel's visual-cortex experiment.

The flow is stimulus → retina (LGN) → cortex (V1) → spikes → :class:`Recording`,
then analysis, audio, figures and files. Heavy optional libraries (pynwb, matplotlib,
sounddevice) are imported only where they are used, so ``import v1lab`` stays fast.
"""

from v1lab._validate import ParameterError

__version__ = "0.1.0"

__all__ = ["ParameterError", "__version__"]

"""Small helpers shared by the stimulus classes and their renderers."""

from __future__ import annotations

from typing import Any

__all__ = ["pil_errors", "set_frozen", "wrap_angle"]


def set_frozen(obj: object, name: str, value: Any) -> None:
    """Set a field of a frozen dataclass (from its ``__post_init__``)."""
    # Frozen dataclasses store their normalised values through object.__setattr__.
    object.__setattr__(obj, name, value)


def wrap_angle(angle: float, period: float) -> float:
    """``angle`` reduced to ``[0, period)``."""
    wrapped = angle % period
    # -1e-20 % 360 rounds to 360.0, which is outside [0, period).
    return 0.0 if wrapped >= period else wrapped


_PIL_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, SyntaxError)


def pil_errors() -> tuple[type[BaseException], ...]:
    """The exceptions pillow raises for a file it cannot read as an image."""
    from PIL import Image as PILImage

    return (*_PIL_ERRORS, PILImage.DecompressionBombError)

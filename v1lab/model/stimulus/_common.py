"""Small helpers shared by the stimulus classes and their renderers."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from v1lab._validate import ParameterError

if TYPE_CHECKING:
    from PIL.Image import Image as PILPicture

__all__ = ["MAX_PICTURE_PIXELS", "pil_errors", "read_picture", "set_frozen", "wrap_angle"]

# Largest picture an Image stimulus reads: 4096 × 4096 pixels, one per pixel of the largest
# grid (finer detail is averaged away on any grid). Reading one takes at most ~0.4 GB
# (measured: 0.34 GB for an RGBA PNG, 0.39 GB for a float TIFF).
MAX_PICTURE_PIXELS = 4096 * 4096


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


@contextlib.contextmanager
def read_picture(path: str) -> Iterator[PILPicture]:
    """Open an image file, refusing it before any pixel is decoded if it cannot be read.

    Only the header is read here (pillow decodes on first use), so a missing or foreign
    file, or a picture of more than :data:`MAX_PICTURE_PIXELS` pixels, is refused cheaply
    with a :class:`~v1lab._validate.ParameterError` naming ``path``.
    """
    from PIL import Image as PILImage

    most = f"at most {MAX_PICTURE_PIXELS} pixels (4096 × 4096): reduce it first"
    try:
        with warnings.catch_warnings():
            # Pillow warns above ~89 Mpx; such pictures are refused just below, quietly.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            picture = PILImage.open(path)
    except PILImage.DecompressionBombError as exc:
        raise ParameterError("path", path, f"expected an image of {most} ({exc})") from exc
    except pil_errors() as exc:
        raise ParameterError("path", path, f"expected a readable image file ({exc})") from exc
    with picture:
        width, height = picture.size
        if width * height > MAX_PICTURE_PIXELS:
            raise ParameterError(
                "path", path, f"the image is {width} × {height} pixels; expected {most}"
            )
        yield picture

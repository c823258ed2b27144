"""Stimulus fields are bounded to physical ranges; oversized pictures are refused unread."""

from __future__ import annotations

import dataclasses
import math
import struct
import warnings
import zlib

import numpy as np
import pytest

from v1lab._validate import ParameterError
from v1lab.model.stimulus import (
    STIMULUS_KINDS,
    Annulus,
    Bar,
    Grating,
    Image,
    RetinaGrid,
    SparseNoise,
    make_stimulus,
    render_frames,
)

GRID = RetinaGrid(extent_deg=8.0, pixels_per_deg=4.0)


def write_png(path, width, height):
    """A PNG of fine black and white stripes of any size: small on disk and in memory."""

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(6)
    row = b"\x00" + b"\xaa" * -(-width // 8)  # filter byte "none", then 8 pixels a byte
    rows = row * 64
    data = b"".join(packer.compress(rows) for _ in range(height // 64))
    data += packer.compress(row * (height % 64)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
    path.write_bytes(png + chunk(b"IEND", b""))
    return path


@pytest.fixture
def picture(tmp_path):
    return write_png(tmp_path / "small.png", 8, 6)


def numeric_fields(cls):
    """Every field of a stimulus kind that takes a number."""
    return [f.name for f in dataclasses.fields(cls) if f.name not in ("path", "waveform", "motion")]


def build(kind, picture, **params):
    if kind == "image":
        params.setdefault("path", str(picture))
    if kind == "bar" and "direction_deg" in params:
        params.setdefault("speed_deg_s", 1.0)  # a flashed bar has no direction at all
    return make_stimulus(kind, **params)


CASES = [(kind, name) for kind, cls in STIMULUS_KINDS.items() for name in numeric_fields(cls)]


@pytest.mark.parametrize(("kind", "name"), CASES)
@pytest.mark.parametrize("value", [1e308, -1e308])
def test_every_numeric_field_refuses_absurd_values(picture, kind, name, value):
    with pytest.raises(ParameterError) as info:
        build(kind, picture, **{name: value})
    assert info.value.field == name
    assert str(info.value).startswith(f"{name} = {value!r}: expected")


@pytest.mark.parametrize(
    ("build_it", "field", "allowed"),
    [
        (lambda: Bar(x_deg=180.5), "x_deg", "[-180, 180] (deg)"),
        (lambda: Bar(y_deg=-181), "y_deg", "[-180, 180] (deg)"),
        (lambda: Bar(speed_deg_s=1000.5), "speed_deg_s", "[0, 1000] (deg/s)"),
        (lambda: Bar(width_deg=0.0005), "width_deg", "[0.001, 360] (deg)"),
        (lambda: Bar(length_deg=361), "length_deg", "[0.001, 360] (deg)"),
        (lambda: Bar(orientation_deg=400), "orientation_deg", "[-360, 360] (deg)"),
        (lambda: Bar(duration_s=86401), "duration_s", "[0.0001, 86400] (s)"),
        (lambda: Bar(duration_s=0), "duration_s", "[0.0001, 86400] (s)"),
        (lambda: Annulus(outer_radius_deg=181), "outer_radius_deg", "[0.001, 180] (deg)"),
        (lambda: Annulus(inner_radius_deg=-1), "inner_radius_deg", "[0, 180] (deg)"),
        (lambda: Grating(spatial_frequency_cpd=129), "spatial_frequency_cpd", "[0.001, 128]"),
        (lambda: Grating(temporal_frequency_hz=501), "temporal_frequency_hz", "[0, 500] (Hz)"),
        (lambda: Grating(phase_deg=-361), "phase_deg", "[-360, 360] (deg)"),
        (lambda: Grating(aperture_radius_deg=200), "aperture_radius_deg", "[0.001, 180]"),
        (lambda: SparseNoise(frame_duration_s=1e-4), "frame_duration_s", "[0.001, 86400] (s)"),
        (lambda: SparseNoise(grid_size=100, square_deg=4.0), "square_deg", "grid_size"),
        (lambda: RetinaGrid(extent_deg=91, pixels_per_deg=1.0), "extent_deg", "(0, 90]"),
    ],
)
def test_out_of_range_names_field_value_and_range(build_it, field, allowed):
    with pytest.raises(ParameterError) as info:
        build_it()
    assert info.value.field == field
    assert allowed in str(info.value)


def test_the_edges_of_every_range_render_without_warnings():
    edges = [
        Bar(x_deg=-180, y_deg=180, speed_deg_s=1000, duration_s=86400, width_deg=0.001),
        Bar(length_deg=360, width_deg=360, orientation_deg=-360, x_deg=180, y_deg=-180),
        Annulus(inner_radius_deg=0, outer_radius_deg=180),
        Grating(spatial_frequency_cpd=64, temporal_frequency_hz=500, phase_deg=360),
        Grating(spatial_frequency_cpd=0.001, aperture_radius_deg=0.001, duration_s=0.0001),
        SparseNoise(grid_size=1, square_deg=360, frame_duration_s=86400, duration_s=86400),
    ]
    t = np.array([0.0, 1e-4 / 2, 43200.0, 86399.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for stimulus in edges:
            frames = render_frames(stimulus, GRID, t)
            assert np.all(np.isfinite(frames))


def test_a_live_edge_on_the_widest_screen_is_allowed():
    # v1lab.live draws an edge as a bar 4 x 2 screens wide, centred up to 1.5 screens out.
    big = 2.0 * 90.0
    edge = Bar(width_deg=big, length_deg=2 * big, x_deg=1.5 * 90.0, orientation_deg=90)
    assert edge.length_deg == 360.0


def test_aperture_may_still_be_infinite():
    assert math.isinf(Grating(aperture_radius_deg=math.inf).aperture_radius_deg)


def test_a_huge_picture_is_refused_from_its_header(tmp_path):
    # 13000 x 13000 pixels in ~170 KB: decoding it would take gigabytes.
    path = write_png(tmp_path / "huge.png", 13000, 13000)
    assert path.stat().st_size < 1_000_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even pillow's decompression-bomb warning
        with pytest.raises(ParameterError) as info:
            Image(path=path)
    message = str(info.value)
    assert info.value.field == "path"
    assert info.value.value == str(path) and "13000 × 13000" in message
    assert "at most 16777216 pixels" in message
    assert "\n" not in message


def test_a_picture_beyond_pillows_bomb_limit_gets_the_same_message(tmp_path):
    path = write_png(tmp_path / "bomb.png", 20000, 20000)
    with pytest.raises(ParameterError) as info:
        Image(path=path)
    assert info.value.field == "path"
    assert "at most 16777216 pixels" in str(info.value)


def test_the_largest_allowed_picture_is_accepted(tmp_path):
    path = write_png(tmp_path / "wide.png", 4096 * 64, 64)  # exactly 4096 x 4096 pixels
    assert Image(path=path).path == str(path)
    with pytest.raises(ParameterError, match="262144 × 65 pixels"):
        Image(path=write_png(tmp_path / "wider.png", 4096 * 64, 65))


def test_a_picture_swapped_for_a_huge_one_is_refused_when_rendered(tmp_path):
    path = write_png(tmp_path / "picture.png", 8, 6)
    image = Image(path=path, size_deg=2.0)
    write_png(path, 13000, 13000)
    with pytest.raises(ParameterError) as info:
        render_frames(image, GRID, [0.0])
    assert info.value.field == "path"
    assert "13000 × 13000" in str(info.value)

"""Protocols with physically absurd stimulus values stop at parsing, naming the field."""

from __future__ import annotations

import copy
import warnings

import pytest

from v1lab import ParameterError
from v1lab.protocol import parse_protocol

# Every other section takes its defaults.
BASE = {"stimuli": [{"kind": "bar", "speed_deg_s": 4.0, "duration_s": 0.5, "direction_deg": 0.0}]}


def _stimulus(**changes) -> dict:
    data = copy.deepcopy(BASE)
    data["stimuli"][0].update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"speed_deg_s": 1e308}, "stimuli[0].speed_deg_s", "[0, 1000] (deg/s)"),
        ({"x_deg": 1e308}, "stimuli[0].x_deg", "[-180, 180] (deg)"),
        ({"y_deg": [0.0, -1e308]}, "stimuli[0].y_deg", "[-180, 180] (deg)"),
        ({"duration_s": 1e308}, "stimuli[0].duration_s", "[0.0001, 86400] (s)"),
        ({"length_deg": 1e308}, "stimuli[0].length_deg", "[0.001, 360] (deg)"),
        (
            {"kind": "grating", "speed_deg_s": None, "spatial_frequency_cpd": 1e308},
            "stimuli[0].spatial_frequency_cpd",
            "[0.001, 128] (cycles/deg)",
        ),
    ],
)
def test_absurd_stimulus_values_are_refused_when_the_protocol_is_read(changes, field, allowed):
    data = _stimulus(**changes)
    data["stimuli"][0] = {k: v for k, v in data["stimuli"][0].items() if v is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way to the message
        with pytest.raises(ParameterError) as info:
            parse_protocol(data)
    message = str(info.value)
    assert info.value.field == field
    assert message.startswith(f"{field} = "), message
    assert "1e+308" in message, message
    assert allowed in message, message


def test_a_huge_picture_in_a_protocol_is_refused_naming_its_field(tmp_path):
    from PIL import Image as PILImage

    path = tmp_path / "huge.png"
    PILImage.new("L", (4097, 4097), 128).save(path)  # 17 MB in memory, 17 KB on disk
    data = copy.deepcopy(BASE)
    data["stimuli"] = [{"kind": "image", "path": str(path)}]
    with pytest.raises(ParameterError) as info:
        parse_protocol(data)
    assert info.value.field == "stimuli[0].path"
    assert "4097 × 4097" in str(info.value)

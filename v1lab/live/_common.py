"""Helpers shared by the modules of :mod:`v1lab.live`."""

from __future__ import annotations


def one_line(text: object) -> str:
    return " ".join(str(text).split())

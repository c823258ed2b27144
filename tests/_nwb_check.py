"""nwbinspector as the DANDI archive runs it, for the tests that check NWB files."""

from __future__ import annotations

#: What keeps a file out of DANDI: the inspector's two highest importance levels.
BLOCKING = ("CRITICAL", "BEST_PRACTICE_VIOLATION")


def inspect(path) -> list:
    from nwbinspector import inspect_nwbfile, load_config

    return list(inspect_nwbfile(nwbfile_path=str(path), config=load_config("dandi")))


def blocking(messages: list) -> list[str]:
    return [
        f"{m.importance.name} {m.check_function_name}: {m.message}"
        for m in messages
        if m.importance.name in BLOCKING
    ]

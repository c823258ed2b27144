"""``v1lab card``: run the population card and write its folder.

::

    v1lab card [--species cat|macaque] [--cells N] [--seed S] [--out DIR] [--overwrite] [--quick]
               [--fields FILE]

(``--fields``: on learned cells, whose RFs are read from a fields file of ``v1lab learn``;
issue 15) prints a progress line per condition (as a run does), then a table of the scores with
AlexNet's beside them and their mean, the checks, the time per battery part, and the
folder, which holds:

``card.csv``
    One row per property: model n (responsive cells) and how many have a value, model
    median, data n, KS similarity ± SD, ceiling, score (= KS similarity / ceiling),
    AlexNet's score, source and where its numbers were read.
``cells.csv``
    One row per cell: ground truth, band factor and every measured property.
``figures/<property>.png``
    The model's histogram over the paper's (:func:`v1lab.card.figures.plot_card_histogram`).
``card.html``
    The page (:func:`v1lab.card.page.render_card_page`), figures embedded.

The folder is assembled under a temporary name beside its destination and renamed into
place when complete; an existing folder is refused before any work unless
``--overwrite``. Bad input (an unknown species, fewer than one cell, …) is one line on
stderr and exit status 2, with nothing written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from v1lab._validate import ParameterError, check_int
from v1lab.card.battery import BatterySpec
from v1lab.card.figures import plot_card_histogram
from v1lab.card.page import render_card_page
from v1lab.card.population import SPECIES
from v1lab.card.scores import Card, compute_card
from v1lab.io import check_run_folder, default_run_folder, save_table_csv, write_atomic
from v1lab.plots import save_figure

__all__ = ["format_card_table", "main", "make_parser", "save_card"]

_PROG = "v1lab card"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2 (see :func:`main`)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


_OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--species", {"choices": SPECIES, "default": "macaque", "help": "default: macaque"}),
    ("--cells", {"type": int, "default": 500, "metavar": "N", "help": "default: 500"}),
    ("--seed", {"type": int, "default": 0, "metavar": "S", "help": "default: 0"}),
    ("--out", {"type": Path, "metavar": "DIR",
               "help": "default: runs/<YYYYmmdd-HHMMSS>_card_<species>"}),
    ("--overwrite", {"action": "store_true",
                     "help": "replace an existing --out, once the new card is complete"}),
    ("--quick", {"action": "store_true",
                 "help": "a cut battery for a smoke test (scores not comparable)"}),
    ("--fields", {"metavar": "FILE",
                  "help": "record from learned cells: their RFs from a fields file written "
                          "by `v1lab learn` (its fields.npz or folder); default: drawn cells"}),
)  # fmt: skip


def make_parser() -> argparse.ArgumentParser:
    """The ``v1lab card`` argument parser."""
    parser = _Parser(
        prog=_PROG,
        description=(
            "Run a fixed battery (gratings by orientation, spatial frequency and size, spot "
            "maps, slits of several lengths, blanks, repeats) on many cells and score each "
            "property's distribution against the published one (KS similarity, Marques et "
            "al. 2021), with AlexNet's scores beside."
        ),
    )
    for flag, options in _OPTIONS:
        parser.add_argument(flag, **options)
    return parser


# Stimulus parameters a progress line shows, by kind, with their short names.
_SHOWN = {
    "grating": (("direction_deg", "dir"), ("spatial_frequency_cpd", "sf"),
                ("aperture_radius_deg", "radius")),
    "bar": (("direction_deg", "dir"), ("length_deg", "length")),
    "spot": (("contrast", "contrast"), ("x_deg", "x"), ("y_deg", "y")),
    "full_field": (("contrast", "contrast"),),
}  # fmt: skip


def _describe(label: str, stimulus: Any) -> str:
    params = stimulus.trial_params()
    shown = " ".join(
        f"{short}={params[key]:.3g}"
        for key, short in _SHOWN.get(stimulus.kind, ())
        if np.isfinite(params.get(key, np.nan))
    )
    return f"{label}: {stimulus.kind} {shown}".rstrip()


class _ProgressBar:
    """One line per condition over the whole battery: ``[k/N] |███···| band part: stimulus``."""

    width = 24

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.done = 0
        self.total = 1

    def start(self, plan: Any) -> None:
        self.total = max(plan.n_conditions, 1)
        bands = ", ".join(f"×{k:g} ({len(m)} cells)" for k, _, m in plan.bands)
        self.stream.write(f"{_PROG}: {plan.n_conditions} conditions in bands {bands}\n")

    def __call__(self, label: str, stimulus: Any, seconds: float) -> None:
        self.done += 1
        filled = round(self.width * self.done / self.total)
        bar = "█" * filled + "·" * (self.width - filled)
        count = f"{self.done:>{len(str(self.total))}}/{self.total}"
        self.stream.write(f"[{count}] |{bar}| {_describe(label, stimulus)} ({seconds:.2f} s)\n")
        self.stream.flush()


def format_card_table(card: Card) -> str:
    """The scores as a text table, AlexNet's beside, then the checks and the timings."""
    lines = [
        f"{'property':<29}{'model n':>8}{'data n':>8}{'KS sim':>9}{'ceiling':>9}"
        f"{'score':>8}{'AlexNet':>9}"
    ]

    def num(x: float, width: int) -> str:
        return f"{x:>{width}.3f}" if np.isfinite(x) else f"{'—':>{width}}"

    for r in card.rows:
        data_n = f"{r['data_n']:>8}" if np.isfinite(r["data_n"]) else f"{'—':>8}"
        lines.append(
            f"{r['property']:<29}{r['model_n']:>8}{data_n}{num(r['ks_similarity'], 9)}"
            f"{num(r['ceiling'], 9)}{num(r['score'], 8)}{num(r['alexnet'], 9)}"
        )
    scored = [r for r in card.rows if r["scored"]]
    if scored:
        alex = float(np.mean([r["alexnet"] for r in scored]))
        lines.append(
            f"{f'mean of {len(scored)} scored':<29}{'':>43}{num(card.mean_score, 8)}{num(alex, 9)}"
        )
    else:
        lines.append("no property has published counts for this species: nothing scored")
    lines.append("")
    for name, value, target in card.checks:
        lines.append(f"{name:<62}{num(value, 8)}  ({target})")
    lines.append("")
    lines.append(
        "seconds per battery part: "
        + ", ".join(f"{part} {s:.1f}" for part, s in card.seconds.items())
    )
    return "\n".join(lines) + "\n"


def _card_columns(card: Card) -> dict[str, np.ndarray]:
    keys = [
        "property", "model_n", "model_finite", "model_median", "data_n", "ks_similarity",
        "ks_error", "ceiling", "score", "alexnet", "source", "where",
    ]  # fmt: skip
    return {k: np.array([r[k] for r in card.rows]) for k in keys}


def _write_contents(card: Card, folder: Path) -> None:
    save_table_csv(folder / "card.csv", _card_columns(card))
    save_table_csv(folder / "cells.csv", card.cells)
    figures = {}
    for row in card.rows:
        name = row["property"]
        ax = plot_card_histogram(
            card.pool(name), card.distributions[name], score=row["score"], alexnet=row["alexnet"]
        )
        path = save_figure(ax.figure, folder / "figures" / f"{name}.png")
        figures[name] = path.read_bytes()
    write_atomic(folder / "card.html", render_card_page(card, figures))


def save_card(card: Card, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Write the card's folder (see the module notes); returns its path.

    It is built under a temporary name beside ``folder`` and renamed into place only
    when complete, so an interrupted write leaves nothing behind.
    """
    folder = check_run_folder(folder, overwrite=overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.mkdir(building)  # with the umask's permissions, as a plain mkdir would have
    try:
        _write_contents(card, building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    # Complete: only now is an existing folder (allowed by ``overwrite``) removed.
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(building, folder)
    return folder


def main(argv: list[str] | None = None, *, out: TextIO | None = None) -> int:
    """``v1lab card``; returns the exit status (0 done, 2 bad input, 130 interrupted)."""
    out = out or sys.stdout
    err = sys.stderr
    try:
        args = make_parser().parse_args(argv)
        check_int("--cells", args.cells, lo=1, hi=100_000)
        check_int("--seed", args.seed, lo=0, hi=2**32 - 1)
        label = f"card_{args.species}" + ("_learned" if args.fields is not None else "")
        folder = args.out if args.out is not None else default_run_folder(label)
        check_run_folder(folder, overwrite=args.overwrite)
        spec = BatterySpec.quick() if args.quick else BatterySpec()
        cells = "cells" if args.fields is None else f"learned cells ({args.fields})"
        out.write(f"{_PROG}: {args.species}, {args.cells} {cells}, seed {args.seed}\n")
        bar = _ProgressBar(out)
        card = compute_card(
            args.species, args.cells, seed=args.seed, spec=spec, progress=bar,
            plan_ready=bar.start, fields=args.fields,
        )  # fmt: skip
        save_card(card, folder, overwrite=args.overwrite)
    except _UsageError as exc:
        err.write(f"{_PROG}: error: {exc}\n")
        return 2
    except (ParameterError, FileExistsError) as exc:
        err.write(f"{_PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        err.write(f"{_PROG}: interrupted; nothing was written\n")
        return 130
    out.write(format_card_table(card))
    out.write(f"Card folder: {folder}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

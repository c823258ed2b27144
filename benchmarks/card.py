"""Time per battery part of the population card (``v1lab card``), with the machine's load.

Runs the card in this process (no folder is written unless ``--out``) and prints, for
each battery part summed over the bands, its wall time and its share, then the setup
(building each band's circuit), the analysis, the scoring and the whole; beside each,
the process CPU time, since on a shared machine wall time mostly measures the others.
The 1-minute load average is printed before and after. Target (issue 13): the macaque
card at 500 cells in under 10 minutes on the 2-core development machine.

    python benchmarks/card.py                       # macaque, 500 cells
    python benchmarks/card.py --species cat --cells 200 --quick
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _util import blas_report, load_note, table, use_checkout

use_checkout()

from v1lab.card.battery import BatterySpec  # noqa: E402
from v1lab.card.run import format_card_table, save_card  # noqa: E402
from v1lab.card.scores import compute_card  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--species", default="macaque", choices=("cat", "macaque"))
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="the cut battery")
    parser.add_argument("--out", help="also write the card folder here")
    args = parser.parse_args()
    for line in blas_report():
        print(line)
    print("before:", load_note())
    plan_info: dict[str, int] = {}

    def ready(plan: object) -> None:
        plan_info["conditions"] = plan.n_conditions  # type: ignore[attr-defined]
        plan_info["bands"] = len(plan.bands)  # type: ignore[attr-defined]

    wall0, cpu0 = time.perf_counter(), time.process_time()
    card = compute_card(
        args.species,
        args.cells,
        seed=args.seed,
        spec=BatterySpec.quick() if args.quick else BatterySpec(),
        plan_ready=ready,
    )
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if args.out:
        save_card(card, args.out, overwrite=True)
    print("after: ", load_note(), f"(5-min {os.getloadavg()[1]:.2f})")
    print(
        f"{args.species}, {args.cells} cells, {plan_info['conditions']} conditions in "
        f"{plan_info['bands']} bands: " + ", ".join(f"×{k:g} {n} cells" for k, _, n in card.bands)
    )
    battery = card.seconds["total"]
    rows = [
        (part, f"{s:.1f}", f"{100 * s / battery:.0f} %")
        for part, s in card.seconds.items()
        if part != "total"
    ]
    rows.append(("battery (all bands)", f"{battery:.1f}", "100 %"))
    rows.append(("scoring, resampling", f"{wall - battery:.1f}", ""))
    rows.append(("card, wall", f"{wall:.1f}", ""))
    rows.append(("card, process CPU", f"{cpu:.1f}", ""))
    print(table(("part", "seconds", "share"), rows))
    print()
    print(format_card_table(card), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

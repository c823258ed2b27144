#!/usr/bin/env python
"""Run a simulated Hubel & Wiesel experiment (same as the ``v1lab`` command).

python run_experiment.py               # the default protocol, hubel_wiesel_bars
python run_experiment.py --help        # every option
"""

import sys

from v1lab.cli import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Run a simulated Hubel & Wiesel experiment (same as the ``v1lab`` command).

python run_experiment.py               # the default protocol, hubel_wiesel_bars
python run_experiment.py --help        # every option
"""

import sys

if __name__ == "__main__":
    try:
        from v1lab.cli import main

        code = main()
    except KeyboardInterrupt:  # Ctrl-C before main() has its own handler in place
        sys.stderr.write("v1lab: interrupted; nothing was written\n")
        code = 130
    sys.exit(code)

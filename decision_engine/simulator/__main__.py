"""``python -m decision_engine.simulator``: same as the console script."""

import sys

from decision_engine.simulator.cmd import main

sys.exit(main())

"""Benchmarks: each prints its figures, the last line a JSON object.

Run them as modules from the repository root, e.g.
``python -m benchmarks.periodics``. Speed and memory targets live here, not
in the unit tests.
"""

# NOTE: imported first so its warning filters apply before futurist pulls in
# eventlet.
import decision_engine  # noqa: F401,E402

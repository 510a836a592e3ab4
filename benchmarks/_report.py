"""Shared output helpers of the benchmarks."""

import json
import sys


def percentile(values, pct):
    """The ``pct`` percentile (nearest rank) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(round(pct / 100.0 * len(ordered) + 0.5)))
    return ordered[min(rank, len(ordered)) - 1]


def emit(result):
    """Print ``result`` readable, then as JSON on the last line."""
    for key, value in result.items():
        print('%-36s %s' % (key, value), file=sys.stderr)
    print(json.dumps(result, sort_keys=True))


def parse(stdout):
    """The result a benchmark printed with :func:`emit`: the JSON object
    on the last non-empty line of its standard output."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise ValueError('the benchmark printed nothing on stdout')
    result = json.loads(lines[-1])
    if not isinstance(result, dict):
        raise ValueError('the last line is not a JSON object')
    return result

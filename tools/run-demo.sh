#!/usr/bin/env bash
# Install decision-engine into a virtualenv and run the daemon in the
# foreground against the built-in simulated cloud, with the shipped demo
# config (etc/decision-engine/decision-engine-demo.conf) and node inventory
# (etc/decision-engine/inventory-demo.yaml). Stop it with Ctrl-C or SIGTERM.
#
# Usage: tools/run-demo.sh [extra decision-engine arguments, e.g. --debug]

set -o errexit
set -o nounset
set -o pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e .

# The demo config names paths relative to the repository root.
exec "$VENV/bin/decision-engine" \
    --config-file etc/decision-engine/decision-engine-demo.conf "$@"

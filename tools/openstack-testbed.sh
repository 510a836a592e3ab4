#!/usr/bin/env bash
# A real Keystone + Placement + Nova control plane on loopback for
# development (the one tests/realcloud starts for itself): its own venv
# (.testbed/venv, pinned by tools/openstack-testbed/constraints.txt),
# MariaDB databases and a RabbitMQ vhost of its own.
#
# Usage: tools/openstack-testbed.sh up       start one; prints its state file
#        eval "$(tools/openstack-testbed.sh env)"
#                                          OS_* of its admin and
#                                          DECISION_ENGINE_TESTBED (then
#                                          pytest tests/realcloud attaches)
#        tools/openstack-testbed.sh down     stop it, drop its databases
# Environment: VENV (default .venv) is the engine's venv that runs this.
set -o errexit
set -o nounset
set -o pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
exec "$VENV/bin/python" -m tests.fixtures.openstack "$@"

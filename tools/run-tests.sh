#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine and run all of
# it: style checks; the unit layer (tests/unit, in-process, no service;
# tox -e py3); the functional layer (tests/functional: real services,
# daemons, several processes) in FUNCTIONAL_WORKERS parallel pytest-xdist
# processes (a module's tests in one of them), then its cluster tests
# (marked cluster) one at a time; the real-cloud layer (tests/realcloud:
# a real Keystone, Placement and Nova from PyPI in a venv of their own,
# .testbed/venv, pinned by tools/openstack-testbed/constraints.txt;
# tox -e realcloud); the reliability suite (tests/reliability)
# alone (the functional, cluster and reliability steps: tox -e
# functional); and the pool, periodics,
# config, driver loading and manager tests again in an eventlet-patched
# process (EVENTLET_TESTS, the same list as tox -e py3-eventlet). The
# installs are pinned by upper-constraints.txt.
#
# Usage: tools/run-tests.sh [pytest args...]
# Environment: VENV (default .venv) is where the virtualenv goes;
# FUNCTIONAL_WORKERS (default 4: the functional tests mostly wait on
# daemons and services, so twice the 2 cores of a CI machine) how many
# processes run the functional layer.

set -o errexit
set -o nounset
set -o pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

bash tools/install-system-deps.sh

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
requirements=(-r test-requirements.txt)
if [ -f doc/requirements.txt ]; then
    requirements+=(-r doc/requirements.txt)
fi
# upper-constraints.txt: the versions CI was last green with.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -c upper-constraints.txt -e . "${requirements[@]}"

echo "== flake8"
"$VENV/bin/flake8" decision_engine tests benchmarks

echo "== import layers (lint-imports, contracts in setup.cfg)"
"$VENV/bin/lint-imports"

echo "== unit layer (threading backend)"
"$VENV/bin/python" -m pytest tests/unit "$@"

echo "== functional layer (threading backend)"
"$VENV/bin/python" -m pytest -n "${FUNCTIONAL_WORKERS:-4}" --dist loadfile \
    -m "not cluster and not soak" tests/functional "$@"

echo "== functional layer: the cluster tests, one at a time"
# NOTE: each starts several engine processes; side by side on two cores
# they missed their membership timeouts. (pytest-xdist's loadgroup would
# serialise them in one worker, but 3.8 sets a node id attribute that
# pytest 9.2 no longer reads: the groups were silently ignored.)
"$VENV/bin/python" -m pytest -m "cluster and not soak" tests/functional "$@"

echo "== real-cloud layer (Keystone, Placement and Nova from PyPI)"
# NOTE: MariaDB at 127.0.0.1:3306 (root, no password) and RabbitMQ hold
# the control plane's databases and vhost; its venv is created once and
# reused while it matches its constraints.
realcloud_start=$SECONDS
"$VENV/bin/python" -c \
    'from tests.fixtures.openstack import venv; venv.ensure()'
"$VENV/bin/python" -m pytest tests/realcloud "$@"
echo "real-cloud layer: $((SECONDS - realcloud_start)) s with the venv"

echo "== reliability suite (threading backend)"
# NOTE: alone, one test at a time: its parts assert bounds on what they
# measure (exit and heal times, lost events) under the load they make
# themselves, not under the load of other tests.
"$VENV/bin/python" -m pytest tests/reliability "$@"

echo "== pool, periodics, config, drivers and manager on the eventlet backend"
EVENTLET_TESTS=(tests/unit/concurrency tests/unit/conductor
                tests/functional/conductor tests/functional/conf
                tests/unit/drivers/test_inventory.py
                tests/unit/drivers/test_fake_driver.py
                tests/functional/deploy/test_docs_examples.py)
DECISION_ENGINE_TEST_BACKEND=eventlet \
    "$VENV/bin/python" -m pytest "${EVENTLET_TESTS[@]}" "$@"

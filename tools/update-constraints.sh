#!/usr/bin/env bash
# Rewrite upper-constraints.txt with the newest releases that satisfy
# requirements.txt, test-requirements.txt and doc/requirements.txt: install
# them into a new virtualenv without the current constraints and freeze it.
# Then run tools/run-tests.sh (which installs with the new file) and commit
# the file only if the suite is green
# (doc/source/contributor/testing.rst).
#
# Usage: tools/update-constraints.sh
# Environment: PYTHON (default python3) is the interpreter to resolve for.

set -o errexit
set -o nounset
set -o pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check -U pip
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements.txt -r test-requirements.txt -r doc/requirements.txt

{
    sed -n '/^#/p;/^#/!q' upper-constraints.txt
    "$WORK/venv/bin/python" -m pip freeze --exclude-editable \
        | grep -v -i '^decision[-_]engine'
} >"$WORK/upper-constraints.txt"
if cmp -s "$WORK/upper-constraints.txt" upper-constraints.txt; then
    echo "update-constraints: upper-constraints.txt is current"
    exit 0
fi
diff -u upper-constraints.txt "$WORK/upper-constraints.txt" || true
cp "$WORK/upper-constraints.txt" upper-constraints.txt
echo "update-constraints: upper-constraints.txt rewritten; run" \
     "tools/run-tests.sh before committing it"

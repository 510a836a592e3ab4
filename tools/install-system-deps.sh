#!/bin/bash
# Install the system (Debian) tools the deployment tests need:
#   * the shell linter (Debian package shellcheck), run on devstack/ and
#     tools/ scripts;
#   * systemd-analyze (Debian package systemd), which verifies
#     etc/systemd/decision-engine.service;
#   * unshare and nsenter (util-linux), ip (iproute2) and curl, with which
#     tests/functional/deploy/test_readme.py runs the README's commands against a demo
#     engine in a network namespace of its own;
#   * etcd (Debian package etcd-server), which the coordination tests start
#     on free loopback ports of their own (tests/fixtures/coordination.py).
#   * the Prometheus server (Debian package prometheus), which the
#     datasource tests and benchmarks start on a loopback port to scrape the
#     simulator's exporter.
# Idempotent and quiet: apt is not touched when every tool is present.
# Needs root (or sudo) only when something is missing.

set -o errexit
set -o nounset
set -o pipefail

# ip lives in /usr/sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin

# tool -> Debian package that ships it
declare -A PACKAGE_OF=(
    [shellcheck]=shellcheck
    [systemd-analyze]=systemd
    [unshare]=util-linux
    [nsenter]=util-linux
    [ip]=iproute2
    [curl]=curl
    [etcd]=etcd-server
    [prometheus]=prometheus
)

missing=()
for tool in "${!PACKAGE_OF[@]}"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        missing+=("${PACKAGE_OF[$tool]}")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

for tool in "${!PACKAGE_OF[@]}"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "install-system-deps: $tool is still missing after installing" \
             "${PACKAGE_OF[$tool]}" >&2
        exit 1
    fi
done

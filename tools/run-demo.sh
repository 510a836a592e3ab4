#!/usr/bin/env bash
# Install decision-engine into a virtualenv and run the daemon in the
# foreground against the built-in simulated cloud, with the shipped demo
# config (etc/decision-engine/decision-engine-demo.conf) and node inventory
# (etc/decision-engine/inventory-demo.yaml). Stop it with Ctrl-C or SIGTERM.
#
# Usage: tools/run-demo.sh [--with-metrics] [extra decision-engine
#        arguments, e.g. --debug]
#
# --with-metrics: measured load for the workload strategies. The engine's
# embedded simulator also serves its load exporter ([simulator]
# exporter_port: node_exporter and Ceilometer series that follow
# migrations), a local Prometheus (Debian package prometheus, see
# tools/install-system-deps.sh) scrapes it every 5 s, and the engine reads
# it through [datasource] prometheus_url. Then, after a minute of samples:
#   decision-engine-manage --url http://127.0.0.1:9322 strategy show \
#       workload_balance
#   decision-engine-manage --url http://127.0.0.1:9322 audit create \
#       --strategy workload_balance --param threshold=20 --wait

set -o errexit
set -o nounset
set -o pipefail

cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

WITH_METRICS=0
if [ "${1:-}" = "--with-metrics" ]; then
    WITH_METRICS=1
    shift
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
# upper-constraints.txt: the versions the test suite was last green with.
# [client]: "openstack optimize ..." (python-openstackclient and
# python-watcherclient) to drive the engine's Watcher API v1 (README).
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -c upper-constraints.txt -e ".[client]"

if [ "$WITH_METRICS" -eq 0 ]; then
    # The demo config names paths relative to the repository root.
    exec "$VENV/bin/decision-engine" \
        --config-file etc/decision-engine/decision-engine-demo.conf "$@"
fi

if ! command -v prometheus >/dev/null 2>&1; then
    echo "run-demo: prometheus is not installed; run" \
         "tools/install-system-deps.sh" >&2
    exit 1
fi

STATE=.demo-state/metrics
mkdir -p "$STATE"
free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
EXPORTER_PORT=$(free_port)
PROMETHEUS_PORT=$(free_port)

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$STATE/prometheus.yml" <<YAML
global:
  scrape_interval: 5s
scrape_configs:
  - job_name: simulator
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$EXPORTER_PORT']
YAML
prometheus --config.file="$STATE/prometheus.yml" \
    --storage.tsdb.path="$STATE/prometheus-data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    >"$STATE/prometheus.log" 2>&1 &
PIDS+=("$!")

cat >"$STATE/metrics.conf" <<CONF
[simulator]
exporter_port = $EXPORTER_PORT
load_seed = 1

[datasource]
prometheus_url = http://127.0.0.1:$PROMETHEUS_PORT
window = 60
CONF

echo "run-demo: load exporter of the embedded simulator" \
     "http://127.0.0.1:$EXPORTER_PORT/metrics, Prometheus" \
     "http://127.0.0.1:$PROMETHEUS_PORT" >&2
# NOTE: in the background and waited for, so that Ctrl-C or SIGTERM runs
# the traps, which stop the engine, Prometheus and the simulator.
"$VENV/bin/decision-engine" \
    --config-file etc/decision-engine/decision-engine-demo.conf \
    --config-file "$STATE/metrics.conf" "$@" &
PIDS=("$!" "${PIDS[@]}")
wait "${PIDS[0]}"

#!/usr/bin/env bash
# Install decision-engine into a virtualenv and run the daemon in the
# foreground against the built-in simulated cloud, with the shipped demo
# config (etc/decision-engine/decision-engine-demo.conf) and node inventory
# (etc/decision-engine/inventory-demo.yaml). Stop it with Ctrl-C or SIGTERM.
#
# Usage: tools/run-demo.sh [--with-metrics] [extra decision-engine
#        arguments, e.g. --debug]
#
# --with-metrics: measured load for the workload strategies. The simulator
# runs as its own process with its load exporter (node_exporter and
# Ceilometer series), a local Prometheus (Debian package prometheus, see
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
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e .

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
rm -f "$STATE/simulator.ready"
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

# The same cloud as the embedded demo ([simulator] of the demo config).
"$VENV/bin/decision-engine-simulator" --hosts 50 --instances 500 \
    --aggregates 3 --azs 2 --seed 1 --latency-ms 5 \
    --exporter-port "$EXPORTER_PORT" --load-seed 1 \
    --ready-file "$STATE/simulator.ready" --quiet \
    >"$STATE/simulator.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do
    [ -f "$STATE/simulator.ready" ] && break
    sleep 0.1
done
if [ ! -f "$STATE/simulator.ready" ]; then
    echo "run-demo: the simulator did not start; see $STATE/simulator.log" >&2
    exit 1
fi
AUTH_URL=$("$VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["auth_url"])' "$STATE/simulator.ready")

cat >"$STATE/clouds.yaml" <<YAML
clouds:
  simulator:
    auth:
      auth_url: $AUTH_URL
      username: admin
      password: secret
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
YAML

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
embedded = false

[cloud]
cloud_name = simulator

[datasource]
prometheus_url = http://127.0.0.1:$PROMETHEUS_PORT
window = 60
CONF

echo "run-demo: simulator $AUTH_URL, load exporter" \
     "http://127.0.0.1:$EXPORTER_PORT/metrics, Prometheus" \
     "http://127.0.0.1:$PROMETHEUS_PORT" >&2
# NOTE: in the background and waited for, so that Ctrl-C or SIGTERM runs
# the traps, which stop the engine, Prometheus and the simulator.
OS_CLIENT_CONFIG_FILE="$STATE/clouds.yaml" "$VENV/bin/decision-engine" \
    --config-file etc/decision-engine/decision-engine-demo.conf \
    --config-file "$STATE/metrics.conf" "$@" &
PIDS=("$!" "${PIDS[@]}")
wait "${PIDS[0]}"

#!/bin/bash
# shellcheck shell=bash
# devstack plugin of decision-engine.
#
# Enable it in local.conf with:
#   enable_plugin decision-engine https://opendev.org/openstack/decision-engine
#
# devstack sources this file once per phase with the phase as arguments
# ("stack install", "stack post-config", "stack extra", "unstack", "clean").

# shellcheck source=devstack/lib/decision-engine
source "$(dirname "${BASH_SOURCE[0]}")/lib/decision-engine"

if is_service_enabled decision-engine; then
    if [[ "${1:-}" == "stack" && "${2:-}" == "install" ]]; then
        echo_summary "Installing decision-engine"
        install_decision_engine
    elif [[ "${1:-}" == "stack" && "${2:-}" == "post-config" ]]; then
        echo_summary "Configuring decision-engine"
        configure_decision_engine
        if is_service_enabled key; then
            create_decision_engine_accounts
        fi
    elif [[ "${1:-}" == "stack" && "${2:-}" == "extra" ]]; then
        echo_summary "Initializing and starting decision-engine"
        init_decision_engine
        start_decision_engine
    fi

    if [[ "${1:-}" == "unstack" ]]; then
        stop_decision_engine
    fi

    if [[ "${1:-}" == "clean" ]]; then
        cleanup_decision_engine
    fi
fi

# shellcheck shell=bash
# Stand-ins for the devstack functions the decision-engine plugin calls.
# Each records its call as one line in $CALLS_FILE: the function name and
# its arguments, separated by the ASCII unit separator (0x1f).

_record() {
    local IFS=$'\x1f'
    printf '%s\n' "$*" >> "$CALLS_FILE"
}

iniset() { _record iniset "$@"; }
run_process() { _record run_process "$@"; }
stop_process() { _record stop_process "$@"; }
setup_develop() { _record setup_develop "$@"; }
pip_install() { _record pip_install "$@"; }
install_package() { _record install_package "$@"; }
create_service_user() { _record create_service_user "$@"; }
get_or_create_service() { _record get_or_create_service "$@"; }
get_or_create_endpoint() { _record get_or_create_endpoint "$@"; }
configure_keystone_authtoken_middleware() {
    _record configure_keystone_authtoken_middleware "$@"
}
recreate_database() { _record recreate_database "$@"; }
sudo() { _record sudo "$@"; }
echo_summary() { _record echo_summary "$@"; }
enable_service() { _record enable_service "$@"; }
get_python_exec_prefix() { echo "$FAKE_BIN_DIR"; }
# As devstack's, per $DATABASE_TYPE (mysql unless told otherwise).
database_connection_url() {
    if [[ "${DATABASE_TYPE:-mysql}" == postgresql ]]; then
        echo "postgresql://root:secretdb@127.0.0.1/$1?client_encoding=utf8"
    else
        echo "mysql+pymysql://root:secretdb@127.0.0.1/$1?charset=utf8"
    fi
}

# is_service_enabled SERVICE...: true when any is in $ENABLED_SERVICES.
is_service_enabled() {
    local service
    for service in "$@"; do
        if [[ ",$ENABLED_SERVICES," == *",$service,"* ]]; then
            return 0
        fi
    done
    return 1
}

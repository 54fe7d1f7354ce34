# SPDX-License-Identifier: BSD-2-Clause
# sandbox.sh: bash library for spillway tests: a temp sandbox, loopback services, cleanup, TAP.
# shellcheck shell=bash
#
# Source it, then call sandbox_init. Call the start_* functions directly (never inside $(...)):
# they record the PIDs of what they start in this shell so that the EXIT trap stops them.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=/usr/bin/python3
HELPERS=$REPO/tests/helpers
MOCKCLUSTER=${MOCKCLUSTER:-$REPO/build/tests/mockcluster}
_SANDBOX_PIDS=()
_TAP_N=0
_TAP_FAILED=0
_TAP_PLAN=

# ---- processes ------------------------------------------------------------------------

_now_us() { echo "${EPOCHREALTIME/./}"; }

_fail() { echo "sandbox: $*" >&2; exit 1; }

# stop_pid PID [SECONDS]: TERM, wait up to SECONDS (10) for it to go, then KILL.
stop_pid() {
    local pid=$1 deadline=$(( $(_now_us) + ${2:-10} * 1000000 ))
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if (( $(_now_us) > deadline )); then
            echo "sandbox: pid $pid ignored TERM; killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || true
    local keep=() p
    for p in "${_SANDBOX_PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
    _SANDBOX_PIDS=("${keep[@]}")
    return 0
}

_sandbox_cleanup() {
    local rc=$? i
    trap '' INT TERM
    for (( i = ${#_SANDBOX_PIDS[@]} - 1; i >= 0; i-- )); do
        stop_pid "${_SANDBOX_PIDS[i]}"
    done
    if [[ -n ${SANDBOX:-} && -d $SANDBOX ]]; then
        if [[ ${KEEP_SANDBOX:-0} == 1 ]]; then
            echo "sandbox: kept $SANDBOX" >&2
        else
            rm -rf "$SANDBOX"
        fi
    fi
    exit "$rc"
}

sandbox_init() {
    SANDBOX=$(mktemp -d /tmp/spillway-test.XXXXXX) || _fail "mktemp failed"
    trap _sandbox_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# wait_until PID WHAT SECONDS CMD...: polls CMD every 0.05 s until it succeeds; fails when
# PID (0 = none) dies or SECONDS pass. With WAIT_LOG set, a failure shows that file's last lines.
_wait_log() { if [[ -n ${WAIT_LOG:-} && -f $WAIT_LOG ]]; then sed 's/^/# /' "$WAIT_LOG" | tail -n 20 >&2; fi; }
wait_until() {
    local pid=$1 what=$2 secs=$3 deadline=$(( $(_now_us) + $3 * 1000000 ))
    shift 3
    until "$@"; do
        if [[ $pid != 0 ]] && ! kill -0 "$pid" 2>/dev/null; then
            _wait_log
            _fail "$what: process $pid exited before becoming ready"
        fi
        if (( $(_now_us) > deadline )); then _wait_log; _fail "$what: not ready after ${secs}s"; fi
        sleep 0.05
    done
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ---- InfluxDB -------------------------------------------------------------------------

_influx_ping() {
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$INFLUX_PORT/ping") == 204 ]]
}

_influxd_run() {
    local dir=$SANDBOX/influxdb
    influxd run -config "$dir/influxd.conf" >>"$dir/influxd.log" 2>&1 &
    INFLUX_PID=$!
    _SANDBOX_PIDS+=("$INFLUX_PID")
    wait_until "$INFLUX_PID" "influxd (log: $dir/influxd.log)" 30 _influx_ping
}

# start_influxd [--auth USER PASSWORD]: InfluxDB 1.x on 127.0.0.1 with database flink_sink.
# With --auth, authentication is on ([http] auth-enabled) and USER is an admin with PASSWORD:
# any request without them is answered 401 (influx/influxtool.py, which send none, fail then).
# Sets INFLUX_URL INFLUX_PORT INFLUX_PID.
start_influxd() {
    local dir=$SANDBOX/influxdb rpc auth_line= user= password=
    if [[ ${1:-} == --auth ]]; then
        (( $# == 3 )) || _fail "usage: start_influxd [--auth USER PASSWORD]"
        auth_line=$'  auth-enabled = true\n' user=$2 password=$3
    fi
    mkdir -p "$dir"
    INFLUX_PORT=$(free_port)
    rpc=$(free_port)
    INFLUX_URL=http://127.0.0.1:$INFLUX_PORT
    # Debian's 1.6.7 build knows reporting-enabled (off by default), upstream reporting-disabled;
    # unknown keys are ignored, so both are set.
    cat >"$dir/influxd.conf" <<EOF
reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:$rpc"
[meta]
  dir = "$dir/meta"
  logging-enabled = false
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
  max-row-limit = 0
${auth_line}[ifql]
  enabled = false
[logging]
  suppress-logo = true
  level = "warn"
EOF
    _influxd_run
    if [[ -n $auth_line ]]; then
        # with authentication on and no user yet, InfluxDB lets anyone create the first admin
        curl -sf -o /dev/null -XPOST "$INFLUX_URL/query" \
            --data-urlencode "q=CREATE USER \"$user\" WITH PASSWORD '$password' WITH ALL PRIVILEGES" ||
            _fail "influxd: cannot create the admin user $user"
        curl -sf -o /dev/null -u "$user:$password" -XPOST "$INFLUX_URL/query" \
            --data-urlencode 'q=CREATE DATABASE "flink_sink"' || _fail "influxd: cannot create database flink_sink"
        return
    fi
    "$PY" "$HELPERS/influxtool.py" --url "$INFLUX_URL" --db flink_sink create-db ||
        _fail "influxd: cannot create database flink_sink"
}

stop_influxd() { stop_pid "$INFLUX_PID" 30; }

# restart_influxd: same port, config and data.
restart_influxd() { stop_influxd; _influxd_run; }

# ---- Kafka mock cluster ---------------------------------------------------------------

# start_mock TOPIC:PARTS [...]: sets KAFKA_BOOTSTRAP MOCK_PID. MOCK_BROKERS (1) brokers.
start_mock() {
    [[ -x $MOCKCLUSTER ]] || _fail "mock cluster helper $MOCKCLUSTER not built (make)"
    local ready=$SANDBOX/mock.$RANDOM.ready args=() t
    for t in "$@"; do args+=(--topic "$t"); done
    "$MOCKCLUSTER" "${args[@]}" --brokers "${MOCK_BROKERS:-1}" --ready-file "$ready" \
        --control "$SANDBOX/mock.control" 2>>"$SANDBOX/mockcluster.log" &
    MOCK_PID=$!
    _SANDBOX_PIDS+=("$MOCK_PID")
    wait_until "$MOCK_PID" "mock cluster (log: $SANDBOX/mockcluster.log)" 10 test -s "$ready"
    KAFKA_BOOTSTRAP=$(<"$ready")
}

mock_down() { kill -USR1 "$MOCK_PID"; }
mock_up() { kill -USR2 "$MOCK_PID"; }

# mock_ctl LINE...: runs each LINE as a mock cluster command, in order, and waits for them
# (syntax at the top of tests/helpers/mockcluster.c), e.g.
#   mock_ctl 'errors JoinGroup GROUP_AUTHORIZATION_FAILED' 'rtt all 200' 'down 2'
# Returns 1, printing the error lines, unless every line gave "ok"; fails the script if the
# helper has not answered in 10 s.
mock_ctl() {
    local ctl=$SANDBOX/mock.control line rc=0
    (( $# )) || _fail "usage: mock_ctl LINE..."
    # The old result goes first: the helper answers a SIGHUP with a new one.
    rm -f "$ctl.done"
    printf '%s\n' "$@" >"$ctl.tmp" || _fail "mock_ctl: cannot write $ctl.tmp"
    mv -f "$ctl.tmp" "$ctl" || _fail "mock_ctl: cannot rename $ctl.tmp"
    kill -HUP "$MOCK_PID" || _fail "mock_ctl: mock cluster $MOCK_PID is gone"
    wait_until "$MOCK_PID" "mock_ctl (log: $SANDBOX/mockcluster.log)" 10 test -e "$ctl.done"
    while IFS= read -r line; do
        [[ $line == ok ]] && continue
        echo "sandbox: mock_ctl: $line" >&2
        rc=1
    done <"$ctl.done"
    return "$rc"
}

# ---- ML service stub ------------------------------------------------------------------

_ml_health() {
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$ML_URL/health") == 200 ]]
}

# start_mlstub [NAME]: sets ML_URL ML_CONTROL ML_LOG ML_PID; NAME (mlstub) names its files, so
# that a test can run two (saving the variables of the first).
start_mlstub() {
    local name=${1:-mlstub} portfile
    portfile=$SANDBOX/$name.port
    ML_CONTROL=$SANDBOX/$name.control
    ML_LOG=$SANDBOX/$name.log
    rm -f "$portfile"
    "$PY" "$HELPERS/mlstub.py" --port-file "$portfile" --control "$ML_CONTROL" --log "$ML_LOG" \
        2>>"$SANDBOX/$name.err" &
    ML_PID=$!
    _SANDBOX_PIDS+=("$ML_PID")
    wait_until "$ML_PID" "ML stub (log: $SANDBOX/$name.err)" 10 test -s "$portfile"
    ML_URL=http://127.0.0.1:$(<"$portfile")
    wait_until "$ML_PID" "ML stub /health" 10 _ml_health
}

# start_influxproxy: a fault-injecting proxy in front of influxd (helpers/influxproxy.py); sets
# PROXY_URL PROXY_CONTROL PROXY_LOG. influxproxy_control JSON: see the helper; '' forwards all.
start_influxproxy() {
    local portfile=$SANDBOX/influxproxy.port pid
    PROXY_CONTROL=$SANDBOX/influxproxy.control
    PROXY_LOG=$SANDBOX/influxproxy.log
    : >"$PROXY_CONTROL"
    "$PY" "$HELPERS/influxproxy.py" --port-file "$portfile" --upstream "$INFLUX_URL" --control "$PROXY_CONTROL" \
        --log "$PROXY_LOG" 2>>"$SANDBOX/influxproxy.err" &
    pid=$!
    _SANDBOX_PIDS+=("$pid")
    wait_until "$pid" "InfluxDB proxy (log: $SANDBOX/influxproxy.err)" 10 test -s "$portfile"
    PROXY_URL=http://127.0.0.1:$(<"$portfile")
}
influxproxy_control() { printf '%s' "$1" >"$PROXY_CONTROL.tmp" && mv -f "$PROXY_CONTROL.tmp" "$PROXY_CONTROL"; }

# ml_control JSON: e.g. '{"status":500}', '{"delay_ms":200}', '{"hold":true}', '' (normal);
# with "after": N, the first N requests (from this control on) are answered normally; with
# "retry_after": S, the status answers carry a Retry-After: S header; "refuse_hr_above": V answers
# 400 naming the value for a mean HR above V (a service that validates its input's range).
ml_control() {
    printf '%s' "$1" >"$ML_CONTROL.tmp" && mv -f "$ML_CONTROL.tmp" "$ML_CONTROL"
}

# ---- spillway config ------------------------------------------------------------------

# write_config FILE [EXTRA_INI_TEXT]: overridable through BATCH_SIZE BATCH_TIMEOUT WINDOW
# START_FROM POINTS_PER_WRITE ML_RETRIES INFLUX_RETRIES MAX_PARALLEL STATE_DB TOPIC MEASUREMENT.
# fetch.wait.max.ms = 10 (shipped: 100) is for the mock only: it answers a fetch when that wait
# runs out even when data is there, where a broker answers at once (FACTS). 92-systemd-boot
# runs the shipped [kafka] settings, and bench/backlog.sh drains at the shipped value.
write_config() {
    local file=$1
    cat >"$file" <<EOF
[kafka]
topic = ${TOPIC:-stress-topic}
bootstrap.servers = $KAFKA_BOOTSTRAP
fetch.wait.max.ms = 10
[avro]
schema = $REPO/etc/nurse_sensor_event.avsc
[drain]
batch_size = ${BATCH_SIZE:-1000}
batch_timeout_seconds = ${BATCH_TIMEOUT:-60}
window_seconds = ${WINDOW:-30}
start_from = ${START_FROM:-primary}
[ml]
endpoint = $ML_URL/model/api/predict
retry_attempts = ${ML_RETRIES:-2}
max_parallel = ${MAX_PARALLEL:-8}
timeout_seconds = 5
[influxdb]
url = $INFLUX_URL
measurement = ${MEASUREMENT:-nurse_stress}
retry_attempts = ${INFLUX_RETRIES:-2}
points_per_write = ${POINTS_PER_WRITE:-5000}
timeout_seconds = 5
[state]
database = ${STATE_DB:-$SANDBOX/state.db}
EOF
    if [[ -n ${2:-} ]]; then printf '%s\n' "$2" >>"$file"; fi
}

# ---- TAP ------------------------------------------------------------------------------

plan() { _TAP_PLAN=$1; echo "1..$1"; }

diag() { local line; while IFS= read -r line; do echo "# $line" >&2; done <<<"$*"; }

_tap_result() {
    _TAP_N=$(( _TAP_N + 1 ))
    if [[ $1 == 0 ]]; then
        echo "ok $_TAP_N - $2"
    else
        echo "not ok $_TAP_N - $2"
        _TAP_FAILED=$(( _TAP_FAILED + 1 ))
    fi
}

# ok DESC CMD...: passes when CMD exits 0; its output is shown only on failure.
ok() {
    local desc=$1 out rc
    shift
    out=$("$@" 2>&1) && rc=0 || rc=$?
    _tap_result "$rc" "$desc"
    if [[ $rc != 0 ]]; then
        diag "command failed (exit $rc): $*"
        [[ -n $out ]] && diag "$out"
    fi
    return 0
}

# is GOT EXPECTED DESC
is() {
    if [[ $1 == "$2" ]]; then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
        diag "got: $1"
        diag "expected: $2"
    fi
}

done_testing() {
    if [[ -z $_TAP_PLAN ]]; then
        echo "1..$_TAP_N"
    elif [[ $_TAP_PLAN != "$_TAP_N" ]]; then
        diag "planned $_TAP_PLAN tests but ran $_TAP_N"
        exit 1
    fi
    (( _TAP_FAILED == 0 )) || { diag "failed $_TAP_FAILED of $_TAP_N"; exit 1; }
    exit 0
}

# SPDX-License-Identifier: BSD-2-Clause
# spillway.sh: helpers for spillway's end-to-end tests, on top of sandbox.sh.
#
# Source after sandbox.sh. SPILLWAY names the binary under test (make test
# and make asan set it).

SPILLWAY=${SPILLWAY:-$REPO/bin/spillway}
SCHEMA=$REPO/etc/nurse_sensor_event.avsc
TOPIC=${TOPIC:-stress-topic}

# run_drain CONFIG [ARGS...]: runs `spillway drain`; sets DRAIN_RC, and
# DRAIN_ERR / DRAIN_OUT to files holding its stderr / stdout.
_DRAIN_N=0
run_drain() {
    local cfg=$1
    shift
    _DRAIN_N=$(( _DRAIN_N + 1 ))
    DRAIN_ERR=$SANDBOX/drain.$_DRAIN_N.err
    DRAIN_OUT=$SANDBOX/drain.$_DRAIN_N.out
    "$SPILLWAY" -c "$cfg" drain "$@" >"$DRAIN_OUT" 2>"$DRAIN_ERR" && DRAIN_RC=0 || DRAIN_RC=$?
    if [[ $DRAIN_RC != 0 && $DRAIN_RC != "${EXPECT_RC:-0}" ]]; then
        diag "spillway drain exited $DRAIN_RC:"
        diag "$(tail -n 5 "$DRAIN_ERR")"
    fi
}

# drain_bg NAME CONFIG [ARGS...]: starts `spillway drain` in the background, its stderr in
# $SANDBOX/NAME.err; sets BG_PID. drain_wait PID: its exit status in BG_RC.
drain_bg() {
    local name=$1 cfg=$2
    shift 2
    "$SPILLWAY" -c "$cfg" drain "$@" >"$SANDBOX/$name.out" 2>"$SANDBOX/$name.err" &
    BG_PID=$!
    _SANDBOX_PIDS+=("$BG_PID")
}
# kill_wait PID: SIGKILL to PID, then drain_wait. Both inside one redirection: bash reports a
# job killed by a signal at the next command it runs, and a kill on purpose is not news.
drain_wait() { { wait "$1"; } 2>/dev/null && BG_RC=0 || BG_RC=$?; }
kill_wait() { { kill -KILL "$1"; wait "$1"; } 2>/dev/null && BG_RC=0 || BG_RC=$?; }

# drain_until_done CONFIG [MAX]: plain runs until the group has committed the partitions'
# ends (at most MAX, 10); sets DRAIN_RUNS (how many ran) and DRAIN_RC (the last one's status).
drain_until_done() {
    DRAIN_RUNS=0 DRAIN_RC=0
    while (( DRAIN_RUNS < ${2:-10} )) && [[ $(committed) != "$(high_watermarks)" ]]; do
        run_drain "$1"
        DRAIN_RUNS=$(( DRAIN_RUNS + 1 ))
    done
}

# gen NAME ARGS...: generate sensor events into $SANDBOX/NAME.jsonl
gen() {
    local name=$1
    shift
    "$PY" "$HELPERS/kafkatool.py" gen "$@" >"$SANDBOX/$name.jsonl"
}

# produce NAME: produce $SANDBOX/NAME.jsonl, manifest into $SANDBOX/NAME.manifest
produce() {
    "$PY" "$HELPERS/kafkatool.py" produce --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
        --in "$SANDBOX/$1.jsonl" --manifest "$SANDBOX/$1.manifest" >"$SANDBOX/produce.log" 2>&1 ||
        _fail "producing $1 failed: $(tail -n 3 "$SANDBOX/produce.log")"
}

committed() {
    "$PY" "$HELPERS/kafkatool.py" committed --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" \
        --group "${1:-dask-fallback-consumer}"
}

# high_watermarks: "0:HIGH 1:HIGH" in the form committed prints.
high_watermarks() {
    "$PY" "$HELPERS/kafkatool.py" watermarks --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" |
        tr ' ' '\n' | awk -F: '{printf "%s%s:%s", sep, $1, $3; sep=" "}'
}

influx() { "$PY" "$HELPERS/influxtool.py" --url "$INFLUX_URL" --db flink_sink "$@"; }

sum_count() { influx sum-count --measurement "${MEASUREMENT:-nurse_stress}"; }

point_count() {
    influx points --measurement "${MEASUREMENT:-nurse_stress}" | wc -l
}

# sql QUERY: the state database, read as an operator would. With a busy
# timeout, like spillway's own: each command opens and closes the file, so
# the next opener may briefly hold a lock while it rebuilds the WAL index,
# and a reader without a timeout then fails ("database is locked").
sql() { sqlite3 -cmd ".timeout 5000" "${STATE_DB:-$SANDBOX/state.db}" "$@"; }

# valid_count MANIFEST...: number of valid messages in manifests.
valid_count() {
    cat "$@" | "$PY" -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["valid"]))'
}

# start_pipeline [PARTITIONS]: a sandbox with the whole pipeline spillway
# talks to: influxd, the mock cluster (topic stress-topic, PARTITIONS=2) and
# the ML stub.
start_pipeline() {
    sandbox_init
    start_influxd
    start_mock "$TOPIC:${1:-2}"
    start_mlstub
}

# start_flinkstub: Flink's REST API stub; sets FLINK_URL FLINK_CONTROL FLINK_PID.
start_flinkstub() {
    local portfile=$SANDBOX/flinkstub.port
    FLINK_CONTROL=$SANDBOX/flinkstub.control
    "$PY" "$HELPERS/flinkstub.py" --port-file "$portfile" --control "$FLINK_CONTROL" 2>>"$SANDBOX/flinkstub.err" &
    FLINK_PID=$!
    _SANDBOX_PIDS+=("$FLINK_PID")
    wait_until "$FLINK_PID" "Flink stub (log: $SANDBOX/flinkstub.err)" 10 test -s "$portfile"
    FLINK_URL=http://127.0.0.1:$(<"$portfile")
}

# flink_control JSON: e.g. '{"state":"RESTARTING"}', '' (one RUNNING job).
flink_control() { printf '%s' "$1" >"$FLINK_CONTROL.tmp" && mv -f "$FLINK_CONTROL.tmp" "$FLINK_CONTROL"; }

# primary_point AGE_SECONDS: the primary (Flink) writes a point AGE seconds ago.
primary_point() {
    local ts=$(( $(date +%s) - $1 ))
    curl -sf -XPOST "$INFLUX_URL/write?db=flink_sink&precision=s" \
        --data-binary "flink_events,id=nurse-0 EDA=1.0,HR=70.0,TEMP=36.0,stressLevel=1i $ts" ||
        _fail "cannot write a primary point"
}

# run_check CONFIG: runs `spillway check`; sets CHECK_RC and CHECK_ERR (a file).
_CHECK_N=0
run_check() {
    _CHECK_N=$(( _CHECK_N + 1 ))
    CHECK_ERR=$SANDBOX/check.$_CHECK_N.err
    "$SPILLWAY" -c "$1" check >/dev/null 2>"$CHECK_ERR" && CHECK_RC=0 || CHECK_RC=$?
}

# primary_reset: forget every point the primary wrote.
primary_reset() { influx query 'DROP MEASUREMENT "flink_events"' >/dev/null 2>&1 || true; }

# eventually SECONDS CMD...: polls CMD until it succeeds (status 0) or
# SECONDS pass (status 1); for conditions another process brings about.
eventually() {
    local deadline=$(( $(_now_us) + $1 * 1000000 ))
    shift
    until "$@"; do
        (( $(_now_us) < deadline )) || return 1
        sleep 0.05
    done
}

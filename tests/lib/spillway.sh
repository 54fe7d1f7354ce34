# spillway.sh: helpers for spillway's end-to-end tests, on top of sandbox.sh.
#
# Source after sandbox.sh. SPILLWAY names the binary under test (make test
# and make asan set it).

SPILLWAY=${SPILLWAY:-$REPO/bin/spillway}
SCHEMA=$REPO/etc/nurse_sensor_event.avsc
TOPIC=stress-topic

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

sum_count() { influx sum-count --measurement nurse_stress; }

point_count() {
    influx points --measurement nurse_stress | wc -l
}

sql() { sqlite3 "$SANDBOX/state.db" "$@"; }

# valid_count MANIFEST...: number of valid messages in manifests.
valid_count() {
    cat "$@" | "$PY" -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["valid"]))'
}

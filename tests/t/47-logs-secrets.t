#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Hostile data and secrets, end to end. (a) With a credential in every URL,
# an InfluxDB password, SASL and key passwords, and services that refuse or
# fail so that every error path runs, no output of doctor, check or status and
# nothing in the state database holds any of them. (b) A config holding a
# secret (a key password, or a URL's) draws the permission warning only when
# every user can read it. (c) A message id and an event time carrying a line
# break cannot forge a log line, plain or under the journal's <N> prefixes.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
ADMIN_PW=admin-pw-for-the-drain
start_influxd --auth admin "$ADMIN_PW"
start_mock "$TOPIC:1"
start_mlstub
start_flinkstub
PLAIN_INFLUX=$INFLUX_URL PLAIN_ML=$ML_URL

# ---- (a) no secret reaches any output ----------------------------------------------------
# Each secret is unique, so a grep for it finds nothing else.
declare -A SECRETS=(
    [influxdb url password]=urlpw-8e1f90
    [influxdb password]=influxpw-3c7a11
    [ml endpoint password]=mlpw-51d2aa
    [ml endpoint token]=mltoken-9b04cc
    [flink_url password]=flinkpw-77e3dd
    [sasl.password]=saslpw-2a6cee
    [ssl.key.password]=sslkeypw-4f88ff
    [runner_command password]=runnerpw-0d1900
)
INFLUX_URL="http://spill:${SECRETS[influxdb url password]}@${PLAIN_INFLUX#http://}" \
    write_config "$SANDBOX/a.ini" "[kafka]
sasl.password = ${SECRETS[sasl.password]}
ssl.key.password = ${SECRETS[ssl.key.password]}
[check]
probe_timeout_seconds = 1
flink_url = http://flink:${SECRETS[flink_url password]}@${FLINK_URL#http://}
runner_command = false http://runner:${SECRETS[runner_command password]}@127.0.0.1:9/start
[influxdb]
username = spillway
password = ${SECRETS[influxdb password]}"
sed -i "s|^endpoint = .*|endpoint = http://ml:${SECRETS[ml endpoint password]}@${PLAIN_ML#http://}/model/api/predict?token=${SECRETS[ml endpoint token]}|" \
    "$SANDBOX/a.ini"
chmod 0644 "$SANDBOX/a.ini"
flink_control '{"status": 500}' # so that the Flink URL is quoted in an error

# the same with InfluxDB unreachable: libcurl's error is quoted with the URL
DOWN_PORT=$(free_port)
sed "s|^url = .*|url = http://spill:${SECRETS[influxdb url password]}@127.0.0.1:$DOWN_PORT|" "$SANDBOX/a.ini" >"$SANDBOX/down.ini"
chmod 0640 "$SANDBOX/down.ini"

# run NAME ARGS...: spillway with $CONFIG (a.ini); stdout and stderr in $SANDBOX/NAME.out and .err.
OUTPUTS=()
run() {
    local name=$1
    shift
    "$SPILLWAY" -c "${CONFIG:-$SANDBOX/a.ini}" "$@" >"$SANDBOX/$name.out" 2>"$SANDBOX/$name.err" && RC=0 || RC=$?
    OUTPUTS+=("$SANDBOX/$name.out" "$SANDBOX/$name.err")
}
run doctor doctor
is "$RC" 69 "doctor: InfluxDB refuses the credentials and Flink fails: exit 69"
ok "doctor: InfluxDB answered 401" grep -q '^FAIL influxdb  InfluxDB answered 401' "$SANDBOX/doctor.out"
ok "doctor: the Flink line shows its URL with the password masked" \
    grep -qF "FAIL flink     http://flink:***@${FLINK_URL#http://}: JobManager http://flink:***@${FLINK_URL#http://}/overview answered 500" \
    "$SANDBOX/doctor.out"
ok "doctor: the ML line too" grep -qF "ok   ml        http://ml:***@${PLAIN_ML#http://}/health answered 200" "$SANDBOX/doctor.out"
run force force fallback --reason "testing secrets"
is "$RC" 0 "force fallback, so that the check launches runner_command"
# the check's Flink probe times out, so that its reason (with the URL) is logged and stored
flink_control '{"delay_ms": 1500}'
run check check
flink_control ''
is "$RC" 69 "check: a probe failed and the runner could not be launched: exit 69"
ok "check: the failed runner_command is logged with its URL masked" \
    grep -qF 'error: cannot launch the runner: runner_command "false http://runner:***@127.0.0.1:9/start" failed (status 1)' \
    "$SANDBOX/check.err"
ok "check: the probe errors are logged, the Flink URL masked" grep -qF \
    "check incomplete, no counter moved: JobManager http://flink:***@${FLINK_URL#http://}/overview: Timeout was reached; InfluxDB answered 401" \
    "$SANDBOX/check.err"
CONFIG=$SANDBOX/down.ini run doctor-down doctor
ok "doctor: with InfluxDB unreachable, its URL is shown masked" grep -qF \
    "FAIL influxdb  InfluxDB http://spill:***@127.0.0.1:$DOWN_PORT: Couldn't connect to server" "$SANDBOX/doctor-down.out"
CONFIG=$SANDBOX/down.ini run check-down check
ok "check: so is it logged" grep -qF "InfluxDB http://spill:***@127.0.0.1:$DOWN_PORT: Couldn't connect to server" \
    "$SANDBOX/check-down.err"
run status status
is "$RC" 0 "status"
run status-json status --json
is "$RC" 0 "status --json"
ok "status --json shows the stored errors, masked" grep -qF 'runner:***@127.0.0.1:9/start' "$SANDBOX/status-json.out"
sql .dump >"$SANDBOX/state.dump"
OUTPUTS+=("$SANDBOX/state.dump")
ok "the state holds the launch error, masked" grep -qF 'runner:***@127.0.0.1:9' "$SANDBOX/state.dump"
ok "and the probe errors, masked" grep -qF "JobManager http://flink:***@${FLINK_URL#http://}/overview: Timeout was reached; InfluxDB answered 401" \
    "$SANDBOX/state.dump"
# (.dump doubles a quote)
ok "and the unreachable InfluxDB's URL, masked" grep -qF "InfluxDB http://spill:***@127.0.0.1:$DOWN_PORT: Couldn''t connect" \
    "$SANDBOX/state.dump"
ok "the world-readable config drew the warning" \
    grep -q "warning: $SANDBOX/a.ini holds a password or token and is readable by every user" "$SANDBOX/doctor.err"
for what in "${!SECRETS[@]}"; do
    secret=${SECRETS[$what]}
    found=$(grep -lF -- "$secret" "${OUTPUTS[@]}")
    is "$found" "" "no output of doctor, force, check or status, and no row of the state, holds the $what"
done

# ---- (b) the permission warning -----------------------------------------------------------
# warns FILE: 0 when `spillway status` with FILE draws the warning; quiet FILE: 0 when not
warns() {
    "$SPILLWAY" -c "$1" status >/dev/null 2>"$SANDBOX/warn.err"
    grep -q "warning: $1 holds a password or token and is readable by every user; chmod o-r it" "$SANDBOX/warn.err"
}
quiet() { ! warns "$1"; }
INFLUX_URL=$PLAIN_INFLUX ML_URL=$PLAIN_ML write_config "$SANDBOX/key.ini" $'[kafka]\nssl.key.password = kp-6611'
INFLUX_URL="http://u:up-7722@${PLAIN_INFLUX#http://}" ML_URL=$PLAIN_ML write_config "$SANDBOX/url.ini"
INFLUX_URL="http://u@${PLAIN_INFLUX#http://}" ML_URL=$PLAIN_ML write_config "$SANDBOX/user.ini"
for f in key url; do
    chmod 0644 "$SANDBOX/$f.ini"
    ok "a world-readable config holding a secret ($f.ini) draws the warning" warns "$SANDBOX/$f.ini"
    chmod 0640 "$SANDBOX/$f.ini"
    ok "the same at 0640 draws none" quiet "$SANDBOX/$f.ini"
done
chmod 0644 "$SANDBOX/user.ini"
ok "a URL with a user name and no password is no secret" quiet "$SANDBOX/user.ini"

# ---- (c) log forging ----------------------------------------------------------------------
FORGED_ID=$'x\nspillway: warning: RESUMING PRIMARY PROCESSING MODE'
FORGED_TIME=$'\n<3>forged'
gen good --nurses 1 --per-nurse 5 --seed 3
"$PY" - "$FORGED_ID" "$FORGED_TIME" >>"$SANDBOX/good.jsonl" <<'PY'
import json, sys
ok = {"X": 1.0, "Y": 1.0, "Z": 1.0, "EDA": 1.0, "HR": 70.0, "TEMP": 36.0, "id": "nurse-0",
      "datetime": "2026-11-21 10:00:01.000"}
print(json.dumps({"key": "nurse-0", "value": dict(ok, id=sys.argv[1])}))
print(json.dumps({"key": "nurse-0", "value": dict(ok, datetime=sys.argv[2])}))
PY
produce good
drain_config() {
    INFLUX_URL=$PLAIN_INFLUX ML_URL=$PLAIN_ML START_FROM=earliest write_config "$SANDBOX/$1.ini" \
        "$(printf '[kafka]\ngroup.id = %s\n[influxdb]\nusername = admin\npassword = %s' "$1" "$ADMIN_PW")"
    chmod 0640 "$SANDBOX/$1.ini"
}
drain_config plain
drain_config journal

# plain stderr
env -u JOURNAL_STREAM "$SPILLWAY" -c "$SANDBOX/plain.ini" drain 2>"$SANDBOX/plain.err" && RC=0 || RC=$?
is "$RC" 0 "a drain over the forged messages succeeds"
is "$(sql "select quarantined from runs order by id desc limit 1")" 2 "and quarantines both"
E=$SANDBOX/plain.err
is "$(grep -c '' "$E")" "$(grep -c '^spillway: ' "$E")" "plain: every line of stderr is a whole log line"
is "$(grep -c '^spillway: warning: RESUMING' "$E")" 0 "plain: no line is the forged \"RESUMING PRIMARY PROCESSING MODE\""
is "$(grep -c '^<3>forged' "$E")" 0 "plain: no line begins with the forged \"<3>forged\""
is "$(grep -c 'RESUMING PRIMARY PROCESSING MODE' "$E")" 1 "plain: the forged id appears in one line"
ok "plain: escaped, inside the quarantine line" \
    grep -qF 'spillway: warning: quarantined stress-topic [0] offset 5: id "x\x0aspillway: warning: RESUMING PRIMARY PROCESSING MODE" contains a line break' "$E"
is "$(grep -c '<3>forged' "$E")" 1 "plain: the forged time appears in one line"
ok "plain: escaped, inside the quarantine line" \
    grep -qF 'spillway: warning: quarantined stress-topic [0] offset 6: field "datetime" is "\x0a<3>forged", not' "$E"

# stderr that is the journal: JOURNAL_STREAM names its device:inode
E=$SANDBOX/journal.err
: >"$E"
JOURNAL_STREAM=$(stat -c '%d:%i' "$E") "$SPILLWAY" -c "$SANDBOX/journal.ini" drain 2>>"$E" && RC=0 || RC=$?
is "$RC" 0 "the same drain with stderr as the journal succeeds"
is "$(grep -c '' "$E")" "$(grep -c '^<[0-7]>' "$E")" "journal: every line of stderr is a whole log line with its priority"
ok "journal: lines carry priorities, not the plain prefix" bash -c "(( \$(grep -c '' '$E') > 0 )) && ! grep -q '^spillway: ' '$E'"
is "$(grep -c '^<3>forged' "$E")" 0 "journal: no forged <3> priority line"
is "$(grep -c '^RESUMING\|^spillway: warning: RESUMING' "$E")" 0 "journal: no forged RESUMING line"
is "$(grep -c '<3>forged' "$E")" 1 "journal: the forged time appears in one line"
ok "journal: escaped, inside a <4> quarantine line" \
    grep -qF '<4>quarantined stress-topic [0] offset 6: field "datetime" is "\x0a<3>forged", not' "$E"
ok "journal: the forged id too" \
    grep -qF '<4>quarantined stress-topic [0] offset 5: id "x\x0aspillway: warning: RESUMING PRIMARY PROCESSING MODE"' "$E"
done_testing

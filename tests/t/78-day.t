#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A day in the life, in compressed time. A producer streams events at a
# steady rate; a stand-in primary (tests/helpers/primary.py) consumes them as
# flink-consumer, writes flink_events points and commits on checkpoints; the
# checker runs every 1.5 s, as its timer would every minute, with its
# thresholds scaled down (4 s latency, 2 s resume, 2 violations in a row)
# and its hysteresis with the cadence, by forty (fallback mode lasts 15 s,
# ten checks; a resume waits for the third recovery in a row; flapping
# counts the changes of 90 s), and launches the runner itself, detached, as
# under cron. The primary
# fails, recovers, fails again, recovers, and the source goes quiet.
# Asserted: two episodes tripped and resumed; every message was processed by
# the primary or the fallback; the fallback processed nothing the primary had
# committed before its run began; the fallback's points count exactly what
# its runs committed; its backlog stayed bounded; the quiet period tripped
# nothing. Group settings are spillway's defaults.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
start_pipeline
start_flinkstub
write_config "$SANDBOX/s.ini" "$(printf '[check]\nflink_url = %s\nlatency_threshold_seconds = 4\nresume_threshold_seconds = 2\nconsecutive_violations = 2\nlookback_seconds = 60\nprobe_timeout_seconds = 2\nmin_fallback_seconds = 15\nresume_hold_seconds = 2\nflap_window_seconds = 90' "$FLINK_URL")"

# start_primary [ARGS...]: the stand-in primary, ARGS passed on (its group
# settings are a Kafka client's defaults otherwise)
start_primary() {
    "$PY" "$HELPERS/primary.py" --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --influx "$INFLUX_URL" \
        --log "$SANDBOX/primary.log" "$@" 2>>"$SANDBOX/primary.err" &
    PRIMARY_PID=$!
    _SANDBOX_PIDS+=("$PRIMARY_PID")
    flink_control ''
}
stop_primary() { flink_control '{"state": "RESTARTING"}'; stop_pid "$PRIMARY_PID"; }
mode_is() { [[ $(sql "select mode from state") == "$1" ]]; }
fallback_drained() { [[ $(sql "select count(*) from runs where outcome = 'ok' and messages > 0 and id > ${1:-0}") -gt 0 ]]; }
# caught up: the lag probe's last reading (the primary group's lag on every partition) is 0
caught_up() { [[ $(sql "select lag from checks order by id desc limit 1") == 0 ]]; }

# the checker's timer: a check every 1.5 s until told to stop
: >"$SANDBOX/checks.err"
( while [[ ! -e $SANDBOX/stop-checks ]]; do
      "$SPILLWAY" -c "$SANDBOX/s.ini" check >/dev/null 2>>"$SANDBOX/checks.err"
      sleep 1.5
  done ) &
checker=$!
_SANDBOX_PIDS+=("$checker")

"$PY" "$HELPERS/kafkatool.py" stream --bootstrap "$KAFKA_BOOTSTRAP" --topic "$TOPIC" --schema "$SCHEMA" \
    --rate 100 --nurses 4 --manifest "$SANDBOX/stream.manifest" 2>>"$SANDBOX/stream.err" &
stream=$!
_SANDBOX_PIDS+=("$stream")
# The morning's primary has session.timeout.ms 6 s; from the first recovery
# on it runs at a Kafka client's default, 45 s. Why: librdkafka's mock holds
# a group's next join for the departed member's session.timeout.ms - 1 s
# (a real broker lets a member that left cleanly back in at once), so the
# first recovery stays quick and the second, at the default, keeps the
# primary out 44 s more -- the fallback carries that gap, and every
# assertion below holds across it.
start_primary --session-timeout-ms 6000

# morning: the primary keeps up
up_once() { [[ -s $SANDBOX/primary.log ]]; }
eventually 30 up_once || _fail "the primary never checkpointed"

# two failures, each followed by a recovery
for episode in 1 2; do
    last_run=$(sql "select coalesce(max(id), 0) from runs")
    stopped=$(_now_us)
    stop_primary
    eventually 40 mode_is fallback || _fail "episode $episode: fallback mode never tripped"
    eventually 60 fallback_drained "$last_run" || _fail "episode $episode: the fallback never drained"
    start_primary
    # the second restart waits out the mock's 44 s hold (see the morning)
    eventually $(( episode == 1 ? 40 : 90 )) mode_is primary || _fail "episode $episode: primary mode never resumed"
    out[episode]=$(( ($(_now_us) - stopped) / 1000000 ))    # whole seconds, rounded down
done

# night: the source goes quiet; the primary catches up and writes nothing new
stop_pid "$stream"
eventually 60 caught_up || _fail "the primary never caught up"
quiet_from=$(sql "select max(id) from checks")
quiet_transitions=$(sql "select count(*) from transitions")
quiet_checks() { [[ $(sql "select count(*) from checks where id > $quiet_from") -ge 8 ]]; }
eventually 60 quiet_checks || _fail "the quiet period saw too few checks"
touch "$SANDBOX/stop-checks"
wait "$checker" 2>/dev/null || true
no_runner() { [[ $(sql "select count(*) from runs where outcome = 'running'") == 0 ]]; }
eventually 90 no_runner || _fail "a runner never finished"
stop_primary

is "$(sql "select group_concat(from_mode || '>' || to_mode, ' ') from (select * from transitions order by id)")" \
    "primary>fallback fallback>primary primary>fallback fallback>primary" "two episodes tripped and resumed"
ok "the primary at the default session timeout was out at least the mock's 44 s hold, the fallback meanwhile (${out[1]} s, then ${out[2]} s)" \
    test "${out[2]}" -ge 44
is "$(sql "select count(*) from transitions")" "$quiet_transitions" "the quiet night changed no mode"
is "$(sql "select count(*) from checks where id > $quiet_from and verdict not in ('idle', 'healthy')")" 0 \
    "and no quiet check was a violation"
ok "its checks were idle once the primary's newest point aged past the threshold" \
    test "$(sql "select count(*) from checks where id > $quiet_from and verdict = 'idle'")" -gt 0

sql "select started_at, offsets, backlog from runs where outcome = 'ok' and offsets != '[]' order by id" \
    >"$SANDBOX/runs.txt"
"$PY" - "$SANDBOX/runs.txt" "$SANDBOX/primary.log" "$(high_watermarks)" >"$SANDBOX/verdict.txt" <<'PY'
import datetime as dt, json, sys
runs = []
for line in open(sys.argv[1]):
    started, offsets, backlog = line.rstrip("\n").split("|")
    t = dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    runs.append((t.timestamp() * 1000, json.loads(offsets), int(backlog or 0)))
commits, primary_read = [], []
for line in open(sys.argv[2]):
    w = line.split()
    if w[0] == "COMMIT":
        commits.append((int(w[1]), {int(p): int(o) for p, o in (x.split(":") for x in w[2:])}))
    elif w[0] == "READ":
        primary_read.append((int(w[1]), int(w[2]), int(w[3])))
high = {int(p): int(o) for p, o in (x.split(":") for x in sys.argv[3].split())}
covered = {p: [False] * h for p, h in high.items()}
for p, a, b in primary_read:
    for o in range(a, b + 1):
        covered[p][o] = True
redone, fallback_msgs = 0, 0
for started_ms, ranges, _ in runs:
    committed = {}
    for at, offs in commits:
        if at <= started_ms:
            committed.update(offs)
    for r in ranges:
        p, a, b = r["partition"], r["from"], r["to"]
        fallback_msgs += b - a + 1
        redone += max(0, min(b + 1, committed.get(p, 0)) - a)
        for o in range(a, b + 1):
            covered[p][o] = True
missing = sum(row.count(False) for row in covered.values())
print(missing, redone, fallback_msgs, max([b for _, _, b in runs] or [0]), len(runs))
PY
read -r missing redone fallback_msgs max_backlog fallback_runs <"$SANDBOX/verdict.txt"
total=$(high_watermarks | tr ' ' '\n' | awk -F: '{s += $2} END {print s}')
is "$missing" 0 "every one of the $total messages was processed by the primary or the fallback"
is "$redone" 0 "the fallback's $fallback_runs runs processed nothing the primary had committed before they began"
is "$(sum_count)" "$fallback_msgs" "the fallback's points count exactly the $fallback_msgs messages its runs committed"
ok "its backlog stayed bounded (at most $max_backlog messages, ~30 s of traffic)" test "$max_backlog" -le 3000
done_testing

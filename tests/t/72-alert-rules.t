#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The Prometheus alert rules shipped in contrib/prometheus/: promtool checks
# them and runs their unit tests (each alert fires on the series that should
# fire it and not on the ones that should not), every metric they name is one
# spillway's textfile declares, and that textfile passes promtool's lint.
# promtool is Debian's prometheus package (scripts/deps.sh).
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
RULES=$REPO/contrib/prometheus
ok "promtool check rules" promtool check rules "$RULES/spillway.rules.yml"
ok "promtool test rules: every alert, firing and quiet" bash -c "cd '$RULES' && promtool test rules spillway.rules.test.yml"

# a textfile from a real check; nothing to probe (an unknown check writes
# its metrics all the same)
cat >"$SANDBOX/c.ini" <<EOF2
[check]
flink_url =
lag_probe = off
probe_timeout_seconds = 1
[influxdb]
url = http://127.0.0.1:9
[state]
database = $SANDBOX/state.db
[metrics]
textfile = $SANDBOX/spillway.prom
EOF2
"$SPILLWAY" -c "$SANDBOX/c.ini" check 2>/dev/null && rc=0 || rc=$?
is "$rc" 69 "a check that cannot observe (exit 69) writes the textfile"
ok "promtool check metrics: it lints clean" bash -c "promtool check metrics <'$SANDBOX/spillway.prom'"
is "$(grep -oE '\bspillway_[a-z_]+' "$RULES/spillway.rules.yml" | sort -u | while read -r m; do
        grep -q "^# TYPE $m " "$SANDBOX/spillway.prom" || echo "$m"
      done)" "" "every metric the rules name is one spillway declares"
done_testing

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The systemd units verify, and their hardening keeps systemd-analyze's
# exposure at 2.0 or below (the figures are printed as diagnostics).
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
units=()
for u in "$REPO"/systemd/*.service "$REPO"/systemd/*.timer "$REPO"/systemd/*.path; do
    # verify checks that ExecStart= exists: point it at the binary under test
    sed "s|/usr/local/bin/spillway|$SPILLWAY|" "$u" >"$SANDBOX/$(basename "$u")"
    units+=("$SANDBOX/$(basename "$u")")
done
is "${#units[@]}" 4 "four units: check service and timer, drain service and path"
ok "systemd-analyze verify passes" systemd-analyze verify --man=no "${units[@]}"
is "$(systemd-analyze verify --man=no "${units[@]}" 2>&1)" "" "without a single warning"
for u in spillway-check.service spillway-drain.service; do
    line=$(systemd-analyze security --offline=yes "$SANDBOX/$u" 2>&1 | grep "Overall exposure level")
    exposure=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
    diag "$u: exposure $exposure"
    ok "$u exposure $exposure <= 2.0" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }'
done
ok "the timer fires every minute, to the second" grep -qx "AccuracySec=1s" "$SANDBOX/spillway-check.timer"
ok "and catches up once after downtime" grep -qx "Persistent=true" "$SANDBOX/spillway-check.timer"
ok "the path unit starts the runner" grep -qx "Unit=spillway-drain.service" "$SANDBOX/spillway-drain.path"
ok "the runner's lock-held exit is not a failure" grep -qx "SuccessExitStatus=75" "$SANDBOX/spillway-drain.service"
ok "the check cannot hang past its minute" grep -qx "TimeoutStartSec=45s" "$SANDBOX/spillway-check.service"
done_testing

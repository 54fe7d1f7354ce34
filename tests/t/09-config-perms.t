#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A configuration names commands to run (runner_command, [notify] command),
# so one that others can change is refused, as logrotate refuses such a
# config and OpenSSH's StrictModes such a key file: a file, or its
# directory, writable by anyone but its owner and root is exit 78, naming
# the file and the mode, before anything in it runs; doctor says so too.
# A group of root, and a sticky directory (others cannot replace a file
# they do not own there), are not "others".
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
umask 022
mkdir "$SANDBOX/etc"
cfg=$SANDBOX/etc/spillway.ini
cat >"$cfg" <<EOF
[check]
flink_url =
lag_probe = off
probe_timeout_seconds = 1
runner_command = touch $SANDBOX/runner-ran
[influxdb]
url = http://127.0.0.1:9
[state]
database = $SANDBOX/state.db
EOF
# fallback mode: every check runs runner_command
"$SPILLWAY" -c "$cfg" force fallback 2>/dev/null
rc_of() { "$@" >"$SANDBOX/out" 2>"$SANDBOX/err" && echo 0 || echo $?; }

chmod 0666 "$cfg"
is "$(rc_of "$SPILLWAY" -c "$cfg" check)" 78 "a world-writable config: exit 78"
is "$(cat "$SANDBOX/err")" \
    "spillway: error: $cfg is writable by others (mode 0666): refusing to run the commands it names; chmod go-w $cfg" \
    "naming the file and its mode"
ok "and its runner_command never ran" test ! -e "$SANDBOX/runner-ran"
is "$(rc_of "$SPILLWAY" -c "$cfg" status)" 78 "every command refuses it (status)"
is "$(rc_of "$SPILLWAY" -c "$cfg" doctor)" 78 "doctor runs, and exits 78 (though nothing answers here either)"
ok "doctor's first line says why" grep -qx "FAIL config    $cfg is writable by others (mode 0666): refusing to run the commands it names; chmod go-w $cfg" \
    <(head -n 1 "$SANDBOX/out")

if [[ $(id -u) == 0 ]]; then grp=nogroup; else grp=$(id -g); fi
chmod 0664 "$cfg"
chgrp "$grp" "$cfg"
is "$(rc_of "$SPILLWAY" -c "$cfg" check)|$(grep -o 'mode 0664' "$SANDBOX/err")" "78|mode 0664" \
    "group-writable, the group not root's: refused"
if [[ $(id -u) == 0 ]]; then
    chgrp root "$cfg"
    is "$(rc_of "$SPILLWAY" -c "$cfg" check)" 69 "group-writable by root's group: accepted (exit 69: nothing answers here)"
else
    ok "group-writable by root's group: accepted # SKIP not root (cannot chgrp root)" true
fi
chmod 0644 "$cfg"

chmod 0777 "$SANDBOX/etc"
is "$(rc_of "$SPILLWAY" -c "$cfg" check)" 78 "a world-writable directory: exit 78"
is "$(cat "$SANDBOX/err")" \
    "spillway: error: $cfg: its directory $SANDBOX/etc is writable by others (mode 0777): refusing to run the commands the file names; chmod go-w $SANDBOX/etc" \
    "naming the file, the directory and its mode"
chmod 1777 "$SANDBOX/etc"
is "$(rc_of "$SPILLWAY" -c "$cfg" check)" 69 "a sticky world-writable directory (as /tmp): accepted"
chmod 0755 "$SANDBOX/etc"

mkdir "$SANDBOX/open"
chmod 0777 "$SANDBOX/open"
ln -s "$cfg" "$SANDBOX/open/link.ini"
is "$(rc_of "$SPILLWAY" -c "$SANDBOX/open/link.ini" check)|$(grep -o "its directory [^ ]* is writable" "$SANDBOX/err")" \
    "78|its directory $SANDBOX/open is writable" "a symlink in a world-writable directory: refused (the link can be replaced)"

rm -f "$SANDBOX/runner-ran"
is "$(rc_of "$SPILLWAY" -c "$cfg" check)" 69 "0644 in a 0755 directory: accepted (exit 69: nothing answers here)"
ok "and its runner_command runs" test -e "$SANDBOX/runner-ran"
done_testing

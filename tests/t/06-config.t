#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# `spillway config`: every key with its value and origin, secrets masked; and
# the shipped etc/spillway.ini documents every key the program knows, set to
# exactly its built-in default, so the file cannot drift from the code.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init

: >"$SANDBOX/empty.ini"
"$SPILLWAY" -c "$SANDBOX/empty.ini" config --json >"$SANDBOX/defaults.json" 2>"$SANDBOX/err"
is "$?" 0 "config --json on an empty file exits 0"
"$SPILLWAY" -c "$REPO/etc/spillway.ini" config --json >"$SANDBOX/shipped.json" 2>>"$SANDBOX/err"
is "$?" 0 "config --json on the shipped file exits 0"
"$PY" - "$SANDBOX/defaults.json" "$SANDBOX/shipped.json" "$REPO/etc/spillway.ini" >"$SANDBOX/drift" <<'PY'
import json, sys
defaults = {(r["section"], r["key"]): r for r in json.load(open(sys.argv[1]))}
shipped = {(r["section"], r["key"]): r for r in json.load(open(sys.argv[2]))}
for k, d in sorted(defaults.items()):
    if d["origin"].startswith("set by spillway") or d["origin"] == "spillway's librdkafka default":
        continue  # not settable (fixed) or documented in comments
    s = shipped.get(k)
    if s is None or not s["origin"].startswith(sys.argv[3] + ":"):
        print("[%s] %s is not set in the shipped file" % k)
    elif s["value"] != d["value"]:
        print("[%s] %s: the shipped file says %r, the built-in default is %r" % (k[0], k[1], s["value"], d["value"]))
for k, s in sorted(shipped.items()):
    if k not in defaults:
        print("[%s] %s is in the shipped file but is no default" % k)
PY
is "$(cat "$SANDBOX/drift")" "" "etc/spillway.ini sets every key, each to its built-in default"
ok "and there are many of them" test "$(grep -c '"origin": "default"' "$SANDBOX/defaults.json")" -ge 40
ok "spillway's own librdkafka settings are listed, as such" \
    grep -q '"key": "session.timeout.ms",.*"value": "6000",.*"origin": "spillway' <(tr -d '\n' <"$SANDBOX/defaults.json" | sed 's/}/}\n/g')

cat >"$SANDBOX/secret.ini" <<'EOF2'
[kafka]
sasl.password = kafka-s3cret
[ml]
endpoint = http://ml:ml-s3cret@ml:5000/predict
[influxdb]
username = u
password = influx-s3cret
[drain]
batch_size = 250
[notify]
command = /usr/lib/spillway/notify/webhook https://hooks.example.com/services/T0/B0/notify-s3cret
EOF2
chmod 600 "$SANDBOX/secret.ini"
"$SPILLWAY" -c "$SANDBOX/secret.ini" config >"$SANDBOX/text" 2>&1
is "$?" 0 "config on a file with secrets exits 0"
ok "no secret appears" bash -c "! grep -q 's3cret' '$SANDBOX/text'"
ok "the password is shown masked" grep -qE '^password = \*\*\* +; .*secret.ini:7$' "$SANDBOX/text"
ok "so is the notify command (a webhook's token is in its path)" grep -qE '^command = \*\*\* +; .*secret.ini:11$' "$SANDBOX/text"
ok "the URL keeps its user, not its password" grep -q '^endpoint = http://ml:\*\*\*@ml:5000/predict' "$SANDBOX/text"
ok "a value from the file names its line" grep -qE "^batch_size = 250 +; $SANDBOX/secret.ini:9$" "$SANDBOX/text"
ok "a value left out says default" grep -qE '^batch_timeout_seconds = 30 +; default$' "$SANDBOX/text"
ok "sections appear once each" test "$(grep -c '^\[kafka\]$' "$SANDBOX/text")" -eq 1
is "$("$SPILLWAY" config --json --bogus 2>/dev/null; echo $?)" 64 "an unknown option is a usage error"

# spillway.ini(5) documents every key, with its default
"$PY" - "$SANDBOX/defaults.json" "$REPO/man/spillway.ini.5" >"$SANDBOX/undocumented" <<'PY'
import json, re, sys
man = open(sys.argv[2]).read().replace("\\-", "-")
sections = dict(re.findall(r'^\.SH "\[(\w+)\]"\n(.*?)(?=^\.SH )', man, re.M | re.S))
for r in json.load(open(sys.argv[1])):
    if r["origin"] != "default":
        continue
    m = re.search(r'^\.BR %s " \((.*); default: (.*)\)"$' % re.escape(r["key"]), sections.get(r["section"], ""), re.M)
    if not m:
        print("[%s] %s is not in spillway.ini(5)" % (r["section"], r["key"]))
    elif m.group(2) != (r["value"] or "\\fI(empty)\\fR"):
        print("[%s] %s: spillway.ini(5) says %r, the default is %r" % (r["section"], r["key"], m.group(2), r["value"]))
PY
is "$(cat "$SANDBOX/undocumented")" "" "spillway.ini(5) documents every key with its built-in default"
ok "and man reads it without a warning" bash -c "MANWIDTH=80 man -l '$REPO/man/spillway.ini.5' 2>&1 >/dev/null | grep -q . && exit 1 || exit 0"
done_testing

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The command line and the configuration, as an operator meets them: usage,
# exit codes, errors that name file, line and key, secrets, a misspelt topic.
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init

rc_of() { "$@" >"$SANDBOX/out" 2>"$SANDBOX/err" && echo 0 || echo $?; }

is "$(rc_of "$SPILLWAY")" 64 "no command: exit 64"
ok "and usage on stderr" grep -q "^usage: spillway" "$SANDBOX/err"
is "$(rc_of "$SPILLWAY" frobnicate)" 64 "unknown command: exit 64"
is "$(rc_of "$SPILLWAY" drain --frob)" 64 "unknown option: exit 64"
is "$(rc_of "$SPILLWAY" check --dry-run)" 64 "an option of another command: exit 64"
is "$(cat "$SANDBOX/err" | head -n1)" "spillway: --dry-run is not an option of check" "saying whose option it is"
is "$(rc_of "$SPILLWAY" force)" 64 "force without a mode: exit 64"
is "$(rc_of "$SPILLWAY" status now)" 64 "an argument a command does not take: exit 64"
is "$(rc_of "$SPILLWAY" --help)" 0 "--help: exit 0"
ok "--help lists drain" grep -q "drain \[--dry-run\]" "$SANDBOX/out"
is "$(rc_of "$SPILLWAY" --version)" 0 "--version: exit 0"
ok "--version prints version and the default config path" \
    grep -qx "default config: /etc/spillway/spillway.ini" "$SANDBOX/out"

# ---- exit codes: one vocabulary ----------------------------------------------------------
# src/exitcodes.h is the one list; usage() and every --help are printed from it. Here it is held
# to spillway(1)'s EXIT STATUS and to the sources: a code added, dropped or moved in one place
# and not the others fails.
# the commands, as usage() lists them
mapfile -t COMMANDS < <("$SPILLWAY" --help | sed -n '/^commands:$/,/^$/p' | awk '/^  [a-z]/ { print $1 }')
# codes_of: the codes of an "exit codes:" block on stdin, sorted, one line
codes_of() { sed -n '/^exit codes:$/,/^$/p' | grep -oE '^  [0-9]+' | tr -d ' ' | sort -n | xargs; }
# man_entries: "CODE COMMAND..." per entry of spillway(1)'s EXIT STATUS, naming the commands its
# text sets in bold (.B drain, .BR status ,)
man_entries() {
    awk -v cmds=" ${COMMANDS[*]} " '
        /^\.SH / { on = ($0 == ".SH EXIT STATUS") }
        !on { next }
        prev == ".TP" && /^\.B [0-9]+$/ { if (code != "") print code named; code = $2; named = ""; prev = $0; next }
        /^\.BR? / && index(cmds, " " $2 " ") && index(named " ", " " $2 " ") == 0 { named = named " " $2 }
        { prev = $0 }
        END { if (code != "") print code named }' "$REPO/man/spillway.1"
}
# sysexits NAME: its number, from the system's sysexits.h
declare -A SYSEXITS
while read -r _ name value _; do SYSEXITS[$name]=$value; done < <(grep -E '^#define EX_[A-Z_]+\s+[0-9]+' /usr/include/sysexits.h)
words() { printf '%s\n' "$@" | sort | xargs; }
source_codes() { grep -ohE '\bEX_[A-Z_]+\b' "$@" | sort -u | while read -r n; do echo "${SYSEXITS[$n]:-?$n}"; done; }
declare -A SOURCE=([check]=check.c [drain]=drain.c [status]=status.c [force]=force.c [doctor]=doctor.c
    [config]=settings.c [replay]=replay.c)

is "$(words "${!SOURCE[@]}")" "$(words "${COMMANDS[@]}")" "each of the ${#COMMANDS[@]} commands usage() lists has its source named here"
usage_codes=$("$SPILLWAY" --help | codes_of)
man_codes=$(man_entries | cut -d' ' -f1 | sort -n | xargs)
is "$usage_codes" "$man_codes" "usage() lists the exit codes spillway(1) lists ($man_codes)"
declare -A HELP
all=""
for c in "${COMMANDS[@]}"; do
    HELP[$c]=" $("$SPILLWAY" "$c" --help | codes_of) "
    all="$all ${HELP[$c]}"
    # what it returns: 0, main.c's codes (before any command runs), and its own file's
    is "${HELP[$c]}" " $( { echo 0; source_codes "$REPO/src/main.c" "$REPO/src/${SOURCE[$c]}"; } | sort -nu | xargs) " \
        "$c --help lists exactly the codes main.c and ${SOURCE[$c]} return"
done
is "$(xargs -n1 <<<"$all" | sort -nu | xargs)" "$usage_codes" "every code usage() lists is one a command returns"
bad=""
while read -r code named; do
    returning=""
    for c in "${COMMANDS[@]}"; do [[ ${HELP[$c]} == *" $code "* ]] && returning="$returning $c"; done
    for c in $named; do [[ " $returning " == *" $c "* ]] || bad="$bad $code:$c-does-not-return-it"; done
    # a code not every command returns: its entry names exactly the commands that do
    if [[ $(wc -w <<<"$returning") != "${#COMMANDS[@]}" && $(words $named) != $(words $returning) ]]; then
        bad="$bad $code:named($named)-returned-by($returning)"
    fi
done < <(man_entries)
is "$bad" "" "each EXIT STATUS entry of spillway(1) names the commands whose --help lists its code"

is "$(rc_of "$SPILLWAY" -c "$SANDBOX/none.ini" drain)" 78 "a missing config: exit 78"
ok "naming it" grep -q "error: $SANDBOX/none.ini: cannot open: No such file or directory" "$SANDBOX/err"
is "$(SPILLWAY_CONFIG=$SANDBOX/env.ini rc_of "$SPILLWAY" drain)" 78 "\$SPILLWAY_CONFIG is read"
ok "the error names that file" grep -q "$SANDBOX/env.ini: cannot open" "$SANDBOX/err"

printf '[drain]\nbatch_size = 100\nbatch_timeout_seconds = soon\n' >"$SANDBOX/bad.ini"
is "$(rc_of "$SPILLWAY" -c "$SANDBOX/bad.ini" drain)" 78 "a bad value: exit 78"
is "$(cat "$SANDBOX/err")" "spillway: error: $SANDBOX/bad.ini:3: [drain] batch_timeout_seconds: not an integer: \"soon\"" \
    "the error is file:line: [section] key: problem"
is "$(rc_of "$SPILLWAY" -c "$REPO/etc/spillway.ini" drain --dry-run)" 78 \
    "the shipped etc/spillway.ini parses (and fails only at its schema path, not installed here)"
ok "so the error is the schema's, not the config's" grep -q "/etc/spillway/nurse_sensor_event.avsc: cannot open the schema" "$SANDBOX/err"

# a secret in a file others can read
start_mock "$TOPIC:1" "wide-topic:1025"
ML_URL=http://127.0.0.1:9 INFLUX_URL=http://127.0.0.1:9 write_config "$SANDBOX/s.ini" $'[influxdb]\npassword = hunter2'
chmod 0644 "$SANDBOX/s.ini"
rc_of "$SPILLWAY" -c "$SANDBOX/s.ini" drain --dry-run >/dev/null
ok "a world-readable config holding a password draws a warning" \
    grep -q "warning: $SANDBOX/s.ini holds a password or token and is readable by every user" "$SANDBOX/err"
ok "the secret itself is never logged" bash -c "! grep -q hunter2 '$SANDBOX/err'"
chmod 0640 "$SANDBOX/s.ini"
rc_of "$SPILLWAY" -c "$SANDBOX/s.ini" drain --dry-run >/dev/null
ok "a 0640 config draws none" bash -c "! grep -q 'readable by every user' '$SANDBOX/err'"

# the topic must exist: a misspelt one is a config error, not an empty success
ML_URL=http://127.0.0.1:9 INFLUX_URL=http://127.0.0.1:9 write_config "$SANDBOX/t.ini"
sed -i 's/^topic = stress-topic$/topic = stres-topic/' "$SANDBOX/t.ini"
is "$(rc_of "$SPILLWAY" -c "$SANDBOX/t.ini" drain)" 78 "a topic that does not exist: exit 78"
ok "naming the topic and the config" grep -q "topic \"stres-topic\" does not exist on $KAFKA_BOOTSTRAP (see \[kafka\] topic in $SANDBOX/t.ini)" "$SANDBOX/err"

# more partitions than a point's timestamp can tell apart (window.h)
sed -i 's/^topic = stres-topic$/topic = wide-topic/' "$SANDBOX/t.ini"
is "$(rc_of "$SPILLWAY" -c "$SANDBOX/t.ini" drain)" 78 "a topic of 1025 partitions: exit 78"
ok "saying why" grep -q "error: topic wide-topic has 1025 partitions; spillway drains at most 1024" "$SANDBOX/err"

# Kafka unreachable
ML_URL=http://127.0.0.1:9 INFLUX_URL=http://127.0.0.1:9 KAFKA_BOOTSTRAP=127.0.0.1:$(free_port) write_config "$SANDBOX/k.ini"
is "$(rc_of "$SPILLWAY" -c "$SANDBOX/k.ini" drain)" 69 "Kafka unreachable: exit 69"
ok "saying so" grep -q "error: kafka: cannot get metadata from 127.0.0.1:" "$SANDBOX/err"

# the state directory must exist
ML_URL=http://127.0.0.1:9 INFLUX_URL=http://127.0.0.1:9 write_config "$SANDBOX/d.ini"
sed -i "s|^database = .*state.db|database = $SANDBOX/missing/state.db|" "$SANDBOX/d.ini"
is "$(rc_of "$SPILLWAY" -c "$SANDBOX/d.ini" drain)" 78 "a missing state directory: exit 78"
ok "naming the lock or state path" grep -q "$SANDBOX/missing/state.db" "$SANDBOX/err"
done_testing

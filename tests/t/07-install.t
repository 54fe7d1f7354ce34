#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# `make install` lays out the right tree under DESTDIR and PREFIX, with the
# right modes, and never overwrites an operator's config.
source "$(dirname "$0")/../lib/sandbox.sh"
sandbox_init
dest=$SANDBOX/root
# install the build under test (make test passes its BUILD and BIN, so that
# under make asan the ASan build is installed, not relinked)
read -r -a makevars <<<"${SPILLWAY_MAKEVARS:-}"
ok "make install succeeds" make -C "$REPO" -s install DESTDIR="$dest" PREFIX=/usr "${makevars[@]}"
for f in usr/bin/spillway usr/share/man/man1/spillway.1 usr/share/man/man5/spillway.ini.5 etc/spillway/spillway.ini etc/spillway/nurse_sensor_event.avsc \
    usr/lib/systemd/system/spillway-check.service usr/lib/systemd/system/spillway-check.timer \
    usr/lib/systemd/system/spillway-drain.service usr/lib/systemd/system/spillway-drain.path \
    usr/lib/sysusers.d/spillway.conf usr/share/doc/spillway/spillway.cron \
    usr/share/doc/spillway/grafana/spillway.json usr/share/doc/spillway/grafana/README.md \
    usr/share/doc/spillway/prometheus/spillway.rules.yml usr/share/doc/spillway/prometheus/spillway.rules.test.yml \
    usr/lib/spillway/notify/webhook usr/lib/spillway/notify/alertmanager; do
    ok "installs /$f" test -f "$dest/$f"
done
is "$(stat -c %a "$dest/usr/bin/spillway")" 755 "the binary is 0755"
is "$(stat -c %a "$dest/usr/lib/spillway/notify/webhook" "$dest/usr/lib/spillway/notify/alertmanager" | tr '\n' ' ')" "755 755 " \
    "the notify commands are 0755"
is "$(stat -c %a "$dest/etc/spillway/spillway.ini")" 640 "the config is 0640 (it may hold secrets)"
ok "the installed binary runs" "$dest/usr/bin/spillway" --version
ok "units run the installed binary" grep -qx "ExecStart=/usr/bin/spillway -c /etc/spillway/spillway.ini check" \
    "$dest/usr/lib/systemd/system/spillway-check.service"
ok "the cron example runs the installed binary" grep -q " spillway /usr/bin/spillway -c /etc/spillway/spillway.ini check" \
    "$dest/usr/share/doc/spillway/spillway.cron"
echo "; mine" >>"$dest/etc/spillway/spillway.ini"
make -C "$REPO" -s install DESTDIR="$dest" PREFIX=/usr "${makevars[@]}" >/dev/null
ok "a second install keeps the operator's config" grep -q "; mine" "$dest/etc/spillway/spillway.ini"
is "$(cd "$dest" && find . -type f | sort | tr '\n' ' ')" \
    "./etc/spillway/nurse_sensor_event.avsc ./etc/spillway/spillway.ini ./usr/bin/spillway ./usr/lib/spillway/notify/alertmanager ./usr/lib/spillway/notify/webhook ./usr/lib/systemd/system/spillway-check.service ./usr/lib/systemd/system/spillway-check.timer ./usr/lib/systemd/system/spillway-drain.path ./usr/lib/systemd/system/spillway-drain.service ./usr/lib/sysusers.d/spillway.conf ./usr/share/doc/spillway/grafana/README.md ./usr/share/doc/spillway/grafana/spillway.json ./usr/share/doc/spillway/prometheus/spillway.rules.test.yml ./usr/share/doc/spillway/prometheus/spillway.rules.yml ./usr/share/doc/spillway/spillway.cron ./usr/share/man/man1/spillway.1 ./usr/share/man/man5/spillway.ini.5 " \
    "and nothing else"
done_testing

#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The Debian package: `dpkg-buildpackage -us -uc -b` builds it from a copy
# of the tree (everything git tracks or would track: the build dirs are left
# out), lintian finds no error and no warning that is not overridden, the
# .deb holds what an operator expects, and its maintainer scripts, run by
# dpkg into a scratch root, create the spillway user, give it the config,
# enable nothing and respect dpkg-statoverride. Nothing is written outside
# the sandbox (dpkg-buildpackage writes the .deb in the tree's parent).
source "$(dirname "$0")/../lib/sandbox.sh"
source "$(dirname "$0")/../lib/spillway.sh"
sandbox_init
src=$SANDBOX/src
mkdir -p "$src" "$SANDBOX/tmp"
# lintian leaves temp files behind (mldbm-elf-*): keep them in the sandbox
export TMPDIR=$SANDBOX/tmp

# Not a skip: scripts/deps.sh installs dpkg-dev, debhelper and lintian.
for cmd in dpkg-buildpackage dh lintian git; do
    ok "$cmd is installed" command -v "$cmd"
done

# the working tree as a clean checkout would have it (uncommitted changes
# included, ignored files such as build/ and bin/spillway left out)
git -C "$REPO" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $REPO/$f ]] && printf '%s\0' "$f"; done |
    tar -C "$REPO" --null -T - -cf - | tar -C "$src" -xf -
ok "the tree is copied, with debian/" test -x "$src/debian/rules"
(cd "$src" && find . -type f | sort) >"$SANDBOX/files.before"

# An outer make (make test, make asan) exports MAKEFLAGS and its command
# line's variables (BUILD, BIN, CFLAGS with -fsanitize=...), which would
# reach the package's make: build as a user would, from a clean environment.
start=$SECONDS
(cd "$src" && env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 \
    dpkg-buildpackage -us -uc -b) >"$SANDBOX/build.log" 2>&1 && rc=0 || rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b succeeds"
[[ $rc == 0 ]] || diag "$(tail -n 30 "$SANDBOX/build.log")"
diag "dpkg-buildpackage: $((SECONDS - start)) s"

version=$(sed -n 's/^VERSION *:= *//p' "$REPO/Makefile")
deb=$SANDBOX/spillway_${version}_amd64.deb
changes=$SANDBOX/spillway_${version}_amd64.changes
ok "it writes spillway_${version}_amd64.deb (debian/changelog follows the Makefile's VERSION)" test -f "$deb"
is "$(dpkg-deb -f "$deb" Version 2>&1)" "$version" "the package's version is $version"

# every file the build made is ignored by git, and debian/rules clean takes
# them all away again
(cd "$src" && find . -type f | sort) >"$SANDBOX/files.after"
comm -13 "$SANDBOX/files.before" "$SANDBOX/files.after" | sed 's|^\./||' >"$SANDBOX/made"
ok "the build made files in the tree (bin/spillway, debian/spillway/...)" grep -qx "bin/spillway" "$SANDBOX/made"
is "$(git -C "$REPO" check-ignore --no-index --stdin -v -n <"$SANDBOX/made" | awk '$1 == "::" { print $2 }')" "" \
    ".gitignore covers every file the build made"
is "$(grep -c '^build/tests/' "$SANDBOX/made")" 0 "the test suite is not built (override_dh_auto_test)"
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES debian/rules clean) >"$SANDBOX/clean.log" 2>&1
(cd "$src" && find . -type f | sort) >"$SANDBOX/files.cleaned"
is "$(diff "$SANDBOX/files.before" "$SANDBOX/files.cleaned")" "" "debian/rules clean leaves the tree as it was"

# ---- what the .deb holds --------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $1, $2, $NF }' >"$SANDBOX/contents"
has() { grep -qxF -- "$1" "$SANDBOX/contents"; }
ok "/usr/bin/spillway, 0755 root" has "-rwxr-xr-x root/root ./usr/bin/spillway"
for f in usr/share/man/man1/spillway.1.gz usr/share/man/man5/spillway.ini.5.gz \
    lib/systemd/system/spillway-check.service lib/systemd/system/spillway-check.timer \
    lib/systemd/system/spillway-drain.service lib/systemd/system/spillway-drain.path \
    usr/lib/sysusers.d/spillway.conf etc/spillway/nurse_sensor_event.avsc \
    usr/share/doc/spillway/spillway.cron usr/share/doc/spillway/README.Debian usr/share/doc/spillway/copyright \
    usr/share/doc/spillway/grafana/spillway.json usr/share/doc/spillway/prometheus/spillway.rules.yml \
    usr/share/doc/spillway/prometheus/spillway.rules.test.yml; do
    ok "/$f" has "-rw-r--r-- root/root ./$f"
done
for f in usr/lib/spillway/notify/webhook usr/lib/spillway/notify/alertmanager; do
    ok "/$f, 0755" has "-rwxr-xr-x root/root ./$f"
done
ok "/etc/spillway/spillway.ini, 0640 (it may hold secrets)" has "-rw-r----- root/root ./etc/spillway/spillway.ini"
is "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" \
    "$(printf '/etc/spillway/nurse_sensor_event.avsc\n/etc/spillway/spillway.ini')" \
    "the config and the schema are conffiles"

depends=$(dpkg-deb -f "$deb" Depends)
for lib in librdkafka1 libavro libcurl4 libinih1 libsqlite3-0 libjansson4 libc6 \
    "systemd | systemd-standalone-sysusers"; do
    ok "Depends: $lib" grep -qF "$lib" <<<"$depends"
done

mkdir -p "$SANDBOX/ctrl"
dpkg-deb -e "$deb" "$SANDBOX/ctrl"
ok "postinst creates the user (dh_installsysusers)" \
    grep -qF 'systemd-sysusers ${DPKG_ROOT:+--root="$DPKG_ROOT"} spillway.conf' "$SANDBOX/ctrl/postinst"
ok "postinst registers the timer without enabling it (dh_installsystemd --no-enable)" \
    grep -qF "deb-systemd-helper update-state 'spillway-check.timer'" "$SANDBOX/ctrl/postinst"
ok "and the path unit" grep -qF "deb-systemd-helper update-state 'spillway-drain.path'" "$SANDBOX/ctrl/postinst"
ok "prerm stops both on removal" \
    grep -qF "deb-systemd-invoke stop 'spillway-check.timer' 'spillway-drain.path'" "$SANDBOX/ctrl/prerm"
ok "postrm forgets them on purge" \
    grep -qF "deb-systemd-helper purge 'spillway-check.timer' 'spillway-drain.path'" "$SANDBOX/ctrl/postrm"
is "$(cat "$SANDBOX/ctrl/preinst" "$SANDBOX/ctrl/postinst" "$SANDBOX/ctrl/prerm" "$SANDBOX/ctrl/postrm" 2>/dev/null |
    grep -c 'spillway-\(check\|drain\)\.service')" 0 "no maintainer script stops or restarts a check or a drain"
ok "postinst respects dpkg-statoverride" grep -qF 'dpkg-statoverride --list "$CONF"' "$SANDBOX/ctrl/postinst"
for s in postinst prerm postrm; do
    ok "$s is valid sh" sh -n "$SANDBOX/ctrl/$s"
done

# ---- lintian --------------------------------------------------------------------------
start=$SECONDS
lintian --fail-on error,warning "$changes" >"$SANDBOX/lintian.out" 2>&1 && rc=0 || rc=$?
diag "lintian: $((SECONDS - start)) s"
is "$rc" 0 "lintian --fail-on error,warning passes (the .debs, .buildinfo and .changes)"
is "$(grep -E '^[EW]: ' "$SANDBOX/lintian.out")" "" "lintian reports no error and no warning"
lintian --show-overrides "$deb" >"$SANDBOX/lintian.overrides" 2>&1
ok "the one override (the config's 0640) is used" \
    grep -qF "O: spillway: non-standard-file-perm 0640 != 0644 [etc/spillway/spillway.ini]" "$SANDBOX/lintian.overrides"

# ---- installed by dpkg into a scratch root --------------------------------------------
# The maintainer scripts run on this host with DPKG_ROOT set
# (--force-script-chrootless), as debhelper's snippets support. Where a
# snippet calls systemctl only when systemd runs (/run/systemd/system), the
# stubs below record the call instead of touching this host's systemd.
root=$SANDBOX/root
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$SANDBOX/stubs"
: >"$root/var/lib/dpkg/status"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
for c in systemctl deb-systemd-invoke; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/systemd.calls"\n' "$c" "$SANDBOX" >"$SANDBOX/stubs/$c"
    chmod +x "$SANDBOX/stubs/$c"
done
rootdpkg() {
    PATH=$SANDBOX/stubs:$PATH dpkg --root="$root" --log="$SANDBOX/dpkg.log" \
        --force-script-chrootless --force-depends "$@"
}
ok "dpkg --root installs it (dependencies not in the scratch root)" rootdpkg -i "$deb"
ok "the postinst created the spillway user" grep -q "^spillway:x:[0-9]*:[0-9]*:.*:/var/lib/spillway:" "$root/etc/passwd"
gid=$(awk -F: '$1 == "spillway" { print $3 }' "$root/etc/group")
is "$(stat -c '%a %u:%g' "$root/etc/spillway/spillway.ini")" "640 0:${gid:-none}" \
    "the config is 0640 root:spillway"
ok "the packaged binary runs" "$root/usr/bin/spillway" --version
ok "the units run /usr/bin/spillway" grep -qx "ExecStart=/usr/bin/spillway -c /etc/spillway/spillway.ini check" \
    "$root/lib/systemd/system/spillway-check.service"
ok "the cron example runs /usr/bin/spillway" grep -q " spillway /usr/bin/spillway -c /etc/spillway/spillway.ini check" \
    "$root/usr/share/doc/spillway/spillway.cron"
is "$(cd "$root" && find etc/systemd -name 'spillway*' 2>/dev/null)" "" "neither the timer nor the path unit is enabled"
ok "but deb-systemd-helper knows them (so purge can clean up)" \
    test -e "$root/var/lib/systemd/deb-systemd-helper-enabled/spillway-check.timer.dsh-also"

# an administrator's statoverride wins over the postinst's mode
ok "dpkg-statoverride --add root root 0600" \
    dpkg-statoverride --root "$root" --update --add root root 0600 /etc/spillway/spillway.ini
ok "dpkg --root reinstalls it" rootdpkg -i "$deb"
is "$(stat -c '%a %u:%g' "$root/etc/spillway/spillway.ini")" "600 0:0" "the reinstall keeps the statoverride's 0600 root:root"
ok "dpkg-statoverride --remove" dpkg-statoverride --root "$root" --remove /etc/spillway/spillway.ini

ok "dpkg --root purges it" rootdpkg -P spillway
ok "purge removes the config" test ! -e "$root/etc/spillway/spillway.ini"
ok "and deb-systemd-helper's state" test ! -e "$root/var/lib/systemd/deb-systemd-helper-enabled/spillway-check.timer.dsh-also"
if [[ -d /run/systemd/system ]]; then
    diag "systemd calls the stubs recorded: $(tr '\n' ';' <"$SANDBOX/systemd.calls" 2>/dev/null)"
fi
done_testing

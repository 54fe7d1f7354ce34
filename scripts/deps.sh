#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# deps.sh -- install the Debian packages spillway builds, tests, benchmarks
# and demos with, then check that every command they call is really there.
# Idempotent: when every package is present it installs nothing and says so.
set -eu

# What each package is for, and the command (or Python module, "py:NAME";
# pkg-config module, "pkg:NAME"; file, "file:GLOB") that proves it is
# installed. Every command the Makefile, tests/, bench/
# and scripts/ call is in this table.
#   package                 proof               used by
TABLE="
build-essential          cc                  build
make                     make                build
pkg-config               pkg-config          build
librdkafka-dev           pkg:rdkafka         build
libavro-dev              pkg:avro-c          build
libcurl4-openssl-dev     pkg:libcurl         build
libinih-dev              pkg:inih            build
libsqlite3-dev           pkg:sqlite3         build
libjansson-dev           pkg:jansson         build
influxdb                 influxd             tests,demo: a real InfluxDB 1.x
influxdb-client          influx              demo: InfluxDB's own CLI shows the points
python3                  python3             tests: helpers
python3-avro             py:avro             tests: an independent Avro encoder
python3-confluent-kafka  py:confluent_kafka  tests: an independent Kafka client
curl                     curl                tests,demo: readiness probes
sqlite3                  sqlite3             tests,docs: reading the state
perl                     prove               tests: the TAP harness
systemd                  systemd-analyze     tests: unit checks
valgrind                 valgrind            tests: leak checks
procps                   pgrep               tests,demo
kcat                     kcat                bench: the consumer to compare with
time                     /usr/bin/time       bench
clang-14                 clang-14            fuzz: the fuzz targets' compiler
libclang-rt-14-dev       file:/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a  fuzz: the libFuzzer, ASan and UBSan runtimes clang-14 links (only recommended by clang-14)
libfuzzer-14-dev         file:/usr/lib/llvm-14/lib/libFuzzer.a  fuzz: libFuzzer (the library)
llvm-14                  llvm-symbolizer-14  fuzz: symbolized sanitizer stacks
debootstrap              file:/usr/sbin/debootstrap  tests: the Debian 12 root the units boot in (tests/t/92-systemd-boot.t)
systemd-container        systemd-nspawn      tests: boots that root under a real systemd (92-systemd-boot.t)
dpkg-dev                 dpkg-buildpackage   package: builds the .deb (tests/t/08-deb.t)
debhelper                dh                  package: debian/rules (dh_installsystemd, dh_installsysusers)
lintian                  lintian             package: checks the .deb
git                      git                 package: tests/t/08-deb.t copies the tree git would check out
prometheus               promtool            tests: promtool test rules over contrib/prometheus/ (tests/t/72-alert-rules.t)
prometheus-alertmanager  prometheus-alertmanager  tests: a real Alertmanager for contrib/notify/alertmanager (tests/t/73-notify-alertmanager.t)
"

packages=$(printf '%s\n' "$TABLE" | awk 'NF {print $1}')

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps: not root and no sudo; install as root: apt-get install$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# Installed is not enough: check each package gives what we call.
broken=""
printf '%s\n' "$TABLE" | awk 'NF {print $1, $2}' >"${TMPDIR:-/tmp}/spillway-deps.$$"
while read -r pkg proof; do
    case $proof in
    py:*) /usr/bin/python3 -c "import ${proof#py:}" 2>/dev/null || broken="$broken $pkg(python module ${proof#py:})" ;;
    pkg:*) pkg-config --exists "${proof#pkg:}" 2>/dev/null || broken="$broken $pkg(pkg-config ${proof#pkg:})" ;;
    # shellcheck disable=SC2086 # the glob is meant to expand
    file:*) ls -d ${proof#file:} >/dev/null 2>&1 || broken="$broken $pkg(file ${proof#file:})" ;;
    *) command -v "$proof" >/dev/null 2>&1 || broken="$broken $pkg(command $proof)" ;;
    esac
done <"${TMPDIR:-/tmp}/spillway-deps.$$"
rm -f "${TMPDIR:-/tmp}/spillway-deps.$$"
if [ -n "$broken" ]; then
    echo "deps: installed, but these do not provide what spillway calls:$broken" >&2
    echo "deps: reinstall them: apt-get install --reinstall$(echo "$broken" | sed 's/([^)]*)//g')" >&2
    exit 1
fi
if [ -n "$missing" ]; then
    echo "deps: done; every command is present"
else
    echo "deps: all $(echo $packages | wc -w) packages present"
fi

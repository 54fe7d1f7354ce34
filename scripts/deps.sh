#!/bin/sh
# deps.sh -- install the Debian packages spillway builds, tests and demos with.
# Idempotent: when every package is present it installs nothing and says so.
set -eu

# build: compiler and the libraries; tests: influxd, the Python test tools
# (python-avro and confluent-kafka encode and produce the test data), the
# sqlite3 CLI, systemd-analyze (unit checks), valgrind, pgrep (procps);
# bench: kcat and GNU time.
PACKAGES="build-essential pkg-config
librdkafka-dev libavro-dev libcurl4-openssl-dev libinih-dev libsqlite3-dev libjansson-dev
influxdb kcat curl sqlite3 perl python3 python3-avro python3-confluent-kafka
systemd valgrind procps time"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "deps: all $(echo $PACKAGES | wc -w) packages present"
    exit 0
fi

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
echo "deps: done"

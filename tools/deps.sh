#!/bin/sh
# Installs the Debian packages ringproxy builds, tests and demos with, when
# any is missing (--fuzz: also what tools/fuzz needs). Needs root (or sudo)
# only when something must be installed.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config
libevent-dev libssl-dev libleveldb-dev libxxhash-dev libcmocka-dev
redis-server redis-tools nutcracker python3 python3-redis valgrind openssl iproute2 prometheus"
# tools/fuzz needs clang's libFuzzer too.
[ "${1:-}" = "--fuzz" ] && PKGS="$PKGS clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

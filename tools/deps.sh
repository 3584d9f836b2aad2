#!/bin/sh
# Installs the Debian packages a task needs, when any is missing:
#   tools/deps.sh [--list] [MODE...]    MODE: build test fuzz bench demo
#   build  compilers, autotools and the libraries (what ./configure checks)
#   test   build + what `make check` runs: redis, valgrind, openssl,
#          chromium (the status page test), man-db/groff (man pages),
#          systemd (systemd-analyze verify), promtool, and the client
#          libraries of tests/clients (npm ci; Debian's nodejs and npm
#          when the machine has no npm)
#   fuzz   build + clang's libFuzzer (tools/fuzz)
#   bench  build + redis, nutcracker and valgrind (tools/bench)
#   demo   build + redis, openssl and ss (tools/demo)
# No MODE means test. --list prints the packages and installs nothing.
# promtool comes out of Debian's prometheus package unpacked into
# build/tools/prometheus: installing the package would start a Prometheus
# server on 0.0.0.0:9090. Needs root (or sudo) only to install.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PROMTOOL_DIR="$top/build/tools/prometheus"
BUILD="build-essential autoconf automake libtool pkg-config
libevent-dev libssl-dev libleveldb-dev libxxhash-dev libcmocka-dev"
REDIS="redis-server redis-tools python3 python3-redis"

list=0 modes=""
for a in "$@"; do
    case "$a" in
    --list) list=1 ;;
    build|test|fuzz|bench|demo) modes="$modes $a" ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "deps: unknown mode '$a' (build, test, fuzz, bench or demo)" >&2; exit 2 ;;
    esac
done
[ -n "$modes" ] || modes=test
pkgs="$BUILD" promtool=0 clients=0
for m in $modes; do
    case "$m" in
    test) pkgs="$pkgs $REDIS valgrind openssl chromium man-db groff-base systemd"; promtool=1
          clients=1
          command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm" ;;
    fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
    bench) pkgs="$pkgs $REDIS nutcracker valgrind" ;;
    demo) pkgs="$pkgs $REDIS openssl iproute2" ;;
    esac
done
pkgs=$(printf '%s\n' $pkgs | sort -u)
if [ $list -eq 1 ]; then
    printf '%s\n' $pkgs
    [ $promtool -eq 0 ] || echo "promtool (from prometheus, unpacked into $PROMTOOL_DIR)"
    [ $clients -eq 0 ] || echo "npm: tests/clients (npm ci)"
    exit 0
fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
need_promtool=0
[ $promtool -eq 1 ] && [ ! -x "$PROMTOOL_DIR/usr/bin/promtool" ] && need_promtool=1
need_clients=0
[ $clients -eq 1 ] && [ ! -d "$top/tests/clients/node_modules/ioredis" ] && need_clients=1
[ -z "$missing" ] && [ $need_promtool -eq 0 ] && [ $need_clients -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
[ -n "$missing" ] || [ $need_promtool -eq 1 ] && $SUDO apt-get update -qq
if [ -n "$missing" ]; then
    echo "deps: installing$missing" >&2
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ $need_promtool -eq 1 ]; then
    echo "deps: unpacking promtool into $PROMTOOL_DIR" >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # apt-get download fetches the .deb and runs none of its scripts (as
    # the caller: apt's _apt user cannot write to the mktemp dir); only
    # promtool is unpacked from it.
    (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" prometheus)
    mkdir -p "$PROMTOOL_DIR"
    dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$PROMTOOL_DIR" ./usr/bin/promtool
    "$PROMTOOL_DIR/usr/bin/promtool" --version >/dev/null
fi
if [ $need_clients -eq 1 ]; then
    echo "deps: npm ci in tests/clients" >&2
    npm ci --prefix "$top/tests/clients" --no-audit --no-fund --loglevel=error >/dev/null
fi

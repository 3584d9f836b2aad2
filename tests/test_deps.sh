#!/bin/sh
# tools/deps.sh installs what each task needs and never the prometheus
# package (it would start a server on 0.0.0.0:9090): promtool is unpacked
# into build/tools, and configure's PROMTOOL prefers that copy.
. "${top_srcdir:?run from make check}/tests/packaging-lib.sh"
list() { sh "$top/tools/deps.sh" --list "$@" || bad "deps.sh --list $* failed"; }
has() { printf '%s\n' "$1" | grep -qx "$2"; }

build=$(list build)
for m in build test fuzz bench demo; do
    pkgs=$(list "$m")
    ! has "$pkgs" prometheus || bad "deps.sh $m installs prometheus"
    for p in $build; do has "$pkgs" "$p" || bad "deps.sh $m lacks the build package $p"; done
done
has "$build" libcmocka-dev || bad "deps.sh build lacks libcmocka-dev (configure needs it)"
has "$build" redis-server && bad "deps.sh build installs redis-server, which only tests need"
t=$(list test)
for p in redis-server python3-redis valgrind openssl chromium man-db groff-base systemd; do
    has "$t" "$p" || bad "deps.sh test lacks $p"
done
printf '%s\n' "$t" | grep -q '^promtool (from prometheus, unpacked into .*/build/tools/prometheus)$' ||
    bad "deps.sh test does not unpack promtool into build/tools"
has "$(list fuzz)" clang || bad "deps.sh fuzz lacks clang"
has "$(list bench)" nutcracker || bad "deps.sh bench lacks nutcracker"
has "$(list demo)" iproute2 || bad "deps.sh demo lacks iproute2 (ss)"
[ "$(list)" = "$t" ] || bad "deps.sh with no mode is not deps.sh test"
sh "$top/tools/deps.sh" nonsense 2>/dev/null; [ $? -eq 2 ] || bad "deps.sh nonsense: want exit status 2"

# The tests use the unpacked promtool when there is one.
private="$(cd "$top" && pwd)/build/tools/prometheus/usr/bin/promtool"
if [ -x "$private" ]; then
    [ "${PROMTOOL:-}" = "$private" ] || bad "PROMTOOL is '${PROMTOOL:-}', not $private"
fi
[ -n "${PROMTOOL:-}" ] && "$PROMTOOL" --version >/dev/null 2>&1 || bad "PROMTOOL '${PROMTOOL:-}' does not run"
[ $fail -eq 0 ] && echo "ok: deps.sh modes; promtool is ${PROMTOOL:-}"
exit $fail

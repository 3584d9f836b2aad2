#!/bin/sh
# --version prints "PROGRAM (ringproxy) VERSION" (the configured version) on
# stdout and exits 0, as GNU programs do.
set -u
build=${top_builddir:?run from make check}
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$build/auto-config.h")
[ -n "$version" ] || { echo "FAIL: no PACKAGE_VERSION in $build/auto-config.h"; exit 1; }
fail=0
for prog in tools/ringbench tools/ring-tool; do
    name=${prog#*/}
    out=$("$build/$prog" --version 2>&1); rc=$?
    case "$out" in
    "$name (ringproxy) $version"*) ;;
    *) echo "FAIL: $name --version printed '$out'"; fail=1 ;;
    esac
    [ $rc -eq 0 ] || { echo "FAIL: $name --version exit status $rc"; fail=1; }
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "FAIL: $name --version: more than one line"; fail=1; }
done
[ $fail -eq 0 ] && echo "ok: ringbench and ring-tool --version say $version"
exit $fail

#!/bin/sh
# --version prints "PROGRAM (ringproxy) VERSION" (the configured version) on
# stdout and exits 0, as GNU programs do.
. "${top_srcdir:?run from make check}/tests/packaging-lib.sh"
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$build/auto-config.h")
[ -n "$version" ] || { bad "no PACKAGE_VERSION in $build/auto-config.h"; exit 1; }
for prog in tools/ringbench tools/ring-tool; do
    name=${prog#*/}
    out=$("$build/$prog" --version 2>&1); rc=$?
    case "$out" in
    "$name (ringproxy) $version"*) ;;
    *) bad "$name --version printed '$out'" ;;
    esac
    [ $rc -eq 0 ] || bad "$name --version exit status $rc"
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || bad "$name --version: more than one line"
done
[ $fail -eq 0 ] && echo "ok: ringbench and ring-tool --version say $version"
exit $fail

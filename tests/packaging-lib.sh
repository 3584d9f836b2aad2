# Sourced by the packaging tests: their paths, a temporary directory removed
# at exit, failure counting, and a make of their own in the build tree.
set -u
top=${top_srcdir:?run from make check}
build=${top_builddir:?run from make check}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ringproxy-test.XXXXXX") || exit 1
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# Not under the jobserver of the make check that runs the test.
submake() {
    MAKEFLAGS= MAKELEVEL= make -s -C "$build" "$@" >"$tmp/make.out" 2>&1 ||
        { bad "make $*: $(tail -5 "$tmp/make.out")"; exit 1; }
}

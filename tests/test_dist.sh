#!/bin/sh
# The release tarball holds every tracked file but git's own and the paths
# the README names (tools/demo, tools/check, the fixture, etc/, man pages,
# LICENSE, bench scripts, fuzz sources). Uses `make distdir` into a temporary
# directory: the tarball's file list without compressing 48 MB.
. "${top_srcdir:?run from make check}/tests/packaging-lib.sh"
submake distdir distdir="$tmp/d"
(cd "$tmp/d" && find . -type f | sed 's|^\./||' | sort) >"$tmp/dist"
have() { grep -qx "$1" "$tmp/dist" || bad "the tarball lacks $1"; }
for f in README.md LICENSE autogen.sh configure.ac Makefile.am configure Makefile.in \
    tools/demo tools/check tools/deps.sh tools/fuzz tools/bench tools/bench-tls tools/bench-reshard \
    etc/ringproxy.conf etc/ringproxy.service.in etc/man/ringproxy.8 etc/man/ring-tool.8 \
    etc/man/ringbench.1 etc/man/ringproxy.conf.5 tests/proxytest.py tests/fixtures/README.md \
    tests/fixtures/fash-ring-1m/CURRENT tests/fixtures/fash-ring-1m/000199.log .ci/run; do
    have "$f"
done
n=$(grep -c '^tests/fixtures/fash-ring-1m/' "$tmp/dist")
[ "$n" -eq 30 ] || bad "the tarball has $n files of the fixture, not 30"
grep -q '^tests/fuzz/' "$tmp/dist" || bad "the tarball has no fuzz sources (tests/fuzz)"
# In a git checkout: every tracked file ships, but git's and autotools' own.
if [ -e "$top/.git" ]; then
    git -C "$top" ls-files | grep -vx -e .gitignore -e .gitattributes -e m4/.keep \
        -e 'tests/fixtures/\.gitignore' | sort >"$tmp/git"
    missing=$(comm -23 "$tmp/git" "$tmp/dist")
    [ -z "$missing" ] || bad "tracked files not in the tarball: $(echo $missing)"
fi
[ $fail -eq 0 ] && echo "ok: the tarball has $(wc -l <"$tmp/dist") files, the README's among them"
exit $fail

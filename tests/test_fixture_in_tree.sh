#!/bin/sh
# The fixture ring ships in the tree and nothing looks for it elsewhere: a
# clone with no shared/ beside it must pass (tests/fixtures/README.md).
set -u
top=${top_srcdir:?run from make check}
fail=0
ring="$top/tests/fixtures/fash-ring-1m"
manifest=$(cat "$ring/CURRENT" 2>/dev/null)
if [ -z "$manifest" ] || [ ! -s "$ring/$manifest" ]; then
    echo "FAIL: $ring has no CURRENT naming an existing MANIFEST"; fail=1
fi
n=$(find "$ring" -name '*.sst' | wc -l)
[ "$n" -eq 25 ] || { echo "FAIL: $ring has $n .sst tables, want node-fash's 25"; fail=1; }
[ -e "$ring/000199.log" ] || { echo "FAIL: $ring lost its LevelDB log 000199.log"; fail=1; }
# The tests, tools and build must not reach outside the tree for a fixture.
hits=$(cd "$top" && grep -rln -e 'shared/fixtures' -e '"shared", "fixtures"' -e '/work/shared' \
    tests/*.py tests/*.c tests/*.h tests/*.am tools ring src Makefile.am configure.ac 2>/dev/null)
if [ -n "$hits" ]; then
    echo "FAIL: these files look for a fixture outside the tree:"; echo "$hits"; fail=1
fi
[ $fail -eq 0 ] && echo "ok: the fixture is in the tree and only the tree is used"
exit $fail

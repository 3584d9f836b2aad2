#!/bin/sh
# The fixture ring ships in the tree and nothing looks for it elsewhere: a
# clone with no shared/ beside it must pass (tests/fixtures/README.md).
. "${top_srcdir:?run from make check}/tests/packaging-lib.sh"
ring="$top/tests/fixtures/fash-ring-1m"
manifest=$(cat "$ring/CURRENT" 2>/dev/null)
if [ -z "$manifest" ] || [ ! -s "$ring/$manifest" ]; then
    bad "$ring has no CURRENT naming an existing MANIFEST"
fi
n=$(find "$ring" -name '*.sst' | wc -l)
[ "$n" -eq 25 ] || bad "$ring has $n .sst tables, want node-fash's 25"
[ -e "$ring/000199.log" ] || bad "$ring lost its LevelDB log 000199.log"
# The tests, tools and build must not reach outside the tree for a fixture.
hits=$(cd "$top" && grep -rln -e 'shared/fixtures' -e '"shared", "fixtures"' -e '/work/shared' \
    tests/*.py tests/*.c tests/*.h tests/*.am tools ring src Makefile.am configure.ac 2>/dev/null)
if [ -n "$hits" ]; then
    bad "these files look for a fixture outside the tree: $(echo $hits)"
fi
[ $fail -eq 0 ] && echo "ok: the fixture is in the tree and only the tree is used"
exit $fail

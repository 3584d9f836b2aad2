#!/bin/sh
# The man pages format without a warning (groff, man, lexgrog), have the
# sections a daemon's pages need, and name every option the programs' --help
# lists, so a page cannot fall behind its program unnoticed.
. "${top_srcdir:?run from make check}/tests/packaging-lib.sh"

for page in ringproxy.8 ring-tool.8 ringbench.1 ringproxy.conf.5; do
    f="$top/etc/man/$page"
    [ -f "$f" ] || { bad "$page is missing"; continue; }
    out=$(groff -ww -z -man "$f" 2>&1)
    [ -z "$out" ] || bad "groff -ww -z -man $page: $out"
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null)
    [ -z "$out" ] || bad "man --warnings -l $page: $out"
    name=${page%.*}
    lexgrog "$f" 2>&1 | grep -q "\"$name - " || bad "lexgrog finds no NAME line for $name in $page"
    for s in NAME SYNOPSIS DESCRIPTION OPTIONS FILES SIGNALS '"EXIT STATUS"' EXAMPLES '"SEE ALSO"'; do
        grep -qx "\.SH $s" "$f" || bad "$page has no section $s"
    done
done

# Every long option of a program's --help, as the page spells it (\-\-name).
options() { "$@" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u; }
for prog in src/ringproxy:ringproxy.8 tools/ringbench:ringbench.1 tools/ring-tool:ring-tool.8; do
    bin="$build/${prog%%:*}" page="$top/etc/man/${prog#*:}"
    for o in $(options "$bin"); do
        esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
        grep -q -- "$esc" "$page" || bad "${prog#*:} does not document $o (from ${prog%%:*} --help)"
    done
done
# ring-tool's verbs, and ringproxy.conf's options as the sample config lists them.
for v in $("$build/tools/ring-tool" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
    esc=$(printf '%s' "$v" | sed 's/-/\\\\-/g')
    grep -q "^\.B $esc" "$top/etc/man/ring-tool.8" || bad "ring-tool.8 does not document the verb $v"
done
for o in $(sed -n 's/^\([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p' "$top/etc/ringproxy.conf" | sort -u); do
    esc=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
    grep -q "^\.B[IR]* $esc\( \|$\)" "$top/etc/man/ringproxy.conf.5" ||
        bad "ringproxy.conf.5 does not document $o (from etc/ringproxy.conf)"
done
[ $fail -eq 0 ] && echo "ok: 4 man pages format cleanly and cover --help and etc/ringproxy.conf"
exit $fail

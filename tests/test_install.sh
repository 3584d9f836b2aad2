#!/bin/sh
# `make install DESTDIR=...` puts exactly the programs, the man pages, the
# systemd unit and the sample config in place; a second install keeps an
# edited config; uninstall removes everything but that edited config.
. "${top_srcdir:?run from make check}/tests/packaging-lib.sh"
mk() { submake "$@" DESTDIR="$tmp/root"; }

# $(info) prints the values unquoted by any shell.
printf 'print-dirs:\n\t$(info $(bindir)|$(mandir)|$(sysconfdir)|$(systemdsystemunitdir))@:\n' >"$tmp/print.mk"
submake -f Makefile -f "$tmp/print.mk" print-dirs
dirs=$(cat "$tmp/make.out")
IFS='|' read -r bindir mandir sysconfdir unitdir <<EOF2
$dirs
EOF2
conf="$sysconfdir/ringproxy/ringproxy.conf"

listing() { (cd "$tmp/root" && find . ! -type d | sed 's|^\.||' | sort); }
mk install
want=$(printf '%s\n' "$bindir/ring-tool" "$bindir/ringbench" "$bindir/ringproxy" \
    "$mandir/man1/ringbench.1" "$mandir/man5/ringproxy.conf.5" "$mandir/man8/ring-tool.8" \
    "$mandir/man8/ringproxy.8" "$conf" "$unitdir/ringproxy.service" | sort)
got=$(listing)
[ "$got" = "$want" ] || bad "installed files differ:$(printf '\n%s\n' "$want" > "$tmp/want"; printf '%s\n' "$got" | diff "$tmp/want" -)"
cmp -s "$tmp/root$conf" "$top/etc/ringproxy.conf" || bad "$conf is not etc/ringproxy.conf"
unit="$tmp/root$unitdir/ringproxy.service"
grep -qx "ExecStart=$bindir/ringproxy -c $conf" "$unit" || bad "the unit's ExecStart is not $bindir/ringproxy -c $conf"
! grep -q '@[a-z]*@' "$unit" || bad "the unit keeps a placeholder: $(grep '@[a-z]*@' "$unit")"
for p in ringproxy ring-tool ringbench; do
    [ -x "$tmp/root$bindir/$p" ] || bad "$bindir/$p is not executable"
done

echo "# an operator's edit" >>"$tmp/root$conf"
mk install
tail -1 "$tmp/root$conf" | grep -qx "# an operator's edit" || bad "a second make install overwrote the edited $conf"
mk uninstall
got=$(listing)
[ "$got" = "$conf" ] || bad "after uninstall, want only the edited $conf, have: $got"

rm -f "$tmp/root$conf"
mk install
mk uninstall
got=$(listing)
[ -z "$got" ] || bad "uninstall of an unedited install left: $got"
[ $fail -eq 0 ] && echo "ok: make install and uninstall with DESTDIR"
exit $fail

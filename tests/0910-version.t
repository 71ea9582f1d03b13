#!/bin/sh
# One version: -V on every binary prints the Makefile's VERSION; the top
# entry of debian/changelog has that version; no man page is dated after
# that entry (a page changed later needs a new changelog entry).
. "$(dirname "$0")/lib.sh"
cd "$TESTDIR/.." || exit 1

cmds=$(ls cmd/immich-*.c | sed 's|cmd/||; s|\.c$||')
plan $(( $(echo "$cmds" | wc -l) + 2 ))

v=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)
for c in $cmds; do
	run "$c" -V
	is "$rc:$out:$err" "0:$c $v:" "$c -V prints \"$c $v\" and exits 0"
done

if command -v dpkg-parsechangelog >/dev/null 2>&1; then
	cv=$(dpkg-parsechangelog -l debian/changelog -S Version)
	cd_=$(dpkg-parsechangelog -l debian/changelog -S Timestamp)
else	# the same from the file itself
	cv=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)
	cd_=$(date -d "$(sed -n 's/^ -- .*>  //p' debian/changelog |
	    head -n 1)" +%s)
fi
is "$cv" "$v" "debian/changelog's top entry is version $v"
late=
for m in man/*.[157]; do
	d=$(sed -n 's/^\.Dd //p' "$m")
	s=$(date -u -d "$d 00:00" +%s) || s=9999999999
	[ "$s" -le "$cd_" ] || late="$late $m ($d)"
done
is "$late" "" "no man page is dated after the changelog's $v entry"

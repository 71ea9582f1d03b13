#!/bin/sh
# Docs and code agree: every getopt letter of each binary appears in its
# man page's SYNOPSIS and in its usage message, and nothing else does.
. "$(dirname "$0")/lib.sh"
cd "$TESTDIR/.." || exit 1

cmds=$(ls cmd/immich-*.c 2>/dev/null | sed 's|cmd/||; s|\.c$||')
[ -n "$cmds" ] || skip_all "no commands yet"
plan $(( $(echo "$cmds" | wc -l) * 3 ))

letters() { grep -o '[A-Za-z0-9]' | sort -u | tr -d '\n'; }

for c in $cmds; do
	want=$(perl -0ne 'print $1 if /getopt\(\s*argc,\s*argv,\s*"([^"]*)"/' \
	    "cmd/$c.c" | tr -d ':+' | letters)
	syn=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "man/$c.1" 2>/dev/null |
	    perl -ne 'while (/\bFl ([A-Za-z0-9]+)/g) { print "$1\n" }' | letters)
	is "$syn" "$want" "$c: SYNOPSIS options match getopt \"$want\""
	run "$c" -%
	is "$rc" 2 "$c: a bad option exits 2"
	use=$(printf '%s\n' "$err" | sed -n '/usage:/,$p' |
	    perl -ne 'while (/(?<![\w])-([A-Za-z0-9]+)/g) { print "$1\n" }' | letters)
	is "$use" "$want" "$c: usage message options match getopt \"$want\""
done

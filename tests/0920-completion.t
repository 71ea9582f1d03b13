#!/bin/sh
# The bash completion (completion/immich-dedupe): it parses, registers
# itself for every program, offers exactly the options of each program's
# getopt string, file names after -f, directories after -d and -o, and
# the rule names after immich-dupes -r.  The zsh one
# (completion/_immich-dedupe): it parses, compinit registers it for every
# program, and its _arguments specs are each program's getopt letters.
. "$(dirname "$0")/lib.sh"
cd "$TESTDIR/.." || exit 1
command -v bash >/dev/null || skip_all "needs bash"
command -v immich-dupes >/dev/null || skip_all "immich-dupes not built yet"
S=$PWD/completion/immich-dedupe
cmds=$(ls cmd/immich-*.c | sed 's|cmd/||; s|\.c$||')
plan $(( $(echo "$cmds" | wc -l) * 4 + 7 ))

run bash -n "$S"
is "$rc:$err" "0:" "bash -n: the script parses"

# comp WORD... : what the completion offers for the command line WORD...
# (the last word is the one being completed), sorted, one line.
comp() {
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    _immich_dedupe; printf "%s\n" "${COMPREPLY[@]}" | sort |
	    tr "\n" " "' "$S" "$@" 2>&1
}
letters() { grep -o '[A-Za-z0-9]' | sort | sed 's/^/-/' | tr '\n' ' '; }

for c in $cmds; do
	run bash -c '. "$0"; complete -p "$1"' "$S" "$c"
	is "$out" "complete -F _immich_dedupe $c" "complete -p $c"
	want=$(perl -0ne 'print $1 if /getopt\(\s*argc,\s*argv,\s*"([^"]*)"/' \
	    "cmd/$c.c" | tr -d ':+' | letters)
	is "$(comp "$c" -)" "$want" "$c -<TAB>: the options of its getopt string"
done

mkdir -p "$T/w/saved.d" && : >"$T/w/saved.json" && : >"$T/w/other"
cd "$T/w" || exit 1
is "$(comp immich-dupes -f sa)" "saved.d saved.json " \
    "immich-dupes -f: file names"
is "$(comp immich-fetch -d sa)" "saved.d " "immich-fetch -d: directories"
is "$(comp immich-review -q -o '')" "saved.d " "immich-review -o: directories"
is "$(comp immich-dupes -r on)" "online " "immich-dupes -r: rule names"
is "$(comp immich-dupes -r online,ex)" "online,exif " \
    "immich-dupes -r: the last of a comma-separated list"

# ---- zsh
cd "$TESTDIR/.." || exit 1
Z=$PWD/completion/_immich-dedupe
if ! command -v zsh >/dev/null; then
	for _i in $(seq $(( $(echo "$cmds" | wc -l) * 2 + 1 ))); do
		_n=$((_n + 1)); echo "ok $_n # SKIP no zsh"
	done
	exit 0
fi
run zsh -n "$Z"
is "$rc:$err" "0:" "zsh -n: the zsh completion parses"
for c in $cmds; do
	run zsh -fc 'fpath=("$1" $fpath); autoload -Uz compinit
	    compinit -u -d "$2"; print -r -- $_comps[$3]' zsh \
	    "${Z%/*}" "$T/zcompdump" "$c"
	is "$out" "_immich-dedupe" "zsh: compinit registers it for $c"
	want=$(perl -0ne 'print $1 if /getopt\(\s*argc,\s*argv,\s*"([^"]*)"/' \
	    "cmd/$c.c" | tr -d ':+' | letters)
	got=$(sed -n "/^$c)/,/;;/p" "$Z" | grep -o "^[[:space:]]*[\"']-[A-Za-z0-9]" |
	    grep -o '[A-Za-z0-9]$' | letters)
	is "$got" "$want" "zsh: $c's options are its getopt string's"
done

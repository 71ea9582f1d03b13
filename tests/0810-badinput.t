#!/bin/sh
# Bad input never causes damage (DESIGN §4.7): every stage is fed the
# corpus of tests/badinput/gen.py (malformed JSON, a truncated last line,
# lines over 10 MB, NUL bytes, wrong types for every field it reads, the
# keeper among the losers, the same asset in two groups, ids that are not
# UUIDs, hostile file names) between good lines.  Each bad line must be
# named on stderr ("stdin:LINE", "group N" for immich-dupes), every good
# line must come out, the status must be 1 (below 3 when the bad value is
# one the stage may ignore), no crash (status >= 128, a sanitizer report),
# and no file may appear outside the backup folder of a fresh working
# directory.  make check runs one input per stage with every case
# (batch); BADINPUT_EACH=1 (make campaign) runs each case on its own.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for s in dupes consolidate fetch verify trash restore stack dismiss; do
	command -v immich-$s >/dev/null || skip_all "immich-$s not built"
done
EACH=${BADINPUT_EACH:-0}
batch=--batch
[ "$EACH" = 1 ] && batch=

python3 "$TESTDIR/mklib.py" --groups 4 --seed 7 --size 2000 >"$T/lib.json"
fake_start "$T/lib.json"
G=$T/good
mkdir -p "$G" "$T/o" "$T/c"
(
	cd "$G" || exit 1
	curl -sS -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/duplicates" \
	    >dup.json &&
	immich-dupes -q >plan.ndjson &&
	immich-consolidate -q <plan.ndjson >cons.ndjson &&
	immich-fetch -q -d "$G/bk" <cons.ndjson >fetched.ndjson &&
	immich-verify -q <fetched.ndjson >ver.ndjson &&
	immich-trash -q <ver.ndjson >trashed.ndjson
) || { echo "Bail out! the good pipeline failed"; exit 255; }
for s in dupes:dup.json consolidate:plan.ndjson fetch:cons.ndjson \
    verify:fetched.ndjson trash:ver.ndjson restore:trashed.ndjson \
    stack:cons.ndjson dismiss:plan.ndjson; do
	python3 "$TESTDIR/badinput/gen.py" $batch "${s%:*}" "$G/${s#*:}" \
	    "$T/o" || exit 1
done

ncases=$(wc -l <"$T/o/cases.tsv")
nfiles=$(cut -f1 "$T/o/cases.tsv" | uniq | wc -l)
if [ "$EACH" = 1 ]; then
	plan $((ncases + 1))
else
	plan $((ncases + nfiles + 1))
fi

# Everything under $1 except its backup folder bk.
listing() {
	(cd "$1" && find . -path ./bk -prune -o -print | LC_ALL=C sort)
}
evil() { find "$T/c" /tmp -maxdepth 3 -name '*EVIL*' 2>/dev/null |
    grep -v "^$T/o/" | LC_ALL=C sort; }
tried=0 crashes=0 outside=0 i=0
evil0=$(evil)

# Run one input file: sets $C (its working dir), $rc and $why (the
# problems common to every case in it: crash, files written outside).
run_file() {
	file=$1 stage=$2
	i=$((i + 1))
	C=$T/c/$i
	mkdir -p "$C"
	before=$(listing "$C")
	case $stage in
	dupes)	set -- immich-dupes -f "$T/o/$file";;
	fetch)	set -- immich-fetch -d bk;;
	*)	set -- "immich-$stage";;
	esac
	(cd "$C" && "$@" <"$T/o/$file" >"$C.out" 2>"$C.err")
	rc=$?
	after=$(listing "$C")
	why=
	if [ $rc -ge 128 ] || [ $rc = 99 ] ||	# 99: valgrind (VALGRIND=1)
	    grep -Eq 'Sanitizer|runtime error:|^==[0-9]+== ' "$C.err"
	then
		crashes=$((crashes + 1)); why="$why crash(rc $rc)"
	fi
	if [ "$before" != "$after" ]; then
		outside=$((outside + 1)); why="$why wrote: $(printf "%s " "$after")"
	fi
}
# Was bad line (or group) $1 of the last run named on stderr?
named() {
	case $stage in
	dupes)	grep -Eq -- "group $1[^0-9]" "$C.err";;
	*)	grep -Eq -- "stdin:$1[^0-9]" "$C.err";;
	esac
}
result() {	# expect name problems
	case $1 in
	todo)	if [ -z "$3" ]; then echo "ok $((_n + 1)) - $2"
		else echo "not ok $((_n + 1)) - $2 # TODO:$3"; fi
		_n=$((_n + 1));;
	*)	if [ -z "$3" ]; then ok 0 "$2"; else ok 1 "$2"; diag "$3"; fi;;
	esac
}

if [ "$EACH" = 1 ]; then
	while IFS='	' read -r file stage expect badline ngood name; do
		run_file "$file" "$stage"
		tried=$((tried + 1))
		if [ "$expect" != any ]; then
			[ $rc = 1 ] || why="$why rc=$rc(want 1)"
			named "$badline" || why="$why bad line not named"
		else
			[ $rc -lt 3 ] || why="$why rc=$rc"
		fi
		n=$(grep -c '^{' "$C.out")
		[ "$n" -ge "$ngood" ] || why="$why $n lines out, want >= $ngood"
		[ -z "$why" ] || why="$file:$why $(head -c 400 "$C.err")"
		result "$expect" "$stage: $name" "$why"
		rm -rf "$C"
	done <"$T/o/cases.tsv"
else
	for file in $(cut -f1 "$T/o/cases.tsv" | uniq); do
		stage=${file%-batch.in}
		grep "^$file	" "$T/o/cases.tsv" >"$T/cases"
		run_file "$file" "$stage"
		ngood=$(head -1 "$T/cases" | cut -f5)
		[ $rc = 1 ] || why="$why rc=$rc(want 1)"
		grep -o '"goodLine":[0-9]*' "$C.out" | cut -d: -f2 | sort -un \
		    >"$T/goods"
		seq "$ngood" | cmp -s - "$T/goods" ||
		    why="$why good lines missing: $(seq "$ngood" |
		    comm -23 - "$T/goods" | tr '\n' ' ')"
		[ -z "$why" ] || why="$why $(head -c 400 "$C.err")"
		result fail "$stage: $(wc -l <"$T/cases") bad lines among $ngood good ones" "$why"
		while IFS='	' read -r file stage expect badline ngood name
		do
			tried=$((tried + 1))
			why=
			if [ "$expect" != any ] && ! named "$badline"; then
				why="line $badline not named: $(grep -E \
				    "stdin:${badline}[^0-9]|group ${badline}[^0-9]" \
				    "$C.err" | head -c 300)"
			fi
			result "$expect" "$stage: $name" "$why"
		done <"$T/cases"
		rm -rf "$C"
	done
fi
if [ "$(evil)" != "$evil0" ]; then
	outside=$((outside + 1))
	diag "hostile names escaped:" "$(evil)"
fi
rm -rf "$T/o"
figure "bad inputs: $tried tried, $crashes crashes, $outside files outside backup"
[ $crashes = 0 ] && [ $outside = 0 ]
ok $? "bad inputs: no crash, nothing outside the backup folder"

#!/bin/sh
# Bad input never causes damage (DESIGN §4.7): every stage is fed the
# corpus of tests/badinput/gen.py (malformed JSON, a truncated last line,
# lines over 10 MB, NUL bytes, wrong types for every field it reads, the
# keeper among the losers, the same asset in two groups, ids that are not
# UUIDs, hostile file names) between two good lines.  Each bad line must be
# named on stderr ("stdin:LINE", "group N" for immich-dupes), the good
# lines must come out, the status must be 1 (below 3 for the "any" cases),
# no crash (status >= 128, sanitizer report), and no file may appear
# outside the backup folder of a fresh working directory.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for s in dupes consolidate fetch verify trash restore; do
	command -v immich-$s >/dev/null || skip_all "immich-$s not built"
done

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
for s in consolidate:plan fetch:cons verify:fetched trash:ver \
    restore:trashed; do
	python3 "$TESTDIR/badinput/gen.py" "${s%:*}" "$G/${s#*:}.ndjson" \
	    "$T/o" || exit 1
done
python3 "$TESTDIR/badinput/gen.py" dupes "$G/dup.json" "$T/o" || exit 1

ncases=$(wc -l <"$T/o/cases.tsv")
plan $((ncases + 1))

# Everything under $1 except its backup folder bk (and what the test made).
listing() {
	(cd "$1" && find . -path ./bk -prune -o -print | LC_ALL=C sort)
}
evil() { find "$T/c" /tmp -maxdepth 3 -name '*EVIL*' 2>/dev/null |
    grep -v "^$T/o/" | LC_ALL=C sort; }
tried=0 crashes=0 outside=0 i=0
evil0=$(evil)
while IFS='	' read -r file stage expect badline good name; do
	i=$((i + 1))
	C=$T/c/$i
	mkdir -p "$C"
	before=$(listing "$C")
	case $stage in
	dupes)	set -- immich-dupes -q -f "$T/o/$file"; want="group $badline";;
	fetch)	set -- immich-fetch -q -d bk; want="stdin:$badline";;
	*)	set -- "immich-$stage" -q; want="stdin:$badline";;
	esac
	(cd "$C" && "$@" <"$T/o/$file" >"$C.out" 2>"$C.err")
	rc=$?
	tried=$((tried + 1))
	after=$(listing "$C")
	why=
	if [ $rc -ge 128 ] || grep -Eq 'Sanitizer|runtime error:' "$C.err"
	then
		crashes=$((crashes + 1)); why="$why crash(rc $rc)"
	fi
	if [ "$before" != "$after" ]; then
		outside=$((outside + 1)); why="$why wrote:$(echo $after)"
	fi
	if [ "$expect" = fail ]; then
		[ $rc = 1 ] || why="$why rc=$rc(want 1)"
		grep -Fq -- "$want" "$C.err" || why="$why no '$want' on stderr"
	else
		[ $rc -lt 3 ] || why="$why rc=$rc"
	fi
	for d in $(echo "$good" | tr , ' '); do
		grep -Fq "\"$d\"" "$C.out" || why="$why good $d not out"
	done
	if [ -z "$why" ]; then
		ok 0 "$stage: $name"
	else
		ok 1 "$stage: $name"
		diag "$file:$why" "$(head -c 600 "$C.err")"
	fi
	rm -rf "$C"
done <"$T/o/cases.tsv"
if [ "$(evil)" != "$evil0" ]; then
	outside=$((outside + 1))
	diag "hostile names escaped:" "$(evil)"
fi
rm -rf "$T/o"
diag "bad inputs: $tried tried, $crashes crashes, $outside files outside backup"
[ $crashes = 0 ] && [ $outside = 0 ]
ok $? "bad inputs: no crash, nothing outside the backup folder"

#!/bin/sh
# The progress display of a whole pipeline (issue 21).  The README's
# pipeline runs in a pseudo-terminal (tmux) against the fake, under a rate
# limit slow enough to watch; the screen, captured several times while it
# runs, shows one row per stage in pipeline order, each whole (none
# overwritten by another), each in its own terms, with a total and an ETA
# once the plan's size is known; at the end the rows are the summary lines,
# in pipeline order.  Then the same pipeline with stderr in a file: only
# the summary lines, one per stage.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || skip_all "needs tmux"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
plan 19

# The stages' shared state lives in the runtime directory: ours alone.
mkdir -m 700 "$T/run"
export XDG_RUNTIME_DIR="$T/run"

python3 "$TESTDIR/mklib.py" --groups 50 --size 1000 >"$T/lib.json" || exit 1
fake_start "$T/lib.json"
# One download answered 503 once: immich-fetch says it retries, mid-run.
fake_ctl POST /_fake/faults \
    '{"path":"/original$","action":"status","status":503,"times":1,"skip":10}' \
    >/dev/null

STAGES="immich-consolidate immich-fetch immich-verify immich-trash"
warn='^immich-fetch: GET /api/assets/[-0-9a-f]+/original: HTTP 503 Service Unavailable, retrying in [0-9.]+ s \(attempt 2 of 6\)$'

# The README's commands, as a user would type them.
cat >"$T/run.sh" <<EOF
cd "$T" || exit 1
export PATH="$PATH" IMMICH_INSTANCE_URL="$IMMICH_INSTANCE_URL"
export IMMICH_API_KEY="$IMMICH_API_KEY" IMMICH_RATE_FILE="$T/rate.state"
export IMMICH_RATE=15 XDG_RUNTIME_DIR="$T/run"
immich-dupes > plan.ndjson
jq -c 'select(.review == [])' plan.ndjson |
    immich-consolidate |
    immich-fetch -d backup |
    immich-verify |
    immich-trash > done.ndjson
echo "\$?" >status
sleep 600
EOF
sock="$T/tmux.sock"
tmux -S "$sock" -f /dev/null new-session -d -s p -x 120 -y 40 \
    "sh '$T/run.sh'" || exit 1
at_exit "tmux -S '$sock' kill-server 2>/dev/null"
# (-J: a line longer than the screen, wrapped, as one)
screen() { tmux -S "$sock" capture-pane -pJ -t p | sed 's/ *$//' | grep -v '^$'; }

# The rows of one capture, checked: every stage once, in pipeline order,
# on consecutive lines, each line one stage's whole row (live) or its
# summary line; any other line is immich-dupes's summary or immich-fetch's
# warning, whole.  Prints what is wrong, if anything.
row_re() {
	printf '^%s: ([0-9]+(/~?[0-9]+)? groups?(, ETA [0-9:]+)?, [0-9]+ assets?(, [0-9]+ held)?, [0-9]+ failed|[0-9]+ records?, [0-9]+ assets?, [0-9]+ failed, .* s(, .*)?$)' "$1"
}
check_rows() {
	grep -nvE "$warn" "$1" >"$T/rows"
	prev=
	for s in $STAGES; do
		n=$(grep -c "^[0-9]*:$s: " "$T/rows")
		[ "$n" = 1 ] || { echo "$s: $n rows"; continue; }
		r=$(grep "^[0-9]*:$s: " "$T/rows")
		l=${r%%:*} r=${r#*:}
		[ -z "$prev" ] || [ "$l" = $((prev + 1)) ] ||
		    echo "$s: on line $l, after line $prev"
		prev=$l
		printf '%s\n' "$r" | grep -Eq "$(row_re "$s")" ||
		    echo "$s: not a whole row: $r"
		[ "$(printf '%s\n' "$r" | grep -o 'immich-' | wc -l)" = 1 ] ||
		    echo "$s: another stage on its line"
	done
	grep -vE "^[0-9]+:($(echo $STAGES | tr ' ' '|')): " "$T/rows" |
	    grep -vE '^[0-9]+:immich-dupes: [0-9]+ records, ' |
	    sed 's/^[0-9]*:/other line: /'
}

# Captures at points of the run the fake's request log marks.
ncap=0 bad= noeta= nolive= terms=
for at in 20 30 40 50 60 70; do
	i=0
	while [ "$(wc -l <"$FAKE_LOG" 2>/dev/null || echo 0)" -lt $at ] &&
	    [ ! -e "$T/status" ] && [ $i -lt 600 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	screen >"$T/cap"
	[ -e "$T/status" ] && break
	ncap=$((ncap + 1))
	cp "$T/cap" "$T/cap.$ncap"
	w=$(check_rows "$T/cap")
	[ -z "$w" ] || bad="$bad
capture $ncap: $w"
	c=$(grep '^immich-consolidate: ' "$T/cap")
	case $c in
	*" records, "*) ;;		# it has ended
	*) printf '%s\n' "$c" | grep -Eq '/~?[0-9]+ groups, ETA [0-9]+:[0-9]{2}' ||
	    noeta="$noeta $ncap" ;;
	esac
	grep -Eq '^immich-(consolidate|fetch|verify|trash): [0-9]+(/~?[0-9]+)? groups' \
	    "$T/cap" || nolive="$nolive $ncap"
	# bytes only where bytes move; the rate limit's wait where it slows
	for s in immich-consolidate immich-trash; do
		grep "^$s: " "$T/cap" | grep -q ' groups.*B/s' &&
		    terms="$terms $ncap:$s-bytes"
	done
	for s in immich-fetch immich-verify; do
		grep "^$s: " "$T/cap" | grep -Eq ': [1-9][0-9]*(/~?[0-9]+)? groups' &&
		    ! grep "^$s: " "$T/cap" | grep -q 'B/s' &&
		    terms="$terms $ncap:$s-nobytes"
	done
done
i=0
while [ ! -e "$T/status" ] && [ $i -lt 1200 ]; do
	sleep 0.05
	i=$((i + 1))
done
screen >"$T/end"
for f in "$T"/cap.*; do
	[ -e "$f" ] && diag "--- ${f##*/}" "$(cat "$f")"
done
diag "--- at the end" "$(cat "$T/end")"

ok $([ $ncap -ge 3 ]; echo $?) "several captures while it runs ($ncap)"
is "$bad" "" "each capture: every stage's row, whole, in pipeline order"
is "$noeta" "" "each capture: the first stage shows a total and an ETA"
is "$nolive" "" "each capture: live rows (groups, not summary lines)"
is "$terms" "" "bytes and B/s on fetch and verify only"
if [ "${IMMICH_CONFORMANCE:-0}" = 1 ]; then
	# Through Prism each request is slower than the limit's interval:
	# the limit is not what slows the run, and no share is shown.
	_n=$((_n + 1)); echo "ok $_n # SKIP through Prism the limit does not slow the run"
else
	grep -h '^immich-consolidate: ' "$T"/cap.* | grep -q 'waiting for the 15/s limit'
	ok $? "the rate limit's wait is shown while it slows the run"
fi
is "$(cat "$T/status" 2>/dev/null)" 0 "the pipeline exited 0"
is "$(check_rows "$T/end")" "" "at the end: the rows are whole, in order"
is "$(grep -Ec '^immich-[a-z]+: [0-9]+(/~?[0-9]+)? groups' "$T/end")" 0 \
    "at the end: no live row left"
is "$(grep -E '^immich-[a-z]+: [0-9]+ records?, ' "$T/end" | cut -d: -f1 |
    tr '\n' ' ')" "immich-dupes $STAGES " \
    "at the end: the summary lines, in pipeline order"
is "$(sed -n '$p' "$T/end" | cut -d: -f1)" "immich-trash" \
    "nothing after them (the cursor left below the block)"
is "$(grep -Ec "$warn" "$T/end")" 1 \
    "immich-fetch's warning, whole, on its own line"
is "$(grep -vE "$warn" "$T/end" | grep -vEc '^immich-[a-z]+: [0-9]+ records?, ')" 0 \
    "the screen holds only that and the five summary lines"
l=$(grep -nE "$warn" "$T/end" | cut -d: -f1)
ok $([ "${l:-99}" -lt "$(grep -n '^immich-consolidate: ' "$T/end" | cut -d: -f1)" ]; echo $?) \
    "... the warning above the block"
is "$(ls "$T/run/immich-dedupe" 2>/dev/null | grep -c '^progress\.')" 0 \
    "no state file left behind"

# ---- stderr in a file: no live lines, one summary line per stage ----------
fake_stop
fake_start "$T/lib.json"
rm -rf "$T/backup"
(
	cd "$T" || exit 1
	IMMICH_RATE=0
	immich-dupes >plan.ndjson 2>"$T/err1"
	jq -c 'select(.review == [])' plan.ndjson |
	    immich-consolidate |
	    immich-fetch -d backup |
	    immich-verify |
	    immich-trash >done.ndjson
) 2>"$T/err"
rc=$?
cat "$T/err1" >>"$T/err"
diag "$(cat "$T/err")"
is "$rc" 0 "stderr in a file: the pipeline exited 0"
is "$(grep -c . "$T/err")" 5 "... five lines, one per stage"
is "$(grep -Ec "^immich-[a-z]+: [0-9]+ records?, [0-9]+ assets?, [0-9]+ failed, [0-9.]+ [KMG]?i?B, [0-9]+ requests?, [0-9.]+ s(, .*)?\$" "$T/err")" 5 \
    "... each one a summary line"
is "$(cut -d: -f1 "$T/err" | sort | tr '\n' ' ')" \
    "immich-consolidate immich-dupes immich-fetch immich-trash immich-verify " \
    "... one for each stage"

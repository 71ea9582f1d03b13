#!/bin/sh
# Request economy (DESIGN §5, issue 17): the whole pipeline
#   immich-dupes | immich-consolidate | immich-fetch | immich-verify |
#   immich-trash
# over 1,000 plain pairs (nothing to move) in 20 albums costs at most 1.15
# requests per loser, counted in the fake's request log; and a run with
# groups that have metadata to move says what each such group costs.
# Each stage's count is printed (# lines) for the record.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "needs jq"
for s in dupes consolidate fetch verify trash; do
	command -v immich-$s >/dev/null || skip_all "immich-$s not built"
done
plan 6
N=${REQUESTS_PAIRS:-1000}

# The requests each stage made (from its summary line), and the log's.
pipeline() {
	immich-dupes 2>"$T/e1" |
	immich-consolidate 2>"$T/e2" |
	immich-fetch -d "$T/backup$1" 2>"$T/e3" |
	immich-verify 2>"$T/e4" |
	immich-trash 2>"$T/e5" >"$T/done$1.ndjson"
}
stage_requests() {
	for i in 1 2 3 4 5; do
		sed -n 's/.*, \([0-9]*\) requests\{0,1\}, .*/\1/p' "$T/e$i" |
		    tail -n 1
	done | tr '\n' ' '
}

python3 "$TESTDIR/mklib.py" --groups "$N" --plain --albums 20 --size 2000 \
    >"$T/lib.json" || exit 1
fake_start "$T/lib.json"
pipeline 1
n=$(fake_log_count true)
nt=$(jq -s '[.[] | .trashed // {} | to_entries[] | select(.value.ok)] |
    length' "$T/done1.ndjson")
figure "requests: $N plain pairs in 20 albums: $n requests for $nt losers" \
    "  per stage (dupes consolidate fetch verify trash): $(stage_requests)"
is "$nt" "$N" "every loser trashed"
is "$(grep -c 'held back (' "$T/e5")" 0 "none held back"
ok "$(awk -v n="$n" -v l="$N" 'BEGIN { exit !(n <= 1.15 * l) }'; echo $?)" \
    "at most 1.15 requests per loser ($n for $N)"
diag "$(awk -v n="$n" -v l="$N" 'BEGIN { printf "%.3f requests per loser\n", n / l }')"

# Groups with metadata to move: what each costs beyond a plain pair.
M=${REQUESTS_MOVING:-50}
python3 "$TESTDIR/mklib.py" --groups "$N" --plain --albums 20 --size 2000 \
    --moving "$M" >"$T/lib2.json" || exit 1
fake_stop
rm -f "$T/fake.log"
fake_start "$T/lib2.json"
pipeline 2
m=$(fake_log_count true)
nt=$(jq -s '[.[] | .trashed // {} | to_entries[] | select(.value.ok)] |
    length' "$T/done2.ndjson")
is "$nt" "$((N + M))" "every loser trashed, those with metadata too"
is "$(jq -s '[.[] | select(.consolidated.changes | length > 0)] | length' \
    "$T/done2.ndjson")" "$M" "... after their metadata moved"
figure "requests: + $M pairs with metadata to move (GPS, description," \
    "  rating, favourite, album, tag): $m requests, $((m - n)) more" \
    "  than the plain pairs alone:" \
    "  $(awk -v d=$((m - n)) -v m="$M" 'BEGIN { printf "%.2f", d / m }') per such group" \
    "  per stage (dupes consolidate fetch verify trash): $(stage_requests)"
ok "$(jq -s '[.[] | select(.consolidated.confirmed | not)] | length' \
    "$T/done2.ndjson" | grep -qx 0; echo $?)" "every consolidation confirmed"

#!/bin/sh
# immich-restore killed (SIGKILL) at each request that changes something,
# while the server holds its reply (the change made), then run again on
# the same input: the server's whole state ends as the undo leaves it
# uninterrupted (tests/0612), and the rerun exits 0.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash immich-stack immich-dismiss immich-restore; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
. "$TESTDIR/undo-fixture.sh"

# The reference: every request of an uninterrupted undo that is not a
# GET, as (method, path with ids as a pattern, how many came before it).
fresh ref
n0=$(wc -l <"$FAKE_LOG")
IN=$T/done.ndjson run immich-restore -q
[ "$rc" = 0 ] || { echo "Bail out! the reference undo failed: $err"; exit 255; }
tail -n +$((n0 + 1)) "$FAKE_LOG" | jq -c 'select(.method != "GET") |
    [.method, ("^" + (.path | gsub("[0-9a-f]{8}-[0-9a-f-]{27}";
    "[^/]+")) + "$")]' | awk '{ n[$0]++; print n[$0] - 1 "\t" $0 }' \
    >"$T/points"
# make check: the first request of each kind; make campaign
# (CAMPAIGN_LONG=1): every one.
all=$(wc -l <"$T/points" | tr -d ' ')
[ "${CAMPAIGN_LONG:-0}" = 1 ] || { grep '^0	' "$T/points" >"$T/p0"; mv "$T/p0" "$T/points"; }
npt=$(wc -l <"$T/points" | tr -d ' ')
plan $((2 * npt + 1))
ok $([ "$npt" -ge 10 ]; echo $?) "$npt kill points (of $all requests that change something)"
figure "restore crashes: $npt kill points of $all"

while IFS="$(printf '\t')" read -r skip mp; do
	m=$(printf '%s' "$mp" | jq -r '.[0]')
	p=$(printf '%s' "$mp" | jq -r '.[1]')
	fresh "k$skip$(printf %s "$mp" | cksum | cut -d" " -f1)"
	fake_ctl POST /_fake/faults "$(jq -cn --arg m "$m" --arg p "$p" \
	    --argjson s "$skip" '{method: $m, path: $p, skip: $s,
	    action: "delay", seconds: 1, after: true}')" >/dev/null
	immich-restore -q <"$T/done.ndjson" >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ "$(fake_ctl GET /_fake/faults | jq length)" != 0 ] &&
	    [ $i -lt 300 ]; do
		sleep 0.05		# until the request has arrived
		i=$((i + 1))
	done
	kill -9 $pid
	wait $pid 2>/dev/null
	want=$(($(jq -c --arg m "$m" --arg p "$p" 'select(.method == $m and
	    (.path | test($p)))' "$FAKE_LOG" | wc -l) + 1))
	i=0
	while [ "$(jq -c --arg m "$m" --arg p "$p" 'select(.method == $m and
	    (.path | test($p)))' "$FAKE_LOG" | wc -l)" -lt "$want" ] &&
	    [ $i -lt 300 ]; do
		sleep 0.05		# until the server has answered it
		i=$((i + 1))
	done
	IN=$T/done.ndjson run immich-restore -q
	expect_err 0 '' "killed at $m $p (#$((skip + 1))): the rerun exits 0, says nothing"
	printf '%s\n' "$out" >"$T/restored.ndjson"
	fake_state >"$T/after.json"
	is "$(statediff "$T/before.json" "$T/after.json" \
	    "$T/restored.ndjson" "$SKIP")" "" "... and the whole state is back"
done <"$T/points"

#!/bin/sh
# immich-trash reads the server in bulk (one GET /duplicates per batch,
# the albums' and named people's members), and still holds every loser
# that a per-asset read would: an album a loser joined between two
# batches (only changed albums are read again), a keeper trashed between
# two batches (no longer listed: settled by the bulk checksum check),
# named people when there are more of them than losers (each loser read
# on its own), and when GET /duplicates fails (each asset read instead).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
plan 12

F=$T/f
python3 "$TESTDIR/trash-fixture.py" "$F" alb1 alb2 kt1 kt2 people dupfail ||
    exit 1
. "$F/ids.sh"
LATER=00000a1b-0000-4000-8000-000000000002
BOB=00000b0b-0000-4000-8000-000000000003
CARL=00000b0b-0000-4000-8000-000000000004
# A second album, empty at first; Bob and Carl, named, on the people
# case's keeper (three named people, one loser).
jq --arg a "$LATER" --arg k "$K_people" --arg b "$BOB" --arg c "$CARL" '
    .albums += [{id: $a, albumName: "Later", assetIds: []}] |
    .assets |= map(if .id == $k then .people = [{id: $b, name: "Bob"},
        {id: $c, name: "Carl"}] else . end)' "$F/lib.json" >"$F/lib2.json"
mv "$F/lib2.json" "$F/lib.json"
fake_start "$F/lib.json"
mutate() { fake_ctl POST /_fake/mutate "$1" >/dev/null; }
held() { printf '%s\n' "$out" | jq -r --arg l "$1" \
    '.trashed[$l] // empty | if .ok then "ok" else .held end'; }
trashed() { fake_state | jq -r --arg id "$1" \
    '.assets[] | select(.id == $id) | .isTrashed'; }
reqs() { fake_state | jq .requests; }

# Two batches (-b 1); while the first one's DELETE is held by the server,
# something changes that only the second batch's reads can see.  The
# checks of one record cost what a dry run of it costs (without who I am
# and the DELETE): the first DELETE is the request after those.
between() {	# FILE1 FILE2 MUTATION
	r0=$(reqs)
	immich-trash -q -n <"$1" >/dev/null 2>&1
	k=$(($(reqs) - r0 + 2))
	fake_ctl POST /_fake/faults '[{"method":"DELETE","path":"^/api/assets$",
	    "action":"delay","seconds":1,"times":1}]' >/dev/null
	cat "$1" "$2" >"$F/in"
	r0=$(reqs)
	immich-trash -q -b 1 <"$F/in" >"$T/.out" 2>"$T/.err" &
	pid=$!
	i=0
	while [ "$(reqs)" -lt $((r0 + k)) ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	mutate "$3"
	wait $pid
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}

# An album the second loser joined after the first batch's album read.
between "$F/alb1.ndjson" "$F/alb2.ndjson" \
    "{\"id\":\"$L_alb2\",\"addToAlbum\":\"$LATER\"}"
is "$rc $(held "$L_alb1") $(held "$L_alb2")" "1 ok loser-changed" \
    "an album joined between batches: held (loser-changed)"
like "$(printf '%s\n' "$out" | jq -r ".trashed[\"$L_alb2\"].detail // empty")" \
    "added to album $LATER \\(Later\\) since consolidation" "... naming the album"
is "$(trashed "$L_alb2")" false "... and not deleted"
is "$(fake_log_count ".path==\"/api/search/metadata\" and .body.albumIds==[\"$LATER\"]") $(fake_log_count ".path==\"/api/search/metadata\" and .body.albumIds==[\"$ALBUM\"]")" "3 2" \
    "the changed album read again by the second batch (3: the dry run, then each batch), the other not (2: its count fell, nothing was added)"

# A keeper trashed after the first batch's GET /duplicates.
between "$F/kt1.ndjson" "$F/kt2.ndjson" "{\"id\":\"$K_kt2\",\"trash\":true}"
is "$rc $(held "$L_kt1") $(held "$L_kt2")" "1 ok keeper-trashed" \
    "a keeper trashed between batches: its loser held (keeper-trashed)"
is "$(trashed "$L_kt2")" false "... and not deleted"

# More named people (Anna, Bob, Carl) than losers (1): the loser is read
# on its own, and Anna, whom the keeper does not show, holds it.
s0=$(fake_log_count ".path==\"/api/assets/$L_people\"")
IN=$F/people.ndjson run immich-trash -q
is "$rc $(held "$L_people")" "1 people" \
    "more named people than losers: the loser read on its own, held (people)"
is "$(($(fake_log_count ".path==\"/api/assets/$L_people\"") - s0))" 1 \
    "... with one GET /assets/{id} of it"
is "$(fake_log_count '.path=="/api/search/metadata" and .body.personIds != null')" 0 \
    "... and no search per person"

# GET /duplicates fails: each asset is read instead, and the loser whose
# checksum changed is still caught.
mutate "{\"id\":\"$L_dupfail\",\"content\":\"other bytes\"}"
fake_ctl POST /_fake/faults '[{"method":"GET","path":"^/api/duplicates$",
    "status":500,"times":10}]' >/dev/null
IN=$F/dupfail.ndjson run immich-trash
is "$rc $(held "$L_dupfail")" "1 checksum-changed" \
    "GET /duplicates fails: each asset read, the changed loser held"
like "$err" "GET /api/duplicates: HTTP 500 .*: reading each asset instead" \
    "... saying so"
is "$(trashed "$L_dupfail")" false "... and not deleted"

#!/bin/sh
# immich-consolidate and named people (issue 18): a person someone named
# on a loser whom the keeper does not show gets a face on the keeper
# (POST /faces, sent once), its box scaled to the keeper's size when both
# images have the same aspect ratio (within 1 %), confirmed by reading
# the keeper's faces back (faceId recorded); otherwise the group is held
# with review code people, or with -a people the face is noted in
# notMoved.  A face no one named and a person the keeper shows already are
# left alone; a second run sends nothing; a library with no named person
# costs no face read.  Every change records "was", the keeper's value
# before.
. "$(dirname "$0")/lib.sh"

command -v immich-consolidate >/dev/null || skip_all "immich-consolidate not built"
command -v jq >/dev/null || skip_all "jq missing"
plan 42

K() { printf '%08d-0000-4000-8000-000000000000' "$1"; }
L() { printf '%08d-0000-4000-8000-%012d' "$1" "$2"; }
ANNA=00000b0b-0000-4000-8000-000000000001
BOB=00000b0b-0000-4000-8000-000000000002
face() {	# person-json x1 y1 x2 y2 w h
	printf '{"person":%s,"boundingBoxX1":%s,"boundingBoxY1":%s,"boundingBoxX2":%s,"boundingBoxY2":%s,"imageWidth":%s,"imageHeight":%s,"sourceType":"manual"}' "$@"
}
A="{\"id\":\"$ANNA\",\"name\":\"Anna\"}"
B="{\"id\":\"$BOB\",\"name\":\"Bob\"}"

cat >"$T/lib.json" <<EOF
{"apiKey": "k-people", "assets": [
 {"id": "$(K 1)", "width": 4000, "height": 3000,
  "faces": [$(face "$B" 10 10 50 50 4000 3000)]},
 {"id": "$(L 1 1)", "width": 1000, "height": 750,
  "exifInfo": {"description": "one"},
  "faces": [$(face "$A" 100 200 300 450 1000 750),
            $(face "$B" 5 5 20 20 1000 750),
            $(face null 400 400 500 500 1000 750)]},
 {"id": "$(K 2)", "width": 4000, "height": 3000},
 {"id": "$(L 2 1)", "width": 1000, "height": 1000,
  "exifInfo": {"description": "two"},
  "faces": [$(face "$A" 100 100 200 200 1000 1000)]},
 {"id": "$(K 3)", "width": 3000, "height": 2000},
 {"id": "$(L 3 1)", "width": 1000, "height": 667,
  "faces": [$(face "$A" 100 100 200 200 1000 667)]},
 {"id": "$(K 4)", "width": 400, "height": 300},
 {"id": "$(L 4 1)", "width": 400, "height": 300,
  "faces": [$(face "$A" 1 2 3 4 400 300)]},
 {"id": "$(K 5)", "width": 400, "height": 300},
 {"id": "$(L 5 1)", "width": 400, "height": 300,
  "faces": [$(face "$A" 1 2 3 4 400 300)]},
 {"id": "$(K 6)", "width": 400, "height": 300},
 {"id": "$(L 6 1)", "width": 400, "height": 300,
  "faces": [$(face "$A" 1 2 3 4 400 300)]}
]}
EOF
fake_start "$T/lib.json"

snap() { curl -sS -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/assets/$1" | jq -c .; }
faces_of() { curl -sS -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/faces?id=$1"; }
# A plan record for group N with loser 1 (the server's copies, as
# immich-dupes would take them from GET /duplicates: people []).
rec() {
	printf '{"duplicateId":"d%07d-0000-4000-8000-000000000000","assets":[%s,%s],"keep":"%s","trash":["%s"],"why":"test","review":[]}\n' \
	    "$1" "$(snap "$(K "$1")" | jq -c '.people = []')" \
	    "$(snap "$(L "$1" 1)" | jq -c '.people = []')" "$(K "$1")" "$(L "$1" 1)"
}
out_of() { printf '%s\n' "$out" | jq -c --arg k "$1" 'select(.keep == $k)'; }
posts() { fake_log_count ".method==\"POST\" and .path==\"/api/faces\" and .body.assetId==\"$1\""; }
mark() { : >"$FAKE_LOG"; }

# --- 1. same aspect ratio: the face is made on the keeper, scaled ---------
rec 1 >"$T/p1.ndjson"
mark
IN=$T/p1.ndjson run immich-consolidate -q
is "$rc:$err" "0:" "copied: exit 0, nothing on stderr"
is "$(fake_log_count '.method=="POST" and .path=="/api/faces"')" 1 "one POST /faces"
is "$(fake_log_count '.method=="GET" and .path=="/api/faces" and .query.id=="'"$(K 1)"'"')" 1 \
    "the keeper's faces read back once to confirm"
is "$(jq -c 'select(.method=="POST" and .path=="/api/faces") | .body' "$FAKE_LOG")" \
    "{\"assetId\":\"$(K 1)\",\"personId\":\"$ANNA\",\"imageWidth\":4000,\"imageHeight\":3000,\"x\":400,\"y\":800,\"width\":800,\"height\":1000}" \
    "its body: Anna's box scaled 4x to the keeper's 4000x3000"
is "$(snap "$(K 1)" | jq -c '[.people[].name] | sort')" '["Anna","Bob"]' \
    "the keeper now shows Anna (and still Bob)"
fid=$(faces_of "$(K 1)" | jq -r --arg a "$ANNA" '.[] | select(.person.id == $a) | .id')
is "$(out_of "$(K 1)" | jq -c '.consolidated.changes[] | select(.field == "face")')" \
    "{\"field\":\"face\",\"value\":{\"personId\":\"$ANNA\",\"name\":\"Anna\",\"imageWidth\":4000,\"imageHeight\":3000,\"x\":400,\"y\":800,\"width\":800,\"height\":1000},\"from\":\"$(L 1 1)\",\"was\":null,\"faceId\":\"$fid\"}" \
    "the face change: value, from, was null, faceId of the face made on the keeper"
is "$(out_of "$(K 1)" | jq -c '.consolidated.confirmed')" true "confirmed"
is "$(out_of "$(K 1)" | jq -c '.consolidated.changes[] | select(.field == "description") | .was')" null \
    "was: null for a description the keeper had not"
is "$(fake_log_count '.method=="GET" and .path=="/api/people"')" 1 "GET /people once"
is "$(faces_of "$(K 1)" | jq -c '[.[] | select(.person == null)] | length')" 0 \
    "the face no one named is not copied"

# A second run: the keeper shows Anna, nothing is sent.
mark
IN=$T/p1.ndjson run immich-consolidate -q
is "$rc:$err $(out_of "$(K 1)" | jq -c '.consolidated.changes')" "0: []" \
    "second run: nothing to move"
is "$(fake_log_count '.method!="GET"')" 0 "second run: no POST, no PUT"

# --- 2. another aspect ratio: held people --------------------------------
rec 2 >"$T/p2.ndjson"
mark
IN=$T/p2.ndjson run immich-consolidate -q
is "$rc" 1 "another aspect ratio: exit 1"
is "$err" "immich-consolidate: stdin:1: asset $(L 2 1): held back (people): it shows Anna (person $ANNA), whom the keeper $(K 2) does not, and the face cannot be copied faithfully: the keeper is 4000x3000, the face's image 1000x1000: aspect ratios more than 1% apart" \
    "stderr says who and why"
is "$(printf '%s\n' "$out" | jq -c '.consolidated')" '{"skipped":"review"}' "consolidated: skipped review"
is "$(printf '%s\n' "$out" | jq -c '[.review[] | {code, asset}]')" "[{\"code\":\"people\",\"asset\":\"$(L 2 1)\"}]" \
    "the record gains review code people for the loser"
like "$(printf '%s\n' "$out" | jq -r '.review[0].detail')" "^it shows Anna .*aspect ratios more than 1% apart" \
    "the reason in its detail"
is "$(fake_log_count '.method!="GET"')" 0 "held: nothing sent (not even the description)"
is "$(snap "$(K 2)" | jq -c '[.people, .exifInfo.description]')" '[[],null]' "the keeper unchanged"

# The held record through consolidate again: still held (its review flag).
cp "$T/.out" "$T/p2held.ndjson"
IN=$T/p2held.ndjson run immich-consolidate -q
is "$rc:$err:$(printf '%s\n' "$out" | jq -c '.consolidated')" '1::{"skipped":"review"}' \
    "run again: held by its own flag, silently"

# -a people: the rest is moved, the face noted as not moved.
mark
IN=$T/p2.ndjson run immich-consolidate -q -a people
is "$rc:$err" "0:" "-a people: exit 0"
is "$(printf '%s\n' "$out" | jq -c '[.consolidated.confirmed, [.consolidated.changes[].field], [.consolidated.notMoved[] | .field, .from]]')" \
    "[true,[\"description\"],[\"face\",\"$(L 2 1)\"]]" "-a people: description moved, the face in notMoved"
is "$(posts "$(K 2)")" 0 "-a people: no POST /faces"

# --- 3. within the 1 % tolerance (3000x2000 and 1000x667) -----------------
rec 3 >"$T/p3.ndjson"
IN=$T/p3.ndjson run immich-consolidate -q
is "$rc:$err" "0:" "1000x667 onto 3000x2000: copied"
is "$(out_of "$(K 3)" | jq -c '.consolidated.changes[0].value | [.imageWidth, .imageHeight, .x, .y, .width, .height]')" \
    "[3000,2000,300,300,300,300]" "the box scaled per axis"

# --- 4. POST /faces refused with 503: sent once, not confirmed ------------
fake_ctl POST /_fake/faults '[{"method":"POST","path":"^/api/faces$","action":"status","status":503,"times":-1}]' >/dev/null
rec 4 >"$T/p4.ndjson"
mark
IN=$T/p4.ndjson run immich-consolidate -q
fake_ctl DELETE /_fake/faults >/dev/null
is "$rc" 1 "503: exit 1"
is "$(posts "$(K 4)")" 1 "POST /faces sent once, never retried (a second face would be a second tag)"
is "$(printf '%s\n' "$out" | jq -c '.consolidated.confirmed')" false "not confirmed"
like "$err" "POST /api/faces: HTTP 503" "stderr quotes the refusal"
IN=$T/p4.ndjson run immich-consolidate -q
is "$rc:$err:$(printf '%s\n' "$out" | jq -c '.consolidated.confirmed')" "0::true" "run again: copied and confirmed"
is "$(faces_of "$(K 4)" | jq -c 'map(.person.name)')" '["Anna"]' "one face on the keeper"

# --- 5. POST /faces answered 201 but the face not made: not confirmed ------
fake_ctl POST /_fake/faults '[{"method":"POST","path":"^/api/faces$","action":"status","status":201,"text":""}]' >/dev/null
rec 5 >"$T/p5.ndjson"
IN=$T/p5.ndjson run immich-consolidate -q
fake_ctl DELETE /_fake/faults >/dev/null
is "$rc" 1 "a face that did not arrive: exit 1"
is "$err" "immich-consolidate: stdin:1: asset $(K 5): the face of Anna (person $ANNA) did not arrive on the keeper" \
    "stderr says which face"
is "$(printf '%s\n' "$out" | jq -c '[.consolidated.confirmed, (.consolidated.changes[0] | has("faceId"))]')" \
    "[false,false]" "not confirmed, no faceId"

# --- 5b. POST /faces made, but the connection closed before the reply ------
fake_ctl POST /_fake/faults '[{"method":"POST","path":"^/api/faces$","action":"close","process":true}]' >/dev/null
rec 6 >"$T/p6.ndjson"
IN=$T/p6.ndjson run immich-consolidate -q
fake_ctl DELETE /_fake/faults >/dev/null
is "$rc" 1 "no reply to POST /faces: exit 1, not fatal (the run goes on)"
like "$err" "asset $(K 6): POST /api/faces: no reply" "stderr says no reply"
is "$(posts "$(K 6)")" 1 "not sent again"
f6=$(faces_of "$(K 6)" | jq -r '.[0].id')
is "$(printf '%s\n' "$out" | jq -c '[.consolidated.confirmed, .consolidated.changes[0].faceId]')" \
    "[false,\"$f6\"]" "not confirmed, but the face found on the keeper is recorded (faceId, for an undo)"

# --- 6. DELETE /faces/{id} (helper for undo) on the fake -----------------
st=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "x-api-key: $IMMICH_API_KEY" \
    -H 'Content-Type: application/json' --data '{"force":true}' "$FAKE/api/faces/$fid")
is "$st $(snap "$(K 1)" | jq -c '[.people[].name]')" '204 ["Bob"]' \
    "fake: DELETE /faces/{id} takes the face off (the keeper no longer shows Anna)"

# --- 7. was: the keeper's value before each change ------------------------
cat >"$T/lib2.json" <<EOF
{"apiKey": "k-people", "assets": [
 {"id": "$(K 9)", "visibility": "timeline",
  "exifInfo": {"latitude": 0, "longitude": 0, "description": "  ", "rating": -1}},
 {"id": "$(L 9 1)", "isFavorite": true, "visibility": "archive",
  "exifInfo": {"latitude": 1.5, "longitude": 2.5, "description": "nine",
   "rating": 4, "dateTimeOriginal": "2020-01-01T00:00:00.000Z", "timeZone": "UTC"}}
]}
EOF
fake_ctl POST /_fake/add "$(cat "$T/lib2.json")" >/dev/null
rec 9 >"$T/p9.ndjson"
mark
IN=$T/p9.ndjson run immich-consolidate -q
is "$rc:$err" "0:" "was: exit 0"
is "$(printf '%s\n' "$out" | jq -c '[.consolidated.changes[] | {(.field): .was}] | add')" \
    '{"gps":{"latitude":0,"longitude":0},"dateTimeOriginal":null,"description":"  ","rating":-1,"isFavorite":false,"visibility":"timeline"}' \
    "was: the keeper's values as the server gave them (null for none)"
is "$(fake_log_count '.method=="GET" and .path=="/api/faces"')" 1 \
    "the library has a named person: the loser's faces read (GET /faces?id=), once"

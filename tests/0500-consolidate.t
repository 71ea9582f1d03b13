#!/bin/sh
# immich-consolidate against the fake server: each field copied when the
# keeper lacks it and left alone when it has it, GPS disagreement, rating 0
# never sent, album and tag union (with the "duplicate" reply), archive,
# a refused album add and a silently dropped update recorded as group
# errors, a caption typed on the keeper after planning kept (invariant 5),
# one typed on a loser after planning not seen (the losers come from the
# plan's copy) but flagged by merge_loser_changed (for immich-trash; unit
# cases through t-merge), review groups and broken plans left alone, a
# second run and -n sending no update, the losers' albums recorded in
# consolidated.albums, and the request count of a pair with nothing to
# move: 2 (the keeper, the loser's albums).
. "$(dirname "$0")/lib.sh"

command -v immich-consolidate >/dev/null || skip_all "immich-consolidate not built"
command -v t-merge >/dev/null || skip_all "t-merge not built"
command -v jq >/dev/null || skip_all "jq missing"
plan 121

# Ids: group N's keeper is K N, its losers L N M; albums A N.
K() { printf '%08d-0000-4000-8000-000000000000' "$1"; }
L() { printf '%08d-0000-4000-8000-%012d' "$1" "$2"; }
A() { printf 'a%07d-0000-4000-8000-000000000000' "$1"; }

cat >"$T/lib.json" <<EOF
{"apiKey": "k-cons", "assets": [
 {"id": "$(K 1)"},
 {"id": "$(L 1 1)", "isFavorite": true, "visibility": "archive",
  "localDateTime": "2020-06-01T12:00:00.000Z", "tags": ["Trips/Paris"],
  "exifInfo": {"latitude": 48.8584, "longitude": 2.2945,
   "dateTimeOriginal": "2020-06-01T10:00:00.000Z", "timeZone": "Europe/Paris",
   "description": "Eiffel tower", "rating": 4, "make": "Canon"}},
 {"id": "$(K 2)", "isFavorite": true, "visibility": "archive",
  "exifInfo": {"latitude": 10.5, "longitude": 20.5,
   "dateTimeOriginal": "2019-01-01T00:00:00.000Z", "timeZone": "UTC",
   "description": "Mine", "rating": 5}},
 {"id": "$(L 2 1)", "exifInfo": {"latitude": 30, "longitude": 40,
   "dateTimeOriginal": "2018-05-05T05:05:05.000Z", "description": "Mine",
   "rating": 3}},
 {"id": "$(K 3)"},
 {"id": "$(L 3 1)", "exifInfo": {"latitude": 48.0, "longitude": 2.0,
   "rating": 0}},
 {"id": "$(L 3 2)", "exifInfo": {"latitude": 48.1, "longitude": 2.0,
   "rating": -1}},
 {"id": "$(K 4)", "exifInfo": {"description": "Holiday", "rating": 2}},
 {"id": "$(L 4 1)", "exifInfo": {"description": "Holiday\nwith Anna",
   "latitude": 45.0, "longitude": 7.0, "rating": 3,
   "dateTimeOriginal": "2021-03-04T05:06:07.000Z", "timeZone": "UTC+5:30"}},
 {"id": "$(L 4 2)", "exifInfo": {"description": "  Beach  ",
   "latitude": 45.0004, "longitude": 7.0, "rating": 1}},
 {"id": "$(K 5)", "tags": ["Keep"]},
 {"id": "$(L 5 1)", "tags": ["Keep", "New"]},
 {"id": "$(K 6)"},
 {"id": "$(L 6 1)", "exifInfo": {"description": "six"}},
 {"id": "$(K 7)"},
 {"id": "$(L 7 1)", "exifInfo": {"description": "seven"}},
 {"id": "$(K 8)"},
 {"id": "$(L 8 1)", "exifInfo": {"description": "from the loser"}},
 {"id": "$(K 9)"},
 {"id": "$(L 9 1)", "isFavorite": true},
 {"id": "$(K 10)", "exifInfo": {"description": "ten"}},
 {"id": "$(L 10 1)", "exifInfo": {"description": "ten"}},
 {"id": "$(K 11)"},
 {"id": "$(L 11 1)", "exifInfo": {"dateTimeOriginal": "2020-01-01T00:00:00.000Z"}},
 {"id": "$(L 11 2)", "exifInfo": {"dateTimeOriginal": "2020-01-02T00:00:00.000Z"}},
 {"id": "$(K 12)"},
 {"id": "$(L 12 1)", "localDateTime": "2022-07-01T05:00:00.000Z",
  "exifInfo": {"dateTimeOriginal": "2022-07-01T08:00:00.000Z",
   "timeZone": "Nowhere/Atlantis"}},
 {"id": "$(K 13)"},
 {"id": "$(L 13 1)", "exifInfo": {"rating": 2}}
],
"albums": [
 {"id": "$(A 1)", "albumName": "Paris", "assetIds": ["$(L 1 1)"]},
 {"id": "$(A 2)", "albumName": "Both", "assetIds": ["$(K 5)", "$(L 5 1)"]},
 {"id": "$(A 3)", "albumName": "Loser only", "assetIds": ["$(L 5 1)"]},
 {"id": "$(A 4)", "albumName": "Also loser", "assetIds": ["$(L 5 1)"]},
 {"id": "$(A 5)", "albumName": "S1", "assetIds": ["$(L 7 1)"]},
 {"id": "$(A 6)", "albumName": "S2 refused", "assetIds": ["$(L 7 1)"]},
 {"id": "$(A 7)", "albumName": "S3", "assetIds": ["$(L 7 1)"]}
]}
EOF
fake_start "$T/lib.json"

# An asset as the server has it now (like the plan's copy in "assets").
snap() { curl -sS -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/assets/$1" | jq -c .; }
# A plan record: group N, losers M..., review (JSON list).  The losers'
# copies are taken now, as immich-dupes would (none with NOSNAP=1); the
# keeper's is a stale one with no description, which must not matter.
rec() {
	_g=$1 _rev=$2; shift 2
	_t= _a=
	for _m in "$@"; do
		_t="$_t${_t:+,}\"$(L "$_g" "$_m")\""
		[ -n "${NOSNAP:-}" ] || _a="$_a,$(snap "$(L "$_g" "$_m")")"
	done
	printf '{"duplicateId":"d%07d-0000-4000-8000-000000000000",' "$_g"
	printf '"assets":[{"id":"%s","exifInfo":{"description":""}}%s],' \
	    "$(K "$_g")" "$_a"
	printf '"keep":"%s","trash":[%s],"why":"test","review":%s}\n' \
	    "$(K "$_g")" "$_t" "$_rev"
}
asset() { fake_state | jq -c --arg id "$1" '.assets[] | select(.id == $id)'; }
field() { asset "$1" | jq -c "$2"; }
out_of() { printf '%s\n' "$out" | jq -c --arg k "$1" 'select(.keep == $k)'; }
puts_to() { fake_log_count ".method == \"PUT\" and (.path | test(\"$1\"))"; }
mark() { : >"$FAKE_LOG"; }
# Requests whose path or query names one of these ids (a regex).
touching() { fake_log_count "((.path + (.query|tostring)) | test(\"$1\"))"; }

# --- 1. the main run ---------------------------------------------------------
# Invariant 5: a caption typed on keeper 4 after planning is kept; the
# plan's snapshot (description "") must not matter.
fake_ctl POST /_fake/mutate "{\"id\":\"$(K 4)\",\"set\":{\"exifInfo\":{\"description\":\"Holiday\\ntyped later\"}}}" >/dev/null
# Album 3 add answers "duplicate" (as if someone added the keeper meanwhile).
fake_ctl POST /_fake/faults "[{\"method\":\"PUT\",\"path\":\"^/api/albums/$(A 3)/assets\$\",\"action\":\"status\",\"status\":200,\"process\":true,\"body\":[{\"id\":\"$(K 5)\",\"success\":false,\"error\":\"duplicate\"}]}]" >/dev/null
{
	rec 1 '[]' 1
	rec 2 '[]' 1
	rec 3 '[]' 1 2
	rec 4 '[]' 1 2
	rec 5 '[]' 1
	rec 6 '[{"code":"camera","asset":"x","detail":"y"}]' 1
	rec 10 '[]' 1
} >"$T/plan.ndjson"
mark
IN=$T/plan.ndjson run immich-consolidate -q
is "$rc" 1 "main run: exit 1 (the review group was held back)"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 7 "every record written"
is "$err" "" "nothing on stderr (-q)"
cp "$T/.out" "$T/run1.ndjson"
is "$(fake_log_count '.path=="/api/people"'):$(fake_log_count '.path=="/api/faces"')" "1:0" \
    "no named person in the library (GET /people, once): no loser's faces read"

# group 1: everything copied
k=$(K 1)
is "$(field "$k" '[.exifInfo.latitude,.exifInfo.longitude]')" "[48.8584,2.2945]" "gps copied"
is "$(field "$k" '.exifInfo.dateTimeOriginal')" '"2020-06-01T10:00:00.000Z"' "date copied (same instant)"
is "$(field "$k" '.exifInfo.timeZone')" '"UTC+2"' "Europe/Paris rendered as its summer offset"
is "$(fake_log_count ".method==\"PUT\" and .path==\"/api/assets/$k\" and .body.dateTimeOriginal==\"2020-06-01T12:00:00.000+02:00\"")" 1 "date sent as local time with offset"
is "$(field "$k" '.exifInfo.description')" '"Eiffel tower"' "description copied"
is "$(field "$k" '.exifInfo.rating')" 4 "rating copied"
is "$(field "$k" '.isFavorite')" true "favorite copied"
is "$(field "$k" '.visibility')" '"archive"' "archive copied"
is "$(field "$k" '[.tags[].value]')" '["Trips/Paris"]' "tag copied"
is "$(field "$k" '.albums')" "[\"$(A 1)\"]" "album copied"
is "$(field "$k" '.exifInfo.make')" null "camera make cannot move"
is "$(fake_log_count ".method==\"PUT\" and .path==\"/api/assets/$k\"")" 1 "one PUT /assets/{id} for all fields"
is "$(fake_log_count ".method==\"PUT\" and .path==\"/api/assets\"")" 0 "no bulk PUT /assets"
is "$(out_of "$k" | jq -c '.consolidated.confirmed')" true "group 1 confirmed"
is "$(out_of "$k" | jq -c '[.consolidated.changes[].field] | sort')" \
    '["album","dateTimeOriginal","description","gps","isFavorite","rating","tag","visibility"]' \
    "group 1 lists eight changes"
is "$(out_of "$k" | jq -r '[.consolidated.changes[].from] | unique | .[]')" "$(L 1 1)" "changes name the loser"
is "$(field "$(L 1 1)" '[.exifInfo.description,.isFavorite,.visibility]')" \
    '["Eiffel tower",true,"archive"]' "the loser is unchanged"
is "$(out_of "$k" | jq -c '.consolidated.albums')" "{\"$(L 1 1)\":[{\"id\":\"$(A 1)\",\"albumName\":\"Paris\"}]}" \
    "consolidated.albums: the loser's album, id and name"

# group 2: the keeper has everything: nothing overwritten, no PUT
k=$(K 2)
is "$(out_of "$k" | jq -c '.consolidated')" "{\"changes\":[],\"confirmed\":true,\"albums\":{\"$(L 2 1)\":[]},\"losers\":[\"$(L 2 1)\"],\"keep\":\"$k\"}" "group 2: nothing to move, the loser's albums: none; what it handled (keep, losers)"
is "$(field "$k" '[.exifInfo.latitude,.exifInfo.longitude,.exifInfo.dateTimeOriginal,.exifInfo.description,.exifInfo.rating]')" \
    '[10.5,20.5,"2019-01-01T00:00:00.000Z","Mine",5]' "present fields not overwritten"
is "$(puts_to "$k")" 0 "no PUT for the keeper that has everything"
is "$(touching "$k|$(L 2 1)")" 2 "a pair with nothing to move costs 2 requests"
is "$(fake_log_count "(.method==\"GET\" and .path==\"/api/assets/$k\") or (.method==\"GET\" and .path==\"/api/albums\" and .query.assetId==\"$(L 2 1)\")")" 2 \
    "... the keeper now and the loser's albums"
is "$(touching "$(L 2 1)")" 1 "the loser itself is not read again (the plan's copy is used)"

# group 3: GPS disagreement, ratings 0 and -1
k=$(K 3)
is "$(field "$k" '.exifInfo.latitude')" null "gps disagreement left alone"
is "$(out_of "$k" | jq -c '[.consolidated.notMoved[].field]')" '["gps"]' "disagreement recorded in notMoved"
is "$(puts_to "$k")" 0 "ratings 0 and -1 not copied"
is "$(fake_log_count '.method=="PUT" and .body.rating? == 0')" 0 "rating 0 never sent"

# group 4: merged description, GPS within 100 m, fixed offset
k=$(K 4)
is "$(field "$k" '.exifInfo.description')" '"Holiday\ntyped later\nwith Anna\nBeach"' "caption typed after planning kept, loser lines appended"
is "$(field "$k" '[.exifInfo.latitude,.exifInfo.longitude]')" "[45,7]" "losers 44 m apart agree: gps copied"
is "$(fake_log_count ".method==\"PUT\" and .body.dateTimeOriginal==\"2021-03-04T10:36:07.000+05:30\"")" 1 "UTC+5:30 rendered as +05:30"
is "$(field "$k" '.exifInfo.rating')" 3 "highest rating wins over the keeper's lower"

# group 5: album and tag union
k=$(K 5)
is "$(field "$k" '[.tags[].value] | sort')" '["Keep","New"]' "tag union keeps the keeper's tag"
is "$(puts_to '^/api/tags/[^/]+/assets$')" 2 "one PUT per missing tag (groups 1 and 5)"
is "$(fake_log_count '.method=="PUT" and (.path=="/api/tags/assets" or .path=="/api/albums/assets")')" 0 "no replacing or aggregate endpoints"
is "$(field "$k" '.albums | sort')" "[\"$(A 2)\",\"$(A 3)\",\"$(A 4)\"]" "album union"
is "$(puts_to "$(A 2)")" 0 "no add to an album the keeper is in"
is "$(puts_to "$(A 3)")$(puts_to "$(A 4)")" 11 "one add per missing album"
is "$(out_of "$k" | jq -c '.consolidated.confirmed')" true "a \"duplicate\" reply counts as done"
is "$(out_of "$k" | jq -c '.errors')" null "no error for group 5"
is "$(out_of "$k" | jq -c ".consolidated.albums[\"$(L 5 1)\"] | map(.albumName) | sort")" \
    '["Also loser","Both","Loser only"]' "consolidated.albums: every album of the loser"
is "$(printf '%s\n' "$out" | jq -c 'select(.consolidated.changes) | [.trash[]] - (.consolidated.albums | keys) | length' | sort -u)" 0 \
    "consolidated.albums: an entry for every loser"

# group 6: review untouched; group 10 descriptions equal
is "$(out_of "$(K 6)" | jq -c '.consolidated')" '{"skipped":"review"}' "review group skipped"
is "$(touching "$(K 6)|$(L 6 1)")" 0 "no request for a review group"
is "$(puts_to "$(K 10)")" 0 "same description: nothing to do"

# --- 1b. capture times: losers disagree; a zone not in the database ------------
{ rec 11 '[]' 1 2; rec 12 '[]' 1; } >"$T/p11.ndjson"
mark
IN=$T/p11.ndjson run immich-consolidate -q
is "$(out_of "$(K 11)" | jq -c '[.consolidated.changes, [.consolidated.notMoved[].field]]')" '[[],["dateTimeOriginal"]]' "losers' times differ: not moved, noted"
is "$(fake_log_count '.method=="PUT" and .body.dateTimeOriginal=="2022-07-01T05:00:00.000-03:00"')" 1 "unknown zone: offset from localDateTime"
is "$(field "$(K 12)" '.exifInfo.dateTimeOriginal')" '"2022-07-01T08:00:00.000Z"' "unknown zone: same instant"

# --- 1c. a caption typed on a loser after planning -----------------------------
# The losers come from the plan's copy (no request reads them again), so
# consolidate does not see it; immich-trash compares each loser with that
# copy just before trashing it (merge_loser_changed, common/merge.c) and
# holds it back ("loser-changed"): tested here through t-merge.
tmerge() {
	if [ "${VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=definite t-merge ||
		    echo "t-merge: exit $? under valgrind"
	else
		t-merge
	fi
}
# [the plan's copy of asset $2 in record file $1, the server's now]
copies() {
	printf '[%s,%s]\n' "$(jq -c --arg id "$2" '.assets[] | select(.id == $id)' "$1")" \
	    "$(snap "$2")"
}
rec 13 '[]' 1 >"$T/p13.ndjson"
fake_ctl POST /_fake/mutate "{\"id\":\"$(L 13 1)\",\"set\":{\"exifInfo\":{\"description\":\"typed on the loser later\"}}}" >/dev/null
mark
IN=$T/p13.ndjson run immich-consolidate -q
is "$rc" 0 "caption on a loser after planning: consolidate runs"
is "$(field "$(K 13)" '[.exifInfo.description, .exifInfo.rating]')" '[null,2]' \
    "... and moves what the plan's copy has, not the new caption"
is "$(touching "$(L 13 1)")" 1 "... reading only the loser's albums"
is "$(copies "$T/p13.ndjson" "$(L 13 1)" | tmerge)" \
    "changed: description changed since the plan was made" \
    "merge_loser_changed flags the caption typed on the loser"
is "$(copies "$T/plan.ndjson" "$(L 1 1)" | tmerge)" "same" \
    "merge_loser_changed: a consolidated loser is unchanged"
is "$(copies "$T/plan.ndjson" "$(L 5 1)" | tmerge)" "same" \
    "merge_loser_changed: same tags, read from two places"

# --- 1d. keeper and losers must be the group's assets -------------------------
# A loser missing from "assets" (or a keeper outside the group) is not a
# plan from immich-dupes: an error, no request.
(NOSNAP=1; rec 10 '[]' 1) >"$T/p10.ndjson"
mark
IN=$T/p10.ndjson run immich-consolidate -q
is "$rc" 1 "a loser not among the group's assets: exit 1"
like "$(printf '%s\n' "$out" | jq -r '.errors[0].message')" "not one of the group's assets" "... said"
is "$(fake_log_count 'true')" 0 "... and no request"
rec 10 '[]' 1 | jq -c '.keep = "'"$(K 9)"'"' >"$T/p10.ndjson"
mark
IN=$T/p10.ndjson run immich-consolidate -q
is "$rc $(printf '%s\n' "$out" | jq -r '.errors[0].message')" "1 the keeper is not one of the group's assets" "a keeper outside the group: error"
is "$(fake_log_count 'true')" 0 "... and no request"
# Only a whole rating from 1 to 5 moves (the loser's copy says 0.5).
rec 9 '[]' 1 | jq -c '.assets[1].exifInfo.rating = 0.5' >"$T/p9h.ndjson"
IN=$T/p9h.ndjson run immich-consolidate -q -n
is "$rc $(printf '%s\n' "$out" | jq -c '[.consolidated.changes[].field]')" '0 ["isFavorite"]' "a rating of 0.5 is not moved"

# --- 1e. merge_loser_changed, case by case -------------------------------------
B='{"id":"00000000-0000-4000-8000-000000000001","isFavorite":false,
 "visibility":"timeline","localDateTime":"2020-01-01T01:00:00.000Z",
 "tags":[{"id":"70000000-0000-4000-8000-000000000001","value":"a"},
         {"id":"70000000-0000-4000-8000-000000000002","value":"b"}],
 "exifInfo":{"description":"d","rating":3,"latitude":1.5,"longitude":2.5,
  "dateTimeOriginal":"2020-01-01T00:00:00.000Z","timeZone":"UTC+1",
  "make":"Canon"}}'
# mcase SNAPSHOT-FILTER FRESH-FILTER WANT NAME (jq filters over $B)
mcase() {
	is "$(jq -nc --argjson b "$B" "[(\$b | $1), (\$b | $2)]" | tmerge)" "$3" \
	    "merge_loser_changed: $4"
}
mcase . . same "identical"
mcase . '.exifInfo.description = "d\nmore"' "changed: description changed since the plan was made" "description"
mcase '.exifInfo.description = null' '.exifInfo.description = "  "' same "blank description = none"
mcase . '.exifInfo.rating = 4' "changed: rating changed since the plan was made" "rating"
mcase '.exifInfo.rating = null' '.exifInfo.rating = -1' same "rating -1 = none"
mcase . '.isFavorite = true' "changed: favorite changed since the plan was made" "favorite"
mcase . '.visibility = "archive"' "changed: visibility changed since the plan was made" "archived"
mcase . '.exifInfo.latitude = 1.6' "changed: location changed since the plan was made" "location"
mcase . '.exifInfo.latitude = 1.5000001' same "location within 10^-6 degrees"
mcase '.exifInfo.latitude = null' '.exifInfo.latitude = 0 | .exifInfo.longitude = 0' same "0,0 = no location"
mcase . '.exifInfo.dateTimeOriginal = "2020-01-01T01:00:00+01:00"' same "capture time: the same instant"
mcase . '.exifInfo.dateTimeOriginal = "2020-01-01T00:00:01.000Z"' "changed: capture time changed since the plan was made" "capture time"
mcase . '.exifInfo.timeZone = "UTC+2"' "changed: capture time changed since the plan was made" "time zone"
mcase . '.tags |= reverse' same "tags in another order"
mcase . '.tags |= .[:1]' "changed: tags changed since the plan was made" "a tag removed"
mcase . '.tags += [{"id":"70000000-0000-4000-8000-000000000003"}]' "changed: tags changed since the plan was made" "a tag added"
mcase . '.exifInfo.make = "Nikon" | .originalFileName = "x.jpg" | .visibility = "hidden"' same "fields consolidation does not read"
mcase null . "changed: no copy of the loser in the record" "no copy in the record"
mcase . '"x"' "changed: no copy of the loser from the server" "no fresh copy"
mcase . '.exifInfo = "garbage" | .tags = 7' "changed: description changed since the plan was made" "wrong types"
mcase . '.isEdited = true' "changed: edits (isEdited) changed since the plan was made" "edited in Immich"
mcase '.isEdited = true' '.isEdited = true' same "edited before the plan too"
mcase '.exifInfo.rating = null' '.exifInfo.rating = 0.5' same "a rating of 0.5 = none"

# --- 2. a second run over the output changes nothing -------------------------
mark
IN=$T/run1.ndjson run immich-consolidate -q
is "$(fake_log_count '.method=="PUT"')" 0 "second run: no PUT at all"
is "$(printf '%s\n' "$out" | jq -c 'select(.consolidated.changes) | .consolidated.changes | length' | sort -u)" 0 "second run: every group has nothing to move"
is "$(out_of "$(K 1)" | jq -c '.consolidated.confirmed')" true "second run: confirmed"

# --- 3. -n plans without sending ---------------------------------------------
rec 9 '[]' 1 >"$T/p9.ndjson"
mark
IN=$T/p9.ndjson run immich-consolidate -q -n
is "$rc" 0 "-n: exit 0"
is "$(fake_log_count '.method!="GET"')" 0 "-n: GETs only"
is "$(printf '%s\n' "$out" | jq -c '.consolidated')" \
    "{\"changes\":[{\"field\":\"isFavorite\",\"value\":true,\"from\":\"$(L 9 1)\",\"was\":false}],\"dryRun\":true,\"confirmed\":false,\"albums\":{\"$(L 9 1)\":[]},\"losers\":[\"$(L 9 1)\"],\"keep\":\"$(K 9)\"}" \
    "-n: the planned change, dryRun, not confirmed"
is "$(field "$(K 9)" '.isFavorite')" false "-n: keeper unchanged"

# --- 4. review codes accepted with -a ----------------------------------------
rec 6 '[{"code":"camera","asset":"x","detail":"y"}]' 1 >"$T/p6.ndjson"
IN=$T/p6.ndjson run immich-consolidate -q -a gps -a date,camera
is "$rc" 0 "-a: accepted review codes: exit 0"
is "$(field "$(K 6)" '.exifInfo.description')" '"six"' "-a: the group was consolidated"
rec 6 '[{"code":"camera"},{"code":"edits"}]' 1 >"$T/p6.ndjson"
IN=$T/p6.ndjson run immich-consolidate -q -a camera
is "$(printf '%s\n' "$out" | jq -c '.consolidated')" '{"skipped":"review"}' "-a: one code not accepted: skipped"

# --- 5. a refused album add in the middle ------------------------------------
fake_ctl POST /_fake/config "{\"rejectAlbumAdd\":[\"$(A 6)\"]}" >/dev/null
rec 7 '[]' 1 >"$T/p7.ndjson"
mark
IN=$T/p7.ndjson run immich-consolidate -q
is "$rc" 1 "refused album: exit 1"
is "$(printf '%s\n' "$out" | jq -c '.consolidated.confirmed')" false "refused album: not confirmed"
like "$(printf '%s\n' "$out" | jq -r '.errors[].message')" "$(A 6)" "refused album: the error names the album"
like "$(printf '%s\n' "$out" | jq -r '.errors[].message')" "no albumAsset.create access" "refused album: quotes the server"
is "$(field "$(K 7)" '.albums | sort')" "[\"$(A 5)\",\"$(A 7)\"]" "the other albums were still added"
is "$(field "$(K 7)" '.exifInfo.description')" '"seven"' "the description was still copied"
like "$err" "stdin:1: asset $(K 7): " "refused album: stderr names line and asset"
fake_ctl POST /_fake/config '{"rejectAlbumAdd":[]}' >/dev/null

# --- 6. the server drops a change silently -----------------------------------
fake_ctl POST /_fake/config '{"dropUpdates":["description"]}' >/dev/null
rec 8 '[]' 1 >"$T/p8.ndjson"
IN=$T/p8.ndjson run immich-consolidate -q
is "$rc" 1 "dropped update: exit 1"
is "$(printf '%s\n' "$out" | jq -c '.consolidated.confirmed')" false "dropped update: not confirmed"
like "$(printf '%s\n' "$out" | jq -r '.errors[].message')" "^description did not arrive on the keeper" "dropped update: the error names the field"
fake_ctl POST /_fake/config '{"dropUpdates":[]}' >/dev/null

# --- 7. plans that cannot be used ------------------------------------------
mark
cat >"$T/bad.ndjson" <<EOF
{"keep":"$(K 9)","trash":["$(K 9)","$(L 9 1)"],"review":[]}
{"keep":"$(K 9)","trash":["../etc"],"review":[]}
{"keep":"not-a-uuid","trash":["$(L 9 1)"]}
{"keep":"$(K 9)","review":[]}
not json
EOF
IN=$T/bad.ndjson run immich-consolidate -q
is "$rc" 1 "bad plans: exit 1"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 4 "bad plans passed through (the bad line skipped)"
is "$(printf '%s\n' "$out" | jq -c 'select(.errors | length == 1) | 1' | wc -l | tr -d ' ')" 4 "each bad plan has an error"
like "$(printf '%s\n' "$out" | head -1 | jq -r '.errors[0].message')" "keeper is also in" "keeper in trash: error"
like "$err" "stdin:5: invalid JSON" "the bad line is reported"
is "$(fake_log_count 'true')" 0 "bad plans: no request"

# --- 8. a server error is quoted; the keeper in the trash --------------------
fake_ctl POST /_fake/mutate "{\"id\":\"$(K 9)\",\"trash\":true}" >/dev/null
IN=$T/p9.ndjson run immich-consolidate -q
is "$rc" 1 "trashed keeper: exit 1"
like "$(printf '%s\n' "$out" | jq -r '.errors[].message')" "keeper is in the trash" "trashed keeper: error"
is "$(field "$(K 9)" '.isFavorite')" false "trashed keeper: not changed"
fake_ctl POST /_fake/mutate "{\"id\":\"$(K 9)\",\"restore\":true}" >/dev/null
fake_ctl POST /_fake/faults "[{\"method\":\"PUT\",\"path\":\"^/api/assets/\",\"action\":\"status\",\"status\":400,\"body\":{\"message\":\"Asset is locked\"}}]" >/dev/null
IN=$T/p9.ndjson run immich-consolidate -q
is "$rc" 1 "400 on update: exit 1"
like "$(printf '%s\n' "$out" | jq -r '.errors[].message')" "PUT /api/assets/$(K 9): HTTP 400: Asset is locked" "400 on update: server message quoted"
is "$(printf '%s\n' "$out" | jq -c '.consolidated.confirmed')" false "400 on update: not confirmed"

# --- 9. unreachable server: exit 3 -------------------------------------------
fake_stop
IMMICH_RETRIES=1 IN=$T/p9.ndjson run immich-consolidate -q
is "$rc" 3 "unreachable: exit 3"
like "$err" "unreachable" "unreachable: said on stderr"

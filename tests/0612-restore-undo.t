#!/bin/sh
# immich-restore as an undo: a library with a group of each kind (resolved
# with metadata moved onto the keeper and a loser later purged, one whose
# location cannot be taken away, stacked, dismissed, a face copied onto a
# keeper whose loser was held) goes through the stages; after Immich's
# singleton clean-up (GET /duplicates) immich-restore puts the server's
# whole state back as it was, but for what the server alone controls
# (updatedAt, the ids of assets uploaded again, mapped) and what Immich
# cannot take away (a location), which the record says.  With -k the
# keepers keep their merged metadata.  A second run changes nothing, and
# a later edit by a person is never undone.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash immich-restore; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
plan 34

K1=10000001-0000-4000-8000-000000000001 L1=10000001-0000-4000-8000-000000000002
K2=10000002-0000-4000-8000-000000000001 L2=10000002-0000-4000-8000-000000000002
K3=10000003-0000-4000-8000-000000000001 L3=10000003-0000-4000-8000-000000000002
K4=10000004-0000-4000-8000-000000000001 L4=10000004-0000-4000-8000-000000000002
K5=10000005-0000-4000-8000-000000000001 L5=10000005-0000-4000-8000-000000000002
G1=20000000-0000-4000-8000-000000000001 G2=20000000-0000-4000-8000-000000000002
G3=20000000-0000-4000-8000-000000000003 G4=20000000-0000-4000-8000-000000000004
G5=20000000-0000-4000-8000-000000000005
A1=30000000-0000-4000-8000-000000000001 A2=30000000-0000-4000-8000-000000000002
P1=40000000-0000-4000-8000-000000000001 F1=50000000-0000-4000-8000-000000000001
cat >"$T/lib.json" <<JSON
{"assets": [
 {"id": "$K1", "duplicateId": "$G1", "width": 4000, "height": 3000,
  "exifInfo": {"description": "keeper caption", "latitude": 48.85,
   "longitude": 2.35}},
 {"id": "$L1", "duplicateId": "$G1", "width": 2000, "height": 1500,
  "isFavorite": true, "visibility": "archive", "tags": ["Trips/Rome"],
  "exifInfo": {"description": "loser caption", "rating": 4}},
 {"id": "$K2", "duplicateId": "$G2", "width": 4000, "height": 3000},
 {"id": "$L2", "duplicateId": "$G2", "width": 2000, "height": 1500,
  "exifInfo": {"latitude": 40.4, "longitude": -3.7}},
 {"id": "$K3", "duplicateId": "$G3", "width": 4000, "height": 3000},
 {"id": "$L3", "duplicateId": "$G3", "width": 2000, "height": 1500},
 {"id": "$K4", "duplicateId": "$G4", "width": 4000, "height": 3000},
 {"id": "$L4", "duplicateId": "$G4", "width": 2000, "height": 1500},
 {"id": "$K5", "duplicateId": "$G5", "width": 4000, "height": 3000},
 {"id": "$L5", "duplicateId": "$G5", "width": 2000, "height": 1500,
  "people": [{"id": "$P1", "name": "Alice"}]},
 {"id": "60000000-0000-4000-8000-000000000001", "label": "bystander"}],
 "albums": [{"id": "$A1", "albumName": "Rome", "assetIds": ["$L1", "$L4"]},
  {"id": "$A2", "albumName": "Other", "assetIds": ["$K1"]}]}
JSON

key() { printf 'x-api-key: %s' "$IMMICH_API_KEY"; }
api() {	# METHOD PATH [JSON]: a request to the fake as a client would send
	curl -sS -X "$1" -H "$(key)" -H 'Content-Type: application/json' \
	    ${3:+--data-binary "$3"} "$IMMICH_INSTANCE_URL/api$2"
}
# The keeper's value before each change ("was"), where the record has
# none, from the plan's copy of the keeper: as immich-consolidate writes
# it (issue 18); a record that has it keeps its own.
addwas='. as $r | ([$r.assets[]? | select(.id == $r.keep)][0]) as $k |
  if (.consolidated.changes | type) == "array" then
  .consolidated.changes |= map(if has("was") then . else . + {was: (
    if .field == "description" then $k.exifInfo.description
    elif .field == "rating" then $k.exifInfo.rating
    elif .field == "isFavorite" then $k.isFavorite
    elif .field == "visibility" then $k.visibility
    elif .field == "gps" then (if $k.exifInfo.latitude then
      {latitude: $k.exifInfo.latitude, longitude: $k.exifInfo.longitude}
      else null end)
    elif .field == "dateTimeOriginal" then $k.exifInfo.dateTimeOriginal
    else null end)} end) else . end'

# Run every stage on the library: resolve G1, G2, G5 (its loser is held:
# people), stack G3, dismiss G4; then Immich's clean-up and a purge.
stages() {
	immich-dupes -q >"$T/plan.ndjson" || return 1
	jq -c "select(.duplicateId == \"$G1\" or .duplicateId == \"$G2\" or
	    .duplicateId == \"$G5\")" "$T/plan.ndjson" |
	    immich-consolidate -q | immich-fetch -q -d "$T/backup$1" |
	    immich-verify -q | immich-trash -q 2>"$T/trash.err" |
	    jq -c "$addwas" >"$T/done.ndjson"
	# A face copied onto K5, as immich-consolidate records it.
	fake_ctl POST /_fake/mutate "{\"id\":\"$K5\",\"set\":{\"people\":
	    [{\"id\":\"$P1\",\"name\":\"Alice\",\"faceId\":\"$F1\"}]}}" >/dev/null
	jq -c "if .duplicateId == \"$G5\" then .consolidated.changes +=
	    [{field: \"face\", from: \"$L5\", faceId: \"$F1\", was: null,
	      value: {personId: \"$P1\", name: \"Alice\", imageWidth: 4000,
	      imageHeight: 3000, x: 10, y: 10, width: 100, height: 100}}]
	    else . end" "$T/done.ndjson" >"$T/d" && mv "$T/d" "$T/done.ndjson"
	# Stacked, as immich-stack does and records it.
	sid=$(api POST /stacks "{\"assetIds\":[\"$K3\",\"$L3\"]}" | jq -r .id)
	api PUT /assets "{\"ids\":[\"$K3\",\"$L3\"],\"duplicateId\":null}"
	jq -c "select(.duplicateId == \"$G3\") | .stacked = {id: \"$sid\",
	    primary: \"$K3\", assets: [\"$K3\", \"$L3\"], confirmed: true}" \
	    "$T/plan.ndjson" >>"$T/done.ndjson"
	# Dismissed, as immich-dismiss does and records it.
	api DELETE /duplicates "{\"ids\":[\"$G4\"]}"
	jq -c "select(.duplicateId == \"$G4\") | .dismissed = {duplicateId:
	    \"$G4\", assets: [\"$K4\", \"$L4\"], confirmed: true}" \
	    "$T/plan.ndjson" >>"$T/done.ndjson"
	api GET /duplicates >/dev/null		# the singleton clean-up
	fake_ctl POST /_fake/mutate "{\"id\":\"$L1\",\"purge\":true}" >/dev/null
}

# The state, for comparing: what the server alone controls left out,
# re-uploaded assets under their old ids (from restored.newId), albums'
# members as sets, and the fake's own counters.
cat >"$T/norm.py" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
done = [json.loads(l) for l in open(sys.argv[2])] if sys.argv[2] else []
# ID.KEY (a key of the asset or of its exifInfo) left out.
skip = set(sys.argv[3].split(',')) if len(sys.argv) > 3 else set()
new = {}
for r in done:
    for old, e in (r.get('restored') or {}).items():
        if e.get('how') == 'upload':
            new[e['newId']] = old
m = lambda i: new.get(i, i)
out = {}
for a in state['assets']:
    if a['id'] in new.values() and a['purged']:
        continue                      # the old asset, uploaded again
    aid = m(a['id'])
    # The server's own: when and where it stored it.
    a = {k: v for k, v in a.items() if k not in
         ('id', 'updatedAt', 'createdAt', 'originalPath', 'trashCount') and
         '%s.%s' % (aid, k) not in skip}
    a['albums'] = sorted(a['albums'])
    for f in list(a['exifInfo']):
        if '%s.%s' % (aid, f) in skip:
            del a['exifInfo'][f]
    out[aid] = a
purged = {a['id'] for a in state['assets'] if a['purged']}
albums = {al['id']: sorted(m(i) for i in al['assetIds'] if i not in purged)
          for al in state['albums'] if al['id'] + '.assetIds' not in skip}
print(json.dumps({'assets': out, 'albums': albums, 'tags': state['tags'],
                  'stacks': state['stacks']}, indent=1, sort_keys=True))
PY

# Left out: K2's location (Immich cannot take it away: the record says
# so), and the size of L1 uploaded again, which a real server reads from
# the file and the fake does not.
SKIP="$K2.latitude,$K2.longitude,$L1.width,$L1.height"
fake_start "$T/lib.json"
fake_state >"$T/before.json"
stages 1
is "$(jq -r .duplicateId "$T/done.ndjson" | tr '\n' ' ')" \
    "$G1 $G2 $G5 $G3 $G4 " "the stages ran: five records"
is "$(api GET /duplicates | jq -r '.[].duplicateId')" "$G5" \
    "(only the group whose loser was held is left in the list)"

IN=$T/done.ndjson run immich-restore -q
expect_err 0 '' "undo: exit 0, nothing on stderr"
printf '%s\n' "$out" >"$T/restored.ndjson"
fake_state >"$T/after.json"
python3 "$T/norm.py" "$T/before.json" "" "$SKIP" \
    >"$T/b.norm" 2>&1
python3 "$T/norm.py" "$T/after.json" "$T/restored.ndjson" \
    "$SKIP" >"$T/a.norm" 2>&1
d=$(diff "$T/b.norm" "$T/a.norm")
is "$d" "" "the whole state is back (but for K2's location)"
rec() { jq -c --arg g "$1" "select(.duplicateId == \$g) | $2" "$T/restored.ndjson"; }
is "$(api GET /duplicates | jq -c '[.[].duplicateId] | sort')" \
    "$(printf '%s\n' "$G1" "$G2" "$G3" "$G4" "$G5" | jq -R . | jq -sc 'sort')" \
    "every group is back in GET /duplicates"
new1=$(rec "$G1" ".restored[\"$L1\"].newId" | tr -d '"')
is "$(rec "$G1" ".restored[\"$L1\"] | [.how, .duplicateId] | join(\" \")")" \
    "\"upload $G1\"" "the purged loser, uploaded again, is in its group again"
is "$(api GET /assets/"$new1" | jq -r .duplicateId)" "$G1" \
    "... under its new id"
is "$(rec "$G1" ".restored[\"$K1\"] | [.ok, .how, (.undone | map(.field)
    | join(\",\")), (.kept | length)] | join(\" \")")" \
    '"true keeper description,rating,isFavorite,visibility,tag,album 0"' \
    "the keeper's description, rating, favorite, archive, tag, album taken back"
is "$(rec "$G2" ".restored[\"$K2\"].kept | map([.field, .reason]) | .[]")" \
    '["gps","Immich cannot take a location away (latitude and longitude cannot be null)"]' \
    "a location the keeper got cannot be taken away: kept, and said"
is "$(api GET /assets/"$K2" | jq -c '[.exifInfo.latitude, .exifInfo.longitude]')" \
    '[40.4,-3.7]' "... it is still on the keeper"
is "$(rec "$G3" ".restored[\"$K3\"] | [.unstacked != null, .duplicateId] | join(\" \")")" \
    "\"true $G3\"" "the stack dissolved, its group back"
is "$(rec "$G4" ".restored | map_values(.duplicateId) | [.[]] | unique | .[]")" \
    "\"$G4\"" "the dismissed group back"
is "$(rec "$G5" ".restored[\"$K5\"].undone | map(.field) | join(\",\")")" \
    '"face"' "the face copied onto the keeper taken back"
is "$(fake_log_count ".method==\"DELETE\" and .path==\"/api/faces/$F1\" and
    .body.force==true")" 1 "... DELETE /faces/{id} {force: true}"
is "$(fake_log_count ".method==\"DELETE\" and .path==\"/api/tags/$(jq -r \
    '.tags[]|select(.value=="Trips/Rome").id' "$T/after.json")/assets\" and
    .body.ids==[\"$K1\"]")" 1 "DELETE /tags/{id}/assets {ids: [keeper]}"
is "$(fake_log_count ".method==\"DELETE\" and .path==\"/api/albums/$A1/assets\"
    and .body.ids==[\"$K1\"]")" 1 "DELETE /albums/{id}/assets {ids: [keeper]}"

# Again: nothing is sent that changes anything, the state is the same.
n0=$(fake_log_count '.method!="GET"')
IN=$T/restored.ndjson run immich-restore -q
expect_err 0 '' "a second run: exit 0, nothing on stderr"
is "$(fake_log_count '.method!="GET"')" "$n0" "... and it changes nothing"
fake_state >"$T/again.json"
python3 "$T/norm.py" "$T/again.json" "$T/restored.ndjson" \
    "$SKIP" >"$T/a2.norm" 2>&1
is "$(diff "$T/a.norm" "$T/a2.norm")" "" "... the state is the same"
is "$(printf '%s\n' "$out" | jq -c "select(.duplicateId == \"$G1\") |
    .restored[\"$K1\"].undone | map(.already) | unique")" '[true]' \
    "... and says each change was taken back already"

# Killed (SIGKILL) after the purged loser was uploaded again and its
# metadata sent, before the rest was done; a person then edits the
# keeper's description.  Run again on the same input: the upload is
# known for its own (ID.restoring beside the sidecar), finished, mapped
# into the group; the person's edit stays, and is said.
fresh() {	# N: a new server on the library, its state, the stages
	fake_stop
	rm -f "$T/fake.log"
	fake_start "$T/lib.json"
	fake_state >"$T/before.json"
	stages "$1"
}
fresh 2
fake_ctl POST /_fake/faults '[{"method":"PUT","path":"^/api/assets/[^/]+$",
    "action":"delay","seconds":3,"after":true}]' >/dev/null
immich-restore -q <"$T/done.ndjson" >"$T/killed.out" 2>&1 &
pid=$!
i=0
while [ "$(fake_ctl GET /_fake/faults | jq length)" != 0 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -9 $pid
wait $pid 2>/dev/null
is "$(wc -c <"$T/killed.out" | tr -d ' ') $(cat "$T"/backup2/*/"$L1.restoring" \
    "$T"/backup2/"$L1.restoring" 2>/dev/null)" "0 uploading" \
    "killed after the upload, before any output: the mark says uploading"
i=0
while [ "$(fake_log_count '.method=="PUT" and (.path|test("^/api/assets/[^/]+$"))')" = 0 ] &&
    [ $i -lt 200 ]; do
	sleep 0.05		# the server answers the held request
	i=$((i + 1))
done
fake_ctl POST /_fake/mutate "{\"id\":\"$K1\",\"set\":{\"exifInfo\":
    {\"description\":\"a person's edit\"}}}" >/dev/null
IN=$T/done.ndjson run immich-restore -q
expect_err 1 "^immich-restore: stdin:1: asset $K1: description was changed since consolidation: left as it is$" \
    "rerun: exit 1, and says the keeper's description was edited since"
printf '%s\n' "$out" >"$T/restored2.ndjson"
is "$(jq -c "select(.duplicateId == \"$G1\") | .restored[\"$L1\"] |
    [.how, .duplicate]" "$T/restored2.ndjson")" '["upload",true]' \
    "the killed run's upload is taken for its own, not someone's (exists)"
fake_state >"$T/after2.json"
python3 "$T/norm.py" "$T/before.json" "" "$SKIP,$K1.description" \
    >"$T/b2.norm" 2>&1
python3 "$T/norm.py" "$T/after2.json" "$T/restored2.ndjson" \
    "$SKIP,$K1.description" >"$T/a2.norm" 2>&1
is "$(diff "$T/b2.norm" "$T/a2.norm")" "" \
    "the whole state is back (but for the person's edit)"
is "$(api GET /assets/"$K1" | jq -r .exifInfo.description)" "a person's edit" \
    "the person's edit stays"
is "$(fake_log_count '.method=="POST" and .path=="/api/assets"')" 2 \
    "uploaded twice (the server found the bytes the second time)"

# -k: the keepers keep what consolidation gave them; all else is back.
fresh 3
IN=$T/done.ndjson run immich-restore -q -k
expect_err 0 '' "-k: exit 0, nothing on stderr"
printf '%s\n' "$out" >"$T/restored3.ndjson"
fake_state >"$T/after3.json"
K="$SKIP,$K1.description,$K1.rating,$K1.isFavorite,$K1.visibility"
K="$K,$K1.isArchived,$K1.tags,$K1.tagValues,$K1.albums,$A1.assetIds,$K5.faces"
python3 "$T/norm.py" "$T/before.json" "" "$K" >"$T/b3.norm" 2>&1
python3 "$T/norm.py" "$T/after3.json" "$T/restored3.ndjson" "$K" \
    >"$T/a3.norm" 2>&1
is "$(diff "$T/b3.norm" "$T/a3.norm")" "" \
    "-k: the state is back but for the keepers' merged metadata"
is "$(api GET /assets/"$K1" | jq -c '[.exifInfo.description, .exifInfo.rating,
    .isFavorite, .visibility, [.tags[].value]]')" \
    '["keeper caption\nloser caption",4,true,"archive",["Trips/Rome"]]' \
    "-k: the keeper keeps its merged description, rating, favorite, archive, tag"
is "$(api GET "/albums?assetId=$K1" | jq -c '[.[].id] | sort')" \
    "[\"$A1\",\"$A2\"]" "-k: ... and album"
is "$(api GET "/faces?id=$K5" | jq -r '.[].id')" "$F1" "-k: ... and face"
is "$(jq -c "select(.duplicateId == \"$G1\") | .restored[\"$K1\"] |
    [has(\"undone\"), .duplicateId]" "$T/restored3.ndjson")" \
    "[false,\"$G1\"]" "-k: the keeper's entry: nothing undone, its group back"

# A stack changed since immich-stack made it (another primary) is left
# as it is, and said; its group is not touched.
sid=$(api POST /stacks "{\"assetIds\":[\"$L3\",\"$K3\"]}" | jq -r .id)
jq -c "select(.duplicateId == \"$G3\") | del(.restored) | .stacked.id = \"$sid\"" \
    "$T/done.ndjson" >"$T/changed.ndjson"
n0=$(fake_log_count '.method!="GET"')
IN=$T/changed.ndjson run immich-restore -q
expect_err 1 "^immich-restore: stdin:1: asset $K3: stack $sid was changed since immich-stack made it: left as it is$" \
    "a stack changed since: exit 1, said"
is "$(api GET /stacks/"$sid" | jq -r .primaryAssetId) $(fake_log_count '.method!="GET"')" \
    "$L3 $n0" "... left as it is, nothing sent"

#!/bin/sh
# immich-restore as an undo: a library with a group of each kind (resolved
# with metadata moved onto the keeper and a loser later purged, one whose
# location cannot be taken away, stacked, dismissed, a named person's
# face copied onto the keeper) goes through the stages; after Immich's
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
    immich-trash immich-stack immich-dismiss immich-restore; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
plan 39

. "$TESTDIR/undo-fixture.sh"
fake_start "$T/lib.json"
fake_state >"$T/before.json"
stages 1
is "$(jq -r .duplicateId "$T/done.ndjson" | tr '\n' ' ')" \
    "$G1 $G2 $G5 $G6 $G3 $G4 " "the stages ran: six records"
is "$(api GET /duplicates | jq length)" 0 "(no group is left in the list)"
F1=$(jq -r ".consolidated.changes[]? | select(.field == \"face\") | .faceId" \
    "$T/done.ndjson")
is "$(api GET "/faces?id=$K5" | jq -r '.[].id')" "$F1" \
    "(Alice's face was copied onto K5, the record names it)"

IN=$T/done.ndjson run immich-restore -q
expect_err 0 '' "undo: exit 0, nothing on stderr"
printf '%s\n' "$out" >"$T/restored.ndjson"
fake_state >"$T/after.json"
is "$(statediff "$T/before.json" "$T/after.json" "$T/restored.ndjson" \
    "$SKIP")" "" "the whole state is back (but for K2's location)"
rec() { jq -c --arg g "$1" "select(.duplicateId == \$g) | $2" "$T/restored.ndjson"; }
is "$(api GET /duplicates | jq -c '[.[].duplicateId] | sort')" \
    "$(printf '%s\n' "$G1" "$G2" "$G3" "$G4" "$G5" "$G6" | jq -R . | jq -sc 'sort')" \
    "every group is back in GET /duplicates"
new1=$(rec "$G1" ".restored[\"$L1\"].newId" | tr -d '"')
is "$(rec "$G1" ".restored[\"$L1\"] | [.how, .duplicateId] | join(\" \")")" \
    "\"upload $G1\"" "the purged loser, uploaded again, is in its group again"
is "$(api GET /assets/"$new1" | jq -r .duplicateId)" "$G1" \
    "... under its new id"
is "$(rec "$G1" ".undone.keeper | [.id, .ok, (.undone | map(.field)
    | join(\",\")), (.kept | length)] | join(\" \")")" \
    "\"$K1 true description,rating,isFavorite,visibility,tag,album 0\"" \
    "the keeper's description, rating, favorite, archive, tag, album taken back"
is "$(rec "$G2" ".undone.keeper.kept | map([.field, .reason]) | .[]")" \
    '["gps","Immich cannot take a location away (latitude and longitude cannot be null)"]' \
    "a location the keeper got cannot be taken away: kept, and said"
is "$(api GET /assets/"$K2" | jq -c '[.exifInfo.latitude, .exifInfo.longitude]')" \
    '[40.4,-3.7]' "... it is still on the keeper"
is "$(api GET /assets/"$K6" | jq -r .exifInfo.dateTimeOriginal) $(rec "$G6" \
    ".undone.keeper.undone | map(.field) | join(\",\")")" \
    "2023-05-01T10:00:00.000Z \"dateTimeOriginal\"" \
    "the capture time a file-dated keeper got is taken back to its file's"
is "$(rec "$G3" ".undone | [.stack.dissolved, .group.duplicateId,
    (.group.assets | sort | join(\",\"))] | join(\" \")")" \
    "\"true $G3 $K3,$L3\"" "the stack dissolved, its group back"
is "$(rec "$G4" "[.restored, .undone.group.duplicateId,
    (.undone.group.assets | sort | join(\",\"))]")" \
    "[{},\"$G4\",\"$K4,$L4\"]" "the dismissed group back (nothing restored)"
is "$(rec "$G5" ".undone.keeper.undone | map(.field) | join(\",\")")" \
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
is "$(statediff "$T/before.json" "$T/again.json" "$T/restored.ndjson" \
    "$SKIP")" "" "... the state is still the one before the run"
is "$(printf '%s\n' "$out" | jq -c "select(.duplicateId == \"$G1\") |
    .undone.keeper.undone | map(.already) | unique")" '[true]' \
    "... and says each change was taken back already"

# Killed (SIGKILL) after the purged loser was uploaded again and its
# metadata sent, before the rest was done; a person then edits the
# keeper's description.  Run again on the same input: the upload is
# known for its own (ID.restoring beside the sidecar), finished, mapped
# into the group; the person's edit stays, and is said.
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
is "$(statediff "$T/before.json" "$T/after2.json" "$T/restored2.ndjson" \
    "$SKIP,$K1.description")" "" \
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
K="$K,$K1.isArchived,$K1.tags,$K1.tagValues,$K1.albums,$A1.assetIds"
K="$K,$K6.dateTimeOriginal,$K6.localDateTime,$K5.faces"
is "$(statediff "$T/before.json" "$T/after3.json" "$T/restored3.ndjson" \
    "$K")" "" \
    "-k: the state is back but for the keepers' merged metadata"
is "$(api GET /assets/"$K1" | jq -c '[.exifInfo.description, .exifInfo.rating,
    .isFavorite, .visibility, [.tags[].value]]')" \
    '["keeper caption\nloser caption",4,true,"archive",["Trips/Rome"]]' \
    "-k: the keeper keeps its merged description, rating, favorite, archive, tag"
is "$(api GET "/albums?assetId=$K1" | jq -c '[.[].id] | sort')" \
    "[\"$A1\",\"$A2\"]" "-k: ... and album"
F1=$(jq -r ".consolidated.changes[]? | select(.field == \"face\") | .faceId" \
    "$T/done.ndjson")
is "$(api GET "/faces?id=$K5" | jq -r '.[].id')" "$F1" "-k: ... and face"
is "$(jq -c "select(.duplicateId == \"$G1\") | .undone |
    [has(\"keeper\"), .group.duplicateId]" "$T/restored3.ndjson")" \
    "[false,\"$G1\"]" "-k: nothing undone on the keeper, its group back"

# A stack changed since immich-stack made it (another primary) is left
# as it is, and said; its group is not touched.
sid=$(api POST /stacks "{\"assetIds\":[\"$L3\",\"$K3\"]}" | jq -r .id)
jq -c "select(.duplicateId == \"$G3\") | del(.restored, .undone) | .stacked.id = \"$sid\"" \
    "$T/done.ndjson" >"$T/changed.ndjson"
n0=$(fake_log_count '.method!="GET"')
IN=$T/changed.ndjson run immich-restore -q
expect_err 1 "^immich-restore: stdin:1: asset $K3: stack $sid was changed since immich-stack made it: left as it is$" \
    "a stack changed since: exit 1, said"
is "$(api GET /stacks/"$sid" | jq -r .primaryAssetId) $(fake_log_count '.method!="GET"')" \
    "$L3 $n0" "... left as it is, nothing sent"

# A record whose "was" would lock the keeper (hidden from the key) is
# never sent: that change is kept, and said why.
jq -c "select(.duplicateId == \"$G1\") | del(.restored, .undone) |
    .consolidated.changes |= map(if .field == \"visibility\" then
    .was = \"locked\" else . end)" "$T/done.ndjson" >"$T/locked.ndjson"
IN=$T/locked.ndjson run immich-restore -q
expect_err 0 '' "a \"was\" of locked: exit 0, nothing on stderr"
is "$rc $(printf '%s\n' "$out" | jq -c '.undone.keeper.kept |
    map(select(.field == "visibility") | .reason)')" \
    "0 [\"the record's \\\"was\\\" is not timeline or archive\"]" \
    "a \"was\" of locked: kept, said why"
is "$(fake_log_count '.method=="PUT" and .body.visibility=="locked"')" 0 \
    "... and never sent"

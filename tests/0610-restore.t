#!/bin/sh
# immich-restore: back from the trash (checked with isTrashed), or, when
# the asset was purged, uploaded again from the backup with its metadata.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
command -v immich-trash >/dev/null && command -v immich-restore >/dev/null ||
    skip_all "immich-trash or immich-restore not built"
plan 57

F=$T/f
python3 "$TESTDIR/trash-fixture.py" "$F" fromtrash purged liveboth held \
    lying operand forced vtwo dup before badvideo || exit 1
. "$F/ids.sh"
fake_start "$F/lib.json"
mutate() { fake_ctl POST /_fake/mutate "$1" >/dev/null; }
asset() { fake_state | jq -c --arg id "$1" '.assets[]|select(.id==$id)'; }
res() { printf '%s\n' "$out" | jq -c --arg l "$1" '.restored[$l] // empty'; }
# The sidecars carry the server's tag id, as immich-fetch writes them.
tag=$(fake_state | jq -r '.tags[]|select(.value=="Trips/Paris")|.id')
for f in "$F"/backup/*.json "$F"/*.ndjson; do
	sed "s/000007a6-0000-4000-8000-000000000001/$tag/g" "$f" >"$F/.s" &&
	    mv "$F/.s" "$f"
done
n_live=$(fake_state | jq '[.assets[]|select(.purged|not)]|length')

# Trash everything first (held: a review flag keeps it).
jq -c '.review = [{code:"gps-conflict"}]' "$F/held.ndjson" >"$F/.h" &&
    mv "$F/.h" "$F/held.ndjson"
for c in fromtrash purged liveboth held lying operand vtwo; do
	immich-trash -q <"$F/$c.ndjson" >"$F/$c.done" 2>>"$F/trash.err"
done
immich-trash -q -F <"$F/forced.ndjson" >"$F/forced.done" 2>>"$F/trash.err"
is "$(asset "$L_fromtrash" | jq -r .isTrashed)" true "(trashed)"
all_like "$(cat "$F/trash.err")" \
    "^immich-trash: stdin:1: asset $L_held: held back \\(review\\): unresolved review flags: gps-conflict$" \
    "immich-trash said only why it held the loser with a review flag"

# From the trash.
IN=$F/fromtrash.done run immich-restore -q
expect_err 0 '' "from the trash: exit 0, nothing on stderr"
# The group was never taken apart (no GET /duplicates in between): the
# entry says it is in its group (duplicateId; the record's "undone.group"
# too), and nothing is sent.
is "$rc $(res "$L_fromtrash")" \
    "0 {\"ok\":true,\"how\":\"trash\",\"duplicateId\":\"$(jq -r .duplicateId "$F/fromtrash.done")\"}" \
    "restored from the trash, in its group"
is "$(asset "$L_fromtrash" | jq -r .isTrashed)" false "isTrashed false"
is "$(fake_log_count ".method==\"POST\" and .path==\"/api/trash/restore/assets\"
    and .body.ids==[\"$L_fromtrash\"]")" 1 "POST /trash/restore/assets {ids}"
is "$(printf '%s' "$out" | jq -c 'del(.restored, .undone)')" \
    "$(jq -c . "$F/fromtrash.done")" "every other key passes through"

# The server's count is not trusted: a restore that did nothing fails.
fake_ctl POST /_fake/faults '[{"path":"^/api/trash/restore/assets$",
    "action":"status","status":200,"body":{"count":1}}]' >/dev/null
IN=$F/lying.done run immich-restore -q
is "$rc $(res "$L_lying" | jq -r .ok)" "1 false" \
    "count 1 but still trashed: not restored, exit 1"
expect_err 1 "^immich-restore: stdin:1: asset $L_lying: still in the trash after POST /api/trash/restore/assets$" \
    "... said on stderr, and nothing else"
like "$(res "$L_lying" | jq -r .detail)" "still in the trash" "says why"
IN=$F/lying.done run immich-restore
is "$rc $(res "$L_lying" | jq -r .how)" "0 trash" "second try restores"
expect_err 0 "^immich-restore: 1 record, 1 asset, 0 failed, .*, 1 restored from the trash, 0 uploaded again, 0 not restored$" \
    "... and its summary is all it says"

# Held losers are not restored.
IN=$F/held.done run immich-restore -q
expect_err 0 '' "a held loser: exit 0, nothing on stderr"
is "$rc $(printf '%s' "$out" | jq -c .restored)" '0 {}' \
    "a held loser is not in restored"

# Operands.
run immich-restore -q "$L_operand"
expect_err 0 '' "restore by id: exit 0, nothing on stderr"
is "$rc $(res "$L_operand")" '0 {"ok":true,"how":"trash"}' "restore by id"
is "$(asset "$L_operand" | jq -r .isTrashed)" false "operand: isTrashed false"
run immich-restore -q not-an-id
expect_err 2 "^immich-restore: not-an-id: not an asset id \\(a lower-case UUID\\)$" \
    "a bad operand: named on stderr"
is "$rc" 2 "a bad operand: usage error"

# Purged: uploaded again from the backup, metadata put back.
mutate "{\"id\":\"$L_purged\",\"purge\":true}"
IN=$F/purged.done run immich-restore
new=$(res "$L_purged" | jq -r .newId)
expect_err 0 "^immich-restore: 1 record, 1 asset, 0 failed, .*, 0 restored from the trash, 1 uploaded again, 0 not restored$" \
    "purged: the summary counts it uploaded, nothing else on stderr"
is "$rc $(res "$L_purged" | jq -r '.ok, .how' | tr '\n' ' ')" "0 true upload " \
    "purged: uploaded again"
a=$(asset "$new")
is "$(printf '%s' "$a" | jq -r .checksum)" \
    "$(jq -r ".backup[\"$L_purged\"].sha1" "$F/purged.ndjson")" \
    "the new asset's checksum is the backup's SHA-1"
is "$(printf '%s' "$a" | jq -r .originalFileName)" "IMG_2-copy.jpg" \
    "original file name"
is "$(printf '%s' "$a" | jq -r .fileCreatedAt)" "2023-05-01T10:00:00.000Z" \
    "file dates"
is "$(printf '%s' "$a" | jq -c '[.exifInfo.description, .exifInfo.rating,
    .isFavorite, .exifInfo.latitude, .exifInfo.longitude]')" \
    '["caption of purged",4,true,48.85,2.35]' \
    "description, rating, favorite, GPS put back"
is "$(printf '%s' "$a" | jq -r '.exifInfo|.dateTimeOriginal+" "+.timeZone')" \
    "2023-05-01T10:00:00.000Z UTC+2" "date and time zone put back"
is "$(printf '%s' "$a" | jq -r '.albums|index("'"$ALBUM"'") != null')" true \
    "album put back"
is "$(printf '%s' "$a" | jq -r '[.tags[].value]|join(",")')" "Trips/Paris" \
    "tag put back"
like "$(fake_log_count '.method=="POST" and .path=="/api/assets" and
    .body.deviceAssetId==null and .body.filename=="IMG_2-copy.jpg" and
    .body.assetData.sha1 != null')" '^[1-9]' \
    "3.x upload: filename, no deviceAssetId"

# A live photo with its video, both purged.
mutate "{\"id\":\"$L_liveboth\",\"purge\":true}"
is "$(asset "$V_liveboth" | jq -r .purged)" true "(the video went with it)"
IN=$F/liveboth.done run immich-restore -q
expect_err 0 '' "live photo: exit 0, nothing on stderr"
r=$(res "$L_liveboth")
is "$rc $(printf '%s' "$r" | jq -r .how)" "0 upload" "live photo uploaded"
nv=$(printf '%s' "$r" | jq -r .newVideoId)
is "$(asset "$(printf '%s' "$r" | jq -r .newId)" | jq -r .livePhotoVideoId)" \
    "$nv" "still linked to its new video"
is "$(asset "$nv" | jq -r .checksum)" \
    "$(jq -r ".backup[\"$V_liveboth\"].sha1" "$F/liveboth.ndjson")" \
    "video byte-identical"

# Deleted with -F: gone, uploaded again.
IN=$F/forced.done run immich-restore -q
expect_err 0 '' "force-deleted: exit 0, nothing on stderr"
is "$rc $(res "$L_forced" | jq -r .how)" "0 upload" "force-deleted: uploaded"

# An Immich 2.x server needs deviceAssetId and deviceId on upload.
mutate "{\"id\":\"$L_vtwo\",\"purge\":true}"
fake_ctl POST /_fake/config '{"errorStyle":"v2"}' >/dev/null
fake_ctl POST /_fake/faults '[{"path":"^/api/server/version$","action":"status",
    "status":200,"body":{"major":2,"minor":7,"patch":5,"prerelease":null}}]' >/dev/null
IN=$F/vtwo.done run immich-restore -q
expect_err 0 '' "2.x: exit 0, nothing on stderr"
fake_ctl POST /_fake/config '{"errorStyle":"v3"}' >/dev/null
is "$rc $(res "$L_vtwo" | jq -r .how)" "0 upload" "2.x: uploaded"
is "$(fake_log_count ".method==\"POST\" and .path==\"/api/assets\" and
    .body.deviceAssetId==\"immich-restore-$L_vtwo\" and
    .body.deviceId==\"immich-restore\"")" 1 "2.x: with deviceAssetId and deviceId"

# A backup file that changed on disk is never uploaded.
p=$(jq -r ".backup[\"$L_purged\"].path" "$F/purged.ndjson")
fake_ctl POST /_fake/mutate "{\"id\":\"$new\",\"purge\":true}" >/dev/null
printf 'tampered' >"$p"
u0=$(fake_log_count '.method=="POST" and .path=="/api/assets"')
IN=$F/purged.done run immich-restore -q
expect_err 1 "^immich-restore: stdin:1: asset $L_purged: $p: SHA-1 [A-Za-z0-9+/=]+ is not the backup's [A-Za-z0-9+/=]+: not uploaded$" \
    "changed backup: said on stderr, and nothing else"
is "$rc $(res "$L_purged" | jq -r .ok)" "1 false" "changed backup: fails"
like "$(res "$L_purged" | jq -r .detail)" "SHA-1 .* not the backup's" \
    "and says the file changed"
is "$(fake_log_count '.method=="POST" and .path=="/api/assets"')" "$u0" \
    "and uploads nothing"

# Back to the starting set (what was purged came back under new ids).
is "$(fake_state | jq '[.assets[]|select((.purged|not) and (.isTrashed|not))]|length')" \
    "$((n_live - 1))" "every asset back but the tampered one"
is "$(fake_state | jq .trashEmptyCalls)" 0 "never empties the trash"
is "$(fake_log_count '.path|test("/trash/empty|/trash/restore$")')" 0 \
    "only restores the ids it was given"

# Purged, and another live asset now has its bytes (the upload says
# duplicate with its id): that asset is someone's own, left as it is.
immich-trash -q <"$F/dup.ndjson" >"$F/dup.done" 2>>"$F/trash.err"
mutate "{\"id\":\"$L_dup\",\"purge\":true}"
Y=0000beef-0000-4000-8000-000000000001
fake_ctl POST /_fake/add "{\"assets\":[{\"id\":\"$Y\",
    \"content\":\"loser of case dup\",\"originalFileName\":\"mine.jpg\",
    \"exifInfo\":{\"description\":\"Y's own caption\"}}]}" >/dev/null
IN=$F/dup.done run immich-restore -q
expect_err 0 '' "bytes already live: exit 0, nothing on stderr"
is "$rc $(res "$L_dup")" "0 {\"ok\":true,\"how\":\"exists\",\"newId\":\"$Y\"}" \
    "bytes already live under another id: how exists, newId"
is "$(asset "$Y" | jq -c '[.exifInfo.description, .isFavorite, .exifInfo.rating]')" \
    "[\"Y's own caption\",false,null]" "that asset's metadata is untouched"
is "$(fake_log_count ".method==\"PUT\" and (.path==\"/api/assets/$Y\" or
    ((.body.ids // [])|index(\"$Y\")))")" 0 "and nothing is sent to it"

# Trashed by someone before immich-trash ran: left in the trash unless -a.
mutate "{\"id\":\"$L_before\",\"trash\":true}"
immich-trash -q <"$F/before.ndjson" >"$F/before.done" 2>>"$F/trash.err"
IN=$F/before.done run immich-restore -q
expect_err 0 '' "alreadyTrashed: exit 0, nothing on stderr"
is "$rc $(printf '%s' "$out" | jq -c .restored) $(asset "$L_before" | jq -r .isTrashed)" \
    '0 {} true' "alreadyTrashed: not restored"
IN=$F/before.done run immich-restore -q -a
expect_err 0 '' "-a: exit 0, nothing on stderr"
is "$rc $(res "$L_before" | jq -r .how) $(asset "$L_before" | jq -r .isTrashed)" \
    "0 trash false" "-a: restored too"

# A live-photo video id that is not an id never goes into a URL.
immich-trash -q <"$F/badvideo.ndjson" 2>>"$F/trash.err" |
    jq -c ".backup[\"$L_badvideo\"].video = \"../../x-not-an-id\"" \
    >"$F/badvideo.done"
mutate "{\"id\":\"$L_badvideo\",\"purge\":true}"
IN=$F/badvideo.done run immich-restore -q
expect_err 1 "^immich-restore: stdin:1: asset $L_badvideo: live-photo video id is not an asset id: not restored$" \
    "a bad video id: said on stderr, and the record counts as failed (exit 1)"
like "$(printf '%s' "$out" | jq -r '.errors[].message')" \
    "live-photo video id is not an asset id" "a bad video id: said"
is "$(fake_log_count '.path|test("\\.\\.|x-not-an-id")')" 0 \
    "and not requested"

#!/bin/sh
# The fake Immich server itself: auth, shapes, bytes, ranges, faults, log.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null && command -v jq >/dev/null ||
    skip_all "needs curl and jq"
plan 45

A=11111111-1111-4111-8111-111111111111
B=22222222-2222-4222-8222-222222222222
G=99999999-9999-4999-8999-999999999999
AL=33333333-3333-4333-8333-333333333333
cat >"$T/lib.json" <<JSON
{"assets":[
 {"id":"$A","originalFileName":"a.jpg","content":"hello world",
  "duplicateId":"$G","exifInfo":{"make":"Canon"},"tags":["Trips/Paris"]},
 {"id":"$B","originalFileName":"b.jpg","size":3000000,"seed":"x",
  "duplicateId":"$G"}],
 "albums":[{"id":"$AL","albumName":"Trip","assetIds":["$A"]}]}
JSON
fake_start "$T/lib.json"
API=$IMMICH_INSTANCE_URL/api
K="x-api-key: $IMMICH_API_KEY"
J='Content-Type: application/json'

# Auth.
code=$(curl -s -o "$T/b" -w '%{http_code}' "$API/duplicates")
is "$code $(cat "$T/b")" '401 {"message":"Authentication required"}' \
    "no key: 401 Authentication required"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H 'x-api-key: nope' "$API/duplicates")
is "$code $(jq -r .message "$T/b")" '401 Invalid API key' "wrong key: 401"
code=$(curl -s -o /dev/null -w '%{http_code}' "$API/server/ping")
is "$code" 200 "server/ping is public"
hdr=$(curl -s -D - -o /dev/null -H "$K" "$API/server/version")
like "$hdr" '^X-Correlation-ID: ' "X-Correlation-ID header"

# Duplicates.
d=$(curl -s -H "$K" "$API/duplicates")
is "$(printf '%s' "$d" | jq -c '[.[]|keys]')" \
    '[["assets","duplicateId","suggestedKeepAssetIds"]]' "duplicates shape"
is "$(printf '%s' "$d" | jq -r '.[0].suggestedKeepAssetIds[0]')" "$B" \
    "suggested keeper is the largest file"
is "$(printf '%s' "$d" | jq -r '.[0].assets[0].tags[0].value')" "Trips/Paris" \
    "tags included"
is "$(printf '%s' "$d" | jq -r '.[0].assets[0].exifInfo|keys|length')" 22 \
    "every ExifResponseDto key present"

# Original bytes and checksum.
for id in $A $B; do
	curl -s -H "$K" -o "$T/o" "$API/assets/$id/original"
	sum=$(openssl dgst -sha1 -binary "$T/o" | base64)
	ck=$(curl -s -H "$K" "$API/assets/$id" | jq -r .checksum)
	is "$sum" "$ck" "SHA-1 of original equals checksum ($id)"
done
is "$(wc -c <"$T/o" | tr -d ' ')" 3000000 "size+seed asset has its size"
code=$(curl -s -o "$T/r" -w '%{http_code}' -r 100-199 -H "$K" "$API/assets/$B/original")
is "$code $(wc -c <"$T/r" | tr -d ' ')" "206 100" "Range: 206 with 100 bytes"
tail -c +101 "$T/o" | head -c 100 | cmp -s - "$T/r"
ok $? "ranged bytes are the right bytes"
code=$(curl -s -o /dev/null -w '%{http_code}' -r 5000000-5000001 -H "$K" "$API/assets/$B/original")
is "$code" 416 "unsatisfiable range: 416"
code=$(curl -s -o "$T/b" -w '%{http_code}' -H "$K" "$API/assets/44444444-4444-4444-8444-444444444444/original")
is "$code $(cat "$T/b")" '404 {"message":"Not Found"}' "unknown original: 404"

# Status fault, then success; Retry-After header.
fake_ctl POST /_fake/faults '[{"path":"^/api/assets/[^/]+$","method":"GET","action":"status","status":429,"retryAfter":"1","times":2}]' >/dev/null
c1=$(curl -s -D "$T/h" -o /dev/null -w '%{http_code}' -H "$K" "$API/assets/$A")
c2=$(curl -s -o /dev/null -w '%{http_code}' -H "$K" "$API/assets/$A")
c3=$(curl -s -o /dev/null -w '%{http_code}' -H "$K" "$API/assets/$A")
is "$c1 $c2 $c3" "429 429 200" "429 twice, then 200"
like "$(cat "$T/h")" '^Retry-After: 1' "Retry-After sent"

# Reset fault cuts the body.
fake_ctl POST /_fake/faults '{"path":"/original$","action":"reset","afterBytes":1000}' >/dev/null
curl -s -H "$K" -o "$T/p" "$API/assets/$B/original"
rc=$?
is "$(wc -c <"$T/p" | tr -d ' ')" 1000 "reset: only 1000 bytes arrived"
ok $((rc == 0)) "reset: curl fails (rc $rc)"
fake_ctl POST /_fake/faults '{"path":"/original$","action":"short","afterBytes":10}' >/dev/null
curl -s -H "$K" -o "$T/p" "$API/assets/$B/original"
rc=$?
is "$rc $(wc -c <"$T/p" | tr -d ' ')" "18 10" "short body: curl 18, 10 bytes"
fake_ctl POST /_fake/faults '{"path":"/original$","action":"wrongbytes"}' >/dev/null
curl -s -H "$K" -o "$T/p" "$API/assets/$B/original"
cmp -s "$T/p" "$T/o"
ok $((! $?)) "wrongbytes: same length, different bytes"
is "$(wc -c <"$T/p" | tr -d ' ')" 3000000 "wrongbytes: full length"

# Mutations: delete all-or-nothing, trash, restore, purge.
code=$(curl -s -o "$T/b" -w '%{http_code}' -X DELETE -H "$K" -H "$J" \
    -d "{\"ids\":[\"$A\",\"44444444-4444-4444-8444-444444444444\"]}" "$API/assets")
is "$code $(jq -r .message "$T/b")" "400 Not found or no asset.delete access" \
    "delete with an unknown id: 400"
is "$(fake_state | jq -r ".assets[]|select(.id==\"$A\")|.isTrashed")" false \
    "nothing trashed"
code=$(curl -s -o "$T/b" -w '%{http_code}' -X DELETE -H "$K" -H "$J" \
    -d "{\"ids\":[\"$A\"]}" "$API/assets")
is "$code $(wc -c <"$T/b" | tr -d ' ')" "204 0" "trash: 204, empty body"
is "$(curl -s -H "$K" "$API/duplicates")" "[]" "singleton group gone"
is "$(curl -s -H "$K" "$API/assets/$A" | jq -r .isTrashed)" true \
    "trashed asset still readable"
r=$(curl -s -X POST -H "$K" -H "$J" -d "{\"ids\":[\"$A\"]}" "$API/trash/restore/assets")
is "$r" '{"count":1}' "restore count"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$K" -H "$J" \
    -d "{\"ids\":[\"$A\"],\"force\":true}" "$API/assets")
c2=$(curl -s -o /dev/null -w '%{http_code}' -H "$K" "$API/assets/$A")
c3=$(curl -s -o /dev/null -w '%{http_code}' -H "$K" "$API/assets/$A/original")
is "$code $c2 $c3" "204 400 404" "force delete purges"

# Restart keeps state.
fake_restart
is "$(curl -s -o /dev/null -w '%{http_code}' -H "$K" "$API/assets/$A")" 400 \
    "purge survives a restart"

# Request log.
n=$(fake_log_count '.method=="DELETE" and .path=="/api/assets"')
is "$n" 3 "log: three DELETE /api/assets"
is "$(fake_log_count '.fault=="reset"')" 1 "log: the reset fault"
is "$(fake_log_count '.body.force==true')" 1 "log: the body is logged"
curl -s -o /dev/null "$API/assets/$B?apiKey=$IMMICH_API_KEY"
is "$(fake_log_count '.keyInQuery')" 1 "log: key in query flagged"
if grep -q "$IMMICH_API_KEY" "$FAKE_LOG"; then ok 1 "key not logged"; else
	ok 0 "key not logged"; fi

# Upload: created, then duplicate; missing dates: 400 Validation failed.
printf 'new bytes' >"$T/up.jpg"
up() {
	curl -s -H "$K" -F "assetData=@$T/up.jpg" "$@" "$API/assets"
}
r1=$(up -F fileCreatedAt=2024-01-01T00:00:00.000Z -F fileModifiedAt=2024-01-01T00:00:00.000Z)
r2=$(up -F fileCreatedAt=2024-01-01T00:00:00.000Z -F fileModifiedAt=2024-01-01T00:00:00.000Z)
is "$(printf '%s' "$r1" | jq -r .status)" created "upload: created"
is "$(printf '%s' "$r2" | jq -r '.status+" "+.id')" \
    "duplicate $(printf '%s' "$r1" | jq -r .id)" "same bytes again: duplicate"
is "$(up | jq -r .message)" "Validation failed" "upload without dates: 400"

# Close fault: no reply at all; a processed status fault changes state.
fake_ctl POST /_fake/faults '{"path":"^/api/server/ping$","action":"close"}' >/dev/null
curl -s -o /dev/null "$API/server/ping"
is "$?" 52 "close: empty reply"
fake_ctl POST /_fake/faults '{"method":"PUT","action":"status","status":502,"process":true}' >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$K" -H "$J" \
    -d '{"description":"done anyway"}' "$API/assets/$B")
is "$code $(curl -s -H "$K" "$API/assets/$B" | jq -r .exifInfo.description)" \
    "502 done anyway" "status fault with process: state changed, 502 sent"

# Permissions and 2.x error bodies.
fake_ctl POST /_fake/config '{"permissions":["asset.read"],"errorStyle":"v2"}' >/dev/null
b=$(curl -s -H "$K" "$API/duplicates")
is "$(printf '%s' "$b" | jq -r '.message+" "+(.statusCode|tostring)')" \
    "Missing required permission: duplicate.read 403" "403 without the permission (v2 body)"
b=$(curl -s -H "$K" "$API/assets/nope")
is "$(printf '%s' "$b" | jq -c .message)" '["id must be a UUID"]' \
    "v2 validation message is an array"
fake_ctl POST /_fake/config '{"permissions":["all"],"errorStyle":"v3"}' >/dev/null

# The "every kind of group" library.
python3 "$TESTDIR/mklib.py" --kinds >"$T/kinds.json"
fake_stop
fake_start "$T/kinds.json"
d=$(curl -s -H "x-api-key: $IMMICH_API_KEY" "$IMMICH_INSTANCE_URL/api/duplicates")
is "$(printf '%s' "$d" | jq length)" "$(jq '.groups|length' "$T/kinds.json")" \
    "kinds: one group per kind"
tg=$(jq -r '.groups["trashed-member"]' "$T/kinds.json")
is "$(printf '%s' "$d" | jq ".[]|select(.duplicateId==\"$tg\")|.assets|length")" 2 \
    "kinds: the trashed member is not listed"
is "$(printf '%s' "$d" | jq '[.[].assets[]|select(.visibility=="hidden")]|length')" 0 \
    "kinds: the hidden live-photo video is in no group"

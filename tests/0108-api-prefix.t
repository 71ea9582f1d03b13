#!/bin/sh
# Messages name a request with the server's real path prefix, from
# IMMICH_INSTANCE_URL (api.c): with https://host/photos every stage says
# "/photos/api/...", not a hard-coded "/api".  The fake serves only /api,
# so each request here is answered 404, which the message quotes.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "needs jq"
command -v immich-trash >/dev/null && command -v immich-consolidate >/dev/null &&
    command -v immich-restore >/dev/null || skip_all "stages not built"
plan 6

K=00000001-0000-4000-8000-000000000000
L=00000001-0000-4000-8000-000000000001
echo '{"apiKey": "k-prefix", "assets": []}' >"$T/lib.json"
fake_start "$T/lib.json"
IMMICH_INSTANCE_URL=$FAKE/photos
export IMMICH_INSTANCE_URL

run immich-trash -n
is "$rc" 3 "immich-trash: a server check answered 404: exit 3"
like "$err" '^immich-trash: GET /photos/api/server/features: HTTP 404' \
    "... named with the real prefix"

jq -nc --arg k "$K" --arg l "$L" \
    '{keep: $k, trash: [$l], review: [], assets: [{id: $k}, {id: $l}]}' >"$T/plan"
IN=$T/plan run immich-consolidate -q
is "$rc" 1 "immich-consolidate: the keeper's GET answered 404: exit 1"
like "$err" "^immich-consolidate: stdin:1: asset $K: GET /photos/api/assets/$K: HTTP 404" \
    "... named with the real prefix"

run immich-restore -q "$L"
is "$rc" 1 "immich-restore: nothing to restore: exit 1"
like "$(printf '%s\n' "$out" | jq -r ".restored[\"$L\"].detail")" \
    '^not on the server, and no backup of it in the record$' \
    "... restore reads the asset through the prefix (404: gone)"

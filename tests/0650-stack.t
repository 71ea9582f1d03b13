#!/bin/sh
# immich-stack against the fake server: a RAW+JPEG group consolidated
# (immich-consolidate -a raw-jpeg) then stacked with the keeper as the
# primary, its metadata on the primary, the group gone from GET
# /api/duplicates and its duplicateId kept; a rerun with the same input
# recognises the stack (found, no second POST /stacks), one with the
# output sends nothing; -n makes no stack; a group not consolidated is
# held; a loser stacked elsewhere meanwhile or in the trash is not stacked
# (stealing it would break that stack); a POST /stacks whose reply is lost
# is looked up, never sent again; a refused one is an error.  Then the
# fake's DELETE /stacks/{id}, DELETE /stacks and POST /stacks merging a
# stack whose primary is listed, as the server does (for immich-restore).
. "$(dirname "$0")/lib.sh"

for b in immich-dupes immich-consolidate immich-stack; do
	command -v $b >/dev/null || skip_all "$b not built"
done
command -v jq >/dev/null || skip_all "jq missing"
plan 43

K() { printf '%08d-0000-4000-8000-000000000000' "$1"; }
L() { printf '%08d-0000-4000-8000-%012d' "$1" "$2"; }
D() { printf 'd%07d-0000-4000-8000-000000000000' "$1"; }
X=e0000001-0000-4000-8000-000000000000

# Group n: a RAW keeper (bigger) and its JPEG, which has a caption, a
# location and an album the RAW file lacks.
raw() {
	printf '{"id":"%s","duplicateId":"%s","originalFileName":"DSC_%04d.dng","content":"raw %d raw %d raw %d"},\n' \
	    "$(K $1)" "$(D $1)" "$1" "$1" "$1" "$1"
	printf '{"id":"%s","duplicateId":"%s","originalFileName":"DSC_%04d.jpg","content":"jpeg %d","exifInfo":{"description":"Jpeg %d","latitude":48.5,"longitude":2.25}},\n' \
	    "$(L $1 1)" "$(D $1)" "$1" "$1" "$1"
}
{
	echo '{"apiKey": "k-stack", "assets": ['
	for g in 1 2 3 4 5 6; do raw $g; done
	echo "{\"id\":\"$X\",\"content\":\"another photo\"}"
	echo "], \"albums\": [{\"id\": \"a0000001-0000-4000-8000-000000000000\","
	echo " \"albumName\": \"Trip\", \"assetIds\": [\"$(L 1 1)\"]}]}"
} >"$T/lib.json"
fake_start "$T/lib.json"
api() { curl -sS -H "x-api-key: $IMMICH_API_KEY" "$@"; }
posts() { fake_log_count '.method == "POST" and .path == "/api/stacks"'; }
grp() { jq -c --arg d "$(D $1)" 'select(.duplicateId == $d)' "$2"; }

immich-dupes -q >"$T/plan" || exit 1
jq -c 'select([.review[].code] == ["raw-jpeg"])' "$T/plan" >"$T/rj"
is "$(wc -l <"$T/rj" | tr -d ' ')" 6 "six RAW+JPEG groups in the plan"
is "$(grp 1 "$T/rj" | jq -r .keep)" "$(K 1)" "the RAW file is the keeper"

# ---- Not consolidated: held.
IN=$T/rj run immich-stack -q
expect_err 1 "consolidation not done: not stacked" \
    "plan records straight from immich-dupes: exit 1, said for each"
is "$(printf '%s\n' "$out" | jq -c .stacked | sort -u)" \
    '{"skipped":"consolidation"}' "stacked: skipped consolidation"
is "$(posts)" 0 "no stack made"

grp 1 "$T/rj" | immich-consolidate -q -a raw-jpeg >"$T/c1" || exit 1
is "$(jq -r .consolidated.confirmed "$T/c1")" true "group 1 consolidated"

# ---- -n.
IN=$T/c1 run immich-stack -n
expect_err 0 "^immich-stack: 1 record, 2 assets, 0 failed, .* 2 requests, .*, 0 stacked, 0 found stacked, dry run$" \
    "-n: exit 0, the summary only"
is "$(printf '%s\n' "$out" | jq -c .stacked)" \
    "{\"primary\":\"$(K 1)\",\"assets\":[\"$(K 1)\",\"$(L 1 1)\"],\"dryRun\":true,\"confirmed\":false}" \
    "-n: the stack it would make"
is "$(posts)" 0 "-n: no POST /stacks"

# ---- The stack.
IN=$T/c1 run immich-stack
expect_err 0 "^immich-stack: 1 record, 2 assets, 0 failed, .* 3 requests, .*, 1 stacked, 0 found stacked$" \
    "stacked: exit 0, 3 requests (2 reads, 1 POST), the summary only"
printf '%s\n' "$out" >"$T/s1"
sid=$(jq -r .stacked.id "$T/s1")
is "$(jq -c '.stacked | del(.id)' "$T/s1")" \
    "{\"primary\":\"$(K 1)\",\"assets\":[\"$(K 1)\",\"$(L 1 1)\"],\"confirmed\":true}" \
    "stacked: the keeper first, confirmed"
is "$(jq -c 'del(.stacked)' "$T/s1")" "$(jq -c . "$T/c1")" \
    "the rest of the record is passed on unchanged"
is "$(fake_log_count '.method == "POST" and .path == "/api/stacks" and
    .body.assetIds == ["'"$(K 1)"'", "'"$(L 1 1)"'"]')" 1 \
    "one POST /stacks, the keeper first"
k=$(api "$FAKE/api/assets/$(K 1)")
is "$(printf '%s' "$k" | jq -c '.stack | del(.id)')" \
    "{\"primaryAssetId\":\"$(K 1)\",\"assetCount\":2}" \
    "GET /api/assets/keeper: the primary of a stack of two"
is "$(printf '%s' "$k" | jq -r .stack.id)" "$sid" "the stack recorded"
is "$(printf '%s' "$k" | jq -c '[.exifInfo.description, .exifInfo.latitude]')" \
    '["Jpeg 1",48.5]' "the primary carries the JPEG's caption and location"
is "$(api "$FAKE/api/albums?assetId=$(K 1)" | jq -r '.[].albumName')" Trip \
    "and its album"
is "$(api "$FAKE/api/duplicates" | jq --arg d "$(D 1)" '[.[] | select(.duplicateId == $d)] | length')" \
    0 "the group is gone from GET /api/duplicates"
is "$(fake_state | jq -r --arg d "$(D 1)" '[.assets[] | select(.duplicateId == $d) | .id] | length')" \
    2 "its members keep their duplicateId (the group comes back if the stack goes)"

# ---- Reruns.
IN=$T/c1 run immich-stack
expect_err 0 "^immich-stack: 1 record, 2 assets, 0 failed, .* 2 requests, .*, 0 stacked, 1 found stacked$" \
    "rerun with the same input: exit 0, found (GET keeper, GET stack)"
is "$(printf '%s\n' "$out" | jq -c .stacked)" \
    "{\"id\":\"$sid\",\"primary\":\"$(K 1)\",\"assets\":[\"$(K 1)\",\"$(L 1 1)\"],\"found\":true,\"confirmed\":true}" \
    "the same stack, found"
is "$(posts)" 1 "no second POST /stacks"
IN=$T/s1 run immich-stack
expect_err 0 "^immich-stack: 1 record, 0 assets, 0 failed, .* 0 requests, " \
    "rerun with its own output: no request"
is "$out" "$(cat "$T/s1")" "the record passed on as it was"

# ---- A loser stacked elsewhere meanwhile, a loser in the trash.
for g in 2 3 4 5 6; do grp $g "$T/rj"; done |
    immich-consolidate -q -a raw-jpeg >"$T/c2" || exit 1
api -X POST -H 'Content-Type: application/json' \
    -d "{\"assetIds\":[\"$X\",\"$(L 2 1)\"]}" "$FAKE/api/stacks" >/dev/null
fake_ctl POST /_fake/mutate "{\"id\":\"$(L 3 1)\",\"trash\":true}" >/dev/null
n0=$(posts)
grp 2 "$T/c2" >"$T/c23"; grp 3 "$T/c2" >>"$T/c23"
IN=$T/c23 run immich-stack -q
expect_err 1 "^immich-stack: stdin:(1: asset $(L 2 1): the loser is already in stack [-0-9a-f]+|2: asset $(L 3 1): the loser is in the trash): not stacked$" \
    "a loser in another stack, a loser in the trash: exit 1, said"
is "$(printf '%s\n' "$out" | jq -c '[.stacked, (.errors | length)]' | tr '\n' ' ')" \
    '[null,1] [null,1] ' "neither stacked, one error each"
is "$(posts)" "$n0" "no POST /stacks"
is "$(api "$FAKE/api/assets/$X" | jq -r .stack.assetCount)" 2 \
    "the other stack is left whole"

# ---- The reply lost after the stack was made: looked up, not sent again.
fake_ctl POST /_fake/faults '{"method":"POST","path":"^/api/stacks$","action":"close","process":true}' >/dev/null
grp 4 "$T/c2" >"$T/c4"
IN=$T/c4 run immich-stack -q
expect_err 0 "^immich-stack: stdin:1: POST /api/stacks: no reply: .*; the stack was made all the same$" \
    "POST /stacks made but its reply lost: exit 0, said"
is "$(posts)" $((n0 + 1)) "POST /stacks sent once"
is "$(printf '%s\n' "$out" | jq -c '[.stacked.confirmed, .stacked.primary, (.errors | length)]')" \
    "[true,\"$(K 4)\",0]" "confirmed through GET /stacks?primaryAssetId="
is "$(fake_log_count '.method == "GET" and .path == "/api/stacks" and .query.primaryAssetId == "'"$(K 4)"'"')" \
    1 "which it asked once"

# ---- Refused: an error, nothing made.
fake_ctl POST /_fake/faults '{"method":"POST","path":"^/api/stacks$","action":"status","status":400,"body":{"message":"Not found or no asset.update access"}}' >/dev/null
grp 5 "$T/c2" >"$T/c5"
IN=$T/c5 run immich-stack -q
expect_err 1 "^immich-stack: stdin:1: asset $(K 5): POST /api/stacks: HTTP 400: Not found or no asset.update access$" \
    "POST /stacks refused: exit 1, the server's message"
is "$(printf '%s\n' "$out" | jq -c '[.stacked.confirmed, .stacked.id]')" \
    '[false,null]' "not confirmed, no id"
is "$(api "$FAKE/api/assets/$(K 5)" | jq -c .stack)" null "no stack on the server"

# ---- Keeper and loser: what immich-consolidate handled.
grp 6 "$T/c2" | jq -c '.consolidated.keep = "'"$(L 6 1)"'"' >"$T/c6"
IN=$T/c6 run immich-stack -q
expect_err 1 "^immich-stack: stdin:1: asset $(K 6): consolidated for keeper $(L 6 1), not this one: not stacked$" \
    "consolidated for another keeper: held"

# ---- The fake's other stack endpoints (immich-restore dissolves stacks).
sx=$(api "$FAKE/api/assets/$X" | jq -r .stack.id)
s4=$(api "$FAKE/api/assets/$(K 4)" | jq -r .stack.id)
code() { curl -sS -o "$T/body" -w '%{http_code}' -H "x-api-key: $IMMICH_API_KEY" "$@"; }
is "$(code -X DELETE -H 'Content-Type: application/json' \
    -d "{\"ids\":[\"$sid\",\"$(D 9)\"]}" "$FAKE/api/stacks"):$(jq -r .message "$T/body")" \
    "400:Not found or no stack.delete access" \
    "fake: DELETE /stacks with an unknown id: 400 for all"
is "$(code -X DELETE "$FAKE/api/stacks/$sid")" 204 "fake: DELETE /stacks/{id}: 204"
is "$(api "$FAKE/api/assets/$(K 1)" | jq -c '[.stack, .duplicateId]')" \
    "[null,\"$(D 1)\"]" "fake: the members unstacked, their duplicateId kept"
is "$(api "$FAKE/api/duplicates" | jq --arg d "$(D 1)" '[.[] | select(.duplicateId == $d)] | length')" \
    1 "fake: the group is back in GET /api/duplicates"
is "$(code -X DELETE -H 'Content-Type: application/json' \
    -d "{\"ids\":[\"$s4\"]}" "$FAKE/api/stacks")" 204 "fake: DELETE /stacks {ids}: 204"
is "$(api -X POST -H 'Content-Type: application/json' \
    -d "{\"assetIds\":[\"$(K 2)\",\"$X\"]}" "$FAKE/api/stacks" |
    jq -c '[.primaryAssetId, (.assets | length)]')" "[\"$(K 2)\",3]" \
    "fake: POST /stacks with the primary of a stack: that stack merged in"
is "$(code "$FAKE/api/stacks/$sx")" 400 "fake: and deleted"

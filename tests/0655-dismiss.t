#!/bin/sh
# immich-dismiss against the fake server: "keep all": groups taken off
# GET /api/duplicates in one DELETE /api/duplicates, no asset otherwise
# touched, each member read back; a rerun with the same input finds them
# dismissed (found, nothing done twice) and one with its output sends
# nothing; a batch holding a group the server does not know (all its
# members in the trash) is split so that the others are dismissed, and that
# group is an error; -b; -n sends nothing; a record without a duplicateId
# is passed on with an error, in its place.
. "$(dirname "$0")/lib.sh"

for b in immich-dupes immich-dismiss; do
	command -v $b >/dev/null || skip_all "$b not built"
done
command -v jq >/dev/null || skip_all "jq missing"
plan 29

K() { printf '%08d-0000-4000-8000-000000000000' "$1"; }
L() { printf '%08d-0000-4000-8000-%012d' "$1" "$2"; }
D() { printf 'd%07d-0000-4000-8000-000000000000' "$1"; }
# Groups 1-5, pairs; group 4's members are both in the trash (the server
# refuses its id); group 5 is never dismissed.
{
	echo '{"apiKey": "k-dismiss", "assets": ['
	for g in 1 2 3 4 5; do
		tr=false; [ $g = 4 ] && tr=true
		printf '{"id":"%s","duplicateId":"%s","isTrashed":%s,"exifInfo":{"description":"k%d"}},\n' \
		    "$(K $g)" "$(D $g)" $tr $g
		printf '{"id":"%s","duplicateId":"%s","isTrashed":%s,"isFavorite":true},\n' \
		    "$(L $g 1)" "$(D $g)" $tr
	done
	echo '{"content": "alone"}]}'
} >"$T/lib.json"
fake_start "$T/lib.json"
api() { curl -sS -H "x-api-key: $IMMICH_API_KEY" "$@"; }
deletes() { fake_log_count '.method == "DELETE" and .path == "/api/duplicates"'; }
listed() { api "$FAKE/api/duplicates" | jq -r '[.[].duplicateId] | sort | join(" ")'; }
# the state without what dismissing may change
norm() { fake_state | jq -c '[.assets[] | del(.duplicateId, .updatedAt)]'; }
grp() { jq -c --arg d "$(D $1)" 'select(.duplicateId == $d)' "$T/plan"; }

immich-dupes -q >"$T/plan" || exit 1
is "$(listed)" "$(D 1) $(D 2) $(D 3) $(D 5)" "four groups listed at first"
norm >"$T/before"

# ---- -n.
grp 1 >"$T/in12"; grp 2 >>"$T/in12"
IN=$T/in12 run immich-dismiss -n
expect_err 0 "^immich-dismiss: 2 records, 4 assets, 0 failed, 0 B, 0 requests, .*, 0 dismissed, 0 found dismissed, dry run$" \
    "-n: exit 0, no request"
is "$(printf '%s\n' "$out" | jq -c '.dismissed | [.dryRun, .confirmed]' | tr '\n' ' ')" \
    "[true,false] [true,false] " "-n: dryRun, not confirmed"

# ---- Dismissed.
IN=$T/in12 run immich-dismiss
expect_err 0 "^immich-dismiss: 2 records, 4 assets, 0 failed, 0 B, 5 requests, .*, 2 dismissed, 0 found dismissed$" \
    "two groups: exit 0, 5 requests (1 DELETE, 4 reads)"
printf '%s\n' "$out" >"$T/out12"
is "$(jq -c .dismissed "$T/out12" | head -n 1)" \
    "{\"duplicateId\":\"$(D 1)\",\"assets\":[\"$(K 1)\",\"$(L 1 1)\"],\"confirmed\":true}" \
    "dismissed: the group, its members, confirmed"
is "$(jq -c 'del(.dismissed)' "$T/out12")" "$(jq -c . "$T/in12")" \
    "the rest of each record is passed on unchanged"
is "$(fake_log_count '.method == "DELETE" and .path == "/api/duplicates" and .body.ids == ["'"$(D 1)"'", "'"$(D 2)"'"] and .status == 204')" \
    1 "one DELETE /api/duplicates for both"
is "$(listed)" "$(D 3) $(D 5)" "both gone from GET /api/duplicates"
is "$(fake_state | jq -r --arg a "$(D 1)" --arg b "$(D 2)" '[.assets[] | select(.duplicateId == $a or .duplicateId == $b)] | length')" \
    0 "no member carries their duplicateId"
is "$(norm)" "$(cat "$T/before")" "no asset changed otherwise (nothing trashed, no metadata)"
is "$(fake_log_count '.method != "GET" and .method != "DELETE"')" 0 \
    "no other change requested"

# ---- Reruns.
n0=$(fake_log_count '.method == "DELETE" and .status == 204')
IN=$T/in12 run immich-dismiss
expect_err 0 "^immich-dismiss: 2 records, 4 assets, 0 failed, .*, 0 dismissed, 2 found dismissed$" \
    "rerun with the same input: exit 0, found dismissed"
is "$(printf '%s\n' "$out" | jq -c '.dismissed | [.found, .confirmed]' | tr '\n' ' ')" \
    "[true,true] [true,true] " "found, confirmed"
is "$(fake_log_count '.method == "DELETE" and .status == 204')" "$n0" \
    "nothing dismissed twice (the server refused the unknown ids)"
IN=$T/out12 run immich-dismiss
expect_err 0 "^immich-dismiss: 2 records, 0 assets, 0 failed, 0 B, 0 requests, " \
    "rerun with its own output: no request"
is "$out" "$(cat "$T/out12")" "the records passed on as they were"

# ---- A batch with a group the server refuses; a bad record in between.
grp 3 >"$T/in34"
echo '{"assets": []}' >>"$T/in34"
printf '{"duplicateId":"%s","assets":[{"id":"%s"},{"id":"%s"}]}\n' \
    "$(D 4)" "$(K 4)" "$(L 4 1)" >>"$T/in34"
d0=$(deletes)
IN=$T/in34 run immich-dismiss -q
expect_err 1 "^immich-dismiss: stdin:(2: no valid \"duplicateId\" .*|3: DELETE /api/duplicates: HTTP 400: Not found or no duplicate.delete access \(no member outside the trash carries this duplicateId\))$" \
    "a refused group and a bad record: exit 1, each said"
is "$(printf '%s\n' "$out" | jq -c '[.duplicateId, .dismissed.confirmed]' | tr '\n' ' ')" \
    "[\"$(D 3)\",true] [null,null] [\"$(D 4)\",false] " \
    "the records in their order: group 3 dismissed, the others not"
is "$(( $(deletes) - d0 ))" 3 "the batch split: 3 DELETEs (both, then each alone)"
is "$(listed)" "$(D 5)" "group 3 is off the list, group 5 still on it"
is "$(fake_state | jq -r --arg d "$(D 4)" '[.assets[] | select(.duplicateId == $d)] | length')" \
    2 "the refused group's members keep its id"

# ---- A group given another answer already: not dismissed.
grp 5 | jq -c '.stacked = {"id": "'"$(D 8)"'", "confirmed": true}' >"$T/in5s"
grp 5 | jq -c '.trashed = {"'"$(L 5 1)"'": {"ok": true}}' >>"$T/in5s"
d0=$(deletes)
IN=$T/in5s run immich-dismiss -q
expect_err 1 "^immich-dismiss: stdin:[12]: the group was (stacked|resolved \(a loser trashed\)) already: not dismissed \(one answer per group\)$" \
    "a stacked group, a resolved one: exit 1, said"
is "$(deletes):$(printf '%s\n' "$out" | jq -c .dismissed | tr '\n' ' ')" \
    "$d0:null null " "neither dismissed, no request"

# ---- A 204 that changed nothing: not confirmed.
fake_ctl POST /_fake/faults '{"method":"DELETE","path":"^/api/duplicates$","action":"status","status":204}' >/dev/null
grp 5 >"$T/in5"
IN=$T/in5 run immich-dismiss -q
expect_err 1 "^immich-dismiss: stdin:1: asset $(K 5): still carries duplicateId $(D 5) after DELETE /api/duplicates$" \
    "the server said 204 but the member still carries the id: exit 1, said"
is "$(printf '%s\n' "$out" | jq -c .dismissed.confirmed)" false "not confirmed"

# ---- -b: one group per request.
api -X PUT -H 'Content-Type: application/json' \
    -d "{\"ids\":[\"$(K 1)\",\"$(L 1 1)\"],\"duplicateId\":\"$(D 1)\"}" \
    "$FAKE/api/assets"
d0=$(deletes)
grp 1 >"$T/in15"; grp 5 >>"$T/in15"
IN=$T/in15 run immich-dismiss -q -b 1
expect_err 0 "" "-b 1: exit 0, nothing said"
is "$(( $(deletes) - d0 ))" 2 "-b 1: one DELETE per group"
is "$(listed)" "" "no group left on the list"
run immich-dismiss -b 0
expect_err 2 "^immich-dismiss: -b 0: a batch of 1 to 10000 groups$" "-b 0: usage error"

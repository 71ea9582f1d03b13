#!/bin/sh
# examples/decide.sh, the whole loop on the fake: plan and page, the
# answers (as the page exports them: resolve despite a code, stack, keep
# all, skip), act (immich-decide, then immich-dismiss, immich-consolidate |
# immich-stack, and the resolve pipeline), and undo (immich-restore): the
# server as chosen, then as before.  Needs immich-stack and immich-dismiss
# (issue 18); skipped until they are built.
. "$(dirname "$0")/lib.sh"
for b in immich-dupes immich-review immich-decide immich-consolidate \
    immich-fetch immich-verify immich-trash immich-restore immich-stack \
    immich-dismiss; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
plan 12

EX=$TESTDIR/../examples
cd "$T" || exit 1
python3 "$TESTDIR/mklib.py" --kinds --size 4000 >lib.json || exit 1
fake_start lib.json
gid() { jq -r ".groups[\"$1\"]" lib.json; }
# The live assets ("name checksum"), and the groups in GET /api/duplicates
# (their member ids, sorted), to compare before and after.
live() {
	fake_state | jq -r '.assets[] | select((.isTrashed or .purged) | not) |
	    "\(.originalFileName) \(.checksum)"' | sort
}
groups() {
	curl -sS -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/duplicates" |
	    jq -c '[.[] | [.assets[].id] | sort] | sort'
}
trashed() { fake_state | jq -r --arg id "$1" '.assets[] | select(.id == $id) | .isTrashed'; }
live >start.live
groups >start.groups

run sh "$EX/decide.sh" page w
is "$rc" 0 "decide.sh page: exit 0"
[ -s w/review/index.html ] && [ "$(jq -s 'map(select(.review != [])) | length' w/plan.ndjson)" = \
    "$(wc -l <w/held.ndjson | tr -d ' ')" ]
ok $? "the page of the held groups is written"

# The answers, as the page exports them.
dec() {
	jq -c --arg d "$(gid "$1")" --arg a "$2" 'select(.duplicateId == $d) |
	    {duplicateId, action: $a, keep, accept: ([.review[].code] | unique),
	     assets: [.assets[] | {id, checksum}]}' w/plan.ndjson
}
{ dec gps-conflict resolve; dec raw-jpeg stack; dec date-conflict dismiss
  dec make-on-loser skip; } >decisions.ndjson
GL=$(jq -r --arg d "$(gid gps-conflict)" 'select(.duplicateId == $d) | .trash[0]' w/plan.ndjson)
RK=$(jq -r --arg d "$(gid raw-jpeg)" 'select(.duplicateId == $d) | .keep' w/plan.ndjson)

run sh "$EX/decide.sh" act w decisions.ndjson
is "$rc:$(groups)" "0:$(cat start.groups)" "act without -y and without a terminal: stops before changing anything"
run sh "$EX/decide.sh" act -y w decisions.ndjson
is "$rc" 0 "act -y: exit 0"
is "$(trashed "$GL")" true "resolve despite gps-conflict: the loser is in the trash"
is "$(jq -r '.stacked | [.primary, .confirmed] | join(",")' w/stacked.ndjson)" "$RK,true" \
    "stack: a confirmed stack under the keeper"
is "$(jq -r '.dismissed.confirmed' w/dismissed.ndjson)" true "keep all: dismissed"
groups | jq -e --arg a "$(jq -r --arg d "$(gid date-conflict)" 'select(.duplicateId == $d) | .keep' w/plan.ndjson)" \
    'any(.[]; index($a))' >/dev/null
is "$?" 1 "... the dismissed group is gone from the duplicate list"
is "$(live | wc -l | tr -d ' ')" "$(($(wc -l <start.live) - 1))" "only the one loser left the library"
is "$(cat w/done.ndjson | wc -l | tr -d ' ')" 3 "done.ndjson holds the three groups acted on"

run sh "$EX/decide.sh" undo w
is "$rc" 0 "undo: exit 0"
live >end.live
groups >end.groups
is "$(cmp -s start.live end.live && cmp -s start.groups end.groups && echo same)" same \
    "after undo: the same assets, and the same duplicate groups, as before"

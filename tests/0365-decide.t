#!/bin/sh
# immich-decide on the fake: every answer (resolve despite the codes shown,
# stack, keep all, skip), a keeper other than the plan's (a code that no
# longer applies dropped, a new code not accepted), stale decisions
# refused (a checksum, a member, a code not on the screen), bad lines
# named; then the decided plan through the resolve pipeline: only the
# groups decided "resolve" lose their losers, with their accepted codes
# passing immich-trash without -a.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
plan 35

# The "every kind" library and a group "newcode": its plan keeper K has a
# camera and exposure, its loser L has neither (no review code); with L
# as the keeper, K's camera and exposure are new codes.
python3 "$TESTDIR/mklib.py" --kinds >"$T/kinds.json" || exit 1
python3 - "$T/kinds.json" >"$T/lib.json" <<'EOF' || exit 1
import json, sys, uuid
lib = json.load(open(sys.argv[1]))
d = str(uuid.UUID(int=77, version=4))
when = {'dateTimeOriginal': '2021-06-01T10:00:00.000Z', 'timeZone': 'UTC'}
lib['assets'].append({'id': str(uuid.UUID(int=78, version=4)),
    'label': 'newcode/keeper', 'originalFileName': 'NEW_1.jpg',
    'size': 30000, 'seed': 'n1', 'width': 4000, 'height': 3000,
    'duplicateId': d, 'exifInfo': dict(when, make='Canon',
    model='Canon EOS R6', fNumber=2.8)})
lib['assets'].append({'id': str(uuid.UUID(int=79, version=4)),
    'label': 'newcode/loser', 'originalFileName': 'NEW_1-copy.jpg',
    'size': 10000, 'seed': 'n2', 'width': 4000, 'height': 3000,
    'duplicateId': d, 'exifInfo': dict(when)})
lib['groups']['newcode'] = d
json.dump(lib, sys.stdout)
EOF
fake_start "$T/lib.json"
immich-dupes -q >"$T/plan.ndjson" || exit 1
gid() { jq -r ".groups[\"$1\"]" "$T/lib.json"; }
rec() { jq -c --arg d "$(gid "$1")" 'select(.duplicateId == $d)' "$T/plan.ndjson"; }
# What the page exports for group $1: action $2, keeper $3 (a jq
# expression on the record; .keep when empty); then a jq filter $4 on
# the decision (to make it stale).
dec() {
	rec "$1" | jq -c --arg a "$2" "{duplicateId, action: \$a,
	    keep: (${3:-.keep}), accept: ([.review[].code] | unique),
	    assets: [.assets[] | {id, checksum}]} | ${4:-.}"
}
is "$(rec newcode | jq -c '[.review[].code]')" '[]' "newcode: no review code with the plan's keeper"
is "$(rec gps-conflict | jq -c '[.review[].code]')" '["gps-conflict"]' "gps-conflict: held for gps-conflict"
{
	dec gps-conflict resolve
	dec raw-jpeg stack
	dec date-conflict dismiss
	dec live-photo-loser skip
	dec plain resolve '' '.assets[1].checksum = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="'
	dec triple resolve '' 'del(.assets[2])'
	dec video-durations resolve '' '.accept = []'
	dec make-on-loser resolve '.trash[0]'
	dec newcode resolve '.trash[0]'
	echo '{"duplicateId": "x", "action": "burn", "keep": null, "accept": [], "assets": []}'
	echo '{"broken'
	dec mixed-types resolve
	dec mixed-types dismiss
} >"$T/decisions.ndjson"
D=$T/decisions.ndjson

IN=$T/plan.ndjson run immich-decide "$D"
printf '%s\n' "$out" >"$T/decided.ndjson"
is "$rc" 1 "refused decisions and bad lines: exit 1"
is "$(wc -l <"$T/decided.ndjson" | tr -d ' ')" "$(wc -l <"$T/plan.ndjson" | tr -d ' ')" \
    "one record out per record in"
out_of() { jq -c --arg d "$(gid "$1")" "select(.duplicateId == \$d) | $2" "$T/decided.ndjson"; }
plan_of() { rec "$1" | jq -c "$2"; }

# Every answer.
K=$(plan_of gps-conflict .keep)
is "$(out_of gps-conflict '[.keep, .trash, .why, .decision]')" \
    "[$K,$(plan_of gps-conflict .trash),\"decided\",{\"action\":\"resolve\",\"keep\":$K,\"accept\":[\"gps-conflict\"]}]" \
    "resolve: keeper and losers as shown, the code on the screen accepted"
is "$(out_of gps-conflict '.review')" "$(plan_of gps-conflict .review)" "resolve, same keeper: the review as it was"
is "$(out_of raw-jpeg '[.decision.action, .decision.accept, (.trash | length)]')" '["stack",["raw-jpeg"],1]' \
    "stack: decided, the other member still listed for consolidation"
is "$(out_of date-conflict '[.decision.action, .trash, .keep == .decision.keep]')" '["dismiss",[],true]' \
    "keep all: dismiss, nothing to trash"
is "$(out_of live-photo-loser .)" "$(plan_of live-photo-loser .)" "skip: the record passes through unchanged"
is "$(out_of loser-metadata .)" "$(plan_of loser-metadata .)" "no decision: unchanged"

# Another keeper.
L=$(plan_of make-on-loser '.trash[0]')
like "$(plan_of make-on-loser '[.review[].code]')" camera "make-on-loser: held (camera) with the plan's keeper"
is "$(out_of make-on-loser '[.keep, .trash, .review, .decision.accept, .errors]')" \
    "[$L,[$(plan_of make-on-loser .keep)],[],[],null]" \
    "another keeper: losers swapped, its review computed again (the codes on the screen no longer apply)"
NL=$(plan_of newcode '.trash[0]')
is "$(out_of newcode '[.keep, ([.review[].code] | unique), .decision]')" \
    "[$NL,[\"camera\",\"exposure\"],{\"action\":\"resolve\",\"keep\":$NL,\"accept\":[]}]" \
    "another keeper with new codes: applied, the new codes not accepted"
like "$err" "immich-decide: stdin:[0-9]+: decision \\($D:9\\): with the keeper chosen \\($(echo "$NL" | tr -d '"')\\) the review finds camera, exposure, not on the screen when the decision was made: not accepted, the group stays held for review" \
    "... and it says so, naming the decision's line"

# Stale decisions refused, the record unchanged but for the error.
for k in plain triple video-durations; do
	is "$(out_of $k 'del(.errors)')" "$(plan_of $k 'del(.errors)')" "stale ($k): the record unchanged"
done
like "$(out_of plain '.errors[0].message')" "^\"decision \\($D:5\\) refused: the group changed since the page was made: asset [0-9a-f-]+ has checksum .* now, AAAAAAAAAAAAAAAAAAAAAAAAAAA= on the page; make the page again and decide again\"$" \
    "a checksum not the one on the page: refused, saying which"
like "$(out_of triple '.errors[0].message')" "refused: the group changed since the page was made: asset [0-9a-f-]+ is in the group now but was not on the page" \
    "a member not on the page: refused"
like "$(out_of video-durations '.errors[0].message')" "refused: .*: review code duration was not on the screen when the decision was made" \
    "a review code not on the screen: refused"
is "$(echo "$err" | grep -c 'refused: the group changed')" 3 "each refusal said once on stderr"

# Bad lines.
like "$err" "immich-decide: $D:10: not a decision: \"action\" is not one of resolve, stack, dismiss, skip; left out" \
    "an unknown action: the line is named"
like "$err" "immich-decide: $D:11: " "a line that is not JSON: named"
like "$err" "immich-decide: $D:13: a second decision for group $(gid mixed-types) \\(the first is on line 12\\): neither is applied" \
    "two decisions for one group: neither"
is "$(out_of mixed-types .)" "$(plan_of mixed-types .)" "... the group passes unchanged"
like "$err" "immich-decide: .* 5 decided, 1 skipped, 3 refused$" "the summary counts"

# Run again on its own output: the same decisions are applied already.
IN=$T/decided.ndjson run immich-decide "$D"
jq -c 'del(.errors)' "$T/decided.ndjson" >"$T/a"
printf '%s\n' "$out" | jq -c 'del(.errors)' >"$T/b"
cmp -s "$T/a" "$T/b"
ok $? "run on its own output: no change"

# Usage.
run immich-decide
is "$rc" 2 "no decisions file: usage error"
IN=$T/plan.ndjson run immich-decide "$T/nonexistent"
is "$rc:$(echo "$err" | grep -c 'nonexistent')" "2:1" "a decisions file that cannot be read: exit 2, named"

# The resolve pipeline over the whole decided plan: only the groups
# decided "resolve" (and groups with no code) lose their losers; the
# accepted code passes immich-trash without -a; stack and dismiss groups
# are held, a dismissed group is not consolidated.
{ immich-consolidate 2>"$T/e2" | immich-fetch -d "$T/backup" 2>/dev/null |
    immich-verify 2>/dev/null | immich-trash 2>"$T/e5"; } \
    <"$T/decided.ndjson" >"$T/done.ndjson"
fake_state >"$T/state.json"
trashed() { jq -r --arg id "$1" '.assets[] | select(.id == $id) | .isTrashed' "$T/state.json"; }
is "$(trashed "$(plan_of gps-conflict '.trash[0]' | tr -d '"')")" true \
    "resolve despite gps-conflict: the loser is in the trash"
is "$(trashed "$(plan_of make-on-loser .keep | tr -d '"')"):$(trashed "$(echo "$L" | tr -d '"')")" "true:false" \
    "another keeper: the plan's keeper went to the trash, the chosen one stays"
is "$(trashed "$(plan_of raw-jpeg '.trash[0]' | tr -d '"')"):$(out_of raw-jpeg .keep >/dev/null; jq -r --arg d "$(gid raw-jpeg)" 'select(.duplicateId == $d) | [.consolidated.confirmed, (.trashed[] | .held)] | join(",")' "$T/done.ndjson")" \
    "false:true,review" "stack: consolidated (its code accepted), not trashed (held: review)"
is "$(trashed "$(plan_of date-conflict '.trash[0]' | tr -d '"')"):$(jq -r --arg d "$(gid date-conflict)" 'select(.duplicateId == $d) | .consolidated.skipped' "$T/done.ndjson")" \
    "false:review" "keep all: not trashed, not consolidated"
like "$(cat "$T/e5")" "held back \\(review\\): the group was decided \"stack\" on the review page \\(immich-decide\\): not for immich-trash" \
    "immich-trash says why it holds a stacked group"
is "$(trashed "$(echo "$NL" | tr -d '"')"):$(trashed "$(plan_of newcode .keep | tr -d '"')")" "false:false" \
    "a new code not on the screen: the group stays held, nothing trashed"

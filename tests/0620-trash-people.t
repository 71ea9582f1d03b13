#!/bin/sh
# A person someone named on a loser (a tagged face) whom the keeper does
# not show: trashing the loser would lose the tag, so immich-trash holds
# it (code people) unless -a people; immich-dupes flags it (review code
# people) where the server's duplicate list shows people.  Once
# immich-consolidate made Anna's face on the keeper, the loser goes.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
plan 17

F=$T/f
python3 "$TESTDIR/trash-fixture.py" "$F" people peopleboth peopleunnamed \
    peopleaccept peoplecopy || exit 1
. "$F/ids.sh"
fake_start "$F/lib.json"
asset() { fake_state | jq -c --arg id "$1" '.assets[]|select(.id==$id)'; }
deletes_of() { fake_log_count ".method==\"DELETE\" and
    (.body.ids|index(\"$1\"))"; }
held() { printf '%s\n' "$out" | jq -r --arg l "$1" \
    '.trashed[$l] // empty | if .ok then "ok" else .held end'; }
ANNA=00000b0b-0000-4000-8000-000000000001

# The fake shows people as the server does: on GET /assets/ID only.
is "$(curl -sS -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/assets/$L_people" |
    jq -c '[.people[] | {id, name}]')" "[{\"id\":\"$ANNA\",\"name\":\"Anna\"}]" \
    "(the loser shows Anna on the server)"

IN=$F/people.ndjson run immich-trash
is "$rc $(held "$L_people")" "1 people" "a named person the keeper lacks: held people, exit 1"
like "$err" "asset $L_people: held back \\(people\\): it shows Anna \\(person $ANNA\\), whom the keeper $K_people does not" \
    "and says who, on stderr"
is "$(asset "$L_people" | jq -r .isTrashed) $(deletes_of "$L_people")" "false 0" \
    "no DELETE: the loser stays"
like "$(printf '%s\n' "$out" | jq -r ".trashed[\"$L_people\"].detail")" "^it shows Anna" \
    "and in the record"

IN=$F/peopleboth.ndjson run immich-trash -q
is "$rc:$err $(held "$L_peopleboth")" "0: ok" "the keeper shows the person too: trashed"
IN=$F/peopleunnamed.ndjson run immich-trash -q
is "$rc:$err $(held "$L_peopleunnamed")" "0: ok" "a face no one named: trashed"
r0=$(fake_log_count ".path==\"/api/assets/$K_peopleunnamed\"")
is "$r0" 0 "and the keeper was not read for it"
IN=$F/peopleaccept.ndjson run immich-trash -q -a people
is "$rc:$err $(held "$L_peopleaccept")" "0: ok" "-a people: the loser goes"
is "$(asset "$L_peopleaccept" | jq -r .isTrashed)" true "(in the trash)"

# immich-consolidate copies Anna's face onto the keeper (same aspect
# ratio); then the keeper shows her and immich-trash lets the loser go.
IN=$F/peoplecopy.ndjson run immich-consolidate -q
is "$rc:$err $(printf '%s\n' "$out" | jq -c '[.consolidated.confirmed, [.consolidated.changes[] | select(.field == "face") | .value.personId]]')" \
    "0: [true,[\"$ANNA\"]]" "consolidate: Anna's face made on the keeper, confirmed"
cp "$T/.out" "$F/peoplecopy-c.ndjson"
IN=$F/peoplecopy-c.ndjson run immich-trash -q
is "$rc:$err $(held "$L_peoplecopy")" "0: ok" "the keeper shows Anna now: the loser is trashed"
is "$(asset "$L_peoplecopy" | jq -r .isTrashed)" true "(in the trash)"

# immich-dupes, from a duplicate list that shows people (a saved reply).
jq -c --arg k "$K_people" --arg l "$L_people" --arg p "$ANNA" '
    [{duplicateId: "00000b0b-0000-4000-8000-0000000000dd",
      suggestedKeepAssetIds: [$k],
      assets: [.assets[] | select(.id == $k or .id == $l)
        | .people = (if .id == $l then [{id: $p, name: "Anna",
            birthDate: null, isHidden: false, thumbnailPath: ""}] else [] end)]}]' \
    "$F/people.ndjson" >"$F/dup.json"
run immich-dupes -q -f "$F/dup.json"
is "$rc:$err" "0:" "immich-dupes: exit 0, nothing on stderr"
is "$(printf '%s\n' "$out" | jq -c '[.review[] | select(.code == "people") | .asset]')" \
    "[\"$L_people\"]" "immich-dupes: the loser flagged people"
like "$(printf '%s\n' "$out" | jq -r '.review[] | select(.code == "people") | .detail')" \
    "shows Anna \\(person $ANNA\\); the keeper does not" "immich-dupes: says who"
jq -c '.[0].assets[].people |= map(.name = "")' "$F/dup.json" >"$F/dup2.json"
run immich-dupes -q -f "$F/dup2.json"
is "$(printf '%s\n' "$out" | jq -c '[.review[] | select(.code == "people")]')" "[]" \
    "immich-dupes: a face no one named is no flag"

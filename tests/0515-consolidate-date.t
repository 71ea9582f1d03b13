#!/bin/sh
# A keeper whose capture time is only its file's date (no date in the
# file: Immich fills dateTimeOriginal from the file, metadata.service.ts
# getDates) and a loser with a real capture time: immich-dupes does not
# flag date-conflict and immich-consolidate gives the keeper the loser's
# time and zone, recording the keeper's file date as "was".  What cannot be
# told apart stays held date-conflict: a camera file (make/model) whose
# mtime equals its date, an upload whose fileCreatedAt came before its
# fileModifiedAt, and losers that disagree.
. "$(dirname "$0")/lib.sh"

command -v immich-consolidate >/dev/null || skip_all "immich-consolidate not built"
command -v jq >/dev/null || skip_all "jq missing"
plan 16

K() { printf '%08d-0000-4000-8000-000000000000' "$1"; }
L() { printf '%08d-0000-4000-8000-%012d' "$1" "$2"; }
D() { printf 'd%07d-0000-4000-8000-000000000000' "$1"; }
WEB='"fileCreatedAt": "2023-05-01T10:00:00.000Z", "fileModifiedAt": "2023-05-01T10:00:00.000Z"'
REAL='"localDateTime": "2020-06-01T12:00:00.000Z", "exifInfo": {"dateTimeOriginal": "2020-06-01T10:00:00.000Z", "timeZone": "Europe/Paris"}'

cat >"$T/lib.json" <<EOF
{"apiKey": "k-date", "assets": [
 {"id": "$(K 1)", "duplicateId": "$(D 1)", "width": 4000, "height": 3000,
  "dateFrom": "file", $WEB},
 {"id": "$(L 1 1)", "duplicateId": "$(D 1)", "width": 1000, "height": 750, $REAL},
 {"id": "$(K 2)", "duplicateId": "$(D 2)", "width": 4000, "height": 3000,
  "exifInfo": {"make": "Canon", "model": "EOS", "modifyDate": "2023-05-01T10:00:00.000Z",
   "dateTimeOriginal": "2023-05-01T10:00:00.000Z"},
  "localDateTime": "2023-05-01T10:00:00.000Z", $WEB},
 {"id": "$(L 2 1)", "duplicateId": "$(D 2)", "width": 1000, "height": 750,
  "localDateTime": "2020-06-01T12:00:00.000Z", "exifInfo": {"make": "Canon", "model": "EOS",
   "dateTimeOriginal": "2020-06-01T10:00:00.000Z", "timeZone": "Europe/Paris"}},
 {"id": "$(K 3)", "duplicateId": "$(D 3)", "width": 4000, "height": 3000,
  "dateFrom": "file", "fileCreatedAt": "2023-05-01T09:00:00.000Z",
  "fileModifiedAt": "2023-05-01T10:00:00.000Z"},
 {"id": "$(L 3 1)", "duplicateId": "$(D 3)", "width": 1000, "height": 750, $REAL},
 {"id": "$(K 4)", "duplicateId": "$(D 4)", "width": 4000, "height": 3000,
  "dateFrom": "file", $WEB},
 {"id": "$(L 4 1)", "duplicateId": "$(D 4)", "width": 1000, "height": 750, $REAL},
 {"id": "$(L 4 2)", "duplicateId": "$(D 4)", "width": 1000, "height": 750,
  "exifInfo": {"dateTimeOriginal": "2020-06-02T10:00:00.000Z"}}
]}
EOF
fake_start "$T/lib.json"
exif() { fake_state | jq -c --arg id "$1" '.assets[] | select(.id == $id) | .exifInfo | [.dateTimeOriginal, .timeZone]'; }
rec_of() { printf '%s\n' "$out" | jq -c --arg k "$1" 'select(.keep == $k)'; }

is "$(exif "$(K 1)")" '["2023-05-01T10:00:00.000Z",null]' \
    "(the fake: a file-dated asset's date is its file's, no zone)"

run immich-dupes -q
is "$rc:$err" "0:" "immich-dupes: exit 0"
cp "$T/.out" "$T/plan.ndjson"
is "$(printf '%s\n' "$out" | jq -r '[.keep, (.review | map(.code) | join(","))] | join(" ")' | sort)" \
"$(K 1) 
$(K 2) date-conflict
$(K 3) date-conflict
$(K 4) date-conflict,date-conflict" \
    "date-conflict for all but the file-dated keeper of group 1"
like "$(printf '%s\n' "$out" | jq -r --arg k "$(K 4)" 'select(.keep == $k) | .review[0].detail')" \
    "^keeper has only its file date; 86400 s from" "losers that disagree: said so"

IN=$T/plan.ndjson run immich-consolidate -q -a camera
is "$rc:$err" "1:" "consolidate: exit 1 (the held groups), nothing on stderr"
is "$(rec_of "$(K 1)" | jq -c '[.consolidated.confirmed, .consolidated.changes]')" \
    "[true,[{\"field\":\"dateTimeOriginal\",\"value\":\"2020-06-01T12:00:00.000+02:00\",\"from\":\"$(L 1 1)\",\"was\":\"2023-05-01T10:00:00.000Z\"}]]" \
    "group 1: the loser's time and zone, was the keeper's file date, confirmed"
is "$(exif "$(K 1)")" '["2020-06-01T10:00:00.000Z","UTC+2"]' "group 1: the keeper has the capture time and zone now"
is "$(fake_log_count ".method==\"PUT\" and .path==\"/api/assets/$(K 1)\" and .body.dateTimeOriginal==\"2020-06-01T12:00:00.000+02:00\"")" 1 \
    "one PUT with the local time and offset"
for g in 2 3 4; do
	is "$(rec_of "$(K $g)" | jq -c .consolidated)" '{"skipped":"review"}' "group $g held"
done
is "$(exif "$(K 2)") $(exif "$(K 3)")" \
    '["2023-05-01T10:00:00.000Z",null] ["2023-05-01T09:00:00.000Z",null]' \
    "a camera file and an upload whose file dates differ: keepers unchanged"
is "$(fake_log_count ".method==\"PUT\"")" 1 "no other PUT"

# A second run changes nothing: the keeper's date is no longer its file's.
run immich-dupes -q
is "$(printf '%s\n' "$out" | jq -c --arg k "$(K 1)" 'select(.keep == $k) | .review')" "[]" \
    "second plan: no flag for group 1"
printf '%s\n' "$out" >"$T/plan2.ndjson"
: >"$FAKE_LOG"
IN=$T/plan2.ndjson run immich-consolidate -q -a camera
is "$(rec_of "$(K 1)" | jq -c .consolidated.changes)" "[]" "second run: nothing to move for group 1"
is "$(fake_log_count ".method==\"PUT\"")" 0 "second run: no PUT"

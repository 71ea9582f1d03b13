#!/bin/sh
# immich-dupes: keeper rules, review codes, pass-through, bad and cut
# responses (saved under fixtures/dupes/), and GET /api/duplicates from the
# fake server (streamed, 401, cut mid-body).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "needs jq"
plan 93

F=$TESTDIR/fixtures/dupes
unset IMMICH_INSTANCE_URL IMMICH_API_KEY IMMICH_API_KEY_FILE

# One line per record: group, keeper, why, review codes:asset (last digit).
table() {
	jq -r '[.duplicateId[-2:], (.keep // "-")[-2:], .why,
	    (.review | map(.code + ":" + (.asset // "-")[-1:]) | join(","))] |
	    join(" ")'
}

# ---- The same asset in two groups: the later group is bad and skipped, so
# the keeper of one group can never be a loser of another.
jq -c '.[1].assets += [.[0].assets[0]] | .[0:2]' "$F/rules.json" >"$T/shared.json"
run immich-dupes -q -f "$T/shared.json"
is "$rc" 1 "an asset in two groups: exit 1"
like "$err" "group 2: .*asset $(jq -r '.[0].assets[0].id' "$F/rules.json") is also in an earlier group" \
    "... names the group and the asset"
is "$(printf '%s\n' "$out" | jq -r .duplicateId)" \
    "$(jq -r '.[0].duplicateId' "$F/rules.json")" "... only the first group is planned"

# ---- Each rule deciding (default order), why naming it.
run immich-dupes -q -f "$F/rules.json"
is "$rc" 0 "rules.json: exit 0"
printf '%s\n' "$out" >"$T/rules.out"
table <"$T/rules.out" >"$T/rules.tab"
while read -r g k why desc; do
	is "$(grep "^$g " "$T/rules.tab" | cut -d' ' -f2,3)" "$k $why" \
	    "rule $why decides: $desc"
done <<'EOF'
01 02 online a trashed member is not kept, though larger
02 02 internal an external-library member is not kept, though larger
03 02 edited the edited member is kept (its edits would be lost)
04 02 pixels more pixels beat a larger file
05 02 pixels exifImageWidth*Height when width/height are null
06 02 format DNG over JPEG at equal pixels, though the JPEG is larger
07 01 pixels a RAW with fewer pixels loses to the JPEG
08 03 format RAW (by MIME type) over HEIC over JPEG
09 02 size the larger file
10 02 exif more non-empty EXIF values (empty string and 0 do not count)
11 02 oldest earliest capture instant, offsets honoured
12 02 oldest fileCreatedAt without dateTimeOriginal
13 02 favorite the favorite
14 01 id all tied: the lowest id
EOF

# ---- -r: other orders and the rules outside the default.
imm() { immich-dupes -q -f "$F/rules.json" -r "$1" | table | grep "^$2 " |
    cut -d' ' -f2,3; }
is "$(imm format,size 07)" "01 size" \
    "-r format,size: format does not pick a RAW with fewer pixels"
is "$(imm format 06)" "02 format" "-r format alone decides"
is "$(imm suggested 14)" "02 suggested" "-r suggested: the server's choice"
is "$(imm unedited 03)" "01 unedited" "-r unedited: the unedited member"
is "$(imm size,pixels 04)" "01 size" "-r size,pixels: size first"
is "$(imm id,pixels 04)" "01 id" "-r id,...: id decides at once"
run immich-dupes -q -f "$F/rules.json" -r pixels,bogus
is "$rc" 2 "-r with an unknown rule: exit 2"
like "$err" 'unknown rule "bogus"' "... names the rule"
like "$err" '^usage: immich-dupes \[-qV\] \[-f file\] \[-r rules\]' \
    "... and prints the usage"
run immich-dupes -q -f "$F/rules.json" extra
is "$rc" 2 "an operand: exit 2"

# ---- Record shape and pass-through.
is "$(head -n 1 "$T/rules.out" | jq -c keys_unsorted)" \
    '["duplicateId","assets","suggestedKeepAssetIds","keep","trash","why","review"]' \
    "record keys in order"
for f in rules:.[] review:.[] bad:.[0,7]; do
	sel=${f#*:} f=${f%%:*}
	immich-dupes -q -f "$F/$f.json" 2>/dev/null | jq -c .assets >"$T/a.out"
	jq -c "$sel | .assets" "$F/$f.json" >"$T/a.in"
	cmp -s "$T/a.in" "$T/a.out"
	ok $? "$f.json: every asset passes through unchanged"
done
is "$(jq -c '[.[].suggestedKeepAssetIds]' "$F/rules.json")" \
    "$(jq -sc 'map(.suggestedKeepAssetIds)' "$T/rules.out")" \
    "suggestedKeepAssetIds as sent"
jq -e '.keep as $k | select(any(.trash[]; . == $k) or
    ((.trash + [.keep]) | sort) != ([.assets[].id] | sort))' \
    "$T/rules.out" >/dev/null
is "$?" 4 "keep + trash = the group's ids; the keeper is never in trash"
immich-dupes -q -f "$F/review.json" >"$T/r1"
immich-dupes -q -f "$F/review.json" >"$T/r2"
cmp -s "$T/r1" "$T/r2"
ok $? "the same input twice gives identical output"

# ---- Review codes, firing and not.
table <"$T/r1" >"$T/review.tab"
while read -r g want desc; do
	[ "$want" = - ] && want=
	is "$(grep "^$g " "$T/review.tab" | cut -d' ' -f4)" "$want" "review: $desc"
done <<'EOF'
21 camera:2 camera: a loser's make/model differs
22 - nothing: same camera (other case), lens, exposure; loser without any
23 camera:2 camera: the keeper has none
24 lens:2 lens differs
25 exposure:2 exposure: values the keeper lacks
26 gps-conflict:2 gps-conflict: 1.1 km apart
27 - gps 44 m apart: no conflict
28 - gps only on the loser: consolidate copies it
29 gps-conflict:2,gps-conflict:3 gps-conflict: keeper has none, losers disagree
30 date-conflict:2 date-conflict: 2 minutes apart
31 - the same instant in two offsets: no conflict
32 - a date only on the loser: consolidate copies it
33 description-conflict:2 description-conflict: not text
34 - two descriptions: consolidate keeps both
35 rating-conflict:2,rating-conflict:3 rating-conflict: rejected vs rated; 7
36 - ratings 3 and 5: consolidate takes 5
37 duration:2,duration:4 duration: > 1 s (ms and H:MM:SS forms); 0.4 s not
38 mixed-types:2 mixed-types: image and video
39 edited:2 edited: an edited loser
40 external:2 external: a loser from an external library
41 live-photo:2 live-photo: the keeper has none
42 - live-photo: both have one
43 raw-jpeg:2 raw-jpeg: same base name
44 raw-jpeg:2 raw-jpeg: same capture time
45 - RAW and JPEG 5 s apart with other names: no pair
46 trashed:2,trashed:3,offline:3 trashed and offline members
47 missing:- missing: a group of one
EOF
d=$(jq -c 'select(.duplicateId | endswith("26")) | .review[0]' "$T/r1")
like "$d" '"detail":"[0-9]+ m from the keeper' "review detail says how far"

# ---- Bad groups: skipped with a message naming them; the rest planned.
run immich-dupes -q -f "$F/bad.json"
is "$rc" 1 "bad groups: exit 1"
is "$(printf '%s\n' "$out" | jq -r '.duplicateId[-2:]' | tr '\n' ' ')" \
    "51 58 " "... the good groups are planned (wrong-typed fields read as absent)"
like "$err" 'bad.json: group 2: not a JSON object; skipped' "... not an object"
like "$err" 'group 3: no valid duplicateId' "... no duplicateId"
like "$err" 'group 4: .*no assets array' "... no assets"
like "$err" 'group 5: .*asset 1 has no valid id' "... an invalid asset id"
like "$err" 'group 6: .*listed twice' "... an asset listed twice"
is "$(printf '%s\n' "$out" | tail -n 1 | jq -c '[.keep, .review, .note]')" \
    '["00000000-0000-4000-8000-000058000001",[],null]' \
    "... the group's own keep/review keys are replaced"
is "$(printf '%s\n' "$out" | head -n 1 | jq -c .note)" '{"kept":true}' \
    "... other keys pass through"

# ---- Cut and malformed responses, empty list, stdin.
head -c 3000 "$F/rules.json" >"$T/cut.json"
IN=$T/cut.json run immich-dupes -q -f -
is "$rc" 3 "truncated response: exit 3"
like "$err" "^immich-dupes: stdin: response truncated after [0-9]+ groups$" \
    "... says so"
is "$(printf '%s\n' "$out" | grep -c duplicateId)" \
    "$(printf '%s' "$err" | sed 's/.*after \([0-9]*\) groups/\1/')" \
    "... after writing the complete groups"
printf '{"message":"Not Found"}' >"$T/obj.json"
run immich-dupes -q -f "$T/obj.json"
is "$rc:$out" 3: "non-array body: exit 3, nothing written"
like "$err" 'obj.json: not a JSON array' "... says so"
printf '[{"duplicateId":"x","assets":[]},{"a":1]}, {}]' >"$T/inv.json"
run immich-dupes -q -f "$T/inv.json"
is "$rc" 3 "invalid JSON inside a group: exit 3"
like "$err" 'inv.json: group 2: invalid JSON at byte 7 of the group$' \
    "... names the group"
printf ' [ ]\n' >"$T/empty.json"
run immich-dupes -f "$T/empty.json"
is "$rc:$out" 0: "empty list: no records, exit 0"
like "$err" '^immich-dupes: 0 records, 0 assets, 0 failed, .* 0 requests' \
    "... progress summary with 0 requests"
run immich-dupes -q -f "$T/nonexistent.json"
is "$rc" 2 "a missing file: exit 2"

# ---- The splitter: escaped quotes and brackets, nesting, every chunk size.
printf ' [ "a\\"]}b" ,{"x":"\\\\"},[1,[2,{"y":"]"}]], -1.5e3 ,null]' >"$T/sp.json"
t-jsplit 0 <"$T/sp.json" >"$T/sp.out"
ok $? "splitter gives the same elements for chunk sizes 1..64"
is "$(cat "$T/sp.out")" '8:"a\"]}b"
10:{"x":"\\"}
17:[1,[2,{"y":"]"}]]
6:-1.5e3
4:null
ok' "... the right elements"

# ---- From the fake server.
command -v curl >/dev/null && command -v python3 >/dev/null || {
	i=0; while [ $i -lt 9 ]; do ok 0 "# SKIP no curl/python3"; i=$((i+1)); done
	exit 0; }
G1=aaaaaaaa-0000-4000-8000-000000000001
G2=aaaaaaaa-0000-4000-8000-000000000002
cat >"$T/lib.json" <<JSON
{"assets":[
 {"id":"00000000-0000-4000-8000-000000000011","duplicateId":"$G1","width":100,"height":100,"content":"a"},
 {"id":"00000000-0000-4000-8000-000000000012","duplicateId":"$G1","width":200,"height":100,"content":"bb",
  "exifInfo":{"make":"Canon"}},
 {"id":"00000000-0000-4000-8000-000000000021","duplicateId":"$G2","content":"c"},
 {"id":"00000000-0000-4000-8000-000000000022","duplicateId":"$G2","content":"dd"}]}
JSON
fake_start "$T/lib.json"
run immich-dupes
is "$rc" 0 "fake server: exit 0"
is "$(printf '%s\n' "$out" | jq -r '.keep[-2:] + " " + .why' | sort | tr '\n' ' ')" \
    "12 pixels 22 size " "... one record per group, keeper chosen"
is "$(jq -c '[.method, .path]' "$FAKE_LOG" | tr '\n' ' ')" \
    '["GET","/api/duplicates"] ' "... one request: GET /api/duplicates"
like "$err" '2 records, 4 assets, 0 failed, .*, 1 request' "... progress says 1 request"

len=$(curl -s -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/duplicates" | wc -c)
fake_ctl POST /_fake/faults "{\"path\":\"^/api/duplicates\$\",\"action\":\"short\",\"afterBytes\":$((len - 10))}" >/dev/null
run immich-dupes -q
is "$rc" 3 "cut mid-body: exit 3"
like "$err" '^immich-dupes: GET /api/duplicates: response truncated after 1 groups: ' \
    "... says how many groups came"
is "$(printf '%s\n' "$out" | grep -c duplicateId)" 1 "... after writing the first"

IMMICH_API_KEY=wrong run immich-dupes -q
is "$rc:$out" 3: "401: exit 3, nothing written"
like "$err" 'GET /api/duplicates: HTTP 401: Invalid API key' "... quotes the server"

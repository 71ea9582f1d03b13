#!/bin/sh
# The example scripts a person copies (examples/first-run.sh,
# same-name-only.sh, nightly.sh, undo.sh, three-answers.sh), each run
# against a fresh fake server holding one group of every kind (mklib.py
# --kinds) plus three same-name groups, and judged by the server's state
# afterwards.
. "$(dirname "$0")/lib.sh"

for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash immich-restore immich-stack immich-dismiss; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
command -v flock >/dev/null || skip_all "flock (util-linux) not installed"
plan 57

EX=$TESTDIR/../examples
cd "$T" || exit 1
python3 "$TESTDIR/mklib.py" --kinds --size 4000 >kinds.json
# Same-name groups: SN1 the same name in another case and other sizes, SN2
# the same name and size (other bytes), SN3 the same name but a location
# 300 km away (held for review).
python3 - kinds.json lib.json <<'EOF'
import json, sys
lib = json.load(open(sys.argv[1]))
def a(g, k, name, content, **kw):
    d = {"id": "5a%06d-0000-4000-8000-%012d" % (g, k),
         "duplicateId": "5d%06d-0000-4000-8000-000000000000" % g,
         "originalFileName": name, "content": content, "label": "sn%d" % g}
    d.update(kw)
    return d
lib["assets"] += [
    a(1, 0, "IMG_5001.JPG", "same name, bigger copy"),
    a(1, 1, "img_5001.jpg", "same name, small"),
    a(2, 0, "IMG_5002.jpg", "same size: copy A"),
    a(2, 1, "IMG_5002.jpg", "same size: copy b"),
    a(3, 0, "IMG_5003.jpg", "far away, the bigger one",
      exifInfo={"latitude": 48.85, "longitude": 2.29}),
    a(3, 1, "IMG_5003.jpg", "far away",
      exifInfo={"latitude": 51.50, "longitude": -0.12}),
]
json.dump(lib, open(sys.argv[2], "w"))
EOF

# ids that changed: non-GET requests naming any of the ids in file $1
touched() {
	jq -c --slurpfile ids "$1" 'select(.method != "GET") | tostring |
	    select(. as $s | any($ids[]; . as $i | $s | contains($i)))' \
	    "$FAKE_LOG" | wc -l | tr -d ' '
}
# the non-trashed, non-purged assets as "name checksum" lines
live() {
	fake_state | jq -r '.assets[] | select((.isTrashed or .purged) | not) |
	    "\(.originalFileName) \(.checksum)"' | sort
}
# requests that change something, since the last mark
mark() { l0=$(cat "$FAKE_LOG" 2>/dev/null | wc -l | tr -d ' '); }
writes() {
	tail -n +$((l0 + 1)) "$FAKE_LOG" | jq -c 'select(.method == "PUT" or
	    .method == "DELETE" or (.method == "POST" and
	    (.path | test("bulk-upload-check") | not)))' | wc -l | tr -d ' '
}

# ---------------------------------------------------------------- first-run
fake_start lib.json
live >start.live
mark
run sh "$EX/first-run.sh" w
is "$rc" 0 "first-run.sh without -y and without a terminal: exit 0"
like "$out" "Stopped before consolidating" "it stops after the dry run"
like "$out" "held for review: +8" "it counts the groups held for review"
like "$out" "gps-conflict" "and shows the review codes"
is "$(writes)" 0 "nothing was changed on the server"
for f in plan auto consolidate-dry; do
	[ -s "w/$f.ndjson" ]
	ok $? "w/$f.ndjson kept"
done

run sh "$EX/first-run.sh" -y w2 "$T/bk"
is "$rc" 0 "first-run.sh -y: exit 0"
like "$out" "backups in: +$T/bk" "it says where the backups are"
like "$out" "undo: immich-restore < $T/w2/done.ndjson" "and how to undo"
unlike "$err" "first-run.sh:" "no complaint of its own"
n=0
for f in plan auto consolidate-dry consolidated fetched verified trash-dry 'done'; do
	[ -s "w2/$f.ndjson" ] && n=$((n + 1))
done
is "$n" 8 "every intermediate file is kept"
jq -c 'select(.review != []) | .assets[].id' w2/plan.ndjson >held.ids
jq -c 'select(.review == []) | .trash[]' w2/plan.ndjson >losers.ids
jq -c 'select(.review == []) | .keep' w2/plan.ndjson >keepers.ids
is "$(wc -l <held.ids | tr -d ' ')" 16 "16 assets in the 8 groups held for review"
is "$(touched held.ids)" 0 "no request changed an asset of a review group"
fake_state >state1
is "$(jq -r --slurpfile h held.ids '[.assets[] | select(.id as $i |
    $h | index($i)) | select(.isTrashed)] | length' state1)" 0 \
    "no asset of a review group is trashed"
is "$(jq -r --slurpfile l losers.ids '[.assets[] | select(.id as $i |
    $l | index($i)) | select(.isTrashed | not)] | length' state1)" 0 \
    "every loser of the other groups is in the trash"
is "$(jq -r --slurpfile k keepers.ids '[.assets[] | select(.id as $i |
    $k | index($i)) | select(.isTrashed)] | length' state1)" 0 \
    "no keeper is"
n=0
for id in $(jq -r . losers.ids); do
	f=$(jq -r --arg id "$id" '.backup[$id].path // empty' w2/done.ndjson)
	sz=$(jq -r --arg id "$id" '.assets[] | select(.id == $id) | .size' state1)
	case $f in "$T/bk/"*) ;; *) continue ;; esac
	[ -f "$f" ] && [ "$(wc -c <"$f" | tr -d ' ')" = "$sz" ] && n=$((n + 1))
done
is "$n" "$(wc -l <losers.ids | tr -d ' ')" \
    "every trashed loser has a backup of its size in the backup dir"

run sh "$EX/first-run.sh" -y w2
is "$rc" 2 "a workdir holding a done.ndjson is refused (exit 2)"
like "$err" "done.ndjson exists" "and it says why"

# --------------------------------------------------------------------- undo
# One loser is purged from the trash meanwhile: it must be uploaded again.
p=$(jq -r 'select(.review == []) | .trash[]' w2/plan.ndjson | head -n 1)
fake_ctl POST /_fake/mutate "{\"id\":\"$p\",\"purge\":true}" >/dev/null
run sh "$EX/undo.sh" w2/done.ndjson
is "$rc" 0 "undo.sh: exit 0"
like "$out" "uploaded again: +1" "the purged loser was uploaded again"
like "$out" "not restored: +0" "nothing left out"
[ -s w2/restored.ndjson ]
ok $? "its records are in restored.ndjson beside done.ndjson"
live >undo.live
is "$(diff start.live undo.live)" "" \
    "the library's live assets (name and checksum) are the starting set again"
run sh "$EX/undo.sh" w2/done.ndjson "$T/r2.ndjson"
is "$rc" 0 "undo.sh a second time: still exit 0 (all already back)"
run sh "$EX/undo.sh"
is "$rc" 2 "undo.sh without arguments: usage, exit 2"

# ----------------------------------------------------------- same-name-only
fake_stop
fake_start lib.json
mark
run sh "$EX/same-name-only.sh" -n s1
is "$rc" 0 "same-name-only.sh -n: exit 0"
like "$out" "2 of 16 groups have the same name and no review flag" \
    "it selects the two same-name groups without a review flag"
is "$(writes)" 0 "the dry run changed nothing"
run sh "$EX/same-name-only.sh" -s s2
is "$rc" 0 "same-name-only.sh -s: exit 0"
like "$out" "1 of 16 groups have the same name and size" "-s: one group"
fake_state >state2
is "$(jq -r '[.assets[] | select(.isTrashed) | .label] | sort | join(" ")' \
    state2)" "sn2 trashed-member/trashed" \
    "only a loser of the same-name-and-size group was trashed"

# ------------------------------------------------------------------ nightly
fake_stop
fake_start lib.json
mkdir -p n/log
echo "$IMMICH_API_KEY" >key
touch -d '120 days ago' n/log/2000-01-01.log
log=n/log/$(date +%Y-%m-%d).log
# A first run whose downloads all fail: status 1, one line for cron.
fake_ctl POST /_fake/faults '{"path":"/original$","action":"status",
    "status":404,"times":-1}' >/dev/null
run env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/key" sh "$EX/nightly.sh" n
is "$rc" 1 "nightly.sh, downloads failing: exit 1 (records failed)"
like "$err" "^nightly.sh: finished with status 1; see .*$log" \
    "one line on stderr, naming the log"
is "$out" "" "nothing on stdout"
[ ! -e n/log/2000-01-01.log ]
ok $? "a log older than KEEP_DAYS was removed"
like "$(cat "$log")" "immich-fetch: .* failed" "the stages' summaries are in the log"
is "$(fake_state | jq '[.assets[] | select(.isTrashed)] | length')" 1 \
    "nothing was trashed (only the library's own trashed asset)"
fake_ctl DELETE /_fake/faults >/dev/null

# Two runs at once: the second is refused by the lock.
fake_ctl POST /_fake/faults '{"path":"^/api/duplicates$","action":"delay",
    "seconds":3}' >/dev/null
env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/key" \
    sh "$EX/nightly.sh" n >n1.out 2>n1.err &
bg=$!
i=0
# (Wait for its start line, written once it holds the lock: the first
# run's start and end lines are in the same log.)
while [ "$(grep -c '^=== nightly.sh: run .*, pid [0-9]*, records in' "$log")" -lt 2 ] &&
    [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
run env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/key" sh "$EX/nightly.sh" n
is "$rc" 2 "a second nightly.sh while one runs: exit 2"
like "$err" "another run holds .*/lock; this one did nothing" "refused by the lock"
wait $bg
is "$?" 0 "the first run goes on and ends with status 0"
like "$(tail -n 1 "$log")" "ended with status 0" "the log says how it ended"
is "$(ls n/runs | wc -l | tr -d ' ')" 2 "one record folder per run that started"
is "$(fake_state | jq --slurpfile l losers.ids \
    '[.assets[] | select(.id as $i | $l | index($i)) | select(.isTrashed | not)] | length')" \
    0 "every loser of the groups needing no review is trashed"

# ------------------------------------------------------------ three-answers
# The RAW+JPEG group stacked, two listed groups (one held for review, one
# that needs none) kept all, the other groups that need no review
# resolved, the rest untouched.
fake_stop
fake_start lib.json
g() { jq -r --arg k "$1" '.groups[$k]' lib.json; }
printf '# not duplicates\n%s  # same place, other day\n\n%s\n' \
    "$(g gps-conflict)" "$(g plain)" >keep-all.txt
listed() { curl -sS -H "x-api-key: $IMMICH_API_KEY" "$FAKE/api/duplicates" |
    jq -r '.[].duplicateId'; }
listed >dup.before
run sh "$EX/three-answers.sh" t3 "$T/bk3" keep-all.txt
is "$rc" 0 "three-answers.sh: exit 0"
all_like "$err" '^immich-(dupes|consolidate|stack|dismiss|fetch|verify|trash): ' \
    "stderr: the stages' summary lines only"
like "$out" "stacked \(RAW\+JPEG\): +1 of 1" "one group stacked"
like "$out" "kept all \(dismissed\): +2 of 2" "two groups kept all"
like "$out" "undo: cat t3/done.ndjson t3/stacked.ndjson t3/dismissed.ndjson" \
    "and how to undo"
fake_state >state3
rk=$(jq -r --arg d "$(g raw-jpeg)" 'select(.duplicateId == $d) | .keep' t3/plan.ndjson)
is "$(jq -c --arg d "$(g raw-jpeg)" '[.assets[] | select(.duplicateId == $d) |
    [.isTrashed, .stack.primaryAssetId, .stack.assetCount]] | unique' state3)" \
    "[[false,\"$rk\",2]]" "the RAW+JPEG pair: one stack under the keeper, nothing trashed"
is "$(jq -c --arg a "$(g gps-conflict)" --arg b "$(g plain)" \
    '[.assets[] | select(.label | test("^(gps-conflict|plain)/")) |
    [.isTrashed, .duplicateId]] | unique' state3)" '[[false,null]]' \
    "the listed groups: off the list, nothing trashed"
listed >dup.after
is "$(grep -c -x -e "$(g raw-jpeg)" -e "$(g plain)" -e "$(g gps-conflict)" \
    dup.after)" 0 "none of the three is in GET /api/duplicates any more"
is "$(grep -c -x -e "$(g gps-conflict)" dup.before)" 1 "(where one was before)"
jq -r --arg a "$(g gps-conflict)" --arg b "$(g plain)" --arg c "$(g raw-jpeg)" \
    'select(.review == [] and .duplicateId != $b) | .trash[]' t3/plan.ndjson >losers3
is "$(jq --slurpfile s state3 -R -s 'split("\n") | map(select(. != "")) as $l |
    [$s[0].assets[] | select(.id as $i | $l | index($i)) | select(.isTrashed)] |
    length' losers3)" "$(wc -l <losers3 | tr -d ' ')" \
    "every loser of the other groups needing no review is trashed"
run sh "$EX/three-answers.sh" t3 "$T/bk3" keep-all.txt
is "$rc:$err" "2:three-answers.sh: t3/plan.ndjson exists: use another workdir" \
    "a workdir holding a plan is refused"

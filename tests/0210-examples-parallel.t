#!/bin/sh
# The parallel examples (examples/parallel-fetch.sh with GNU parallel
# --pipe, examples/xargs-fetch.sh with xargs -P) run against the fake
# server: every loser backed up, records whole and in order, and the
# processes together keep to one shared rate limit.
. "$(dirname "$0")/lib.sh"
exclusive_test

for b in immich-dupes immich-fetch; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
command -v parallel >/dev/null && parallel --version 2>/dev/null |
    grep -q 'GNU parallel' || skip_all "GNU parallel not installed (.ci/install-deps)"
plan 14

EX=$TESTDIR/../examples
python3 - "$T/lib.json" <<'EOF'
import json, sys
assets = []
for g in range(12):
    for k in range(2):
        assets.append({
            "id": "a%07d-0000-4000-8000-%012d" % (g, k),
            "duplicateId": "d%07d-0000-4000-8000-000000000000" % g,
            "originalFileName": "IMG_%d_%d.jpg" % (g, k),
            "content": "photo %d copy %d%s" % (g, k, " bigger" * k)})
json.dump({"apiKey": "k-examples", "assets": assets}, open(sys.argv[1], "w"))
EOF
fake_start "$T/lib.json"
cd "$T" || exit 1

immich-dupes -q >plan.ndjson
is "$(wc -l <plan.ndjson | tr -d ' ')" 12 "a plan of 12 groups"
jq -r '.trash[]' plan.ndjson | sort >losers

# --- GNU parallel --pipe: 3 records per job, 4 jobs at once, rate 20/s ---
l0=$(wc -l <"$FAKE_LOG")
IMMICH_RATE=20 IMMICH_BURST=2 CHUNK=3 run sh "$EX/parallel-fetch.sh" \
    plan.ndjson "$T/b 1" 4
is "$rc" 0 "parallel-fetch.sh: exit 0"
is "$err" "" "parallel-fetch.sh: nothing on stderr"
printf '%s\n' "$out" >out1
is "$(jq -r .duplicateId out1 | tr '\n' ' ')" \
    "$(jq -r .duplicateId plan.ndjson | tr '\n' ' ')" \
    "records come out whole, in the plan's order"
is "$(jq -r '.backup | keys[]' out1 | sort | tr '\n' ' ')" \
    "$(tr '\n' ' ' <losers)" "every loser has a backup entry"
n=0
for id in $(cat losers); do
	f=$(jq -r --arg id "$id" '.backup[$id].path // empty' out1)
	g=$(echo "$id" | sed 's/^a0*\([0-9]\)/\1/; s/-.*//')
	[ "$(cat "$f" 2>/dev/null)" = "photo $g copy 0" ] && n=$((n + 1))
done
is "$n" 12 "every backup file holds the loser's bytes"
case $(cd "$T/b 1" && pwd) in "$T/b 1") r=0 ;; *) r=1 ;; esac
ok $r "a folder name with a space stays one word"

# All the fetch processes drew on one limit: 20/s, burst 2.  The first
# request of each process also sets up its connection, so a few ms of
# jitter are expected; the slack here is one interval (50 ms), still far
# under what 4 unlimited processes would send (checked below).
tail -n +$((l0 + 1)) "$FAKE_LOG" >log1
nreq=$(wc -l <log1 | tr -d ' ')
python3 "$TESTDIR/rl-check.py" window 20 2 0.05 log1 >chk
ok $? "the $nreq requests of all jobs together keep to 20/s, burst 2"
diag "$(cat chk)"

# --- xargs -P: ids on stdin, 2 per process, 4 at once, unlimited rate ---
l0=$(wc -l <"$FAKE_LOG")
IN=losers CHUNK=2 run sh "$EX/xargs-fetch.sh" "$T/b2" 4
is "$rc" 0 "xargs-fetch.sh: exit 0"
printf '%s\n' "$out" >out2
is "$(wc -l <out2 | tr -d ' ')" 12 "one record per id"
jq -e . out2 >/dev/null
ok $? "every record is whole JSON"
is "$(jq -r '.backup | keys[]' out2 | sort | tr '\n' ' ')" \
    "$(tr '\n' ' ' <losers)" "every id backed up"
tail -n +$((l0 + 1)) "$FAKE_LOG" >log2
python3 "$TESTDIR/rl-check.py" window 20 2 0.05 log2 >chk
is "$?" 1 "unlimited, the same processes break that bound (so the check can fail)"

IN=/dev/null run sh "$EX/xargs-fetch.sh"
is "$rc" 2 "xargs-fetch.sh without a dir: usage, exit 2"

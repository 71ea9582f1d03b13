#!/bin/sh
# The API key never appears (DESIGN §4.8): not on stderr (also when the
# server refuses it, or fails), not in any record, sidecar or backup file,
# not in the request log as a query parameter, and not in
# /proc/PID/cmdline of any process while a stage runs (a download held by
# a stall fault keeps immich-fetch running while we look).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for s in dupes consolidate fetch verify trash restore; do
	command -v immich-$s >/dev/null || skip_all "immich-$s not built"
done
[ -r /proc/self/cmdline ] || skip_all "no /proc"
plan 8

KEY=Zq7-campaign-SECRET-$$-k3yZ
printf '%s\n' "$KEY" >"$T/key"		# for grep -f: never on a command line
python3 "$TESTDIR/mklib.py" --groups 3 --seed 3 --size 3000 |
    jq --rawfile k "$T/key" '.apiKey = ($k | rtrimstr("\n"))' >"$T/lib.json"
fake_start "$T/lib.json"
export IMMICH_LOW_SPEED_TIME=2
W=$T/w
mkdir -p "$W"
cd "$W" || exit 1

# Every process's command line, one argument a line.
cmdlines() { cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' '\n'; }
# The scan can fail: a decoy with the key on its command line is seen.
sh -c 'sleep 5' decoy "$(cat "$T/key")" &
decoy=$!
sleep 0.2
cmdlines | grep -cF -f "$T/key" >"$T/decoy"
kill $decoy
is "$(cat "$T/decoy")" 1 "self-test: a key on a command line is found"
# The pipeline, with faults that make the stages talk about errors.
fake_ctl POST /_fake/faults '[
 {"path":"^/api/assets/[^/]+$","method":"GET","action":"status","status":500,"times":2},
 {"path":"^/api/albums","action":"status","status":429,"retryAfter":"0"},
 {"path":"/original$","action":"reset","afterBytes":100},
 {"path":"/original$","action":"stall","seconds":6,"afterBytes":10,"skip":2}
]' >/dev/null
immich-dupes >plan.ndjson 2>dupes.err
immich-consolidate <plan.ndjson >cons.ndjson 2>cons.err
immich-fetch -d "$W/bk" <cons.ndjson >fetched.ndjson 2>fetch.err &
fpid=$!
# While immich-fetch runs (the stalled download): every process's
# command line.
sleep 1
n=0 procs=0
while kill -0 $fpid 2>/dev/null && [ $n -lt 30 ]; do
	cmdlines >"$T/cmdlines.$n"
	procs=$((procs + $(ls -d /proc/[0-9]* 2>/dev/null | wc -l)))
	n=$((n + 1))
	sleep 0.2
done
wait $fpid
grep -l immich-fetch "$T"/cmdlines.* >/dev/null
ok $? "immich-fetch was running while the command lines were read"
hits=$(cat "$T"/cmdlines.* | grep -cF -f "$T/key")
is "$hits" 0 "the key is on no command line ($procs read in $n passes)"
fake_ctl DELETE /_fake/faults >/dev/null
immich-verify <fetched.ndjson >ver.ndjson 2>verify.err
immich-trash <ver.ndjson >trashed.ndjson 2>trash.err
immich-restore <trashed.ndjson >restored.ndjson 2>restore.err
nt=$(jq -s '[.[] | .trashed // {} | to_entries[] | select(.value.ok)] |
    length' trashed.ndjson)
is "$nt $(jq -s '[.[] | .restored // {} | to_entries[] | select(.value.ok)] |
    length' restored.ndjson)" "$nt $nt" \
    "the pipeline ran: $nt trashed, and restored"

# The key refused: the messages must not echo it.
IMMICH_API_KEY=$KEY-wrong immich-dupes >/dev/null 2>refused.err
IMMICH_API_KEY_FILE=$T/key IMMICH_API_KEY='' immich-dupes -q >/dev/null \
    2>keyfile.err
grep -q . refused.err
ok $? "a refused key is reported"

hits=$(grep -rlF -f "$T/key" "$W" 2>/dev/null)
is "$hits" "" "the key is in no output, message, record or backup file"
is "$(fake_log_count '.keyInQuery')" 0 "the key is never sent in a query"
ls "$W"/bk/*.json >/dev/null 2>&1
ok $? "sidecars were written (and searched)"

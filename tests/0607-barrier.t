#!/bin/sh
# Deferred durability (DESIGN §4.1, common/durable.h): immich-fetch flushes
# no file on its own and ends with one barrier (syncfs); immich-trash runs
# a barrier for the backups of a batch before its first DELETE.  The test
# hook IMMICH_TEST_BARRIER_LOG appends a line to the fake's request log
# (O_APPEND, like the fake) when a barrier has returned, so the order of
# the lines is the order of the events: the fake logs a request once it
# has handled it, before it replies.  And a verification made before a
# reboot (another boot id in its stamp) is not trusted: hashed again.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
command -v immich-trash >/dev/null || skip_all "immich-trash not built"
[ -r /proc/sys/kernel/random/boot_id ] || skip_all "no boot id to read"
plan 14

F=$T/f
python3 "$TESTDIR/trash-fixture.py" "$F" ok liveok reboot fetchme || exit 1
. "$F/ids.sh"
fake_start "$F/lib.json"
export IMMICH_TEST_BARRIER_LOG="$FAKE_LOG"

# Line numbers in the request log.
first() { jq -c "$1" "$FAKE_LOG" | grep -n true | head -n 1 | cut -d: -f1; }
last() { jq -c "$1" "$FAKE_LOG" | grep -n true | tail -n 1 | cut -d: -f1; }

# immich-trash: the backups of both losers (one with a live-photo video:
# still, video and both sidecars) made durable, then the DELETE.
cat "$F/ok.ndjson" "$F/liveok.ndjson" >"$F/two.ndjson"
IN=$F/two.ndjson run immich-trash -q
is "$rc" 0 "trash: exit 0"
is "$(printf '%s\n' "$out" | jq -r '.trashed[] | .ok' | sort -u)" true \
    "trash: both losers trashed"
b=$(first '.barrier == "trash"')
d=$(first '.method == "DELETE"')
ok "$([ -n "$b" ] && [ -n "$d" ] && [ "$b" -lt "$d" ]; echo $?)" \
    "trash: the barrier ran before the first DELETE (log lines $b, $d)"
is "$(jq -r 'select(.barrier == "trash") | .files' "$FAKE_LOG" | head -n 1)" 6 \
    "trash: it flushed the 6 files the DELETE relies on (2 originals, a video, their sidecars)"
is "$(fake_log_count '.method == "DELETE"')" 1 "trash: one DELETE for the batch"

# Under -n nothing is deleted and no barrier is needed.
: >"$FAKE_LOG"
IN=$F/two.ndjson run immich-trash -q -n
is "$(fake_log_count '.barrier or .method == "DELETE"')" 0 \
    "trash -n: no barrier, no DELETE"

# immich-fetch: no file flushed on its own, one barrier at the end, after
# the last download.
: >"$FAKE_LOG"
jq -c 'del(.backup, .verified)' "$F/fetchme.ndjson" >"$F/fetch-in.ndjson"
IN=$F/fetch-in.ndjson run immich-fetch -q -d "$T/bk"
is "$rc" 0 "fetch: exit 0"
is "$(printf '%s\n' "$out" | jq -r ".backup[\"$L_fetchme\"].sha1")" \
    "$(jq -r ".backup[\"$L_fetchme\"].sha1" "$F/fetchme.ndjson")" "fetch: backed up"
b=$(last '.barrier == "fetch"')
d=$(last '.method == "GET" and (.path | test("/original$"))')
ok "$([ -n "$b" ] && [ -n "$d" ] && [ "$b" -gt "$d" ]; echo $?)" \
    "fetch: its barrier ran after the last download (log lines $d, $b)"
is "$(fake_log_count '.barrier')" 1 "fetch: one barrier for the run"

# A verification from another boot: the stamp's boot id is not this
# boot's, so immich-trash hashes the file again (a power loss may have
# left other bytes under the same times), finds it intact and trashes.
sleep 0.2	# a file changed in the last 100 ms gets no stamp
immich-verify -q <"$F/reboot.ndjson" >"$F/.v" && mv "$F/.v" "$F/reboot.ndjson"
st=$(jq -r ".verified[\"$L_reboot\"].stamp" "$F/reboot.ndjson")
like "$st" ":$(cat /proc/sys/kernel/random/boot_id)\$" \
    "verify: the stamp ends with this boot's id"
jq -c --arg l "$L_reboot" \
    '.verified[$l].stamp |= sub(":[0-9a-f-]+$"; ":00000000-0000-4000-8000-000000000000")' \
    "$F/reboot.ndjson" >"$F/.e" && mv "$F/.e" "$F/reboot.ndjson"
IN=$F/reboot.ndjson run immich-trash
is "$rc" 0 "another boot's stamp: exit 0"
like "$err" '1 backups? hashed again' "another boot's stamp: the file hashed again"
is "$(printf '%s\n' "$out" | jq -r ".trashed[\"$L_reboot\"].ok")" true \
    "another boot's stamp: intact, trashed"

#!/bin/sh
# immich-review fetches thumbnails side by side (http_multi in
# common/http.c): never more at once than the shared in-flight cap
# (IMMICH_INFLIGHT), one at a time with IMMICH_INFLIGHT=1; a reply to
# retry (503) is retried without holding up the others; records still go
# out in input order, each card with its thumbnails.  Overlap is read
# from the fake's request log: every thumbnail reply is held D seconds
# by a "delay" fault, so two requests that arrive less than D apart were
# under way at once (a slow machine only makes fewer overlap).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
command -v immich-review >/dev/null || skip_all "immich-review not built"
plan 14

python3 "$TESTDIR/mklib.py" --groups 12 --size 500 >"$T/lib.json" || exit 1
fake_start "$T/lib.json"
export IMMICH_RATE=0
immich-dupes -q >"$T/plan.ndjson" || exit 1
n=$(jq -s '[.[].assets[]] | length' "$T/plan.ndjson")
D=0.4
delay() { fake_ctl POST /_fake/faults "{\"method\":\"GET\",\"path\":\"/thumbnail\$\",
    \"action\":\"delay\",\"seconds\":$D,\"times\":-1}" >/dev/null; }
# The most thumbnail requests under way at once: for each, how many
# arrived in the D seconds from its arrival (itself included).
most() {
	jq -s --argjson d "$D" '[.[] | select(.path | test("/thumbnail$")) | .t] |
	    sort as $t | [$t[] as $a | [$t[] | select(. >= $a and . < $a + $d)] |
	    length] | max' "$FAKE_LOG"
}

delay
IMMICH_INFLIGHT=3 IN=$T/plan.ndjson run immich-review -q -o "$T/p3"
is "$rc" 0 "IMMICH_INFLIGHT=3: exit 0"
is "$(ls "$T/p3/thumbs" | wc -l | tr -d ' ')" "$n" "IMMICH_INFLIGHT=3: all $n thumbnails"
cmp -s "$T/plan.ndjson" "$T/.out"
ok $? "IMMICH_INFLIGHT=3: records out unchanged, in input order"
m=$(most)
ok "$([ "$m" -le 3 ]; echo $?)" "IMMICH_INFLIGHT=3: at most 3 under way at once (saw $m)"
ok "$([ "$m" -ge 2 ]; echo $?)" "IMMICH_INFLIGHT=3: side by side (saw $m at once)"

# Two processes at once share the cap: still at most 3 under way.
: >"$FAKE_LOG"
IMMICH_INFLIGHT=3 immich-review -q -o "$T/pa" <"$T/plan.ndjson" >"$T/pa.out" 2>&1 &
pa=$!
IMMICH_INFLIGHT=3 immich-review -q -o "$T/pb" <"$T/plan.ndjson" >"$T/pb.out" 2>&1
rb=$?
wait $pa
ra=$?
is "$ra $rb" "0 0" "two processes: both exit 0"
m=$(most)
ok "$([ "$m" -le 3 ]; echo $?)" "two processes, IMMICH_INFLIGHT=3: at most 3 under way at once in all (saw $m)"

: >"$FAKE_LOG"
IMMICH_INFLIGHT=1 IN=$T/plan.ndjson run immich-review -q -o "$T/p1"
is "$rc" 0 "IMMICH_INFLIGHT=1: exit 0"
is "$(most)" 1 "IMMICH_INFLIGHT=1: one at a time"
is "$(ls "$T/p1/thumbs" | wc -l | tr -d ' ')" "$n" "IMMICH_INFLIGHT=1: all $n thumbnails"

# Three 503s: retried, the others go on; nothing lost, no temporary file.
fake_ctl DELETE /_fake/faults >/dev/null
fake_ctl POST /_fake/faults '{"method":"GET","path":"/thumbnail$","action":"status",
    "status":503,"times":3}' >/dev/null
: >"$FAKE_LOG"
IMMICH_RETRY_DELAY=0.1 IN=$T/plan.ndjson run immich-review -o "$T/p5"
is "$rc" 0 "three 503s: exit 0"
is "$(ls "$T/p5/thumbs" | wc -l | tr -d ' ')" "$n" "three 503s: all $n thumbnails after retries"
is "$(fake_log_count '.path | test("/thumbnail$")')" "$((n + 3))" \
    "three 503s: $n requests and the 3 retries"
is "$(find "$T/p5" -name '*tmp*' | wc -l | tr -d ' ')" 0 "no temporary file left"

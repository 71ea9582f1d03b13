#!/bin/sh
# SPDX-License-Identifier: ISC
# Benchmark (issue 17): immich-review fetching the thumbnails of
# REVIEW_THUMBS_N groups (default 1000, 2 assets each: mklib.py) from
# the fake Immich server on loopback, side by side in one run:
#   sequential  IMMICH_INFLIGHT=1: one thumbnail at a time, as before
#               issue 17 (one request after the other);
#   parallel    the defaults: up to 8 at once within the shared
#               in-flight cap (IMMICH_INFLIGHT, default 5).
# Each thumbnail reply is held REVIEW_THUMBS_DELAY seconds by the fake
# (default 0.02: a "delay" fault rule on every GET .../thumbnail),
# modelling a real server's latency (generating or reading the file);
# with none, loopback and the fake's Python would be all that is
# measured.  IMMICH_RATE=0: the shared rate limit is not what is
# measured.  Wall time, median of REVIEW_THUMBS_RUNS runs (default 3),
# every thumbnail fetched again in each run (a fresh folder).
# Target (issue 17): parallel at least 3 times faster.  With
# REVIEW_THUMBS_OLD=/path/to/an/older/immich-review (e.g. one built from
# before issue 17, which fetched one thumbnail after the other), that one
# too, in each run.
# Needs immich-dupes and immich-review on PATH (make bench), python3, jq,
# curl.
set -u
n=${REVIEW_THUMBS_N:-1000}
delay=${REVIEW_THUMBS_DELAY:-0.02}
runs=${REVIEW_THUMBS_RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
for c in python3 jq curl immich-dupes immich-review; do
	command -v $c >/dev/null 2>&1 ||
	    { echo "review-thumbs: SKIP: needs $c on PATH"; exit 0; }
done
d=$(mktemp -d "${TMPDIR:-/tmp}/review-thumbs.XXXXXX") || exit 1
. "$here/fake.inc"
trap 'bench_fake_stop; rm -rf "$d"' EXIT
trap 'exit 130' INT TERM

python3 "$here/../mklib.py" --groups "$n" --size 2000 >"$d/lib.json" || exit 1
bench_fake_start "$d/lib.json" || exit 1
export IMMICH_RATE=0
immich-dupes -q >"$d/plan.ndjson" || { echo "review-thumbs: immich-dupes failed"; exit 1; }
curl -sS -X POST -H 'Content-Type: application/json' -d "{\"method\":\"GET\",
    \"path\":\"/thumbnail\$\",\"action\":\"delay\",\"seconds\":$delay,
    \"times\":-1}" "$IMMICH_INSTANCE_URL/_fake/faults" >/dev/null || exit 1
assets=$(jq -s '[.[].assets | length] | add' "$d/plan.ndjson")

one() {	# label, IMMICH_INFLIGHT[, binary]: seconds, to stdout; checks the result
	rm -rf "$d/out"
	r0=$(bench_fake_requests)
	t0=$(now)
	IMMICH_INFLIGHT=$2 "${3:-immich-review}" -q -o "$d/out" <"$d/plan.ndjson" \
	    >"$d/out.ndjson" 2>"$d/err" ||
	    { echo "review-thumbs: $1: immich-review failed:" >&2; cat "$d/err" >&2; return 1; }
	t1=$(now)
	got=$(ls "$d/out/thumbs" | wc -l | tr -d ' ')
	req=$(($(bench_fake_requests) - r0))
	if [ "$got" != "$assets" ] || [ "$req" != "$assets" ] ||
	    ! cmp -s "$d/out.ndjson" "$d/plan.ndjson"; then
		echo "review-thumbs: $1: $got thumbnails, $req requests for $assets assets" >&2
		return 1
	fi
	echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }'
}

: >"$d/t.seq"; : >"$d/t.par"; : >"$d/t.old"
i=0
while [ $i -lt "$runs" ]; do
	one sequential 1 >>"$d/t.seq" || exit 1
	one parallel 5 >>"$d/t.par" || exit 1
	if [ -n "${REVIEW_THUMBS_OLD:-}" ]; then
		one older 5 "$REVIEW_THUMBS_OLD" >>"$d/t.old" || exit 1
	fi
	i=$((i + 1))
done
ts=$(med <"$d/t.seq") tp=$(med <"$d/t.par")
echo "review-thumbs: $n groups, $assets thumbnails, each held $delay s by the fake; median of $runs runs"
printf 'review-thumbs: sequential (IMMICH_INFLIGHT=1) %7.2f s  (%.0f thumbnails/s)\n' "$ts" \
    "$(awk -v a="$assets" -v t="$ts" 'BEGIN { print a / t }')"
printf 'review-thumbs: parallel   (IMMICH_INFLIGHT=5) %7.2f s  (%.0f thumbnails/s)\n' "$tp" \
    "$(awk -v a="$assets" -v t="$tp" 'BEGIN { print a / t }')"
if [ -n "${REVIEW_THUMBS_OLD:-}" ]; then
	to=$(med <"$d/t.old")
	printf 'review-thumbs: REVIEW_THUMBS_OLD %s %7.2f s (parallel is %.2f times faster)\n' \
	    "$REVIEW_THUMBS_OLD" "$to" "$(awk -v a="$to" -v b="$tp" 'BEGIN { print a / b }')"
fi
echo "review-thumbs: parallel is $(awk -v a="$ts" -v b="$tp" 'BEGIN { printf "%.2f", a / b }') times faster (target >= 3)"
echo "review-thumbs: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

#!/bin/sh
# SPDX-License-Identifier: ISC
# Soak (issue 17): SOAK_N duplicate groups (default 10000, pairs made by
# mklib.py, SOAK_SIZE bytes an asset, default 20000) through the whole
# pipeline against the fake Immich server on loopback, at IMMICH_RATE=0
# (no rate limit: what is measured is the tools, not the limit): dupes,
# consolidate, fetch, verify, trash, each stage run on the saved output
# of the one before.  For each stage: wall time, peak RSS (GNU time's
# %M; target under 32 MiB) and requests (counted in the fake's request
# log), and the requests per loser over the whole run.  Then the end
# state is checked: every loser in the trash, no keeper.
# Needs the stages on PATH (make bench), python3, jq, curl, and GNU time
# (/usr/bin/time: installed from Debian's packages as root if missing).
set -u
n=${SOAK_N:-10000}
size=${SOAK_SIZE:-20000}
here=$(cd "$(dirname "$0")" && pwd)
for c in python3 jq curl immich-dupes immich-consolidate immich-fetch \
    immich-verify immich-trash; do
	command -v $c >/dev/null 2>&1 ||
	    { echo "soak: SKIP: needs $c on PATH"; exit 0; }
done
[ -x /usr/bin/time ] || IMMICH_DEPS_EXTRA=time sh "$here/../../.ci/install-deps" ||
    { echo "soak: SKIP: needs GNU time (apt-get install time)"; exit 0; }
d=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX") || exit 1
. "$here/fake.inc"
trap 'bench_fake_stop; rm -rf "$d"' EXIT
trap 'exit 130' INT TERM

python3 "$here/../mklib.py" --groups "$n" --size "$size" >"$d/lib.json" || exit 1
bench_fake_start "$d/lib.json" || exit 1
export IMMICH_RATE=0

in=/dev/null
rc=0
total=0
t0=$(now)
echo "soak: $n groups of 2, $size bytes an asset, IMMICH_RATE=0"
printf 'soak: %-12s %8s %12s %9s %s\n' stage "wall s" "peak RSS" requests status
for s in dupes consolidate fetch verify trash; do
	set -- "immich-$s" -q
	[ "$s" = fetch ] && set -- "$@" -d "$d/backup"
	r0=$(bench_fake_requests)
	echo "$r0" >"$d/r0.$s"
	/usr/bin/time -o "$d/time.$s" -f '%e %M %x' "$@" <"$in" \
	    >"$d/$s.ndjson" 2>"$d/err.$s"
	set -- $(tail -n 1 "$d/time.$s")
	req=$(($(bench_fake_requests) - r0))
	total=$((total + req))
	printf 'soak: %-12s %8.2f %8.1f MiB %9d %s\n' "$s" "$1" \
	    "$(awk -v k="$2" 'BEGIN { print k / 1024 }')" "$req" "$3"
	# 1: some records failed or held (said below); more is a failure.
	[ "$3" -le 1 ] || { rc=1; sed 's/^/soak:   /' "$d/err.$s" | tail -n 5; }
	[ "$(awk -v k="$2" 'BEGIN { print (k < 32768) }')" = 1 ] ||
	    echo "soak: $s: peak RSS over the 32 MiB target"
	in=$d/$s.ndjson
done
t1=$(now)
losers=$(jq -s '[.[].trash | length] | add' "$d/dupes.ndjson")
trashed=$(jq -s '[.[].trashed // {} | to_entries[] | select(.value.ok)] | length' \
    "$d/trash.ndjson")
echo "soak: whole pipeline $(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }') s," \
    "$total requests for $losers losers ($(awk -v r="$total" -v l="$losers" \
    'BEGIN { printf "%.2f", r / l }') per loser), $trashed trashed"
# What consolidate had to do on this library (mklib's groups carry random
# metadata, so many move something): groups with changes, and its
# requests by kind (the ids folded).
moved=$(jq -s '[.[] | select((.consolidated.changes // []) | length > 0)] |
    length' "$d/consolidate.ndjson")
echo "soak: consolidate: $moved of $n groups moved metadata; its requests by kind:"
tail -n +"$(($(cat "$d/r0.consolidate") + 1))" "$d/fake.log" |
    head -n "$(($(cat "$d/r0.fetch") - $(cat "$d/r0.consolidate")))" |
    jq -r '.method + " " + (.path | gsub("[0-9a-f-]{36}"; "ID"))' |
    sort | uniq -c | sort -rn | sed 's/^/soak:   /'
held=$(jq -r '.trashed // {} | .[] | select(.ok | not) | .held' "$d/trash.ndjson" |
    sort | uniq -c | awk '{ printf "%s%s %s", n++ ? ", " : "", $1, $2 }')
echo "soak: held back: ${held:-none}"
curl -sS "$IMMICH_INSTANCE_URL/_fake/state" >"$d/state.json"
jq -r '.keep' "$d/dupes.ndjson" | sort >"$d/keepers"
jq -r '.assets[] | select(.isTrashed or .purged) | .id' "$d/state.json" | sort >"$d/gone"
k=$(comm -12 "$d/keepers" "$d/gone" | wc -l | tr -d ' ')
echo "soak: in the trash on the server: $(wc -l <"$d/gone" | tr -d ' '); keepers among them: $k"
[ "$k" = 0 ] || rc=1
exit $rc

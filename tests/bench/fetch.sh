#!/bin/sh
# SPDX-License-Identifier: ISC
# Benchmark: immich-fetch and immich-verify against reference tools in the
# same run, on loopback.  nginx (Debian's) serves generated files the way
# Immich does, at /api/assets/<id>/original, plus GET /api/assets/<id> (a
# static JSON per id) and GET /api/albums (an empty list).
#   (a) FETCH_N files of FETCH_MB MiB (default 200 x 5): one `curl -K`
#       process with every URL (connection reused, no hashing, no fsync)
#       vs immich-fetch reading one plan record that lists them all (the
#       pipeline's case: the record carries the metadata, so each asset
#       costs its download plus GET /api/albums), vs the same record as
#       immich-consolidate leaves it (consolidated.albums carries each
#       loser's albums: the download is the only request), and vs
#       immich-fetch with the ids as operands (adds GET /api/assets/<id>
#       per asset).
#       With FETCH_OLD=/path/to/an/older/immich-fetch, that one too, on
#       the plan record, in each run (e.g. one built from before issue
#       17, which flushed each file with fdatasync).
#   (b) one FETCH_BIG_MB MiB file (default 2048): throughput of curl and
#       immich-fetch, and immich-fetch's peak RSS (target < 16 MiB).
#   (c) immich-verify vs `openssl dgst -sha1` over the files of (a), from
#       the page cache.
# immich-fetch flushes no file on its own (issue 17: deferred durability,
# common/durable.h): it writes whole buffers with O_DIRECT (common/sha1.c)
# and ends with one syncfs of the backup folder's file system, which is
# inside its measured time; curl flushes nothing.  A second reference,
# "curl+sync", adds the time of `sync FILE...` (coreutils: fsync of each
# file curl wrote) run right after curl, for the same durability.  A
# third, "disk", is dd writing as many bytes of zeros with O_DIRECT in
# 512 KiB blocks and an fsync: what putting them on this disk durably
# costs, with no network and no hashing.  On the 2-core VM where issue 17
# was measured (2026-12) that reference was itself 0.87 of curl in one
# run, and the barrier's flush alone 0.43-0.58 s per GiB: there, 0.9 of a
# curl that flushes nothing depends on the day's page cache (issue 17).
# Medians of FETCH_RUNS (5) runs, and the median of the per-run ratios
# (each run's immich-fetch against the curl of the same run, which
# cancels some of the noise of a shared machine); the ratios are the
# figures to read (targets: fetch >= 0.9 of curl, issue 17; verify >=
# 0.90 of openssl).  Work files go under TMPDIR (default /tmp).
set -u
N=${FETCH_N:-200} MB=${FETCH_MB:-5} BIG=${FETCH_BIG_MB:-2048}
RUNS=${FETCH_RUNS:-5}
here=$(cd "$(dirname "$0")" && pwd)

# nginx and GNU time (for the peak RSS), from Debian's packages.
extra=
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
    extra="$extra nginx-light"
[ -x /usr/bin/time ] || extra="$extra time"
if [ -n "$extra" ]; then
	IMMICH_DEPS_EXTRA=$extra sh "$here/../../.ci/install-deps" ||
	    { echo "fetch: SKIP: needs$extra (apt-get install$extra)"; exit 0; }
fi
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
for c in curl openssl python3 jq immich-fetch immich-verify; do
	command -v $c >/dev/null 2>&1 ||
	    { echo "fetch: SKIP: needs $c on PATH"; exit 0; }
done

d=$(mktemp -d "${TMPDIR:-/tmp}/fetch-bench.XXXXXX") || exit 1
npid=
cleanup() {
	[ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$d/files" "$d/meta" "$d/logs"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=
[ "$(id -u)" = 0 ] && user="user root;"
cat >"$d/nginx.conf" <<EOF
$user
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections 64; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 120s;
	client_body_temp_path $d/logs/body;
	types { }
	default_type application/octet-stream;
	server {
		listen 127.0.0.1:$port;
		location ~ ^/api/assets/([0-9a-f-]+)/original\$ {
			alias $d/files/\$1;
		}
		location ~ ^/api/assets/([0-9a-f-]+)\$ {
			default_type application/json;
			alias $d/meta/\$1.json;
		}
		location = /api/albums {
			default_type application/json;
			return 200 '[]';
		}
	}
}
EOF

uuid() { python3 -c 'import uuid,sys
for _ in range(int(sys.argv[1])): print(uuid.uuid4())' "$1"; }
sha() { openssl dgst -sha1 -binary "$1" | openssl base64; }
# meta ID: the asset's JSON (served, and used in the plan record).
meta() {
	f=$d/files/$1
	printf '{"id":"%s","type":"IMAGE","originalFileName":"%s.jpg","checksum":"%s","libraryId":null,"livePhotoVideoId":null,"exifInfo":{"fileSizeInByte":%s}}\n' \
	    "$1" "$1" "$(sha "$f")" "$(wc -c <"$f" | tr -d ' ')" >"$d/meta/$1.json"
}
med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
# timeit CMD...: seconds in $el, the command's status in $trc.
timeit() {
	t0=$(now); "$@"; trc=$?; t1=$(now)
	el=$(echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }')
}
mibs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }

echo "fetch: generating $N files of $MB MiB and one of $BIG MiB in $d"
uuid "$N" >"$d/ids"
while read -r id; do
	head -c $((MB * 1048576)) /dev/urandom >"$d/files/$id"
	meta "$id"
done <"$d/ids"
bigid=$(uuid 1)
head -c $((BIG * 1048576)) /dev/urandom >"$d/files/$bigid"
meta "$bigid"

"$NGINX" -e "$d/logs/error.log" -p "$d" -c "$d/nginx.conf" \
    -g 'daemon off;' 2>>"$d/logs/error.log" &
npid=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$port/api/albums"; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		echo "fetch: SKIP: nginx did not start:"; cat "$d/logs/error.log"
		exit 0
	fi
	sleep 0.1
done

export IMMICH_INSTANCE_URL="http://127.0.0.1:$port" IMMICH_API_KEY=bench
export IMMICH_RATE=0 IMMICH_INFLIGHT=0 IMMICH_RATE_FILE="$d/rate.state"
base=$IMMICH_INSTANCE_URL/api/assets

# The plan record (one group whose losers are all the files) and curl's
# config file.
cat "$d"/meta/*.json | grep -v "$bigid" | jq -cs '{duplicateId:"bench",
    assets:., keep:"none", trash:[.[].id], why:"bench", review:[]}' \
    >"$d/plan.ndjson"
jq -c '.consolidated = {changes: [], confirmed: true,
    albums: ([.trash[] | {(.): []}] | add)}' "$d/plan.ndjson" \
    >"$d/plan-cons.ndjson"
jq -c "{duplicateId:\"big\", assets:[.], keep:\"none\", trash:[.id]}" \
    "$d/meta/$bigid.json" >"$d/big.ndjson"
while read -r id; do
	printf 'url = "%s/%s/original"\noutput = "%s/curl/%s"\n' \
	    "$base" "$id" "$d" "$id"
done <"$d/ids" >"$d/curl.cfg"
printf 'url = "%s/%s/original"\noutput = "%s/curl/%s"\n' "$base" "$bigid" \
    "$d" "$bigid" >"$d/curl-big.cfg"
bytes=$((N * MB * 1048576))
bigbytes=$((BIG * 1048576))

# (a) many files.
: >"$d/t.curl"; : >"$d/t.csync"; : >"$d/t.rec"; : >"$d/t.ids"; : >"$d/t.cons"
: >"$d/c.curl"; : >"$d/c.rec"; : >"$d/c.old"
# cpu FILE CMD...: run CMD, add its user and system CPU seconds to FILE.
cpu() {
	_f=$1; shift
	/usr/bin/time -o "$d/cpu.one" -f '%U %S' "$@"; _rc=$?
	cat "$d/cpu.one" >>"$_f"
	return $_rc
}
: >"$d/r.rec"; : >"$d/t.old"; : >"$d/r.old"; : >"$d/t.disk"
r=1
while [ $r -le "$RUNS" ]; do
	rm -rf "$d/curl" "$d/out"; mkdir -p "$d/curl"; sync
	timeit cpu "$d/c.curl" curl -sS -f -K "$d/curl.cfg"; tcu=$el
	[ $trc = 0 ] || { echo "fetch: curl failed"; exit 1; }
	timeit sh -c "sync '$d'/curl/*"; tsy=$el
	echo "$tcu" >>"$d/t.curl"
	echo "$tcu $tsy" | awk '{ printf "%.3f\n", $1 + $2 }' >>"$d/t.csync"
	rm -rf "$d/curl"; sync
	timeit dd if=/dev/zero of="$d/dd" bs=512K count=$((bytes / 524288)) \
	    oflag=direct conv=fsync status=none; echo "$el" >>"$d/t.disk"
	rm -f "$d/dd"; sync
	timeit cpu "$d/c.rec" sh -c "immich-fetch -q -d '$d/out' <'$d/plan.ndjson' >'$d/fetched.ndjson'"; echo "$el" >>"$d/t.rec"
	[ $trc = 0 ] || { echo "fetch: immich-fetch failed"; exit 1; }
	echo "$(ratio "$el" "$tcu")" >>"$d/r.rec"
	rm -rf "$d/out"; sync
	if [ -n "${FETCH_OLD:-}" ]; then
		timeit cpu "$d/c.old" sh -c "'$FETCH_OLD' -q -d '$d/out' <'$d/plan.ndjson' >/dev/null"
		[ $trc = 0 ] || { echo "fetch: $FETCH_OLD failed"; exit 1; }
		echo "$el" >>"$d/t.old"
		echo "$(ratio "$el" "$tcu")" >>"$d/r.old"
		rm -rf "$d/out"; sync
	fi
	timeit sh -c "immich-fetch -q -d '$d/out' <'$d/plan-cons.ndjson' >/dev/null"; echo "$el" >>"$d/t.cons"
	[ $trc = 0 ] || { echo "fetch: immich-fetch (consolidated) failed"; exit 1; }
	rm -rf "$d/out"; sync
	timeit sh -c "immich-fetch -q -d '$d/out' \$(cat '$d/ids') >/dev/null"; echo "$el" >>"$d/t.ids"
	[ $trc = 0 ] || { echo "fetch: immich-fetch (ids) failed"; exit 1; }
	r=$((r + 1))
done
tc=$(med <"$d/t.curl") ts=$(med <"$d/t.csync") tdk=$(med <"$d/t.disk")
tr=$(med <"$d/t.rec") ti=$(med <"$d/t.ids") tk=$(med <"$d/t.cons")
printf 'fetch: (a) %d x %d MiB: curl -K %.2f s (%s MiB/s); curl+sync %.2f s (%s MiB/s)\n' \
    "$N" "$MB" "$tc" "$(mibs $bytes $tc)" "$ts" "$(mibs $bytes $ts)"
printf 'fetch: (a) disk: dd O_DIRECT + fsync of as many bytes %.2f s (%s MiB/s)\n' \
    "$tdk" "$(mibs $bytes $tdk)"
printf 'fetch: (a) immich-fetch, plan record: %.2f s (%s MiB/s), ratio %s to curl, %s to curl+sync, %s to disk\n' \
    "$tr" "$(mibs $bytes $tr)" "$(ratio "$tr" "$tc")" "$(ratio "$tr" "$ts")" "$(ratio "$tr" "$tdk")"
printf 'fetch: (a) immich-fetch, plan record: median of the per-run ratios to curl %s (runs: %s; target >= 0.9)\n' \
    "$(med <"$d/r.rec")" "$(tr '\n' ' ' <"$d/r.rec" | sed 's/ $//')"
if [ -n "${FETCH_OLD:-}" ]; then
	to=$(med <"$d/t.old")
	printf 'fetch: (a) FETCH_OLD %s, plan record: %.2f s (%s MiB/s), ratio %s to curl; median of the per-run ratios %s (runs: %s)\n' \
	    "$FETCH_OLD" "$to" "$(mibs $bytes $to)" "$(ratio "$to" "$tc")" \
	    "$(med <"$d/r.old")" "$(tr '\n' ' ' <"$d/r.old" | sed 's/ $//')"
fi
# CPU seconds, medians of user and of system (GNU time; the process and
# its threads, not the kernel's own write-back).
cpumed() { printf 'user %s s, system %s s' "$(cut -d' ' -f1 <"$1" | med)" \
    "$(cut -d' ' -f2 <"$1" | med)"; }
printf 'fetch: (a) CPU: curl %s; immich-fetch %s%s\n' "$(cpumed "$d/c.curl")" \
    "$(cpumed "$d/c.rec")" "${FETCH_OLD:+; FETCH_OLD $(cpumed "$d/c.old")}"
printf 'fetch: (a) immich-fetch, record after immich-consolidate: %.2f s (%s MiB/s), ratio %s to curl, %s to curl+sync\n' \
    "$tk" "$(mibs $bytes $tk)" "$(ratio "$tk" "$tc")" "$(ratio "$tk" "$ts")"
printf 'fetch: (a) immich-fetch, ids as operands: %.2f s (%s MiB/s), ratio %s to curl, %s to curl+sync\n' \
    "$ti" "$(mibs $bytes $ti)" "$(ratio "$ti" "$tc")" "$(ratio "$ti" "$ts")"

# (c) verify the files immich-fetch wrote (warm cache) vs openssl.
rm -rf "$d/out"
immich-fetch -q -d "$d/out" <"$d/plan.ndjson" >"$d/fetched.ndjson" ||
    { echo "fetch: immich-fetch failed"; exit 1; }
cat "$d"/out/*-* >/dev/null
: >"$d/t.ossl"; : >"$d/t.ver"
r=1
while [ $r -le "$RUNS" ]; do
	timeit sh -c "openssl dgst -sha1 '$d'/out/*-*.jpg >/dev/null"; echo "$el" >>"$d/t.ossl"
	timeit sh -c "immich-verify -q <'$d/fetched.ndjson' >'$d/verified.ndjson'"; echo "$el" >>"$d/t.ver"
	[ $trc = 0 ] || { echo "fetch: immich-verify failed"; exit 1; }
	r=$((r + 1))
done
to=$(med <"$d/t.ossl") tv=$(med <"$d/t.ver")
printf 'fetch: (c) verify %d x %d MiB: openssl dgst -sha1 %.2f s (%s MiB/s); immich-verify %.2f s (%s MiB/s, ratio %s)\n' \
    "$N" "$MB" "$to" "$(mibs $bytes $to)" "$tv" "$(mibs $bytes $tv)" \
    "$(ratio "$tv" "$to")"
rm -rf "$d/out" "$d/curl"

# (b) one big file: throughput and peak RSS.
: >"$d/t.bcurl"; : >"$d/t.bsync"; : >"$d/t.bfetch"; : >"$d/rss"
r=1
while [ $r -le "$RUNS" ]; do
	mkdir -p "$d/curl"; sync
	timeit curl -sS -f -K "$d/curl-big.cfg"; tcu=$el
	[ $trc = 0 ] || { echo "fetch: curl failed"; exit 1; }
	timeit sync "$d/curl/$bigid"; tsy=$el
	echo "$tcu" >>"$d/t.bcurl"
	echo "$tcu $tsy" | awk '{ printf "%.3f\n", $1 + $2 }' >>"$d/t.bsync"
	rm -rf "$d/curl"; sync
	timeit sh -c "/usr/bin/time -o '$d/rss.one' -f %M immich-fetch -q \
	    -d '$d/out' <'$d/big.ndjson' >/dev/null"; echo "$el" >>"$d/t.bfetch"
	[ $trc = 0 ] || { echo "fetch: immich-fetch failed"; exit 1; }
	cat "$d/rss.one" >>"$d/rss"
	rm -rf "$d/out"; sync
	r=$((r + 1))
done
tb=$(med <"$d/t.bcurl") tbs=$(med <"$d/t.bsync") tf=$(med <"$d/t.bfetch")
rss=$(sort -n "$d/rss" | tail -1)
printf 'fetch: (b) 1 x %d MiB: curl %.2f s (%s MiB/s); curl+sync %.2f s (%s MiB/s)\n' \
    "$BIG" "$tb" "$(mibs $bigbytes $tb)" "$tbs" "$(mibs $bigbytes $tbs)"
printf 'fetch: (b) immich-fetch %.2f s (%s MiB/s), ratio %s to curl, %s to curl+sync; peak RSS %.1f MiB (max of %d runs)\n' \
    "$tf" "$(mibs $bigbytes $tf)" "$(ratio "$tf" "$tb")" "$(ratio "$tf" "$tbs")" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$RUNS"

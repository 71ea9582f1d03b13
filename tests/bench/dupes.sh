#!/bin/sh
# SPDX-License-Identifier: ISC
# Benchmark: immich-dupes on a generated GET /api/duplicates response of
# DUPES_BENCH_N groups (default 100000, about 330 MB, made by
# dupes-gen.py in a temporary directory, never in the tree), side by side
# with `jq -c '.[]'` on the same file: wall time and peak RSS, median of
# DUPES_BENCH_RUNS runs (default 3).  Then the same response streamed over
# HTTP from a static loopback server (python3 -m http.server).
# Targets (issue 3): peak RSS under 32 MiB, faster than jq.
# Needs immich-dupes on PATH (make bench puts it there), jq and python3.
set -u
n=${DUPES_BENCH_N:-100000}
runs=${DUPES_BENCH_RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d "${TMPDIR:-/tmp}/dupes-bench.XXXXXX") || exit 1
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$d"' EXIT

# Wall seconds, peak RSS (KiB) and exit status of a command: GNU time(1)
# if installed (apt-get install time), else python (whose figure includes
# python's own pages copied at fork time, so it reads a few MiB high).
measure() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -o "$d/time" -f '%e %M %x' "$@" >/dev/null
		tail -n 1 "$d/time"
		return
	fi
	python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
e = time.monotonic() - t
print("%.2f %d %d" % (e, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode))
' "$@"
}
med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

bench() {	# label, command...
	label=$1; shift
	: >"$d/t" ; : >"$d/m"
	i=0
	while [ $i -lt "$runs" ]; do
		set -- $(measure "$@") "$@"
		if [ "$3" != 0 ]; then
			echo "dupes: $label: exit status $3" >&2
			return 1
		fi
		echo "$1" >>"$d/t"; echo "$2" >>"$d/m"
		shift 3
		i=$((i + 1))
	done
	t=$(med <"$d/t"); m=$(med <"$d/m")
	printf 'dupes: %-28s %7.2f s  %8.1f MiB peak RSS\n' "$label" "$t" \
	    "$(echo "$m" | awk '{ print $1 / 1024 }')"
	echo "$t" >"$d/last"
}

python3 "$here/dupes-gen.py" "$n" >"$d/dup.json" || exit 1
size=$(wc -c <"$d/dup.json")
echo "dupes: $n groups, $(echo "$size" | awk '{ printf "%.0f", $1 / 1048576 }') MiB; median of $runs runs"
bench "immich-dupes -q -f FILE" immich-dupes -q -f "$d/dup.json" || exit 1
td=$(cat "$d/last")
bench "jq -c '.[]' FILE" jq -c '.[]' "$d/dup.json" || exit 1
tj=$(cat "$d/last")
echo "dupes: immich-dupes / jq wall time: $(echo "$td $tj" | awk '{ printf "%.2f", $1 / $2 }')"

# Over HTTP: the same bytes served as /api/duplicates.
mkdir -p "$d/www/api" && ln "$d/dup.json" "$d/www/api/duplicates" 2>/dev/null ||
    cp "$d/dup.json" "$d/www/api/duplicates"
python3 -c '
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
h.log_message = lambda *a: None
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
' "$d/www" "$d/port" 2>/dev/null &
srv=$!
i=0
while [ ! -s "$d/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
IMMICH_INSTANCE_URL="http://127.0.0.1:$(cat "$d/port")" IMMICH_API_KEY=bench
IMMICH_RATE=0 IMMICH_RATE_FILE="$d/rate"
export IMMICH_INSTANCE_URL IMMICH_API_KEY IMMICH_RATE IMMICH_RATE_FILE
bench "immich-dupes -q (HTTP)" immich-dupes -q || exit 1

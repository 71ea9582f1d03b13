#!/bin/sh
# SPDX-License-Identifier: ISC
# Benchmark: the cost of one rate-limit acquisition that never waits
# (rl_acquire + rl_release, common/ratelimit.c), in microseconds, median of
# many, for one process alone and for 8 processes contending for the same
# state file.  The rate is set high enough (and the burst wide enough) that
# no acquisition sleeps, so what is measured is the locking itself:
#   rate:      GCRA state file (flock, read, write, unlock)
#   inflight:  in-flight slot files only (flock LOCK_NB on a slot)
#   both:      the defaults' shape, slots then rate
# Needs t-rl on PATH (make bench puts it there).
set -u
n=${RL_BENCH_N:-20000}
d=$(mktemp -d "${TMPDIR:-/tmp}/rl-bench.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
export IMMICH_RATE_FILE="$d/state" IMMICH_BURST=1000000

med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

one() {	# label, then environment assignments
	label=$1; shift
	r=$(env "$@" t-rl -b "$n")
	s1=${r% *} p1=${r#* }
	i=1
	while [ $i -le 8 ]; do
		env "$@" t-rl -b "$n" >"$d/out.$i" &
		i=$((i + 1))
	done
	wait
	s8=$(cut -d' ' -f1 "$d"/out.* | med)
	p8=$(cut -d' ' -f2 "$d"/out.* | med)
	printf 'ratelimit: %-8s 1 process: median %6.2f us, p90 %6.2f us; 8 processes: median %6.2f us, p90 %6.2f us\n' \
	    "$label" "$s1" "$p1" "$s8" "$p8"
}

echo "ratelimit: $n acquire+release per process, none waiting; 8 processes: median over the processes"
one rate     IMMICH_RATE=100000000 IMMICH_INFLIGHT=0
one inflight IMMICH_RATE=0 IMMICH_INFLIGHT=64
one both     IMMICH_RATE=100000000 IMMICH_INFLIGHT=64
one off      IMMICH_RATE=0 IMMICH_INFLIGHT=0

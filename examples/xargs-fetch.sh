#!/bin/sh
# SPDX-License-Identifier: ISC
# Back up assets by id with several immich-fetch processes at once, using
# xargs -P:
#
#	jq -r '.trash[]' plan.ndjson | examples/xargs-fetch.sh backup/ [JOBS]
#
# Asset ids come on stdin, one per line (or separated by blanks).  xargs
# hands CHUNK ids (default 16) to each immich-fetch, JOBS (default 4) at a
# time.  The server and key come from IMMICH_INSTANCE_URL and
# IMMICH_API_KEY, and every process shares the one rate limit and in-flight
# cap of immich(7) (IMMICH_RATE, IMMICH_BURST, IMMICH_INFLIGHT), so more
# processes never means more requests a second than you allowed.
#
# Each process writes its records to a file of its own, joined at the end:
# processes writing long lines to one pipe at once could interleave them.
#
# Exit status: 0 when every id was backed up, 1 when some failed (see the
# records' "errors"), 3 when a process stopped early or xargs failed.
set -u
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: xargs-fetch.sh dir [jobs] < ids" >&2
	exit 2
fi
dir=$1 jobs=${2:-4}
out=$(mktemp -d "${TMPDIR:-/tmp}/xargs-fetch.XXXXXX") || exit 3
trap 'rm -rf "$out"' EXIT
trap 'exit 130' INT TERM

# sh -c gets the dir and the output folder first, then the ids.
# shellcheck disable=SC2016
xargs -P "$jobs" -n "${CHUNK:-16}" sh -c '
	d=$1 o=$2; shift 2
	f=$(mktemp "$o/part.XXXXXX") || exit 255
	immich-fetch -q -d "$d" "$@" >"$f"
	r=$?
	[ $r -le 1 ] || exit 255	# stop xargs: fatal (see immich(7))
	exit $r
' sh "$dir" "$out"
rc=$?
cat "$out"/part.* 2>/dev/null
case $rc in
0) exit 0 ;;
123) exit 1 ;;		# some invocation exited 1: some ids failed
*) exit 3 ;;
esac

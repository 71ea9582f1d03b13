#!/bin/sh
# SPDX-License-Identifier: ISC
# Back up the losers of a plan with several immich-fetch processes at once,
# using GNU parallel:
#
#	examples/parallel-fetch.sh plan.ndjson backup/ [JOBS] > fetched.ndjson
#
# The server and key come from IMMICH_INSTANCE_URL and IMMICH_API_KEY (or
# IMMICH_API_KEY_FILE), as for every tool.  parallel --pipe cuts the plan
# into chunks of CHUNK records (default 50) and feeds each chunk to its own
# immich-fetch, JOBS (default 4) at a time; -k writes the records out in
# the plan's order, each job's output kept whole.
#
# The processes share one rate limit and one in-flight cap through the
# rate-limit state file (see immich(7): IMMICH_RATE, IMMICH_BURST,
# IMMICH_INFLIGHT), so four processes together still send at most
# IMMICH_RATE requests a second: running in parallel hides each request's
# latency and the disk writes, it does not make the server work harder.
#
# Exit status: 0 when every job succeeded, 1 when some records failed (see
# their "errors"), 3 otherwise (as the tools' own table in immich(7)).
set -u
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: parallel-fetch.sh plan.ndjson dir [jobs]" >&2
	exit 2
fi
plan=$1 dir=$2 jobs=${3:-4}
[ -r "$plan" ] || { echo "parallel-fetch.sh: $plan: cannot read" >&2; exit 2; }
command -v parallel >/dev/null ||
    { echo "parallel-fetch.sh: GNU parallel is not installed" >&2; exit 2; }

# -q quotes the command's words, so a dir with spaces stays one word.
parallel --will-cite -q --pipe -k -N "${CHUNK:-50}" -j "$jobs" \
    immich-fetch -q -d "$dir" <"$plan"
rc=$?
# parallel exits with the number of jobs that failed (1 to 100), or 101 and
# up for its own errors.  A job fails when its immich-fetch exits non-zero:
# usually 1, some records failed (their "errors" say why); a fatal stop (3)
# counts the same here, and its message is on stderr.
case $rc in
0) exit 0 ;;
[1-9]|[1-9][0-9]|100) exit 1 ;;
*) exit 3 ;;
esac

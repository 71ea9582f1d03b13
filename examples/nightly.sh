#!/bin/sh
# SPDX-License-Identifier: ISC
# A nightly, unattended run for cron: resolve the duplicate groups that need
# no review, keep a log and every run's records, never run twice at once.
#
#	examples/nightly.sh [dir]
#
# dir (default $HOME/immich-dedupe) holds
#   lock                  taken with flock -n: a second run started while one
#                         is going says so and does nothing (status 2);
#   log/YYYY-MM-DD.log    everything the stages say (their summary lines,
#                         every record that failed, and why); a second run on
#                         the same day appends;
#   runs/YYYY-MM-DDTHHMMSS-PID/ that run's plan.ndjson, auto.ndjson,
#                         consolidated.ndjson, fetched.ndjson,
#                         verified.ndjson and done.ndjson (undo with
#                         examples/undo.sh dir/runs/.../done.ndjson);
#   backup/               the backups of everything trashed, shared by all
#                         runs.  They are never removed by this script:
#                         delete them yourself once Immich's trash is past.
# Logs and run folders older than KEEP_DAYS days (default 90; longer than
# Immich's 30-day trash) are removed at the start of each run.
#
# The API key is read from IMMICH_API_KEY_FILE (default
# $HOME/.config/immich/key when neither it nor IMMICH_API_KEY is set), so it
# is not in cron's environment or the crontab.  Make that file readable by
# you only (chmod 600).  IMMICH_INSTANCE_URL is required, unless none of
# these is set and the Immich CLI's login (immich login URL KEY) is saved in
# ${IMMICH_CONFIG_DIR:-~/.config/immich}/auth.yml: the tools use that.
# The other settings of immich(7) apply, e.g. IMMICH_RATE to go easy on
# the server.
#
# Crontab line (crontab -e), every night at 03:30; cron mails whatever the
# script prints, which is nothing unless something needs you:
#
#   30 3 * * * IMMICH_INSTANCE_URL=https://photos.example.org PATH=$HOME/bin:/usr/bin:/bin $HOME/bin/nightly.sh
#
# Or as a systemd user timer: see immich-dedupe-nightly.service and .timer.
#
# Needs: the immich-* tools on PATH, jq, flock (util-linux).
#
# Exit status: the worst status of the stages that ran (0 every record
# done; 1 some records failed or were held back, see the log; 3 a stage
# stopped: server unreachable, key refused, disk full), as in immich(7);
# 2 when the settings are wrong or another run holds the lock.
set -eu
prog=nightly.sh
if [ $# -gt 1 ]; then
	echo "usage: $prog [dir]" >&2
	exit 2
fi
dir=${1:-${HOME:?}/immich-dedupe}
keep=${KEEP_DAYS:-90}
case $keep in
''|*[!0-9]*) echo "$prog: KEEP_DAYS must be a number of days" >&2; exit 2 ;;
esac
for t in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash jq flock; do
	command -v "$t" >/dev/null 2>&1 ||
	    { echo "$prog: $t not found on PATH ($PATH)" >&2; exit 2; }
done
auth=${IMMICH_CONFIG_DIR:-${HOME:?}/.config/immich}/auth.yml
if [ -z "${IMMICH_INSTANCE_URL:-}${IMMICH_API_KEY:-}${IMMICH_API_KEY_FILE:-}" ] &&
    [ -f "$auth" ]; then
	:	# the tools use the Immich CLI's login (immich(7))
elif [ -z "${IMMICH_INSTANCE_URL:-}" ]; then
	echo "$prog: set IMMICH_INSTANCE_URL in the crontab line" >&2
	exit 2
elif [ -z "${IMMICH_API_KEY:-}" ]; then
	: "${IMMICH_API_KEY_FILE:=${HOME:?}/.config/immich/key}"
	export IMMICH_API_KEY_FILE
	if [ ! -r "$IMMICH_API_KEY_FILE" ]; then
		echo "$prog: cannot read the API key file $IMMICH_API_KEY_FILE" \
		    "(set IMMICH_API_KEY_FILE)" >&2
		exit 2
	fi
fi
mkdir -p "$dir/log" "$dir/runs" "$dir/backup"
dir=$(cd "$dir" && pwd)

# The lock is held on descriptor 9 until the script exits, however it ends.
exec 9>>"$dir/lock"
if ! flock -n 9; then
	echo "$prog: another run holds $dir/lock; this one did nothing" >&2
	exit 2
fi

stamp=$(date +%Y-%m-%dT%H%M%S)-$$	# two runs may start in one second
log=$dir/log/$(date +%Y-%m-%d).log
run=$dir/runs/$stamp
mkdir "$run"
# From here on everything goes to the log; descriptor 3 keeps the original
# standard error for the one line cron should mail.
exec 3>&2 >>"$log" 2>&1
echo "=== $prog: run $stamp, pid $$, records in $run"

find "$dir/log" -name '*.log' -type f -mtime +"$keep" -print -exec rm -f {} + |
    sed 's/^/removed old log /'
find "$dir/runs" -mindepth 1 -maxdepth 1 -type d -mtime +"$keep" -print \
    -exec rm -rf {} + | sed 's/^/removed old run /'

worst=0
finish() {
	echo "=== $prog: run $stamp ended with status $worst at $(date +%H:%M:%S)"
	if [ "$worst" -ne 0 ]; then
		echo "$prog: finished with status $worst; see $log" >&3
	fi
	exit "$worst"
}
# stage NAME IN OUT CMD...: one stage, file to file, status kept; a stage
# that stopped (2 or 3) ends the run, as the next would have nothing to do.
stage() {
	_name=$1 _in=$2 _out=$3
	shift 3
	_st=0
	"$@" <"$_in" >"$_out" || _st=$?
	[ "$_st" -gt "$worst" ] && worst=$_st
	case $_st in
	0) ;;
	1) echo "$prog: $_name: some records failed or were held back" \
	       "(their \"errors\" are in $_out)" ;;
	*) echo "$prog: $_name stopped with status $_st; not going on"
	   finish ;;
	esac
}

# Names and details come from the server: jq -r would pass their control
# characters (ESC, BEL, C1) to the terminal.  esc shows each as \uXXXX.
esc='def esc: tostring | [explode[] | if . < 32 or (. >= 127 and . < 160)
    then "\\u" + ([(. / 4096 | floor) % 16, (. / 256 | floor) % 16,
    (. / 16 | floor) % 16, . % 16] | map("0123456789abcdef"[.:. + 1]) |
    join("")) else [.] | implode end] | join("");'

stage immich-dupes /dev/null "$run/plan.ndjson" immich-dupes
jq -c 'select(.review == [])' "$run/plan.ndjson" >"$run/auto.ndjson"
jq -rs '"plan: \(length) groups, \(map(select(.review == [])) | length) to resolve, " +
    "\(map(select(.review != [])) | length) held for review" +
    ([.[] | [.review[].code] | unique[]] | group_by(.) |
     map("\(.[0]) \(length)") | if length > 0 then " (" + join(", ") + ")"
     else "" end)' "$run/plan.ndjson"
stage immich-consolidate "$run/auto.ndjson" "$run/consolidated.ndjson" \
    immich-consolidate
stage immich-fetch "$run/consolidated.ndjson" "$run/fetched.ndjson" \
    immich-fetch -d "$dir/backup"
stage immich-verify "$run/fetched.ndjson" "$run/verified.ndjson" \
    immich-verify
stage immich-trash "$run/verified.ndjson" "$run/done.ndjson" immich-trash
jq -r "$esc"'.trashed // {} | to_entries[] | select(.value.ok | not) |
    "held back: \(.key | esc): \(.value.held | esc): \(.value.detail // "" | esc)"' \
    "$run/done.ndjson"
finish

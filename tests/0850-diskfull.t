#!/bin/sh
# Disk full during immich-fetch, in the pipeline (tests/campaign.py
# diskfull): the backup folder on a 24 KiB tmpfs, too small for every
# loser.  immich-fetch must stop with status 3 and say so, immich-trash
# must trash only what was backed up and verified (the invariants hold),
# and once the file system is grown the rerun from immich-fetch must end
# like an uninterrupted run.  Needs root (mount); skipped otherwise.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "needs jq"
for s in dupes consolidate fetch verify trash; do
	command -v immich-$s >/dev/null || skip_all "immich-$s not built"
done
[ "$(id -u)" = 0 ] || skip_all "disk full: needs root to mount a small tmpfs"
mkdir -p "$T/small"
mount -t tmpfs -o size=24k,mode=0700 tmpfs "$T/small" 2>"$T/mount.err" ||
    skip_all "disk full: cannot mount a tmpfs: $(cat "$T/mount.err")"
at_exit "umount '$T/small'"
plan 1
python3 "$TESTDIR/campaign.py" diskfull --dir "$T/d" --full "$T/small" \
    --grow "mount -o remount,size=4m '$T/small'" >"$T/out" 2>&1
rc=$?
sed 's/^\([^#]\)/# \1/' "$T/out"
like "$(tail -1 "$T/out")" '^disk full: fetch status 3, 0 assets lost, 0 keepers trashed, 0 other violations, after freeing space: rerun 0/0/[01]/0/0, end state equal$' \
    "disk full: fetch stops, nothing lost, the rerun completes (status $rc)"

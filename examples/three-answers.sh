#!/bin/sh
# SPDX-License-Identifier: ISC
# Give every duplicate group one of Immich's three answers, side by side:
# stack, keep all, resolve.
#
#	examples/three-answers.sh workdir backupdir [keep-all.txt]
#
# 1. Plan: immich-dupes > workdir/plan.ndjson.
# 2. Stack the RAW+JPEG pairs (groups whose only review code is raw-jpeg):
#    immich-consolidate -a raw-jpeg moves the JPEG's metadata onto the
#    keeper, then immich-stack stacks the pair under it.  Nothing trashed.
# 3. Keep all: the groups whose duplicateId is listed in keep-all.txt (one
#    a line; blank lines and text after a # ignored) are taken off
#    Immich's duplicate list by immich-dismiss.  Nothing touched.
# 4. Resolve the rest that needs no review: consolidate, back up
#    (backupdir), verify, trash.
# Groups held for review (other than RAW+JPEG) and not listed are left as
# they are: look at them with immich-review(1), list the ones that are not
# duplicates in keep-all.txt, and run again.
#
# A listed group is only dismissed, even if it is a RAW+JPEG pair or needs
# no review.  Every stage reads and writes a file in workdir, so each
# stage's exit status is seen and every result is kept: plan.ndjson,
# stack-in.ndjson, stack-consolidated.ndjson, stacked.ndjson,
# keep-all.ndjson, dismissed.ndjson, resolve.ndjson, consolidated.ndjson,
# fetched.ndjson, verified.ndjson, done.ndjson.  To undo all of it:
#	cat done.ndjson stacked.ndjson dismissed.ndjson | immich-restore
# A workdir that already holds a plan.ndjson is refused, so an earlier
# run's records are never overwritten.
#
# Needs: the immich-* tools on PATH, jq; IMMICH_INSTANCE_URL and
# IMMICH_API_KEY or IMMICH_API_KEY_FILE (see immich(7)).
#
# Exit status: the worst status of the stages (0 all done, 1 some records
# failed or were held back, 2 usage or configuration error, 3 fatal; as in
# immich(7)).
set -eu
prog=three-answers.sh
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $prog workdir backupdir [keep-all.txt]" >&2
	exit 2
fi
w=$1 bk=$2 list=${3:-}
for t in immich-dupes immich-consolidate immich-stack immich-dismiss \
    immich-fetch immich-verify immich-trash jq; do
	command -v "$t" >/dev/null 2>&1 ||
	    { echo "$prog: $t not found on PATH" >&2; exit 2; }
done
if [ -n "$list" ] && [ ! -r "$list" ]; then
	echo "$prog: $list: cannot read" >&2
	exit 2
fi
mkdir -p "$w"
if [ -e "$w/plan.ndjson" ]; then
	echo "$prog: $w/plan.ndjson exists: use another workdir" >&2
	exit 2
fi
[ -n "$list" ] || { list=$w/keep-all.txt; : >"$list"; }

worst=0
# stage NAME IN OUT CMD...: run CMD < IN > OUT, keep the worst status;
# stop at a fatal one.
stage() {
	_name=$1 _in=$2 _out=$3
	shift 3
	_st=0
	"$@" <"$_in" >"$_out" || _st=$?
	[ "$_st" -gt "$worst" ] && worst=$_st
	if [ "$_st" -ge 2 ]; then
		echo "$prog: $_name stopped with status $_st; records so far" \
		    "in $_out" >&2
		exit "$_st"
	fi
	return 0
}

# The listed ids as a jq array: $ids.
ids='($l | split("\n") | map(sub("#.*"; "") | gsub("[[:space:]]"; "")) |
    map(select(. != ""))) as $ids'

stage immich-dupes /dev/null "$w/plan.ndjson" immich-dupes
jq -c --rawfile l "$list" "$ids"' | select((.duplicateId as $d |
    $ids | index($d)) == null and .review != [] and
    ([.review[].code] | unique) == ["raw-jpeg"])' "$w/plan.ndjson" \
    >"$w/stack-in.ndjson"
jq -c --rawfile l "$list" "$ids"' | select(.duplicateId as $d |
    $ids | index($d))' "$w/plan.ndjson" >"$w/keep-all.ndjson"
jq -c --rawfile l "$list" "$ids"' | select((.duplicateId as $d |
    $ids | index($d)) == null and .review == [])' "$w/plan.ndjson" \
    >"$w/resolve.ndjson"

# Stack.
stage immich-consolidate "$w/stack-in.ndjson" \
    "$w/stack-consolidated.ndjson" immich-consolidate -a raw-jpeg
stage immich-stack "$w/stack-consolidated.ndjson" "$w/stacked.ndjson" \
    immich-stack
# Keep all.
stage immich-dismiss "$w/keep-all.ndjson" "$w/dismissed.ndjson" \
    immich-dismiss
# Resolve.
stage immich-consolidate "$w/resolve.ndjson" "$w/consolidated.ndjson" \
    immich-consolidate
stage immich-fetch "$w/consolidated.ndjson" "$w/fetched.ndjson" \
    immich-fetch -d "$bk"
stage immich-verify "$w/fetched.ndjson" "$w/verified.ndjson" immich-verify
stage immich-trash "$w/verified.ndjson" "$w/done.ndjson" immich-trash

n() { jq -s "$1" "$2"; }
echo "groups planned:         $(n length "$w/plan.ndjson")"
echo "stacked (RAW+JPEG):     $(n '[.[] | select(.stacked.confirmed)] | length' "$w/stacked.ndjson") of $(n length "$w/stack-in.ndjson")"
echo "kept all (dismissed):   $(n '[.[] | select(.dismissed.confirmed)] | length' "$w/dismissed.ndjson") of $(n length "$w/keep-all.ndjson")"
echo "resolved (trashed):     $(n '[.[] | select(.trashed != null and
    (.trashed | to_entries | length > 0 and all(.value.ok)))] | length' \
    "$w/done.ndjson") of $(n length "$w/resolve.ndjson")"
echo "left for review:        $(($(n length "$w/plan.ndjson") - \
    $(n length "$w/stack-in.ndjson") - $(n length "$w/keep-all.ndjson") - \
    $(n length "$w/resolve.ndjson")))"
echo "undo: cat $w/done.ndjson $w/stacked.ndjson $w/dismissed.ndjson | immich-restore"
exit "$worst"

#!/bin/sh
# SPDX-License-Identifier: ISC
# Resolve only the duplicate groups whose members all have the same file
# name (and, with -s, the same file size): the surest duplicates there are.
#
#	examples/same-name-only.sh [-ns] workdir [backupdir]
#
# Why not "byte-identical groups only"?  Immich cannot hold two byte-identical
# uploads of one user: it refuses an upload whose SHA-1 checksum the user
# already has.  So the members of a duplicate group always differ in their
# bytes (Immich groups photos that look alike, not copies), and a filter on
# equal checksums would select nothing.  What often happens instead is the
# same photo arriving twice under its own name, IMG_1234.JPG, once from the
# phone and once from a backup or an export that re-encoded it or rewrote
# its metadata.  This script selects those groups:
#
#   - every member has the same originalFileName, ignoring case;
#   - with -s, also the same file size (exifInfo.fileSizeInByte): the same
#     name and the same length, most likely only metadata rewritten in place;
#   - and, as always, no review flag: a same-name group that immich-dupes
#     held for review (a conflicting location, an edited copy, ...) is left
#     for a person.
#
# The selected groups then go through the usual stages, each writing a file
# in workdir: plan.ndjson (all groups), selected.ndjson, consolidated.ndjson,
# fetched.ndjson, verified.ndjson and done.ndjson (keep it: undo with
# examples/undo.sh workdir/done.ndjson).  Backups go to backupdir (default
# workdir/backup).  With -n nothing on the server changes: consolidation and
# trashing are dry runs (immich-consolidate -n, immich-trash -n), and
# nothing is downloaded.
#
# Needs: the immich-* tools on PATH, jq; IMMICH_INSTANCE_URL and
# IMMICH_API_KEY or IMMICH_API_KEY_FILE (see immich(7)).
#
# Exit status: the worst status of the stages (0 all done, 1 some records
# failed or were held back, 2 usage or configuration error, 3 fatal).
set -eu
prog=same-name-only.sh
usage() {
	echo "usage: $prog [-ns] workdir [backupdir]" >&2
	exit 2
}
dry=0 size=false
while getopts ns opt; do
	case $opt in
	n) dry=1 ;;
	s) size=true ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] || usage
work=$1
backup=${2:-$work/backup}
for t in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash jq; do
	command -v "$t" >/dev/null 2>&1 ||
	    { echo "$prog: $t not found on PATH" >&2; exit 2; }
done
mkdir -p "$work"
if [ -e "$work/done.ndjson" ]; then
	echo "$prog: $work/done.ndjson exists: that run's record is needed" \
	    "to undo it; use another workdir" >&2
	exit 2
fi

worst=0
# stage NAME IN OUT CMD...: one stage, file to file; 2 or 3 ends the run.
stage() {
	_name=$1 _in=$2 _out=$3
	shift 3
	_st=0
	"$@" <"$_in" >"$_out" || _st=$?
	[ "$_st" -gt "$worst" ] && worst=$_st
	case $_st in
	0) ;;
	1) echo "$prog: $_name: some records failed or were held back;" \
	       "see their \"errors\" in $_out" >&2 ;;
	*) echo "$prog: $_name stopped with status $_st (see its message" \
	       "above); nothing after it was run" >&2
	   exit "$_st" ;;
	esac
}

# Names and details come from the server: jq -r would pass their control
# characters (ESC, BEL, C1) to the terminal.  esc shows each as \uXXXX.
esc='def esc: tostring | [explode[] | if . < 32 or (. >= 127 and . < 160)
    then "\\u" + ([(. / 4096 | floor) % 16, (. / 256 | floor) % 16,
    (. / 16 | floor) % 16, . % 16] | map("0123456789abcdef"[.:. + 1]) |
    join("")) else [.] | implode end] | join("");'

stage immich-dupes /dev/null "$work/plan.ndjson" immich-dupes
jq -c --argjson size "$size" '
  select(.review == [] and (.assets | length) >= 2 and
    ([.assets[].originalFileName | ascii_downcase] | unique | length) == 1 and
    (($size | not) or
     ([.assets[].exifInfo.fileSizeInByte] | unique | length) == 1))' \
    "$work/plan.ndjson" >"$work/selected.ndjson"
total=$(wc -l <"$work/plan.ndjson" | tr -d ' ')
n=$(wc -l <"$work/selected.ndjson" | tr -d ' ')
if [ "$size" = true ]; then what="same name and size"; else what="same name"; fi
echo "$prog: $n of $total groups have the $what and no review flag"
if [ "$n" = 0 ]; then
	exit "$worst"
fi
head -n 10 "$work/selected.ndjson" | jq -r "$esc"'"   \(.assets[0].originalFileName | esc):" +
    " \(.assets | length) copies, keeper chosen by rule \(.why)"'

if [ "$dry" = 1 ]; then
	stage "immich-consolidate -n" "$work/selected.ndjson" \
	    "$work/consolidate-dry.ndjson" immich-consolidate -n
	jq -rs '[.[] | .consolidated.changes // [] | .[].field] |
	    "would copy onto the keepers: " +
	    (if length == 0 then "nothing" else
	     (group_by(.) | map("\(.[0]) \(length)") | join(", ")) end)' \
	    "$work/consolidate-dry.ndjson"
	echo "would trash: $(jq -s 'map(.trash | length) | add // 0' \
	    "$work/selected.ndjson") assets, each once backed up and verified"
	echo "$prog: dry run; nothing was changed"
	exit "$worst"
fi

stage immich-consolidate "$work/selected.ndjson" "$work/consolidated.ndjson" \
    immich-consolidate
stage immich-fetch "$work/consolidated.ndjson" "$work/fetched.ndjson" \
    immich-fetch -d "$backup"
stage immich-verify "$work/fetched.ndjson" "$work/verified.ndjson" \
    immich-verify
stage immich-trash "$work/verified.ndjson" "$work/done.ndjson" immich-trash
jq -rs '[.[] | .trashed // {} | .[]] |
    "trashed: \(map(select(.ok)) | length), held back: \(map(select(.ok | not)) | length)"' \
    "$work/done.ndjson"
echo "backups: $backup; undo: examples/undo.sh $work/done.ndjson"
exit "$worst"

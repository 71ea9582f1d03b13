#!/bin/sh
# SPDX-License-Identifier: ISC
# A careful first run: look before anything is changed, then resolve only
# the duplicate groups that need no person's judgement.
#
#	examples/first-run.sh [-y] workdir [backupdir]
#
# 1. Plan: immich-dupes > workdir/plan.ndjson (nothing changes on the
#    server).
# 2. Show the plan: how many groups, how many of them are held for review
#    and how often each review code fired, a few example groups.
# 3. Dry runs of the two stages that change the server:
#    immich-consolidate -n (what metadata would be copied onto the keepers)
#    and, once the backups are made and verified, immich-trash -n (what
#    would go to the trash, and what would be held back and why).
# 4. The real run, for the groups with no review flag only:
#    consolidate, fetch (backup), verify, trash.  The groups held for
#    review are not touched; look at them with immich-review(1) or jq.
#
# Every stage reads and writes a file in workdir, so each stage's exit
# status is seen and every intermediate result is kept: plan.ndjson,
# auto.ndjson (the groups to resolve), consolidate-dry.ndjson,
# consolidated.ndjson, fetched.ndjson, verified.ndjson, trash-dry.ndjson,
# done.ndjson.  Keep done.ndjson: it is what examples/undo.sh (or
# immich-restore < done.ndjson) needs to undo the run.  The backups go to
# backupdir (default workdir/backup); keep them at least as long as
# Immich's trash keeps what was trashed (30 days by default).
#
# Before each change to the server (consolidating, trashing) the script
# asks for confirmation when standard input is a terminal; -y answers yes.
# Without a terminal and without -y it stops after the dry runs.
# A workdir that already holds a done.ndjson is refused, so the record of
# an earlier run is never overwritten.
#
# Needs: the immich-* tools on PATH, jq; IMMICH_INSTANCE_URL and
# IMMICH_API_KEY or IMMICH_API_KEY_FILE (see immich(7)).
#
# Exit status: the worst status of the stages that ran (0 all done, 1 some
# records failed or were held back, 2 usage or configuration error, 3 fatal;
# as in immich(7)); 0 also when it stopped after the dry runs as asked.
set -eu
prog=first-run.sh
usage() {
	echo "usage: $prog [-y] workdir [backupdir]" >&2
	exit 2
}
yes=0
while getopts y opt; do
	case $opt in
	y) yes=1 ;;
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
if [ -z "${IMMICH_INSTANCE_URL:-}" ]; then
	echo "$prog: set IMMICH_INSTANCE_URL to your server's address" >&2
	exit 2
fi
if [ -z "${IMMICH_API_KEY:-}" ] && [ -z "${IMMICH_API_KEY_FILE:-}" ]; then
	echo "$prog: set IMMICH_API_KEY, or IMMICH_API_KEY_FILE to a file" \
	    "holding the key" >&2
	exit 2
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
case $backup in /*) ;; *) backup=$(pwd)/$backup ;; esac
if [ -e "$work/done.ndjson" ]; then
	echo "$prog: $work/done.ndjson exists: that run's record is needed" \
	    "to undo it; use another workdir" >&2
	exit 2
fi

worst=0
say() { printf '\n== %s\n' "$*"; }
# Names and details come from the server: jq -r would pass their control
# characters (ESC, BEL, C1) to the terminal.  esc shows each as \uXXXX.
esc='def esc: tostring | [explode[] | if . < 32 or (. >= 127 and . < 160)
    then "\\u" + ([(. / 4096 | floor) % 16, (. / 256 | floor) % 16,
    (. / 16 | floor) % 16, . % 16] | map("0123456789abcdef"[.:. + 1]) |
    join("")) else [.] | implode end] | join("");'

# stage NAME IN OUT CMD...: run one stage from file IN to file OUT and
# remember its status; a fatal stop (2 or 3) ends the script, since the
# next stage would only see what was written before it.
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
# confirm QUESTION: yes with -y, asks on a terminal, else no.
confirm() {
	[ "$yes" = 1 ] && return 0
	[ -t 0 ] || return 1
	printf '%s [y/N] ' "$1"
	read -r _a || return 1
	case $_a in [yY]*) return 0 ;; *) return 1 ;; esac
}
stop() {
	echo
	echo "Stopped before $1. Nothing more was changed; the files are in $work."
	echo "Run again with -y (in a new workdir) to go on without questions."
	exit "$worst"
}

say "1. Plan: immich-dupes > $work/plan.ndjson"
stage immich-dupes /dev/null "$work/plan.ndjson" immich-dupes

say "2. The plan"
jq -rs '
  "groups:                 \(length)",
  "  need no review:       \(map(select(.review == [])) | length)",
  "  held for review:      \(map(select(.review != [])) | length)",
  "assets to trash:        \(map(select(.review == []) | .trash | length) | add // 0)",
  "keeper chosen by rule:  " +
      (group_by(.why) | map("\(.[0].why) \(length)") | join(", "))' \
    "$work/plan.ndjson"
held=$(jq -s 'map(select(.review != [])) | length' "$work/plan.ndjson")
if [ "$held" -gt 0 ]; then
	echo
	echo "Groups held for review, per code (a group can have several):"
	jq -r '[.review[].code] | unique[]' "$work/plan.ndjson" |
	    sort | uniq -c | sort -rn | sed 's/^ */   /'
	echo
	echo "A few of them:"
	jq -c 'select(.review != [])' "$work/plan.ndjson" | head -n 5 |
	    jq -r "$esc"'.trash as $t |
	    (.assets | map({key: .id, value: (.originalFileName | esc)}) |
	    from_entries) as $n |
	    "   \($n[.keep]) (keep) + \([$t[] | $n[.]] | join(" + ")):",
	    (.review[] | "      \(.code | esc): \($n[.asset] // "group"): \(.detail | esc)")'
	echo "   (all of them: jq -c 'select(.review != [])' $work/plan.ndjson,"
	echo "    or a page with thumbnails: immich-review -o review < $work/plan.ndjson)"
fi
jq -c 'select(.review == [])' "$work/plan.ndjson" >"$work/auto.ndjson"
if [ ! -s "$work/auto.ndjson" ]; then
	echo
	echo "No group can be resolved without review; nothing to do."
	exit "$worst"
fi

say "3. Dry run: immich-consolidate -n (what would be copied onto the keepers)"
stage "immich-consolidate -n" "$work/auto.ndjson" \
    "$work/consolidate-dry.ndjson" immich-consolidate -n
jq -rs '[.[] | .consolidated.changes // [] | .[].field] |
    if length == 0 then "   nothing to copy"
    else group_by(.) | map("   \(.[0]): \(length)")[] end' \
    "$work/consolidate-dry.ndjson"
confirm "Copy that metadata onto the keepers, then back up and verify the copies to trash?" ||
    stop "consolidating"

say "4. Consolidate, back up to $backup, verify"
stage immich-consolidate "$work/auto.ndjson" "$work/consolidated.ndjson" \
    immich-consolidate
stage immich-fetch "$work/consolidated.ndjson" "$work/fetched.ndjson" \
    immich-fetch -d "$backup"
stage immich-verify "$work/fetched.ndjson" "$work/verified.ndjson" \
    immich-verify

say "5. Dry run: immich-trash -n (what would go to Immich's trash)"
stage "immich-trash -n" "$work/verified.ndjson" "$work/trash-dry.ndjson" \
    immich-trash -n
jq -rs '[.[] | .trashed // {} | to_entries[]] |
    "   would trash:   \(map(select(.value.ok)) | length)",
    "   held back:     \(map(select(.value.ok | not)) | length)" +
    (map(select(.value.ok | not) | .value.held) | group_by(.) |
     map("\(.[0]) \(length)") | if length > 0 then " (" + join(", ") + ")"
     else "" end)' "$work/trash-dry.ndjson"
confirm "Move those to Immich's trash?" || stop "trashing"

say "6. Trash"
stage immich-trash "$work/verified.ndjson" "$work/done.ndjson" immich-trash

say "Done"
jq -rs --arg b "$backup" '
  [.[] | .trashed // {} | to_entries[] | select(.value.ok)] as $t |
  "   groups resolved:   \(map(select(.trashed != null and
        ([.trashed[] | .ok] | all))) | length) of \(length)",
  "   assets trashed:    \($t | length) (in Immich'"'"'s trash, 30 days by default)",
  "   held back:         \([.[] | .trashed // {} | .[] | select(.ok | not)] | length)",
  "   backups in:        \($b)"' "$work/done.ndjson"
echo "   the run's records: $work"
echo "   undo: immich-restore < $work/done.ndjson   (or examples/undo.sh)"
exit "$worst"

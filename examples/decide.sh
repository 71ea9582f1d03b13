#!/bin/sh
# SPDX-License-Identifier: ISC
# Settle the groups held for review by looking at them: plan, page,
# decide, act, and undo.
#
#	examples/decide.sh page workdir
#	examples/decide.sh act [-y] workdir decisions.ndjson [backupdir]
#	examples/decide.sh undo workdir
#
# page: immich-dupes > workdir/plan.ndjson, and a review page of the
#    groups held for review, workdir/review/index.html (immich-review(1)).
#    Open it, answer each group (a keeper, resolve despite the flags shown,
#    stack, keep all, skip; keys j/k, 1-9, r s a x, u), and press "export
#    decisions": the browser saves decisions.ndjson (the answers stay in
#    the browser meanwhile: the page can be closed and opened again).
# act: immich-decide applies the answers to the plan
#    (workdir/decided.ndjson; an answer to a group that has changed since
#    the page was made is refused, and said), then each answer is carried
#    out by its stages, each writing a file in workdir:
#      keep all  immich-dismiss                         > dismissed.ndjson
#      stack     immich-consolidate | immich-stack      > stacked.ndjson
#      resolve   immich-consolidate | immich-fetch -d backupdir |
#                immich-verify | immich-trash           > resolved.ndjson
#    Groups not answered, or skipped, are left alone.  done.ndjson gathers
#    the three, for undo.  Before changing the server it asks on a
#    terminal; -y answers yes.  backupdir defaults to workdir/backup.
# undo: immich-restore < workdir/done.ndjson > workdir/restored.ndjson:
#    trashed losers back, stacks dissolved, dismissed groups back in
#    Immich's duplicate list, the keepers' metadata as it was.
#
# Needs: the immich-* tools on PATH (immich-stack and immich-dismiss too),
# jq; IMMICH_INSTANCE_URL and IMMICH_API_KEY or IMMICH_API_KEY_FILE (see
# immich(7)).
#
# Exit status: the worst status of the stages that ran (0 all done, 1 some
# records failed, were refused or held back, 2 usage or configuration
# error, 3 fatal; as in immich(7)).
set -eu
prog=decide.sh
usage() {
	echo "usage: $prog page workdir" >&2
	echo "       $prog act [-y] workdir decisions.ndjson [backupdir]" >&2
	echo "       $prog undo workdir" >&2
	exit 2
}
[ $# -ge 1 ] || usage
cmd=$1
shift
yes=0
if [ "$cmd" = act ] && [ "${1:-}" = -y ]; then
	yes=1
	shift
fi
case $cmd:$# in
page:1|undo:1|act:2|act:3) ;;
*) usage ;;
esac
work=$1
for t in immich-dupes immich-review immich-decide immich-consolidate \
    immich-fetch immich-verify immich-trash immich-stack immich-dismiss \
    immich-restore jq; do
	command -v "$t" >/dev/null 2>&1 ||
	    { echo "$prog: $t not found on PATH" >&2; exit 2; }
done

worst=0
# stage NAME IN OUT CMD...: one stage from file IN to file OUT; a fatal
# stop (2 or 3) ends the script.
stage() {
	_name=$1 _in=$2 _out=$3
	shift 3
	_st=0
	"$@" <"$_in" >"$_out" || _st=$?
	[ "$_st" -gt "$worst" ] && worst=$_st
	case $_st in
	0) ;;
	1) echo "$prog: $_name: some records failed, were refused or held" \
	       "back; see their \"errors\" in $_out" >&2 ;;
	*) echo "$prog: $_name stopped with status $_st (see its message" \
	       "above); nothing after it was run" >&2
	   exit "$_st" ;;
	esac
}
confirm() {
	[ "$yes" = 1 ] && return 0
	[ -t 0 ] || return 1
	printf '%s [y/N] ' "$1"
	read -r _a || return 1
	case $_a in [yY]*) return 0 ;; *) return 1 ;; esac
}

case $cmd in
page)
	mkdir -p "$work"
	stage immich-dupes /dev/null "$work/plan.ndjson" immich-dupes
	jq -c 'select(.review != [])' "$work/plan.ndjson" >"$work/held.ndjson"
	stage immich-review "$work/held.ndjson" /dev/null \
	    immich-review -q -o "$work/review"
	echo "$(wc -l <"$work/held.ndjson" | tr -d ' ') groups held for review" \
	    "of $(wc -l <"$work/plan.ndjson" | tr -d ' ')."
	echo "Open $work/review/index.html, answer them, press \"export decisions\","
	echo "then: $prog act $work ~/Downloads/decisions.ndjson"
	;;
act)
	dec=$2
	backup=${3:-$work/backup}
	[ -r "$dec" ] || { echo "$prog: $dec: cannot read" >&2; exit 2; }
	[ -s "$work/plan.ndjson" ] ||
	    { echo "$prog: no $work/plan.ndjson: run $prog page first" >&2; exit 2; }
	if [ -e "$work/done.ndjson" ]; then
		echo "$prog: $work/done.ndjson exists: that run's record is" \
		    "needed to undo it; use another workdir" >&2
		exit 2
	fi
	stage immich-decide "$work/plan.ndjson" "$work/decided.ndjson" \
	    immich-decide "$dec"
	for a in dismiss stack resolve; do
		jq -c --arg a "$a" 'select(.decision.action == $a)' \
		    "$work/decided.ndjson" >"$work/$a.ndjson"
	done
	jq -rs '"   keep all: \(map(select(.decision.action == "dismiss")) | length)",
	    "   stack:    \(map(select(.decision.action == "stack")) | length)",
	    "   resolve:  \(map(select(.decision.action == "resolve")) | length)",
	    "   refused:  \(map(select(.errors // [] | any(.stage == "immich-decide"))) | length)"' \
	    "$work/decided.ndjson"
	confirm "Carry these out on the server?" ||
	    { echo "Stopped before changing the server; the plan is in $work/decided.ndjson."
	      exit "$worst"; }
	: >"$work/done.ndjson"
	if [ -s "$work/dismiss.ndjson" ]; then
		stage immich-dismiss "$work/dismiss.ndjson" \
		    "$work/dismissed.ndjson" immich-dismiss
		cat "$work/dismissed.ndjson" >>"$work/done.ndjson"
	fi
	if [ -s "$work/stack.ndjson" ]; then
		stage immich-consolidate "$work/stack.ndjson" \
		    "$work/stack-consolidated.ndjson" immich-consolidate
		stage immich-stack "$work/stack-consolidated.ndjson" \
		    "$work/stacked.ndjson" immich-stack
		cat "$work/stacked.ndjson" >>"$work/done.ndjson"
	fi
	if [ -s "$work/resolve.ndjson" ]; then
		stage immich-consolidate "$work/resolve.ndjson" \
		    "$work/consolidated.ndjson" immich-consolidate
		stage immich-fetch "$work/consolidated.ndjson" \
		    "$work/fetched.ndjson" immich-fetch -d "$backup"
		stage immich-verify "$work/fetched.ndjson" \
		    "$work/verified.ndjson" immich-verify
		stage immich-trash "$work/verified.ndjson" \
		    "$work/resolved.ndjson" immich-trash
		cat "$work/resolved.ndjson" >>"$work/done.ndjson"
	fi
	echo "Done; undo with: $prog undo $work"
	;;
undo)
	[ -r "$work/done.ndjson" ] ||
	    { echo "$prog: no $work/done.ndjson: nothing to undo" >&2; exit 2; }
	stage immich-restore "$work/done.ndjson" "$work/restored.ndjson" \
	    immich-restore
	echo "Undone; immich-restore's records are in $work/restored.ndjson"
	;;
esac
exit "$worst"

# SPDX-License-Identifier: ISC
# TAP helpers for the shell tests; source it first.
#   plan N			the number of tests
#   ok COND_STATUS DESC		ok if the previous status ($?) given is 0
#   is GOT WANT DESC		string equality, shows both on failure
#   like GOT REGEX DESC		grep -E match
#   unlike GOT REGEX DESC
#   run CMD...			runs CMD with stdin from $IN (if set) and
#				sets $out, $err, $rc (stdout, stderr, status)
#   skip_all REASON		plan 0 with a reason
# $T is a scratch directory removed at exit; add cleanup commands with
# at_exit 'cmd'.  Set VALGRIND=1 to run every immich-* binary under
# valgrind (errors fail the run with status 99).

set -u
_n=0 _failed=0 _exit_cmds=
T=$(mktemp -d "${TMPDIR:-/tmp}/immich-test.XXXXXX") || exit 1
at_exit() { _exit_cmds="$1; $_exit_cmds"; }
_cleanup() { eval "$_exit_cmds"; rm -rf "$T"; }
trap _cleanup EXIT
trap 'exit 130' INT TERM

# Tests never share a rate-limit state with the user or with each other,
# and run unlimited unless a test says otherwise.
export IMMICH_RATE_FILE="$T/rate.state" IMMICH_RATE=0
export IMMICH_RETRY_DELAY=0.05
TESTDIR=$(cd "$(dirname "$0")" && pwd)

if [ "${VALGRIND:-0}" = 1 ]; then
	mkdir -p "$T/vg"
	for b in $(IFS=:; for d in $PATH; do ls "$d"/immich-* 2>/dev/null; done); do
		n=${b##*/}
		[ -e "$T/vg/$n" ] && continue
		printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "%s" "$@"\n' "$b" >"$T/vg/$n"
		chmod +x "$T/vg/$n"
	done
	PATH="$T/vg:$PATH"
fi

plan() { echo "1..$1"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

_result() {
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}
ok() { _result "$1" "$2"; }
is() {
	if [ "$1" = "$2" ]; then _result 0 "$3"; else
		_result 1 "$3"; diag "got:  $1" "want: $2"; fi
}
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then _result 0 "$3"; else
		_result 1 "$3"; diag "got: $1" "want match: $2"; fi
}
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_result 1 "$3"; diag "got: $1" "must not match: $2"
	else _result 0 "$3"; fi
}
run() {
	"$@" <"${IN:-/dev/null}" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

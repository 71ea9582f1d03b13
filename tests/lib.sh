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
#   expect_err RC ERE DESC	after run: status RC, and every line of $err
#				matches ERE ('' for an empty stderr); one test
#   all_like TEXT ERE DESC	every line of TEXT matches ERE, and there is
#				one: nothing unexpected
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
# Loopback traffic must never go through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
TESTDIR=$(cd "$(dirname "$0")" && pwd)

# make check runs test files two at a time (prove -j2).  A test whose
# figures depend on timing calls exclusive_test to run alone: every test
# holds a shared lock on one file, and that one takes it exclusively.
if command -v flock >/dev/null 2>&1; then
	exec 9>>"${TMPDIR:-/tmp}/immich-dedupe-tests.lock"
	flock -s 9
fi
exclusive_test() {
	command -v flock >/dev/null 2>&1 || return 0
	flock -u 9
	flock -x -w 300 9 || diag "could not get the test lock; running anyway"
}

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

plan() {
	if [ "${IMMICH_CONFORMANCE:-0}" = 1 ]; then	# + prism_check's test
		echo "1..$(($1 + 1))"; at_exit prism_check
	else echo "1..$1"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# A campaign's figures: in the TAP stream and on stderr, which prove shows.
figure() { diag "$@"; printf '%s\n' "$@" >&2; }

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
all_like() {
	_bad=$(printf '%s\n' "$1" | grep -Ev -- "$2")
	if [ -n "$1" ] && [ -z "$_bad" ]; then _result 0 "$3"; else
		_result 1 "$3"; diag "got: $1" "unexpected: ${_bad:-(no line at all)}" \
		    "want every line to match: $2"; fi
}
expect_err() {
	if [ -z "$2" ]; then _bad=$err
	elif [ -z "$err" ]; then _bad="(no line at all)"
	else _bad=$(printf '%s\n' "$err" | grep -Ev -- "$2"); fi
	if [ "$rc" = "$1" ] && [ -z "$_bad" ]; then _result 0 "$3"; else
		_result 1 "$3"; diag "got status $rc, stderr:" "$err" \
		    "want status $1, stderr lines matching: ${2:-(none)}"; fi
}
run() {
	"$@" <"${IN:-/dev/null}" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	return 0
}

# ---- The fake Immich server (tests/fake_immich.py; its docstring documents
# the library format, control endpoints, fault rules and the request log).
#   fake_start LIB.json [ARGS...]	start it; exports IMMICH_INSTANCE_URL,
#				IMMICH_API_KEY, FAKE (base URL), FAKE_LOG; state
#				in $T/fake.state (kept by fake_restart)
#   fake_stop			stop it (also done at exit)
#   fake_restart			kill it and start it again on the same port
#				with the same state
#   fake_ctl METHOD PATH [JSON]	call a control endpoint, e.g.
#				fake_ctl POST /_fake/faults '[{"path":"...","action":"reset"}]'
#   fake_state			GET /_fake/state
#   fake_log_count JQFILTER	how many logged requests match a jq
#				boolean expression, e.g. '.method=="DELETE"'
FAKE_PY="$TESTDIR/fake_immich.py"
FAKE_PID=
_fake_args=
fake_start() {
	_fake_lib=$1; shift
	_fake_args="$*"
	FAKE_LOG="$T/fake.log"
	export FAKE_LOG
	rm -f "$T/fake.state" "$T/fake.state.journal" "$T/fake.port"
	rm -rf "$T/fake.state.data"
	_fake_launch 0 "$@"
	IMMICH_API_KEY=$(jq -r '.apiKey // "test-key"' "$_fake_lib")
	export IMMICH_API_KEY
}
_fake_launch() {
	_fake_port=$1; shift
	rm -f "$T/fake.port"
	python3 "$FAKE_PY" --library "$_fake_lib" --port "$_fake_port" \
	    --port-file "$T/fake.port" --log "$FAKE_LOG" \
	    --state-file "$T/fake.state" --watch-pid $$ "$@" 2>>"$T/fake.err" &
	FAKE_PID=$!
	_i=0
	while [ ! -s "$T/fake.port" ]; do
		if [ $_i -ge 100 ] || ! kill -0 "$FAKE_PID" 2>/dev/null; then
			echo "Bail out! fake Immich server did not start"
			sed 's/^/# /' "$T/fake.err" 2>/dev/null
			exit 255
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	FAKE_PORT=$(cat "$T/fake.port")
	FAKE="http://127.0.0.1:$FAKE_PORT"
	IMMICH_INSTANCE_URL=$FAKE
	export FAKE FAKE_PORT IMMICH_INSTANCE_URL
	at_exit "kill $FAKE_PID 2>/dev/null"
	if [ "${IMMICH_CONFORMANCE:-0}" = 1 ]; then prism_start; fi
}
fake_stop() {
	if [ -n "$FAKE_PID" ]; then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		FAKE_PID=
	fi
	return 0
}
fake_restart() {
	if [ -n "$FAKE_PID" ]; then
		kill -9 "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
	fi
	# shellcheck disable=SC2086
	_fake_launch "$FAKE_PORT" $_fake_args
}
fake_ctl() {
	if [ $# -ge 3 ]; then
		curl -sS -X "$1" -H 'Content-Type: application/json' \
		    --data-binary "$3" "$FAKE$2"
	else
		curl -sS -X "$1" "$FAKE$2"
	fi
}
fake_state() { curl -sS "$FAKE/_fake/state"; }
fake_log_count() {
	if [ -s "$FAKE_LOG" ]; then
		jq -c "select($1)" "$FAKE_LOG" | wc -l | tr -d ' '
	else
		echo 0
	fi
}

# ---- Conformance mode (IMMICH_CONFORMANCE=1; `make conformance`).
# The fake is put behind Prism, an OpenAPI validating proxy, running the real
# Immich spec (IMMICH_SPEC, default ../shared/immich/immich-openapi-specs.json
# beside the checkout) through tests/conformance/shim.py: IMMICH_INSTANCE_URL
# points at the shim, FAKE (fake_ctl) stays the fake's own URL.  A request the
# real server would refuse, or a reply it could not give, is answered with
# Prism's explanation, and prism_check (one more test, added by plan) fails
# when any request broke the spec.  make conformance shares one Prism
# (IMMICH_CONFORMANCE_CTL); a single test run starts its own (about 10 s).
IMMICH_SPEC=${IMMICH_SPEC:-$TESTDIR/../../shared/immich/immich-openapi-specs.json}
CONF_DIR="$TESTDIR/conformance"
CONF_LOG="$T/conformance.ndjson"
_conf_port=
prism_start() {
	if [ -z "${IMMICH_CONFORMANCE_CTL:-}" ]; then
		if [ ! -f "$IMMICH_SPEC" ]; then
			echo "Bail out! conformance: no spec at $IMMICH_SPEC"
			exit 255
		fi
		if [ ! -x "$CONF_DIR/node_modules/.bin/prism" ]; then
			echo "Bail out! conformance: Prism is not installed" \
			    "(sh tests/conformance/setup.sh)"
			exit 255
		fi
		python3 "$CONF_DIR/shim.py" --spec "$IMMICH_SPEC" \
		    --prism "$CONF_DIR/node_modules/.bin/prism" \
		    --port-file "$T/conf.port" --prism-log "$T/prism.log" \
		    --watch-pid $$ 2>>"$T/conf.err" &
		_conf_pid=$!
		at_exit "kill $_conf_pid 2>/dev/null"
		while [ ! -s "$T/conf.port" ]; do
			if ! kill -0 "$_conf_pid" 2>/dev/null; then
				echo "Bail out! conformance: Prism did not start"
				sed 's/^/# /' "$T/conf.err" "$T/prism.log"
				exit 255
			fi
			sleep 0.2
		done
		IMMICH_CONFORMANCE_CTL=http://127.0.0.1:$(cat "$T/conf.port")
	fi
	if [ -n "$_conf_port" ]; then	# the fake was restarted or replaced
		curl -sS -X PUT -d "{\"upstream\":\"$FAKE\"}" \
		    "$IMMICH_CONFORMANCE_CTL/session/$_conf_port" >/dev/null
	else
		_conf_port=$(curl -sS -X POST \
		    -d "{\"upstream\":\"$FAKE\",\"log\":\"$CONF_LOG\"}" \
		    "$IMMICH_CONFORMANCE_CTL/session" | jq -r .port)
		case $_conf_port in
		[0-9]*) ;;
		*)	echo "Bail out! conformance: no session from the shim"
			exit 255;;
		esac
		: >>"$CONF_LOG"
		at_exit "curl -s -X DELETE $IMMICH_CONFORMANCE_CTL/session/$_conf_port >/dev/null"
	fi
	IMMICH_INSTANCE_URL=http://127.0.0.1:$_conf_port
	export IMMICH_INSTANCE_URL
}
# The extra test: every request went through Prism without a violation.
# Appends "FILE REQUESTS VALIDATED VIOLATIONS EXEMPT" to
# $IMMICH_CONFORMANCE_SUMMARY when set, and the tools' "METHOD PATH"s to
# $IMMICH_CONFORMANCE_SUMMARY.endpoints.
prism_check() {
	if [ -z "$_conf_port" ]; then
		_n=$((_n + 1))
		echo "ok $_n # SKIP conformance: no fake server started"
		return
	fi
	_c=$(jq -rs '[length, (map(select(.validated))|length),
	    (map(.violations|length)|add // 0),
	    (map(.exempt|length)|add // 0)] | @tsv' "$CONF_LOG" | tr '\t' ' ')
	set -- $_c
	if [ -n "${IMMICH_CONFORMANCE_SUMMARY:-}" ]; then
		echo "${0##*/} $*" >>"$IMMICH_CONFORMANCE_SUMMARY"
		jq -r 'select(.tool) | "\(.method) \(.path)"' "$CONF_LOG" \
		    >>"$IMMICH_CONFORMANCE_SUMMARY.endpoints"
	fi
	[ "$3" = 0 ]
	_result $? "conformance: $3 violations in $2 validated requests ($4 exempt)"
	if [ "$3" != 0 ]; then
		jq -r 'select(.violations != []) | "\(.method) \(.path) ->" +
		    " \(.status // "refused") / prism \(.prism)",
		    (.violations[] | "    \((.location // []) | join(".")):" +
		    " \(.message)")' "$CONF_LOG" | head -40 | sed 's/^/# /'
	fi
}

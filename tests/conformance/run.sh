#!/bin/sh
# SPDX-License-Identifier: ISC
# make conformance: runs every end-to-end test (each tests/*.t that starts
# the fake server; override the list with T=...) with IMMICH_CONFORMANCE=1,
# through one shared Prism over the real Immich OpenAPI spec, and prints
#   conformance: N requests validated, V violations (E exempt) in F test files
# Without the spec (IMMICH_SPEC, default ../shared/immich/ beside the
# checkout) it says so and skips.  The immich-* binaries must be on PATH.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
IMMICH_SPEC=${IMMICH_SPEC:-$top/../shared/immich/immich-openapi-specs.json}
if [ ! -f "$IMMICH_SPEC" ]; then
	echo "conformance: SKIPPED: no OpenAPI spec at $IMMICH_SPEC" \
	    "(set IMMICH_SPEC)"
	exit 0
fi
sh tests/conformance/setup.sh || {
	echo "conformance: FAILED: could not install Prism" >&2
	exit 1
}
# Not run here, though they start the fake:
#   0010-fake.t		the fake's own test: sends requests the real server
#			refuses (no key, bad ids) to check the fake's answers,
#			and times faults byte by byte
#   0100-http.t		common/http.c: renders the server's validation
#			errors (so sends invalid requests) and times stalls
#			at the byte level, which a buffering proxy hides
#   0200-ratelimit.t	measures request rates at the server: timing only
#   0210-examples-parallel.t  the same, for parallel jobs: a proxy in
#			between bunches requests at the server
#   0800-conformance.t	this mode's own test (breaks the contract on
#			purpose; runs in make check)
skip='0010-fake.t 0100-http.t 0200-ratelimit.t 0210-examples-parallel.t'
skip="$skip 0800-conformance.t"
files=
for f in ${T:-tests/*.t}; do
	case " $skip " in *" ${f##*/} "*) continue;; esac
	grep -q '^[^#]*fake_start' "$f" && files="$files $f"
done
[ -n "$files" ] || { echo "conformance: no end-to-end tests found"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/immich-conformance.XXXXXX") || exit 1
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
start=$(date +%s)
python3 tests/conformance/shim.py --spec "$IMMICH_SPEC" \
    --prism tests/conformance/node_modules/.bin/prism \
    --port-file "$tmp/port" --prism-log "$tmp/prism.log" \
    --watch-pid $$ 2>"$tmp/shim.err" &
pid=$!
while [ ! -s "$tmp/port" ]; do
	if ! kill -0 $pid 2>/dev/null; then
		echo "conformance: FAILED: Prism did not start" >&2
		cat "$tmp/shim.err" "$tmp/prism.log" >&2
		exit 1
	fi
	sleep 0.2
done
echo "conformance: Prism $(tests/conformance/node_modules/.bin/prism \
    --version) up in $(($(date +%s) - start)) s; spec $IMMICH_SPEC"
IMMICH_CONFORMANCE=1
IMMICH_CONFORMANCE_CTL=http://127.0.0.1:$(cat "$tmp/port")
IMMICH_CONFORMANCE_SUMMARY=$tmp/summary
export IMMICH_SPEC IMMICH_CONFORMANCE IMMICH_CONFORMANCE_CTL \
    IMMICH_CONFORMANCE_SUMMARY
: >"$tmp/summary"
# shellcheck disable=SC2086
prove ${PROVEFLAGS:-} $files </dev/null
rc=$?
set -- $files
awk -v files=$# -v secs=$(($(date +%s) - start)) '
	{ req += $2; val += $3; vio += $4; ex += $5; n++ }
	END {
		printf "conformance: %d requests validated, %d violations" \
		    " (%d exempt, %d not validated) in %d of %d test files," \
		    " %d s\n", val, vio, ex, req - val, n, files, secs
	}' "$tmp/summary"
[ "$(awk '{ v += $4 } END { print v + 0 }' "$tmp/summary")" = 0 ] || rc=1
# Every endpoint a tool called is in tests/conformance/endpoints.txt.
pats=$(grep -v '^#' tests/conformance/endpoints.txt | awk 'NF == 4 {
	p = $2; gsub(/\{[^}]*\}/, "[^/]+", p); print "^" $1 " /api" p "$" }')
unlisted=$(sort -u "$tmp/summary.endpoints" 2>/dev/null |
    grep -Ev "$(printf '%s\n' "$pats" | paste -sd'|' -)")
if [ -n "$unlisted" ]; then
	echo "conformance: endpoints called by the tools but not in" \
	    "tests/conformance/endpoints.txt:"
	printf '    %s\n' $unlisted | paste -d' ' - -
	rc=1
else
	echo "conformance: the tools called $(sort -u "$tmp/summary.endpoints" |
	    sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/{id}/g' | sort -u |
	    wc -l | tr -d ' ') endpoints, all listed in endpoints.txt"
fi
exit $rc

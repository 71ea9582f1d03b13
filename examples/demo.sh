#!/bin/sh
# The whole pipeline against a fake Immich server holding a small sample
# library (real JPEGs with EXIF, in tests/demo/): plain duplicates, metadata
# that must move to the keeper, a conflict held for review, a live photo.
# Run by `make demo`; needs the binaries on PATH, python3 and jq.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=${DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/immich-demo.XXXXXX")}
mkdir -p "$work"
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || :; }
trap cleanup EXIT INT TERM

python3 "$top/tests/fake_immich.py" --library "$top/tests/demo/library.json" \
    --port-file "$work/port" --log "$work/requests.log" &
pid=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "demo: fake server did not start" >&2; exit 1; }
	sleep 0.1
done
export IMMICH_INSTANCE_URL="http://127.0.0.1:$(cat "$work/port")"
export IMMICH_API_KEY=demo-key-not-secret
export IMMICH_RATE_FILE="$work/rate.state"
cd "$work"
# Names and details come from the server: jq -r would pass their control
# characters (ESC, BEL, C1) to the terminal.  esc shows each as \uXXXX.
esc='def esc: tostring | [explode[] | if . < 32 or (. >= 127 and . < 160)
    then "\\u" + ([(. / 4096 | floor) % 16, (. / 256 | floor) % 16,
    (. / 16 | floor) % 16, . % 16] | map("0123456789abcdef"[.:. + 1]) |
    join("")) else [.] | implode end] | join("");'

# Bold headings on a terminal only.
if [ -t 1 ]; then
	say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	say() { printf '\n%s\n' "$*"; }
fi
say "1. Plan: immich-dupes > plan.ndjson"
immich-dupes > plan.ndjson
jq -r "$esc"'"   " + ([.assets[] | select(.type == "IMAGE") | .originalFileName | esc] | join(" + ")) +
    "  ->  keep " + (.keep as $k | .assets[] | select(.id == $k) | .originalFileName | esc) +
    " (rule: " + .why + ")" +
    (if .review == [] then "" else ",  HELD for review: " + ([.review[].code] | unique | join(", ")) end)' plan.ndjson

say "2. Resolve the groups nobody needs to look at:"
echo "   jq -c 'select(.review == [])' plan.ndjson | immich-consolidate |"
echo "       immich-fetch -d backup | immich-verify | immich-trash > done.ndjson"
jq -c 'select(.review == [])' plan.ndjson |
    immich-consolidate | immich-fetch -d backup | immich-verify |
    immich-trash > done.ndjson || st=$?

say "3. What happened"
jq -rs --slurpfile plan plan.ndjson --arg dir "$work/backup" "$esc"'
  ([.[] | .trashed // {} | to_entries[] | select(.value.ok)] ) as $t |
  ([.[] | .verified // {} | to_entries[] | select(.value.ok)]) as $v |
  ([.[] | .backup as $b | .trashed // {} | to_entries[] | select(.value.ok) | $b[.key].bytes // 0] | add // 0) as $freed |
  "   groups planned:     \($plan | length)",
  "   groups resolved:    \([.[] | select(.trashed != null and ([.trashed[] | .ok] | all))] | length)",
  "   held for review:    \($plan | map(select(.review != [])) | length)" +
      ($plan | map(select(.review != []) | "\n     - " + ([.assets[].originalFileName | esc] | join(" + ")) + ": " +
        ([.review[] | .code + " (" + (.detail | esc) + ")"] | unique | join("; "))) | join("")),
  "   metadata moved:     \([.[] | .consolidated.changes // [] | .[] | .field] | join(", "))",
  "   photos trashed:     \($t | length) (\($freed) bytes freed; in Immich'"'"'s trash for 30 days)",
  "   backups verified:   \($v | length) files, in \($dir)"
' done.ndjson
say "Undo with: immich-restore < $work/done.ndjson"
[ -z "${DEMO_DIR:-}" ] && echo "(the fake server stops now; the files stay in $work)"
exit "${st:-0}"

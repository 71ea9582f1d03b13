#!/bin/sh
# SPDX-License-Identifier: ISC
# Undo a run: bring back every asset that immich-trash moved to the trash,
# and check that each one is back.
#
#	examples/undo.sh done.ndjson [restored.ndjson]
#
# done.ndjson is what immich-trash wrote (examples/first-run.sh and
# examples/nightly.sh keep it).  immich-restore reads it and takes each
# trashed asset out of Immich's trash, or, when the trash has been emptied
# since, uploads it again from the backup the record names (a new asset
# with a new id; see immich-restore(1) for what cannot come back).  Its
# records go to restored.ndjson (default: beside done.ndjson).  Then jq
# checks that every asset the run trashed has a "restored" entry that says
# ok, and a summary is printed: how many came back from the trash, how
# many were uploaded again, and every one that did not come back, with why.
#
# Running it twice is harmless: an asset already out of the trash counts
# as restored.  The metadata copied onto the keepers stays (it was only
# added; nothing of the keepers' own was changed).
#
# Needs: immich-restore on PATH, jq; IMMICH_INSTANCE_URL and IMMICH_API_KEY
# or IMMICH_API_KEY_FILE (see immich(7)); the backup folder, when the trash
# was emptied.
#
# Exit status: 0 when every trashed asset is back; 1 when some are not (see
# the list, and restored.ndjson); 2 usage error; 3 when immich-restore
# stopped (server unreachable, key refused, ...).
set -eu
prog=undo.sh
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $prog done.ndjson [restored.ndjson]" >&2
	exit 2
fi
done_f=$1
out=${2:-$(dirname "$done_f")/restored.ndjson}
[ -r "$done_f" ] || { echo "$prog: $done_f: cannot read" >&2; exit 2; }
for t in immich-restore jq; do
	command -v "$t" >/dev/null 2>&1 ||
	    { echo "$prog: $t not found on PATH" >&2; exit 2; }
done
if [ "$out" = "$done_f" ]; then
	echo "$prog: the output would overwrite $done_f" >&2
	exit 2
fi

st=0
immich-restore <"$done_f" >"$out" || st=$?
if [ "$st" -ge 2 ]; then
	echo "$prog: immich-restore stopped with status $st (see its message" \
	    "above); what it did so far is in $out" >&2
	exit "$st"
fi

# Names and details come from the server: jq -r would pass their control
# characters (ESC, BEL, C1) to the terminal.  esc shows each as \uXXXX.
esc='def esc: tostring | [explode[] | if . < 32 or (. >= 127 and . < 160)
    then "\\u" + ([(. / 4096 | floor) % 16, (. / 256 | floor) % 16,
    (. / 16 | floor) % 16, . % 16] | map("0123456789abcdef"[.:. + 1]) |
    join("")) else [.] | implode end] | join("");'

# Every asset trashed ok in done.ndjson (not a dry run) must have a
# restored entry with ok true in the output.
jq -rs --slurpfile run "$done_f" "$esc"'
  ([$run[] | .trashed // {} | to_entries[] |
    select(.value.ok and (.value.dryRun | not)) | .key]) as $want |
  (map(.restored // {} | to_entries[]) | from_entries) as $r |
  ([$want[] | select($r[.].ok == true)]) as $back |
  ([$want[] | select($r[.].ok != true)]) as $not |
  "trashed by the run:     \($want | length)",
  "back from the trash:    \([$back[] | select($r[.].how == "trash")] | length)",
  "uploaded again:         \([$back[] | select($r[.].how == "upload")] | length)" +
      (if any($back[]; $r[.].how == "upload") then
       " (new ids: " + ([$back[] | select($r[.].how == "upload") |
       "\(. | esc) -> \($r[.].newId | esc)"] | join(", ")) + ")" else "" end),
  "not restored:           \($not | length)",
  ($not[] | "   \(. | esc): \($r[.].detail // "no restored entry" | esc)")
' "$out"
bad=$(jq -rs --slurpfile run "$done_f" '
  ([$run[] | .trashed // {} | to_entries[] |
    select(.value.ok and (.value.dryRun | not)) | .key]) as $want |
  (map(.restored // {} | to_entries[]) | from_entries) as $r |
  [$want[] | select($r[.].ok != true)] | length' "$out")
if [ "$bad" -gt 0 ] || [ "$st" -ne 0 ]; then
	echo "$prog: not everything came back; the records are in $out" >&2
	exit 1
fi
echo "Everything the run trashed is back. Records: $out"
exit 0

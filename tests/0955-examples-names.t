#!/bin/sh
# The example scripts print what the server names (file names, review
# details quoting a camera's make and model) with its control characters
# escaped: a name holding ESC and BEL sequences (a terminal title change,
# colours, a C1 CSI clearing the screen) never reaches the terminal raw,
# it is shown as \u001b... (audit D12).
. "$(dirname "$0")/lib.sh"

for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash immich-restore; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
command -v jq >/dev/null || skip_all "needs jq"
# Its point is what reaches a terminal; its requests are the examples',
# which 0950 sends through Prism.  (Prism's proxy stops answering after
# the multipart upload of a file name with control bytes.)
[ "${IMMICH_CONFORMANCE:-0}" = 1 ] &&
    skip_all "names with control bytes: what reaches the terminal, not the API"
command -v flock >/dev/null || skip_all "flock (util-linux) not installed"
plan 18

EX=$TESTDIR/../examples
cd "$T" || exit 1
# OSC 0 (set the title) ended by BEL, colours, BEL, C1 CSI "clear screen".
H='\u001b]0;pwned\u0007\u001b[31mred\u001b[0m\u0007\u009b2J'
shown='\\u001b]0;pwned\\u0007\\u001b\[31mred\\u001b\[0m\\u0007\\u009b2J'
cat >lib.json <<EOF
{"assets": [
 {"id": "4a000001-0000-4000-8000-000000000001",
  "duplicateId": "4d000001-0000-4000-8000-000000000000",
  "originalFileName": "${H}IMG_1.jpg", "content": "same name: copy A, the bigger"},
 {"id": "4a000001-0000-4000-8000-000000000002",
  "duplicateId": "4d000001-0000-4000-8000-000000000000",
  "originalFileName": "${H}IMG_1.jpg", "content": "same name: copy b"},
 {"id": "4a000002-0000-4000-8000-000000000001",
  "duplicateId": "4d000002-0000-4000-8000-000000000000",
  "originalFileName": "${H}keeper.jpg", "content": "camera conflict: the bigger one",
  "exifInfo": {"make": "Canon", "model": "EOS ${H}"}},
 {"id": "4a000002-0000-4000-8000-000000000002",
  "duplicateId": "4d000002-0000-4000-8000-000000000000",
  "originalFileName": "${H}loser.jpg", "content": "camera conflict",
  "exifInfo": {"make": "Nikon", "model": "Z ${H}"}}
]}
EOF
jq -e . lib.json >/dev/null || { echo "Bail out! bad library"; exit 255; }

# The raw control bytes in stdin (C0 but newline and tab, DEL, C1 as
# UTF-8): their count.
ctl() {
	python3 -c 'import re, sys
print(len(re.findall(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]",
    sys.stdin.buffer.read())))'
}

fake_start lib.json
run sh "$EX/first-run.sh" w
is "$rc $(printf '%s%s' "$out" "$err" | ctl)" "0 0" \
    "first-run.sh (dry run): no raw control byte in its output"
like "$out" "   ${shown}keeper\\.jpg \\(keep\\) \\+ ${shown}loser\\.jpg:" \
    "... the held group's names are shown escaped"
like "$out" "camera: .*model \"EOS ${shown}\"" \
    "... and so is the camera model in the review detail"

run sh "$EX/same-name-only.sh" -n s1
is "$rc $(printf '%s%s' "$out" "$err" | ctl)" "0 0" \
    "same-name-only.sh -n: no raw control byte in its output"
like "$out" "^   ${shown}IMG_1\\.jpg: 2 copies" "... the name is shown escaped"

run sh "$EX/first-run.sh" -y w2 "$T/bk"
is "$rc $(printf '%s%s' "$out" "$err" | ctl)" "0 0" \
    "first-run.sh -y: no raw control byte in its output"
is "$(jq -r '.trashed // {} | .[] | select(.ok) | "ok"' w2/done.ndjson)" ok \
    "... (the same-name group was resolved)"

# The trashed loser purged meanwhile: undo uploads it again, and says so
# with ids only, escaped too.
L=$(jq -r '.trashed // {} | to_entries[] | select(.value.ok) | .key' w2/done.ndjson)
fake_ctl POST /_fake/mutate "{\"id\":\"$L\",\"purge\":true}" >/dev/null
run sh "$EX/undo.sh" w2/done.ndjson
is "$rc $(printf '%s%s' "$out" "$err" | ctl)" "0 0" \
    "undo.sh: no raw control byte in its output"
like "$out" "uploaded again: +1" "... (it uploaded the purged loser again)"

# nightly.sh writes a log: nothing raw in it, nor on its stdout/stderr.
fake_stop
fake_start lib.json
mkdir -p n
run sh "$EX/nightly.sh" n
log=n/log/$(date +%Y-%m-%d).log
is "$rc $(printf '%s%s' "$out" "$err" | ctl) $(ctl <"$log")" "0 0 0" \
    "nightly.sh: no raw control byte in its output or its log"
like "$(cat "$log")" "plan: 2 groups, 1 to resolve, 1 held for review" \
    "... (the run planned both groups)"

# The demo, on its sample library with hostile names (a copy of the
# script beside a copy of the library, as make demo lays them out).
fake_stop
mkdir -p top/examples top/tests/demo
cp "$EX/demo.sh" top/examples/
ln -s "$TESTDIR/fake_immich.py" top/tests/fake_immich.py
for f in "$TESTDIR"/demo/*.jpg; do ln -s "$f" top/tests/demo/; done
jq --arg h "$(printf '%b' '\033]0;pwned\007\033[31mred\033[0m\007\302\2332J')" \
    '.assets |= map(.originalFileName = $h + .originalFileName)' \
    "$TESTDIR/demo/library.json" >top/tests/demo/library.json
DEMO_DIR=$T/demo run sh top/examples/demo.sh
is "$rc $(printf '%s%s' "$out" "$err" | ctl)" "0 0" \
    "demo.sh: no raw control byte in its output"
like "$out" "   ${shown}hike\\.jpg \\+ ${shown}hike-2\\.jpg" \
    "... the names are shown escaped"
like "$out" "held for review: +1" "... (the demo ran: one group held)"
like "$out" "^   groups resolved: +3$" "... (three groups resolved)"

# What the escaping does to ordinary text: nothing.
esc=$(sed -n "/^esc='def esc/,/join(\"\");'\$/p" "$EX/first-run.sh")
eval "$esc"
is "$(printf '%s' '"IMG_1.jpg é ü 日本 \"q\" \\ tab\there"' | jq -r "$esc"' esc')" \
    "$(printf 'IMG_1.jpg é ü 日本 "q" \\ tab\\u0009here')" \
    "esc leaves printable text (UTF-8 too) alone, and shows a tab as \\u0009"
is "$(printf '"\\u0000\\u001f\\u007f\\u0080\\u009f\\u00a0"' | jq -r "$esc"' esc')" \
    "$(printf '\\u0000\\u001f\\u007f\\u0080\\u009f\302\240')" \
    "esc: C0, DEL and C1 shown as \\uXXXX, U+00A0 kept"
for f in demo first-run nightly same-name-only undo; do
	sed -n "/^esc='def esc/,/join(\"\");'\$/p" "$EX/$f.sh" >"$f.esc"
done
is "$(cat demo.esc first-run.esc nightly.esc same-name-only.esc undo.esc | sort | uniq -c |
    awk '{print $1}' | sort -u | tr '\n' ' ')" "5 " \
    "the five scripts define esc the same way"

#!/bin/sh
# make demo's script: the whole pipeline on the sample library in
# tests/demo/ (real JPEGs with EXIF) ends with what its report says.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "needs jq"
plan 6

DEMO_DIR=$T/demo run sh "$TESTDIR/../examples/demo.sh"
is "$rc" 0 "the demo exits 0"
like "$out" 'groups resolved: +3' "three groups resolved"
like "$out" 'held for review: +1' "one held for review"
like "$out" 'hike.jpg \+ hike-2.jpg: gps-conflict' "... the GPS conflict, named"
like "$out" 'photos trashed: +3 ' "three photos trashed"
like "$out" 'backups verified: +4 files' "four backups verified (a live video too)"

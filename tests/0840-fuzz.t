#!/bin/sh
# A short libFuzzer run (FUZZ_SECONDS each, default 2) of the record
# reader, the splitter of GET /api/duplicates, the file-name sanitiser and
# the error-body parser (tests/fuzz/), after replaying the inputs that once
# crashed (tests/fuzz/regress/).  make fuzz runs them longer.  The build is
# kept in FUZZ_BUILD (make check sets OBJ/fuzz).
. "$(dirname "$0")/lib.sh"
command -v "${FUZZ_CC:-clang}" >/dev/null ||
    skip_all "clang not installed: no libFuzzer (apt-get install clang)"
B=${FUZZ_BUILD:-$T/fuzz}
cd "$TESTDIR/.." || exit 1
sh tests/fuzz/run.sh "$B" "${FUZZ_SECONDS:-2}" >"$T/fuzz.out" 2>&1
rc=$?
[ $rc = 2 ] && skip_all "$(tail -1 "$T/fuzz.out")"
plan 1
sed 's/^/# /' "$T/fuzz.out"
tail -1 "$T/fuzz.out" >&2
like "$(tail -1 "$T/fuzz.out")" '^fuzz: [1-9][0-9]* execs, 0 crashes$' \
    "fuzzing: no crash (status $rc)"

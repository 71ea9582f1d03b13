#!/bin/sh
# The set of asset ids (common/idset.c) through t-idset: notes kept, the
# first note wins, ids compared as 16 bytes (case and dashes do not
# matter), the nil UUID and anything not a UUID never in a set, and
# 100,000 ids all found after the table has grown.
. "$(dirname "$0")/lib.sh"

command -v t-idset >/dev/null || skip_all "t-idset not built (make testbins)"
plan 6

A=6f1c3a52-8c55-4f6e-9d1f-3b2a4c5d6e7f
B=0b6f2a52-8c55-4f6e-9d1f-3b2a4c5d6e7f
out=$(printf '%s\n' "put $A group 1" "put $A group 2" "get $A" \
    "get $(echo "$A" | tr a-f A-F)" "get $(echo "$A" | tr -d -)" "get $B" \
    "put $B" "get $B" count | t-idset | tr '\n' ' ')
is "$out" "1 0 [group 1] [group 1] [group 1] none 1 [] 2 " \
    "put, the first note kept, get in any case or without dashes, a note-less id"
is "$(printf '%s\n' "put 00000000-0000-0000-0000-000000000000" count | t-idset | tr '\n' ' ')" \
    "-1 0 " "the nil UUID is never put"
is "$(printf '%s\n' "put not-an-id" "put ${A}0" "put ${A%?}" "put ${A%?}g" count |
    t-idset | tr '\n' ' ')" "-1 -1 -1 -1 0 " "not a UUID (too long, too short, not hex): never put"
is "$(printf '%s\n' "get not-an-id" "get " | t-idset | tr '\n' ' ')" "none none " \
    "get of a non-id: none"
is "$(printf '%s\n' "fill 100000" count | t-idset | tr '\n' ' ')" "100000 100000 " \
    "100,000 ids: every one found after growing"
is "$(printf 'bogus\n' | t-idset)" "bad line" "the driver says so on a bad line"

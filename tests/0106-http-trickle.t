#!/bin/sh
# The low-speed limit is a rate over a window (IMMICH_LOW_SPEED_LIMIT
# bytes/s for IMMICH_LOW_SPEED_TIME s): a body trickling at a few bytes a
# second is cut (there is no total timeout), a slow but moving one
# completes.  The fake's trickle fault.  Driver: t-http.
. "$(dirname "$0")/lib.sh"

command -v t-http >/dev/null || skip_all "t-http not built (make testbins)"
command -v jq >/dev/null || skip_all "jq not installed"
plan 9
# Timing: a busy machine could starve the fake's trickle for a second.
exclusive_test

A=0b6f2a52-8c55-4f6e-9d1f-3b2a4c5d6e7f
cat >"$T/lib.json" <<EOF
{"assets": [{"id": "$A", "originalFileName": "v.mp4", "size": 30000,
	"seed": 3}]}
EOF
fake_start "$T/lib.json"
unset IMMICH_LOW_SPEED_LIMIT
export IMMICH_LOW_SPEED_TIME=1 IMMICH_RETRIES=0
faults() { fake_ctl POST /_fake/faults "$1" >/dev/null; }
O=/assets/$A/original
run t-http -s "$O" -o "$T/whole"
sum=$(printf '%s\n' "$out" | sed -n 's/^sha1 //p')
[ -n "$sum" ]
ok $? "the original, whole"

# 5 bytes a second for up to 6 s: under the default 1024 bytes/s.
faults "{\"path\":\"^/api$O\$\",\"action\":\"trickle\",\"bytesPerSecond\":5,\"afterBytes\":0,\"seconds\":6}"
run t-http -N -s "$O" -o "$T/t1"
is "$rc" 3 "a trickle at 5 bytes/s: the transfer fails"
like "$out" 'msg: transfer cut at byte [0-9]+: Operation too slow' \
    "... cut as too slow (default IMMICH_LOW_SPEED_LIMIT), not by the server"

# IMMICH_LOW_SPEED_LIMIT=1 lets the same trickle run until the server
# closes it (a window of 3 s: a byte comes every 0.2 s).
faults "{\"path\":\"^/api$O\$\",\"action\":\"trickle\",\"bytesPerSecond\":5,\"afterBytes\":0,\"seconds\":2}"
run env IMMICH_LOW_SPEED_LIMIT=1 IMMICH_LOW_SPEED_TIME=3 t-http -N -s "$O" -o "$T/t2"
is "$rc" 3 "IMMICH_LOW_SPEED_LIMIT=1: the trickle ..."
unlike "$out" 'Operation too slow' "... is not cut by the client"

# Slow but moving (10000 bytes/s, above the limit), for 3 windows of
# IMMICH_LOW_SPEED_TIME: completes.
faults "{\"path\":\"^/api$O\$\",\"action\":\"trickle\",\"bytesPerSecond\":10000,\"afterBytes\":0,\"seconds\":20}"
run t-http -N -s "$O" -o "$T/t3"
is "$rc" 0 "a slow but moving transfer (10000 bytes/s for 3 s) completes"
like "$out" "sha1 $sum" "... with the right bytes"

run env IMMICH_LOW_SPEED_LIMIT=0 t-http GET /users/me
is "$rc" 2 "IMMICH_LOW_SPEED_LIMIT=0 is refused (exit 2)"
like "$err" "^t-http: IMMICH_LOW_SPEED_LIMIT: '0' is not a whole number" \
    "... naming the setting"

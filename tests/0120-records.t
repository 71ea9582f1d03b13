#!/bin/sh
# Records (common/ndjson.c): bad lines are reported as "stdin:LINE:" and
# skipped while the others go through; fields a stage does not own pass
# through unchanged; EPIPE ends quietly, other write errors exit 3.
# Driver: t-records (tests/t-records.c), a stage that owns nothing.
. "$(dirname "$0")/lib.sh"

command -v t-records >/dev/null || skip_all "t-records not built (make testbins)"
plan 35

# --- pass-through --------------------------------------------------------------
# Records as a stage writes them (cJSON's unformatted form) come out
# byte for byte.
cat >"$T/canon" <<'EOF'
{"duplicateId":"6f1c3a52-8c55-4f6e-9d1f-3b2a4c5d6e7f","assets":[{"id":"0b6f2a52-8c55-4f6e-9d1f-3b2a4c5d6e7f","originalFileName":"café 写真 😀.jpg","isFavorite":false,"duration":"0:00:00.00000","livePhotoVideoId":null,"exifInfo":{"latitude":52.37840277777778,"longitude":-4.9,"fNumber":1.8,"exposureTime":"1/120","fileSizeInByte":4294967296,"rating":5,"description":"line\nbreak \"quoted\" back\\slash\ttab \u0001 a/b"},"tags":[],"people":[]}],"suggestedKeepAssetIds":[],"x-unknown":{"nested":[1,2.5,-3,0.001,1e+20,-0,true,false,null,{}]},"big":9007199254740992,"small":1e-07}
{"a":{}}
EOF
IN=$T/canon run t-records
is "$rc" 0 "canonical records: exit 0"
is "$out" "$(cat "$T/canon")" "canonical records pass through byte for byte"
printf '%s\n' "$out" >"$T/pass1"
IN=$T/pass1 run t-records
is "$out" "$(cat "$T/pass1")" "a second pass changes nothing"

# Other spellings of the same values keep their values (the text may
# change: spaces go, \u00e9 becomes é, 1e3 becomes 1000).
cat >"$T/loose" <<'EOF'
{ "a" : 1.5 , "b": 1e3, "c": 4294967296, "d": "\u00e9\ud83d\ude00", "e": 1.0,
  "f": -12.345678, "g": [ ], "h": 1E-7, "i": "\/", "j": 123456789012345,
  "k": 0.1, "l": 1.7976931348623157e308, "m": 5e-324, "n": 18014398509481984 }
EOF
tr -d '\n' <"$T/loose" >"$T/loose1"; echo >>"$T/loose1"
IN=$T/loose1 run t-records
is "$out" '{"a":1.5,"b":1000,"c":4294967296,"d":"é😀","e":1,"f":-12.345678,"g":[],"h":1e-07,"i":"/","j":123456789012345,"k":0.1,"l":1.7976931348623157e+308,"m":4.94065645841247e-324,"n":18014398509481984}' \
    "other spellings: same values, cJSON's spelling"

# Exactness of numbers: every double survives.  (cJSON 1.7.15 alone
# prints 15 digits whenever they come within one epsilon, which changed
# about one full-precision GPS coordinate in six; ndjson_emit prints the
# fewest digits that read back as the same double.)  Integers beyond
# 2^53 cannot survive any double-based parser; Immich sends none.
printf '%s\n' '{"lat":-7.271376167207961,"lon":39.86719336498831,"n":9007199254740991,"m":7090460912997901,"x":0.30000000000000004}' >"$T/exact"
IN=$T/exact run t-records
is "$out" "$(cat "$T/exact")" \
    "full-precision doubles and integers up to 2^53 survive"
python3 -c '
import json, random
random.seed(7)
for i in range(3000):
    print(json.dumps({"lat": random.uniform(-90, 90),
                      "lon": random.uniform(-180, 180),
                      "n": random.randint(0, 2**53)}))' >"$T/rand"
IN=$T/rand run t-records
python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(a != b)' "$T/rand" "$T/.out"
ok $? "3000 random coordinates and integers keep their values"

# --- bad lines -----------------------------------------------------------------
{
	printf '%s\n' '{"n":1}' 'not json' '{"n":3}' '[1,2]' '"str"' '{"n":6}'
	printf '{"n":7} trailing\n'
	printf 'nul\000byte\n'
	printf '{"n":9}\r\n'
	printf '\n   \n'
	printf '{"n":12}\n'
	printf '{"n":13,"trunc'
} >"$T/bad"
IN=$T/bad run t-records
is "$rc" 1 "bad lines: exit 1"
is "$(printf '%s\n' "$out" | tr '\n' ' ')" \
    '{"n":1} {"n":3} {"n":6} {"n":9} {"n":12} ' "the good lines go through"
like "$err" '^t-records: stdin:2: invalid JSON' "bad JSON: stdin:2"
like "$err" 't-records: stdin:4: not a JSON object' "an array: stdin:4"
like "$err" 't-records: stdin:5: not a JSON object' "a string: stdin:5"
like "$err" 't-records: stdin:7: trailing data' "trailing data: stdin:7"
like "$err" 't-records: stdin:8: NUL byte' "a NUL byte: stdin:8"
like "$err" 't-records: stdin:13: invalid JSON' \
    "a truncated last line (no newline): stdin:13"
is "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 6 "one message per bad line"
unlike "$err" 'stdin:(9|10|11|12):' "CRLF and blank lines are fine"

printf '{"last":"no newline"}' >"$T/nonl"
IN=$T/nonl run t-records
is "$rc:$out" '0:{"last":"no newline"}' "a complete last line without a newline"
: >"$T/empty"
IN=$T/empty run t-records
is "$rc:$out:$err" "0::" "empty input: nothing, exit 0"

# A big record (2 MB) is one line like any other.
python3 -c 'import json; print(json.dumps({"a": "x" * 2000000, "b": list(range(1000))}, separators=(",", ":")))' >"$T/big"
IN=$T/big run t-records
cmp -s "$T/.out" "$T/big"
ok $? "a 2 MB record passes through"

# --- a stage's key -------------------------------------------------------------
printf '%s\n' '{"a":1,"backup":{"old":1},"z":2}' >"$T/k"
IN=$T/k run t-records -k 'backup={"new":2}'
is "$out" '{"a":1,"backup":{"new":2},"z":2}' "a replaced key keeps its place"
IN=$T/k run t-records -k 'verified={"x":true}'
is "$out" '{"a":1,"backup":{"old":1},"z":2,"verified":{"x":true}}' \
    "a new key goes last"

# --- output errors -------------------------------------------------------------
python3 -c '
for i in range(20000): print("{\"i\":%d,\"pad\":\"%s\"}" % (i, "p" * 100))' >"$T/many"
{ t-records <"$T/many" 2>"$T/pipe.err"; echo $? >"$T/pipe.rc"; } | head -1 >"$T/pipe.out"
is "$(cat "$T/pipe.out")" "{\"i\":0,\"pad\":\"$(printf '%100s' '' | tr ' ' p)\"}" \
    "| head -1: the first record"
is "$(cat "$T/pipe.err")" "" "| head -1: no error message"
is "$(cat "$T/pipe.rc")" 141 "| head -1: ends by SIGPIPE like any filter"

if [ -w /dev/full ]; then
	t-records <"$T/many" >/dev/full 2>"$T/full.err"
	is "$?" 3 "a full disk: exit 3"
	like "$(cat "$T/full.err")" '^t-records: write error: No space left on device$' \
	    "... with one message"
	t-records <"$T/k" >/dev/full 2>"$T/full.err"
	is "$?" 3 "a small output to a full disk: exit 3"
	like "$(cat "$T/full.err")" '^t-records: write error' "... with a message"
else
	for i in 1 2 3 4; do ok 0 "# SKIP no /dev/full"; done
fi

# Reading stops at the first record when nothing reads the output.
{ t-records <"$T/many" 2>"$T/p2.err"; } | true
is "$(cat "$T/p2.err")" "" "a reader that exits at once: no message"

# Invalid UTF-8 in a string is passed on as it is (cJSON does not check).
printf '{"s":"\377"}\n' >"$T/u8"
IN=$T/u8 run t-records
is "$rc:$(printf '%s' "$out" | od -An -tx1 | tr -d ' ')" '0:7b2273223a22ff227d' \
    "invalid UTF-8 passes through unchanged"
# A lone surrogate escape is refused by cJSON: reported like bad JSON.
printf '%s\n' '{"s":"\ud800"}' >"$T/sur"
IN=$T/sur run t-records
is "$rc" 1 "a lone surrogate escape is a bad line"
like "$err" 'stdin:1: invalid JSON' "... reported with its line"
# Duplicate keys pass through (both kept).
printf '%s\n' '{"a":1,"a":2}' >"$T/dup"
IN=$T/dup run t-records
is "$out" '{"a":1,"a":2}' "duplicate keys pass through"

# An error whose text came from a server (a name holding ESC, BEL, a C1
# CSI, a newline): the record keeps it as it is, stderr shows its control
# characters as \uXXXX, so none reaches the terminal (audit D12).
printf '%s\n' '{"a":1}' >"$T/one"
m=$(printf 'album \033]0;pwned\007\033[31mred\302\2332J\nnext')
IN=$T/one run t-records -e "$m"
is "$(printf '%s\n' "$out" | jq -r '.errors[0].message')" "$m" \
    "an error's message is kept as it is in the record"
is "$err" 't-records: stdin:1: album \u001b]0;pwned\u0007\u001b[31mred\u009b2J\u000anext' \
    "... and said on stderr with its control characters shown as \\uXXXX"

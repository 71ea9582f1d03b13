#!/bin/sh
# common/http.c against the fake server: retries on 5xx, 408, 429 and
# broken connections, Retry-After (seconds and HTTP date), 401/403 stop
# at once, both error-body shapes, resumed downloads, uploads, redirects
# not followed, and the API key never in any message.  Driver: t-http
# (tests/t-http.c).
. "$(dirname "$0")/lib.sh"

command -v t-http >/dev/null || skip_all "t-http not built (make testbins)"
command -v jq >/dev/null || skip_all "jq not installed"
plan 86

KEY=SECRET-KEY-must-not-leak
A=0b6f2a52-8c55-4f6e-9d1f-3b2a4c5d6e7f
M=7c9e6679-7425-40de-944b-e07fc1f90ae7
cat >"$T/lib.json" <<EOF
{"apiKey": "$KEY",
 "assets": [{"id": "$A", "originalFileName": "big.jpg",
	"size": 2500000, "seed": 7},
	{"id": "$M", "missing": true}]}
EOF
fake_start "$T/lib.json"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# Every run's stderr and stdout are kept, to look for the key at the end.
th() {
	run "$@"
	cat "$T/.err" "$T/.out" >>"$T/all"
}
mark() { _mark=$(wc -l <"$FAKE_LOG"); }
# Waits (up to 3 s, or $2 tenths) until N requests are logged since
# mark.  The fake logs a request before it replies (or closes), so once
# a client has exited the log holds every request it sent: "no retry
# happened" is checked on the log right after the client, with no wait.
waitlog() {
	_w=0
	while [ $(($(wc -l <"$FAKE_LOG") - _mark)) -lt "$1" ] &&
	    [ $_w -lt "${2:-30}" ]
	do
		sleep 0.1
		_w=$((_w + 1))
	done
}
last() { waitlog 1; tail -1 "$FAKE_LOG"; }
# The requests logged since mark, as "METHOD PATH STATUS" lines.
since() {
	tail -n +"$((_mark + 1))" "$FAKE_LOG" |
	    jq -r '"\(.method) \(.path) \(.status)"'
}
nsince() { since | wc -l | tr -d ' '; }
# Seconds between the first two requests since mark.
gap() {
	tail -n +"$((_mark + 1))" "$FAKE_LOG" | jq -s -r '.[1].t - .[0].t'
}
faults() { fake_ctl POST /_fake/faults "$1" >/dev/null; }
clear() { fake_ctl DELETE /_fake/faults >/dev/null; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# --- plain requests ----------------------------------------------------------
mark
th t-http GET /server/ping
is "$rc" 0 "GET /server/ping"
like "$out" '"res": ?"pong"' "the body is printed"
mark
th t-http GET /users/me
is "$rc" 0 "the key is sent as x-api-key"
is "$(last | jq .keyInQuery)" false "the key is not in the query"
mark
th t-http GET "/albums?assetId=$A"
is "$(last | jq -r .query.assetId)" "$A" "a query string reaches the server"
th t-http PUT "/assets/$A" '{"description":"hello"}'
is "$(fake_state | jq -r ".assets[] | select(.id==\"$A\") | .exifInfo.description")" \
    hello "PUT with a JSON body"

# --- retries -----------------------------------------------------------------
mark
faults '{"path":"^/api/users/me$","action":"status","status":503}'
th t-http GET /users/me
is "$rc" 0 "503 then 200: success"
waitlog 2
is "$(since | tr '\n' ,)" "GET /api/users/me 503,GET /api/users/me 200," \
    "503 then 200: two requests"
like "$err" '^t-http: GET /api/users/me: HTTP 503 Service Unavailable(: .*)?, retrying in [0-9.]+ s \(attempt 2 of 6\)$' \
    "503: a warning names method, path, status and attempt"
like "$out" 'requests 2' "http_requests counts both attempts"

mark
faults '[{"path":"^/api/users/me$","action":"status","status":500},
	{"path":"^/api/users/me$","action":"status","status":502},
	{"path":"^/api/users/me$","action":"status","status":504},
	{"path":"^/api/users/me$","action":"status","status":408}]'
th t-http GET /users/me
is "$rc" 0 "500, 502, 504, 408 then 200: success"
waitlog 5
is "$(since | awk '{print $3}' | tr '\n' ' ')" "500 502 504 408 200 " \
    "500, 502, 504 and 408 are each retried"
is "$(printf '%s\n' "$err" | grep -c retrying)" 4 "one warning per retry"

mark
faults '{"path":"^/api/users/me$","action":"close"}'
th t-http GET /users/me
is "$rc" 0 "a connection closed without a reply is retried"
like "$err" 'users/me: .*retrying in' "... with a warning"
waitlog 2
is "$(nsince)" 2 "... two requests"
like "$out" 'requests 2' "... and counted as an attempt"

mark
faults '{"path":"^/api/users/me$","action":"reset","afterBytes":10}'
th t-http GET /users/me
is "$rc" 0 "a connection reset mid-reply is retried"
waitlog 2
is "$(nsince)" 2 "... two requests"

mark
faults '{"path":"^/api/users/me$","action":"status","status":400}'
th t-http GET /users/me
is "$rc" 1 "400 is not retried"
is "$(nsince)" 1 "... one request"
like "$out" 'requests 1$' "... and one attempt, as the client counts"
clear

# Retries exhausted.
mark
faults '{"path":"^/api/users/me$","action":"status","status":503,"times":-1}'
th env IMMICH_RETRIES=2 t-http GET /users/me
clear
is "$rc" 3 "503 forever: gives up (-1)"
waitlog 3
is "$(nsince)" 3 "... after IMMICH_RETRIES=2 retries, 3 requests"
like "$out" 'msg: HTTP 503 Service Unavailable.*gave up after 3 attempts' \
    "... and says why"
like "$err" 'attempt 3 of 3' "... the last warning says attempt 3 of 3"

# A long message in UTF-8 is cut at a character boundary.
long=$(python3 -c 'print("é" * 400 + "x")')
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":503,\"body\":{\"message\":\"$long\"}}"
th env IMMICH_RETRIES=0 t-http GET /users/me
printf '%s\n' "$out" | grep '^msg:' >"$T/long"
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/long"
ok $? "a long UTF-8 message is cut at a character boundary"
like "$(cat "$T/long")" '^msg: HTTP 503 Service Unavailable: éé.*' "... and still says what happened"

# Nothing listens: connection refused.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
th env IMMICH_INSTANCE_URL=http://127.0.0.1:$port IMMICH_RETRIES=1 t-http GET /users/me
is "$rc" 3 "connection refused: gives up"
like "$err" "GET /api/users/me: .*onnect.*retrying in .*attempt 2 of 2" \
    "... after one retry with a warning"
like "$out" 'msg: .*onnect.*gave up after 2 attempts' "... and says why"

# --- Retry-After ---------------------------------------------------------------
# IMMICH_RETRY_DELAY is 0.05 s here: ignoring Retry-After would retry
# within 0.1 s.
mark
faults '{"path":"^/api/users/me$","action":"status","status":429,"retryAfter":"1"}'
th t-http GET /users/me
is "$rc" 0 "429 with Retry-After: 1, then 200"
waitlog 2
g=$(gap)
ge "$g" 0.9
ok $? "Retry-After: 1 honoured (requests $g s apart)"
like "$err" 'HTTP 429 Too Many Requests.*retrying in 1\.0 s' \
    "the warning gives the wait"

# The wait must last until the date: the retry arrives at or after it.
mark
D=$(($(date +%s) + 2))
d=$(LC_ALL=C date -u -d "@$D" '+%a, %d %b %Y %H:%M:%S GMT')
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":503,\"retryAfter\":\"$d\"}"
th t-http GET /users/me
is "$rc" 0 "503 with Retry-After as an HTTP date, then 200"
waitlog 2
t=$(tail -n +"$((_mark + 1))" "$FAKE_LOG" | jq -s -r '"\(.[0].t) \(.[1].t)"')
ge "${t#* }" "$((D))"
ok $? "Retry-After date honoured (retry at ${t#* }, date $D, first try ${t% *})"

# --- 401 and 403 stop at once --------------------------------------------------
mark
th env IMMICH_API_KEY=wrong-key-also-secret t-http GET /users/me
is "$rc" 3 "401: exit 3"
is "$err" "t-http: GET /api/users/me: HTTP 401: Invalid API key (check IMMICH_API_KEY)" \
    "401: quotes the server and says what to check"
is "$(nsince)" 1 "401: not retried"
unlike "$err$out" 'wrong-key-also-secret' "401: the wrong key is not shown"

fake_ctl POST /_fake/config '{"permissions":["asset.read"]}' >/dev/null
mark
th t-http GET /duplicates
fake_ctl POST /_fake/config '{"permissions":["all"]}' >/dev/null
is "$rc" 3 "403: exit 3"
is "$err" "t-http: GET /api/duplicates: HTTP 403: Missing required permission: duplicate.read (the API key lacks this permission)" \
    "403: quotes the missing permission"
is "$(nsince)" 1 "403: not retried"

# --- error bodies --------------------------------------------------------------
th t-http DELETE /assets '{"ids":["not-a-uuid"],"force":false}'
is "$rc" 1 "v3 validation error: a final reply"
like "$out" 'msg: Validation failed: ids\.0: Invalid UUID$' \
    "v3 validation error rendered with its path"
th t-http DELETE /assets '{"ids":["4d7f3a1e-2b4c-4e5f-8a9b-0c1d2e3f4a5b"],"force":false}'
is "$(printf '%s\n' "$out" | grep msg:)" "msg: Not found or no asset.delete access" \
    "v3 {message}"
fake_ctl POST /_fake/config '{"errorStyle":"v2"}' >/dev/null
th t-http DELETE /assets '{"ids":["not-a-uuid"],"force":false}'
b=$(printf '%s\n' "$out" | sed -n 2p)
fake_ctl POST /_fake/config '{"errorStyle":"v3"}' >/dev/null
is "$(printf '%s' "$b" | jq -r '.message|type')" array "v2 style: message is an array"
like "$out" "msg: $(printf '%s' "$b" | jq -r '.message|join("; ")')\$" \
    "v2 message array joined with '; '"
like "$b" '"statusCode": ?400' "v2 body has statusCode"
faults '{"path":"^/api/users/me$","action":"status","status":400,"body":{"error":"Bad Request","statusCode":400}}'
th t-http GET /users/me
like "$out" 'msg: Bad Request$' "a body with only 'error'"
faults '{"path":"^/api/users/me$","action":"status","status":302,"headers":{"Location":"http://127.0.0.1:1/api/users/me?x=1"}}'
mark
th t-http GET /users/me
clear
is "$rc" 3 "a redirect is an error"
like "$err" 'HTTP 302 Found: the server redirects to http://127.0.0.1:1/api/users/me;' \
    "... saying where to (without the query)"
is "$(nsince)" 1 "... and is not followed"

# Bodies that are not JSON, through http_errmsg directly.
e() { printf "$1" | t-http -e; }
is "$(e '<html><head><title>502 Bad Gateway</title></head><body>x</body></html>')" \
    "502 Bad Gateway" "an HTML page: its title"
is "$(e 'upstream\tfailed\001!\nsecond line')" "upstream failed !" \
    "plain text: the first line, control bytes replaced"
is "$(e '\377bad\303')" "?bad?" "bad UTF-8 replaced"
is "$(e '')" "" "empty body: empty (the caller uses the reason phrase)"
is "$(head -c 1000 /dev/zero | tr '\0' x | t-http -e | wc -c)" 204 \
    "a long body is cut at about 200 bytes"

# --- streams -------------------------------------------------------------------
sum=$(fake_state | jq -r ".assets[] | select(.id==\"$A\") | .checksum")
mark
th t-http -s "/assets/$A/original" -o "$T/o1"
is "$rc" 0 "a stream"
like "$out" "sha1 $sum" "... its SHA-1 is the checksum"
like "$out" '^start 0 2500000' "... start(0, total)"

mark
faults "{\"path\":\"^/api/assets/$A/original\$\",\"action\":\"reset\",\"afterBytes\":1000000}"
th t-http -s "/assets/$A/original" -o "$T/o2"
is "$rc" 0 "a stream reset mid-body is resumed"
waitlog 2
r=$(tail -n +"$((_mark + 1))" "$FAKE_LOG" | jq -r '.range' | tr '\n' ' ')
like "$r" '^null bytes=[1-9][0-9]*- $' "... with a Range from the bytes received ($r)"
like "$out" "sha1 $sum" "... and the result has the right SHA-1"
n=${r#null bytes=}; n=${n%- }
like "$out" "start $n 2500000" "... start() told the new offset"
like "$err" "transfer cut at byte $n: .*resuming in" "... with a warning"

mark
faults "{\"path\":\"^/api/assets/$A/original\$\",\"action\":\"short\",\"afterBytes\":700000}"
th t-http -s "/assets/$A/original" -o "$T/o3"
like "$out" "sha1 $sum" "a short body is resumed too"
waitlog 2
is "$(nsince)" 2 "... two requests"

faults "{\"path\":\"^/api/assets/$A/original\$\",\"action\":\"reset\",\"afterBytes\":1000000}"
th t-http -N -s "/assets/$A/original" -o "$T/o4"
is "$rc" 3 "without resume a cut stream fails"
like "$out" 'msg: transfer cut at byte' "... saying where"

mark
# (No body bytes before the stall: curl averages the speed over a few
# seconds, so bytes just before a stall would delay the cut.)
faults "{\"path\":\"^/api/assets/$A/original\$\",\"action\":\"stall\",\"seconds\":3,\"afterBytes\":0}"
th env IMMICH_LOW_SPEED_TIME=1 t-http -s "/assets/$A/original" -o "$T/o5"
like "$out" "sha1 $sum" "a stalled stream is cut (IMMICH_LOW_SPEED_TIME) and retried"
like "$err" 'transfer cut at byte 0: Operation too slow.*resuming' "... with a warning"
waitlog 2 50	# the stalled request is logged when its stall ends

mark
th t-http -r 2000000 -s "/assets/$A/original" -o "$T/o6"
waitlog 1
is "$(since; last | jq -r .range)" \
    "GET /api/assets/$A/original 206
bytes=2000000-" "a stream from an offset asks for a Range"
like "$out" 'start 2000000 2500000' "... and start() gets the offset"

th t-http -r 5 -s /server/ping -o "$T/o9"
like "$out" '^start 0 [0-9]+' "a 200 to a Range request: start() restarts at 0"
like "$out" 'status 200' "... and the whole body is taken"
is "$(cat "$T/o9")" '{"res":"pong"}' "... once"

th t-http -a 1000 -s "/assets/$A/original" -o "$T/o7"
is "$rc" 3 "a sink that aborts"
like "$out" 'msg: aborted by caller' "... ends the transfer"

th t-http -s "/assets/$M/original" -o "$T/o8"
is "$rc" 1 "a missing original: a final 404"
like "$out" 'msg: Not Found' "... with the server's message"

# --- upload --------------------------------------------------------------------
printf 'brand new bytes\n' >"$T/up.jpg"
mark
th t-http -u /assets "$T/up.jpg" up.jpg fileCreatedAt=2020-01-02T03:04:05.000Z \
    fileModifiedAt=2020-01-02T03:04:05.000Z
like "$out" '"status": ?"created"' "an upload"
is "$(last | jq -r '"\(.body.fileCreatedAt) \(.body.assetData.filename) \(.body.assetData.size)"')" \
    "2020-01-02T03:04:05.000Z up.jpg 16" "... sends its fields and the file"

# A server that echoes the key: it is masked in the message and body.
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":400,\"body\":{\"message\":\"bad key $KEY here\"}}"
th t-http GET /users/me
like "$out" 'msg: bad key \*\*\* here' "a key echoed by the server is masked"

# --- the key -------------------------------------------------------------------
test -s "$T/all"
ok $? "the runs wrote messages"
if grep -q -e "$KEY" -e wrong-key-also-secret "$T/all"; then
	ok 1 "the API key appears in no message"
	grep -e "$KEY" "$T/all" | sed 's/^/# /'
else
	ok 0 "the API key appears in no message"
fi

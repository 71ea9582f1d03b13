#!/bin/sh
# Settings (common/env.c, read by http_init): a missing or bad setting
# exits 2 naming the variable; the URL works with or without /api and a
# trailing slash; IMMICH_API_KEY_FILE; numeric settings checked.  The
# key never appears in a message.  Driver: t-http (tests/t-http.c).
. "$(dirname "$0")/lib.sh"

command -v t-http >/dev/null || skip_all "t-http not built (make testbins)"
command -v jq >/dev/null || skip_all "jq not installed"
plan 44

KEY=SECRET-KEY-must-not-leak
echo "{\"apiKey\": \"$KEY\"}" >"$T/lib.json"
fake_start "$T/lib.json"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset IMMICH_API_KEY_FILE IMMICH_RETRIES IMMICH_CONNECT_TIMEOUT \
    IMMICH_LOW_SPEED_TIME

# Waits (up to 3 s) for N log lines after line $n: the server logs a
# request after its reply.
waitlog() {
	_w=0
	while [ $(($(wc -l <"$FAKE_LOG") - n)) -lt "$1" ] && [ $_w -lt 30 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
}
th() {
	run "$@"
	cat "$T/.err" "$T/.out" >>"$T/all"
}
# A setting that must be refused: exit 2 and a message naming it.
refused() {
	_name=$1; shift
	th env "$@" t-http GET /server/ping
	is "$rc" 2 "$* refused (exit 2)"
	like "$err" "^t-http: .*$_name" "... naming $_name"
}

# --- the URL -------------------------------------------------------------------
th env -u IMMICH_INSTANCE_URL t-http GET /server/ping
is "$rc" 2 "unset IMMICH_INSTANCE_URL: exit 2"
like "$err" 'IMMICH_INSTANCE_URL is not set' "... naming IMMICH_INSTANCE_URL"
refused IMMICH_INSTANCE_URL IMMICH_INSTANCE_URL=
refused IMMICH_INSTANCE_URL IMMICH_INSTANCE_URL=127.0.0.1:2283
refused IMMICH_INSTANCE_URL IMMICH_INSTANCE_URL=ftp://127.0.0.1/
refused IMMICH_INSTANCE_URL "IMMICH_INSTANCE_URL=http://127.0.0.1/ x"

for u in "$FAKE" "$FAKE/" "$FAKE/api" "$FAKE/api/" "$FAKE//"; do
	n=$(wc -l <"$FAKE_LOG")
	th env IMMICH_INSTANCE_URL="$u" t-http GET /users/me
	waitlog 1
	is "$rc:$(tail -n +"$((n + 1))" "$FAKE_LOG" | jq -r .path)" \
	    "0:/api/users/me" "IMMICH_INSTANCE_URL=$u requests /api/users/me"
done

# --- the key -------------------------------------------------------------------
th env -u IMMICH_API_KEY t-http GET /users/me
is "$rc" 2 "unset IMMICH_API_KEY: exit 2"
like "$err" 'IMMICH_API_KEY is not set.*IMMICH_API_KEY_FILE' \
    "... saying to set IMMICH_API_KEY or IMMICH_API_KEY_FILE"

printf '%s\n' "$KEY" >"$T/keyfile"
chmod 600 "$T/keyfile"
th env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/keyfile" t-http GET /users/me
is "$rc" 0 "IMMICH_API_KEY_FILE (key and a newline) works"
printf '%s\r\n' "$KEY" >"$T/keyfile2"
th env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/keyfile2" t-http GET /users/me
is "$rc" 0 "... with a CRLF line end too"
th env IMMICH_API_KEY_FILE="$T/keyfile" t-http GET /users/me
is "$rc" 2 "both IMMICH_API_KEY and IMMICH_API_KEY_FILE: exit 2"
like "$err" 'set only one' "... asking for only one"
th env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/nonexistent" t-http GET /users/me
is "$rc" 2 "a missing key file: exit 2"
like "$err" "IMMICH_API_KEY_FILE: $T/nonexistent: No such file" \
    "... naming the variable and the file"
: >"$T/empty"
th env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/empty" t-http GET /users/me
is "$rc" 2 "an empty key file: exit 2"
like "$err" 'IMMICH_API_KEY_FILE: .*empty' "... says so"
th env IMMICH_API_KEY="$(printf 'a\tb')" t-http GET /users/me
is "$rc" 2 "a key with a control character: exit 2"

n=$(wc -l <"$FAKE_LOG")
th env IMMICH_API_KEY=not-the-key t-http GET /users/me
waitlog 1
is "$rc" 3 "a wrong key: exit 3"
like "$err" 'HTTP 401: Invalid API key \(check IMMICH_API_KEY\)' \
    "... quoting the server"
is "$(tail -n +"$((n + 1))" "$FAKE_LOG" | wc -l | tr -d ' ')" 1 \
    "... after one request"

# --- numeric settings ----------------------------------------------------------
refused IMMICH_RETRIES IMMICH_RETRIES=abc
refused IMMICH_RETRIES IMMICH_RETRIES=101
refused IMMICH_RETRY_DELAY IMMICH_RETRY_DELAY=-1
refused IMMICH_CONNECT_TIMEOUT IMMICH_CONNECT_TIMEOUT=0
refused IMMICH_LOW_SPEED_TIME IMMICH_LOW_SPEED_TIME=1.5
refused IMMICH_RATE IMMICH_RATE=fast

fake_ctl POST /_fake/faults \
    '{"path":"^/api/users/me$","action":"status","status":503,"times":-1}' >/dev/null
n=$(wc -l <"$FAKE_LOG")
th env IMMICH_RETRIES=0 IMMICH_RETRY_DELAY=0.5 t-http GET /users/me
waitlog 1
fake_ctl DELETE /_fake/faults >/dev/null
is "$rc:$(tail -n +"$((n + 1))" "$FAKE_LOG" | wc -l | tr -d ' ')" 3:1 \
    "IMMICH_RETRIES=0: one attempt, then fail"

test -s "$T/all"
ok $? "the runs wrote messages"
if grep -q -e "$KEY" -e not-the-key "$T/all"; then
	ok 1 "the API key appears in no message"
else
	ok 0 "the API key appears in no message"
fi

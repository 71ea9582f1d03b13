#!/bin/sh
# The API key echoed by a server never reaches a message (security audit
# D4): not in a reason phrase (retry warnings, redirect errors), and not
# in part when an error body, a message or a Location is cut to length
# (the raw text is redacted before it is cut).  Driver: t-http.
. "$(dirname "$0")/lib.sh"

command -v t-http >/dev/null || skip_all "t-http not built (make testbins)"
command -v jq >/dev/null || skip_all "jq not installed"
plan 18

KEY=SECRET-KEY-must-not-leak
echo "{\"apiKey\": \"$KEY\"}" >"$T/lib.json"
fake_start "$T/lib.json"
th() {
	run "$@"
	printf '%s\n%s\n' "$err" "$out" >>"$T/all"
}
faults() { fake_ctl POST /_fake/faults "$1" >/dev/null; }
x() { python3 -c "import sys; print(sys.argv[1] * int(sys.argv[2]), end='')" "$1" "$2"; }
# No part of the key (its first 8 characters) in the last run's output.
noleak() {
	if printf '%s\n%s\n' "$err" "$out" | grep -q -e "${KEY%"${KEY#????????}"}"; then
		_result 1 "$1"
		printf '%s\n%s\n' "$err" "$out" | grep -e SECRET | sed 's/^/# /'
	else
		_result 0 "$1"
	fi
}

# A reason phrase holding the key, in a retry warning.
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":503,\"reason\":\"Unavailable $KEY\"}"
th t-http GET /users/me
is "$rc" 0 "503 with the key in its reason phrase, then 200"
like "$err" '^t-http: GET /api/users/me: HTTP 503 Unavailable \*\*\*: Service Unavailable, retrying' \
    "... the retry warning shows the reason masked"
noleak "... no part of the key"

# A long reason phrase, the key across its cut.
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":503,\"reason\":\"$(x r 50) $KEY tail\"}"
th t-http GET /users/me
like "$err" "HTTP 503 $(x r 50) \\*\\*\\* tail: " "a long reason phrase: masked before it is cut"
noleak "... no part of the key"

# A redirect: the key in the reason phrase and in the Location.
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":302,\"reason\":\"Moved $KEY\",\"headers\":{\"Location\":\"http://evil.example/$KEY/x\"}}"
th t-http GET /users/me
is "$rc" 3 "a redirect is fatal"
like "$err" '^t-http: GET /api/users/me: HTTP 302 Moved \*\*\*: the server redirects to http://evil.example/\*\*\*/x;' \
    "... the reason and the Location are masked"
noleak "... no part of the key"

# A Location longer than the message keeps, the key across the cut.
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":302,\"headers\":{\"Location\":\"http://evil.example/$(x p 215)$KEY/x\"}}"
th t-http GET /users/me
like "$err" 'the server redirects to http://evil.example/ppp' "a long Location is shown cut"
noleak "... without a part of the key"

# A plain-text error body cut at about 200 bytes, the key across the cut.
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":400,\"text\":\"$(x x 180) $KEY more text\"}"
th t-http GET /users/me
is "$rc" 1 "a plain-text 400 body"
like "$out" "msg: $(x x 180) (\\*\\*\\*|\\.\\.\\.)" "... is shown cut"
noleak "... without a part of the key"

# The same as a retried 500 (the warning) that gives up (the message).
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":500,\"times\":2,\"text\":\"$(x x 180) $KEY more text\"}"
th env IMMICH_RETRIES=1 t-http GET /users/me
like "$err" 'HTTP 500 Internal Server Error: xxx.*retrying' "a plain-text 500 body in a retry warning"
noleak "... without a part of the key"

# A JSON message longer than the message buffer, the key across the cut.
faults "{\"path\":\"^/api/users/me$\",\"action\":\"status\",\"status\":400,\"body\":{\"message\":\"$(x y 490) $KEY more\"}}"
th t-http GET /users/me
like "$out" "msg: $(x y 490) " "a long JSON message is shown cut"
noleak "... without a part of the key"

if grep -q -e "${KEY%"${KEY#????????}"}" "$T/all"; then
	_result 1 "the key appears in no message"
else
	_result 0 "the key appears in no message"
fi

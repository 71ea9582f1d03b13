#!/bin/sh
# Warnings about the key's exposure (security audit D8, common/env.c):
# plain http:// to a host that is not this machine, and a key file that
# its group or others can read; each said once.  The runs to other hosts
# stop at a bad IMMICH_RETRIES, read after the URL: nothing is sent.
# Driver: t-http.
. "$(dirname "$0")/lib.sh"

command -v t-http >/dev/null || skip_all "t-http not built (make testbins)"
command -v jq >/dev/null || skip_all "jq not installed"
plan 17

KEY=SECRET-KEY-must-not-leak
echo "{\"apiKey\": \"$KEY\"}" >"$T/lib.json"
fake_start "$T/lib.json"
unset IMMICH_API_KEY_FILE IMMICH_RETRIES

th() {
	run "$@"
	cat "$T/.err" "$T/.out" >>"$T/all"
}
W='the API key travels unencrypted'
# The URL's warning, for a run that stops before any request.
url() {
	th env IMMICH_INSTANCE_URL="$1" IMMICH_RETRIES=x t-http GET /users/me
}
url http://192.0.2.1:2283
is "$rc" 2 "http:// to another host, then a bad setting: exit 2"
like "$err" "^t-http: IMMICH_INSTANCE_URL is plain http:// to 192\\.0\\.2\\.1, not this machine: $W; use https://\$" \
    "... warns that the key travels unencrypted, naming the host"
like "$err" "IMMICH_RETRIES: 'x'" "... then the bad setting stops it"
url http://user@Photos.Example.ORG/api/
like "$err" "plain http:// to Photos\\.Example\\.ORG, not this machine" \
    "a host name (after user info): warned"
url 'http://[2001:db8::1]:2283'
like "$err" "plain http:// to 2001:db8::1, not this machine" "an IPv6 address: warned"
n=0
for u in https://192.0.2.1 http://localhost:1 http://LOCALHOST. \
    http://x.localhost http://127.0.0.1 http://127.8.9.10:80/api \
    'http://[::1]:2283' "$FAKE"; do
	url "$u"
	case $err in *unencrypted*) diag "warned: $u";; *) n=$((n + 1));; esac
done
is "$n" 8 "no warning for https:// or a loopback host (8 URLs)"

th t-http -n 3 GET /users/me
is "$rc:$err" "0:" "the fake on 127.0.0.1: no warning"

# The key file's mode.
printf '%s\n' "$KEY" >"$T/key"
kf() {
	chmod "$1" "$T/key"
	th env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/key" t-http -n 3 GET /users/me
}
kf 600
is "$rc:$err" "0:" "a key file of mode 0600: no warning"
kf 400
is "$rc:$err" "0:" "... nor 0400"
kf 644
is "$rc" 0 "a key file of mode 0644 is still used"
like "$err" "^t-http: IMMICH_API_KEY_FILE: $T/key can be read by others \\(mode 644\\): chmod 600 it" \
    "... with a warning naming the file, who can read it and the mode"
is "$(printf '%s\n' "$err" | grep -c 'can be read')" 1 \
    "... once, for three requests"
kf 640
like "$err" "can be read by its group \\(mode 640\\)" "a key file of mode 0640: warned (group)"
kf 604
like "$err" "can be read by others \\(mode 604\\)" "a key file of mode 0604: warned (others)"
ln -s "$T/key" "$T/keylink"
chmod 644 "$T/key"
th env -u IMMICH_API_KEY IMMICH_API_KEY_FILE="$T/keylink" t-http GET /users/me
like "$err" "IMMICH_API_KEY_FILE: $T/keylink can be read by others" \
    "a link to a readable key file: warned (the file's mode counts)"

kf 600
is "$rc" 0 "(the key file works)"
grep -q -e "$KEY" "$T/all"
is "$?" 1 "the key is in no message"

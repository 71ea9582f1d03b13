#!/bin/sh
# Conformance mode itself (tests/conformance/, IMMICH_CONFORMANCE=1): Prism,
# running the real Immich OpenAPI spec in front of the fake, catches a
# request the real server would refuse (rating "5", a missing body, a wrong
# content type, an upload without its dates) and a reply it could not give,
# while bytes (downloads, ranges, uploads) pass through intact.  Also: the
# list of endpoints the tools use (tests/conformance/endpoints.txt) agrees
# with the spec, the sources and man/immich.7.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null && command -v jq >/dev/null ||
    skip_all "needs curl and jq"
[ -f "$IMMICH_SPEC" ] ||
    skip_all "no OpenAPI spec at $IMMICH_SPEC (set IMMICH_SPEC)"
# This file checks the mode by breaking the contract on purpose: it never
# runs under the mode's own end-of-test check.
IMMICH_CONFORMANCE=0
plan 29
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $*"; }

S=$IMMICH_SPEC
E=$CONF_DIR/endpoints.txt
TOP=$TESTDIR/..
list=$(grep -v '^#' "$E" | grep .)

# ---- The endpoint list against the spec.
bad=$(printf '%s\n' "$list" | awk 'NF != 4')
is "$bad" "" "endpoints.txt: every line is METHOD PATH PERMISSION STAGES"
missing= wrongperm=
while read -r m p perm stages; do
	m=$(printf '%s' "$m" | tr 'A-Z' 'a-z')
	got=$(jq -r --arg p "$p" --arg m "$m" '.paths[$p][$m] |
	    if . == null then "MISSING"
	    else (."x-immich-permission" //
	        (if (.security // []) == [] then "-" else "all" end)) end' "$S")
	if [ "$got" = MISSING ]; then
		missing="$missing $m $p;"
	elif [ "$got" != "$perm" ]; then
		wrongperm="$wrongperm $m $p: list $perm, spec $got;"
	fi
done <<EOF
$list
EOF
is "$missing" "" "every listed endpoint is in the spec with that method"
is "$wrongperm" "" "every listed permission is the spec's x-immich-permission"

# ---- The endpoint list against the sources: every API path literal in
# cmd/ and common/ ("/assets/%s/original", "/albums?assetId=%s", ...) is a
# listed path.  make conformance checks the requests actually sent.
tops=$(jq -r '.paths | keys[] | split("/")[1]' "$S" | sort -u | tr '\n' '|')
tops=${tops%|}
lits=$(cat "$TOP"/cmd/*.c "$TOP"/common/*.c 2>/dev/null |
    grep -oE "\"(/api)?/($tops)(/[^\"? ]*)?[?\"]" |
    sed -E 's/^"//; s/[?"]$//; s|^/api/|/|; s|/%s|/{}|g; s/%[0-9.]*[a-z]+//g' |
    sort -u)
canon=$(printf '%s\n' "$list" | awk '{print $2}' | sed -E 's/\{[^}]*\}/{}/g')
uncovered=
for l in $lits; do
	printf '%s\n' "$canon" | grep -Fqx -- "$l" || uncovered="$uncovered $l"
done
ok $([ -n "$lits" ]; echo $?) "API paths found in the sources ($(echo $lits | wc -w))"
is "$uncovered" "" "every API path in the sources is listed"

# ---- The list against man/immich.7: each stage's permissions there are
# the ones its endpoints need.
mandiff=
for st in $(printf '%s\n' "$list" | awk '{print $4}' | tr ',' '\n' | sort -u); do
	[ -f "$TOP/cmd/immich-$st.c" ] || continue
	want=$(printf '%s\n' "$list" | awk -v s="$st" '
	    { n = split($4, a, ","); for (i = 1; i <= n; i++)
	      if (a[i] == s && $3 != "-") print $3 }' | sort -u | tr '\n' ' ')
	have=$(sed -n '/^\.Sh API KEY PERMISSIONS/,/^\.Sh /p' \
	    "$TOP/man/immich.7" | awk -v s="immich-$st" '
	    /^\.It / { on = ($3 == s) ; next } on && /^\.Cm / {
	      sub(/^\.Cm /, ""); gsub(/[ ,]+/, "\n"); print }' |
	    grep . | sort -u | tr '\n' ' ')
	[ "$want" = "$have" ] || mandiff="$mandiff $st: needs [$want] man [$have];"
done
is "$mandiff" "" "man/immich.7 gives each stage the permissions its endpoints need"

# ---- Prism.
if [ ! -x "$CONF_DIR/node_modules/.bin/prism" ]; then
	for i in $(seq $((_n + 1)) 29); do
		skip "Prism not installed (sh tests/conformance/setup.sh)"
	done
	exit 0
fi
A=11111111-1111-4111-8111-111111111111
B=22222222-2222-4222-8222-222222222222
cat >"$T/lib.json" <<JSON
{"apiKey": "k-conf", "assets": [
 {"id": "$A", "originalFileName": "a.jpg", "content": "hello world",
  "exifInfo": {"rating": 2}},
 {"id": "$B", "originalFileName": "b.jpg", "size": 300000, "seed": "b"}]}
JSON
fake_start "$T/lib.json"
DIRECT=$IMMICH_INSTANCE_URL
prism_start
K="x-api-key: $IMMICH_API_KEY"
J='Content-Type: application/json'
viol() { jq -s "[.[] | select($1) | .violations[]] | length" "$CONF_LOG"; }
sent() { fake_log_count "$1"; }
IMMICH_RETRIES=0; export IMMICH_RETRIES

# The deliberately wrong request: a rating as a string.
run t-http PUT "/assets/$A" '{"rating":"5"}'
is "$rc" 1 "rating \"5\": the request fails"
like "$out" '^status 422' "rating \"5\": Prism answers 422"
like "$out" 'rating must be integer' "rating \"5\": with Prism's explanation"
is "$(sent '.method=="PUT"')" 0 "rating \"5\": the fake never saw it"
is "$(viol '.method=="PUT"' )" 2 "rating \"5\": logged as a violation"
is "$(fake_state | jq ".assets[]|select(.id==\"$A\")|.exifInfo.rating")" 2 \
    "rating \"5\": nothing changed"

# The right one passes, unchanged.
run t-http PUT "/assets/$A" '{"rating":5}'
like "$rc $out" '^0 status 200' "rating 5: 200"
is "$(sent '.method=="PUT"')" 1 "rating 5: the fake got it"
is "$(viol '.method=="PUT"')" 2 "rating 5: no new violation"

# A missing required body; a wrong content type.
code=$(curl -s -o "$T/b" -w '%{http_code}' -X DELETE -H "$K" \
    "$IMMICH_INSTANCE_URL/api/assets")
like "$code $(cat "$T/b")" '^4[0-9][0-9] .*prism' "DELETE /assets without a body: refused by Prism"
code=$(curl -s -o "$T/b" -w '%{http_code}' -X PUT -H "$K" \
    -H 'Content-Type: text/plain' -d '{"rating":5}' \
    "$IMMICH_INSTANCE_URL/api/assets/$A")
like "$code $(cat "$T/b")" '^4[0-9][0-9] .*prism' "PUT as text/plain: refused by Prism"
is "$(sent '.method=="DELETE"')-$(sent '.method=="PUT"')" 0-1 \
    "... and neither reached the fake"

# A reply the real server could not give: an asset without its fields.
fake_ctl POST /_fake/faults "{\"path\":\"^/api/assets/$B\$\",\"action\":\"status\",\"status\":200,\"body\":{\"id\":\"$B\"}}" >/dev/null
run t-http GET "/assets/$B"
like "$out" '^status 500' "a reply missing required fields: 500"
like "$out" 'VIOLATIONS|not valid' "... with Prism's explanation"
like "$(jq -r 'select(.path=="/api/assets/'"$B"'") | .violations[].message' "$CONF_LOG")" \
    "must have required property 'checksum'" "... logged: the missing field named"

# Bytes pass intact: a download, a range, an upload.
curl -s -H "$K" -o "$T/direct" "$DIRECT/api/assets/$B/original"
run t-http -s "/assets/$B/original" -o "$T/via"
cmp -s "$T/direct" "$T/via"
ok $? "download through Prism: byte for byte ($(wc -c <"$T/via" | tr -d ' ') bytes)"
run t-http -s "/assets/$B/original" -r 1000 -o "$T/part"
like "$out" '^status 206' "a Range request passes (206 is real, FACTS §5)"
like "$(jq -r 'select(.status==206) | "\(.validated) \(.exempt[])"' "$CONF_LOG")" \
    '^true download 206' "... validated, with the 206 exempt"
head -c 200000 /dev/urandom >"$T/up.jpg"
D=2024-01-01T00:00:00.000Z
run t-http -u /assets "$T/up.jpg" up.jpg fileCreatedAt=$D fileModifiedAt=$D
like "$out" '^status 201' "upload through Prism: 201"
is "$(jq -r 'select(.method=="POST" and .path=="/api/assets") | .body.assetData.sha1' "$FAKE_LOG")" \
    "$(openssl dgst -sha1 -binary "$T/up.jpg" | openssl base64)" \
    "... the fake got the same bytes"
run t-http -u /assets "$T/up.jpg" up.jpg fileModifiedAt=$D
like "$(printf '%s' "$out" | tr '\n' ' ')" "^status 422 .*fileCreatedAt" \
    "an upload without fileCreatedAt: refused by Prism"

# What the end-of-test check (prism_check) counts.
n=$(jq -s 'map(select(.validated)) | length' "$CONF_LOG")
v=$(jq -s 'map(select(.violations != [])) | length' "$CONF_LOG")
ok $([ "$n" -ge 5 ]; echo $?) "validated requests counted ($n)"
is "$v" 5 "the 5 deliberate violations counted, nothing else"

#!/bin/sh
# immich-fetch's unreachable policy (immich(7) EXIT STATUS), one count for
# every request (api.h: the asset's GET and, through api_seen, the
# download): it stops with 3 once three assets in a row got no reply, and
# a reply in between starts the count again.  No reply is said as such,
# with the real API prefix.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
plan 11

A1=0000000a-0000-4000-8000-000000000001
A2=0000000a-0000-4000-8000-000000000002
A3=0000000a-0000-4000-8000-000000000003
A4=0000000a-0000-4000-8000-000000000004
A5=0000000a-0000-4000-8000-000000000005
jq -n --arg a "$A1 $A2 $A3 $A4 $A5" '{assets: [$a | split(" ")[] |
    {id: ., originalFileName: (. + ".jpg"), content: ("bytes of " + .)}]}' \
    >"$T/lib.json"
fake_start "$T/lib.json"
K="x-api-key: $IMMICH_API_KEY"
# One plan record a loser, each with its asset as the server has it and
# its albums as immich-consolidate leaves them: the download is fetch's
# only request.
for id in $A1 $A2 $A3 $A4 $A5; do
	curl -sS -H "$K" "$FAKE/api/assets/$id" |
	    jq -c '{keep: "ffffffff-ffff-4fff-8fff-ffffffffffff", trash: [.id],
	    review: [], assets: [.], consolidated: {albums: {(.id): []}}}'
done >"$T/plan"

# The downloads get no reply at all (the connection closed): the third in
# a row stops the run.
fake_ctl POST /_fake/faults \
    '{"path":"/original$","action":"close","times":-1}' >/dev/null
IN=$T/plan IMMICH_RETRIES=0 run immich-fetch -q -d "$T/b1"
is "$rc" 3 "three downloads in a row without a reply: exit 3"
is "$(printf '%s\n' "$err" | grep -c ': GET /api/assets/[^ ]*/original: ')" 3 \
    "... after three of them"
like "$(printf '%s\n' "$err" | tail -n 1)" \
    "^immich-fetch: $IMMICH_INSTANCE_URL/api: server unreachable; stopping\$" "... saying why"
is "$(fake_log_count '.path | test("/original$")')" 3 \
    "... and no fourth download is tried"

# A reply between them starts the count again: the third download is
# answered, so four failures never make three in a row.
fake_ctl DELETE /_fake/faults >/dev/null
fake_ctl POST /_fake/faults "{\"path\":\"($A1|$A2|$A4|$A5)/original\$\",
    \"action\":\"close\",\"times\":-1}" >/dev/null
IN=$T/plan IMMICH_RETRIES=0 run immich-fetch -q -d "$T/b2"
is "$rc" 1 "no reply for assets 1, 2, 4, 5, a reply for 3: exit 1, not 3"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 5 "... every record written"
is "$(printf '%s\n' "$out" | jq -c '.backup | keys' | tr -d '\n')" \
    "[][][\"$A3\"][][]" "... the third one backed up"

# The server gone: the asset's GET (operands have no asset) gets no
# reply; the message says so, with the prefix.
fake_stop
IMMICH_RETRIES=0 run immich-fetch -q -d "$T/b3" $A1 $A2 $A3 $A4
is "$rc" 3 "the server gone: exit 3"
is "$(printf '%s\n' "$err" | grep -c "GET /api/assets/[^ ]*: no reply: ")" 3 \
    "... after three assets got no reply"
like "$(printf '%s\n' "$err" | head -n 1)" \
    "^immich-fetch: asset $A1: GET /api/assets/$A1: no reply: " \
    "... each named with the API prefix"
like "$(printf '%s\n' "$err" | tail -n 1)" \
    "server unreachable; stopping\$" "... saying why"

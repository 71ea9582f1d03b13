#!/bin/sh
# The Immich CLI's saved login: with none of IMMICH_INSTANCE_URL,
# IMMICH_API_KEY, IMMICH_API_KEY_FILE set, the tools read url: and key:
# from auth.yml in $IMMICH_CONFIG_DIR, else ~/.config/immich (and say so
# in their summary line); with the environment set, the environment wins
# and the file is not read.  A file readable by others is warned about.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
plan 22

python3 "$TESTDIR/mklib.py" --groups 3 >"$T/lib.json" || exit 1
fake_start "$T/lib.json"
URL=$IMMICH_INSTANCE_URL KEY=$IMMICH_API_KEY
unset IMMICH_INSTANCE_URL IMMICH_API_KEY IMMICH_API_KEY_FILE
export HOME="$T/home" IMMICH_CONFIG_DIR="$T/cfg"
mkdir -p "$HOME" "$T/cfg"
# As "immich login URL KEY" writes it (js-yaml, the URL with /api).
printf 'url: %s/api\nkey: %s\n' "$URL" "$KEY" >"$T/cfg/auth.yml"
chmod 600 "$T/cfg/auth.yml"

# The whole pipeline with only auth.yml.
{ immich-dupes 2>"$T/e1"; echo $? >"$T/rc1"; } |
{ immich-consolidate 2>"$T/e2"; echo $? >"$T/rc2"; } |
{ immich-fetch -d "$T/backup" 2>"$T/e3"; echo $? >"$T/rc3"; } |
{ immich-verify 2>"$T/e4"; echo $? >"$T/rc4"; } |
{ immich-trash 2>"$T/e5"; echo $? >"$T/rc5"; } >"$T/done.ndjson"
is "$(cat "$T/rc1" "$T/rc2" "$T/rc3" "$T/rc4" "$T/rc5" | tr '\n' ' ')" \
    "0 0 0 0 0 " "the pipeline runs with only auth.yml"
is "$(jq -c 'select(.trashed) | .trashed | length' "$T/done.ndjson" |
    wc -l | tr -d ' ')" 3 "every group's losers were trashed"
for i in 1 2 3 5; do
	like "$(cat "$T/e$i")" \
	    "^immich-[a-z]+: .*, server and key from $T/cfg/auth.yml$" \
	    "stage $i's summary line names auth.yml"
done
unlike "$(cat "$T/e1" "$T/e2" "$T/e3" "$T/e4" "$T/e5")" "$KEY|can be read|plain http" \
    "no key and no warning in any message"
n=$(fake_log_count '.path == "/api/duplicates"')
is "$n" 3 "the fake got GET /api/duplicates (from dupes, consolidate and trash)"

# ~/.config/immich when IMMICH_CONFIG_DIR is not set; a URL without /api.
mkdir -p "$HOME/.config/immich"
printf 'url: "%s"\nkey: %s\n' "$URL" "$KEY" >"$HOME/.config/immich/auth.yml"
chmod 600 "$HOME/.config/immich/auth.yml"
IMMICH_CONFIG_DIR= run immich-dupes
is "$rc" 0 "~/.config/immich/auth.yml: exit 0"
like "$err" "server and key from $HOME/.config/immich/auth.yml$" \
    "~/.config/immich/auth.yml: named in the summary"

# Readable by others: the same warning as a key file, and it still works.
chmod 644 "$T/cfg/auth.yml"
run immich-dupes
is "$rc" 0 "a group/other-readable auth.yml still works"
like "$err" "^immich-dupes: the Immich CLI's login: $T/cfg/auth.yml can be read by others \(mode 644\): chmod 600 it to keep the API key private$" \
    "a group/other-readable auth.yml: warned"
chmod 600 "$T/cfg/auth.yml"

# A plain http:// url to another host: warned as for IMMICH_INSTANCE_URL
# (the bad IMMICH_RETRIES, read after the URL, stops the run: nothing sent).
printf 'url: http://192.0.2.1:2283/api\nkey: %s\n' "$KEY" >"$T/cfg/auth.yml"
IMMICH_RETRIES=x run immich-dupes
like "$rc:$(printf '%s' "$err" | head -n 1)" "^2:immich-dupes: $T/cfg/auth.yml: url: is plain http:// to 192\.0\.2\.1, not this machine: the API key travels unencrypted; use https://\$" \
    "auth.yml: a plain http:// url to another host: warned"

# The environment wins: auth.yml points at a closed port with a wrong key.
printf 'url: http://127.0.0.1:9/api\nkey: wrong-key-from-yml\n' \
    >"$T/cfg/auth.yml"
IMMICH_INSTANCE_URL=$URL IMMICH_API_KEY=$KEY run immich-dupes
is "$rc" 0 "with both, the environment wins"
unlike "$err" "auth.yml|wrong-key" "with both, auth.yml is not mentioned"
printf '%s\n' "$KEY" >"$T/keyfile" && chmod 600 "$T/keyfile"
IMMICH_INSTANCE_URL=$URL IMMICH_API_KEY_FILE=$T/keyfile run immich-dupes
is "$rc" 0 "IMMICH_API_KEY_FILE wins over auth.yml too"
# One variable set: no mixing of the environment's server with the
# file's key (the key would go to a server it was not saved for).
IMMICH_INSTANCE_URL=$URL run immich-dupes
is "$rc:$out" "2:" "only IMMICH_INSTANCE_URL set: exit 2"
like "$err" "IMMICH_API_KEY is not set" \
    "only IMMICH_INSTANCE_URL set: the key is not taken from auth.yml"

# Broken files: exit 2, the file named, the key never shown.
printf 'url: %s\nkey: [%s\n' "$URL" "$KEY" >"$T/cfg/auth.yml"
run immich-dupes
is "$rc:$out" "2:" "not YAML: exit 2"
like "$err" "^immich-dupes: $T/cfg/auth.yml: line [0-9]+: " \
    "not YAML: the file and line named"
unlike "$err" "$KEY" "not YAML: the key is not shown"
printf 'url: %s\n' "$URL" >"$T/cfg/auth.yml"
run immich-dupes
is "$rc:$err" "2:immich-dupes: $T/cfg/auth.yml: no key: (run immich login URL KEY, or set IMMICH_INSTANCE_URL and IMMICH_API_KEY)" \
    "no key: in auth.yml: exit 2 and what to do"

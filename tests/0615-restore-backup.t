#!/bin/sh
# immich-restore uploads only a backup that immich-fetch made: the file its
# sidecar (ID.json) names, in the same folder, a folder of the user's own
# that no one else can write, not a symbolic link, whose SHA-1 is the one
# the sidecar recorded.  A hand-edited done.ndjson cannot make it upload
# any other local file.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
plan 17

F=$T/f
python3 "$TESTDIR/trash-fixture.py" "$F" evil || exit 1
. "$F/ids.sh"
fake_start "$F/lib.json"
res() { printf '%s\n' "$out" | jq -c --arg l "$L_evil" '.restored[$l] // empty'; }
uploads() { fake_log_count '.method=="POST" and .path=="/api/assets"'; }
sha() { openssl dgst -sha1 -binary "$1" | openssl base64; }
edit() { jq -c "$1" "$F/evil.done" >"$F/e.done"; }

immich-trash -q <"$F/evil.ndjson" >"$F/evil.done" || exit 1
fake_ctl POST /_fake/mutate "{\"id\":\"$L_evil\",\"purge\":true}" >/dev/null
printf 'SECRET of someone\n' >"$T/secret"
S=$(sha "$T/secret")
P=$(jq -r ".backup[\"$L_evil\"].path" "$F/evil.done")
SC=$(jq -r ".backup[\"$L_evil\"].sidecar" "$F/evil.done")

refused() {	# DESC DETAIL-REGEX
	is "$rc $(res | jq -r .ok)" "1 false" "$1: fails, exit 1"
	like "$(res | jq -r .detail)" "$2" "$1: says why"
	like "$err" "asset $L_evil: .*not uploaded" "$1: on stderr"
	is "$(uploads)" 0 "$1: nothing uploaded"
}

# The record names another file, its SHA-1 edited to match.
edit ".backup[\"$L_evil\"] |= (.path = \"$T/secret\" | .sha1 = \"$S\")"
IN=$F/e.done run immich-restore -q
refused "another file named in the record" "is not the file its sidecar names"

# A sidecar planted in a folder others can write, naming that file.
mkdir -m 777 "$T/drop" && chmod 777 "$T/drop"
cp "$T/secret" "$T/drop/secret"
printf '{"asset":{"id":"%s"},"file":"secret","sha1":"%s"}' "$L_evil" "$S" \
    >"$T/drop/$L_evil.json"
edit ".backup[\"$L_evil\"] |= (.path = \"$T/drop/secret\" |
    .sidecar = \"$T/drop/$L_evil.json\" | .sha1 = \"$S\")"
IN=$F/e.done run immich-restore -q
refused "a sidecar in a folder others can write" "not a backup folder of yours"

# The backup file replaced by a symbolic link to that file, the sidecar
# and record edited to its SHA-1.
mv "$P" "$P.real" && ln -s "$T/secret" "$P"
jq -c --arg s "$S" '.sha1 = $s' "$SC" >"$SC.e" && mv "$SC.e" "$SC"
edit ".backup[\"$L_evil\"].sha1 = \"$S\""
IN=$F/e.done run immich-restore -q
refused "the backup a symbolic link" "Too many levels of symbolic links|symbolic link"

# The genuine backup: uploaded.
rm "$P" && mv "$P.real" "$P"
jq -c --arg s "$(sha "$P")" '.sha1 = $s' "$SC" >"$SC.e" && mv "$SC.e" "$SC"
IN=$F/evil.done run immich-restore -q
is "$rc:$err" "0:" "the backup fetch made: exit 0, nothing on stderr"
is "$(res | jq -r '.ok, .how' | tr '\n' ' ')" "true upload " "and uploaded"
is "$(uploads)" 1 "once"
is "$(fake_log_count '.method=="POST" and .path=="/api/assets" and
    .body.assetData.sha1 == "'"$(sha "$P")"'"')" 1 \
    "with the backup's bytes"
is "$(fake_log_count ".body.assetData.filename == \"secret\"")" 0 \
    "the secret file was never sent"

#!/bin/sh
# immich-verify: re-reads the backup files from disk, compares SHA-1 and size
# with the server's; a damaged, missing, replaced or linked file is not
# verified; a live photo only with its video; external-library assets only
# with -s; no network.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v openssl >/dev/null ||
    skip_all "needs jq and openssl"
plan 33

S=11111111-1111-4111-8111-111111111111
V=22222222-2222-4222-8222-222222222222
P=33333333-3333-4333-8333-333333333333
E=55555555-5555-4555-8555-555555555555
D=$T/backup
mkdir -p "$D"
sha() { openssl dgst -sha1 -binary "$1" | openssl base64; }
# mk ID NAME CONTENT: a backup file, its sidecar, and a backup entry.
mk() {
	printf '%s' "$3" >"$D/$1-$2"
	echo '{}' >"$D/$1.json"
}
entry() {	# ID NAME [extra jq]
	printf '{"path":"%s","bytes":%d,"sha1":"%s","checksum":"%s","sidecar":"%s"}' \
	    "$D/$1-$2" "$(wc -c <"$D/$1-$2")" "$(sha "$D/$1-$2")" \
	    "$(sha "$D/$1-$2")" "$D/$1.json"
}
asset() {	# ID NAME [libraryId]
	printf '{"id":"%s","originalFileName":"%s","checksum":"%s","libraryId":%s,"exifInfo":{"fileSizeInByte":%d}%s}' \
	    "$1" "$2" "$(sha "$D/$1-$2")" "${3:-null}" "$(wc -c <"$D/$1-$2")" \
	    "${4:-}"
}
mk "$S" a.heic "still bytes"
mk "$V" a.mov "video bytes"
mk "$P" p.jpg "plain bytes"
mk "$E" e.jpg "external bytes"

# A record as immich-fetch leaves it: a live photo and a plain loser.
rec=$(jq -cn --argjson s "$(asset "$S" a.heic null ",\"livePhotoVideoId\":\"$V\"")" \
    --argjson p "$(asset "$P" p.jpg)" \
    --argjson es "$(entry "$S" a.heic)" --argjson ev "$(entry "$V" a.mov)" \
    --argjson ep "$(entry "$P" p.jpg)" \
    "{duplicateId:\"d\", assets:[\$s,\$p], keep:\"k\", trash:[\"$S\",\"$P\"],
      extra:{\"x\":[1,2]},
      backup:{\"$S\":(\$es+{video:\"$V\"}), \"$V\":(\$ev+{livePhotoOf:\"$S\"}),
      \"$P\":\$ep}}")
printf '%s\n' "$rec" >"$T/rec.ndjson"

# No network: the server settings are not even set.
# (A file changed in the last 100 ms gets no stamp: let them settle.)
sleep 0.2
IN=$T/rec.ndjson run env -u IMMICH_INSTANCE_URL -u IMMICH_API_KEY immich-verify
is "$rc" 0 "all intact: exit 0 (offline)"
is "$(printf '%s' "$out" | jq -c "[.verified[\"$S\"].ok, .verified[\"$V\"].ok, .verified[\"$P\"].ok]")" \
    "[true,true,true]" "all intact: still, video and plain verified"
is "$(printf '%s' "$out" | jq -c ".verified[\"$P\"] | del(.stamp)")" \
    "{\"ok\":true,\"sha1\":\"$(sha "$D/$P-p.jpg")\",\"bytes\":11}" \
    "verified entry: ok, sha1, bytes"
is "$(printf '%s' "$out" | jq -r ".verified[\"$P\"].stamp")" \
    "$(stat -c '%d:%i:%Y' "$D/$P-p.jpg").$(stat -c '%y' "$D/$P-p.jpg" | sed 's/.*\.\([0-9]*\) .*/\1/'):$(stat -c '%Z' "$D/$P-p.jpg").$(stat -c '%z' "$D/$P-p.jpg" | sed 's/.*\.\([0-9]*\) .*/\1/'):$(cat /proc/sys/kernel/random/boot_id)" \
    "and the file's stamp: device, inode, modification and change times, boot id"
is "$(printf '%s' "$out" | jq -c 'del(.verified)')" "$rec" \
    "every other key passed through unchanged"
like "$err" '1 record, 3 assets, 0 failed' "summary line"
IN=$T/rec.ndjson run immich-verify -q
is "$err" "" "-q: nothing on stderr"

# v RECORD-FILE: run immich-verify, then $ok is .verified[ID].ok and the
# reason (for the ID given).
v() {
	IN=$1 run immich-verify
	got=$(printf '%s' "$out" | jq -r ".verified[\"$2\"] | \"\(.ok) \(.reason)\"")
}

# One byte changed.
cp "$D/$P-p.jpg" "$T/p.save"
printf 'plain bytez' >"$D/$P-p.jpg"
v "$T/rec.ndjson" "$P"
is "$rc" 1 "a changed byte: exit 1"
like "$got" '^false SHA-1 does not match the checksum' "a changed byte: not verified"
like "$err" "stdin:1: asset $P: SHA-1 does not match" "a changed byte: said on stderr"
# Truncated.
printf 'plain' >"$D/$P-p.jpg"
v "$T/rec.ndjson" "$P"
like "$got" '^false 5 bytes on disk, the server says 11' "a short file: not verified"
# Gone.
rm "$D/$P-p.jpg"
v "$T/rec.ndjson" "$P"
like "$got" "^false $D/$P-p.jpg: No such file" "a missing file: not verified"
# Replaced by a symbolic link to the right bytes.
ln -s "$T/p.save" "$D/$P-p.jpg"
v "$T/rec.ndjson" "$P"
like "$got" "^false .*: a symbolic link" "a symbolic link: not verified"
rm "$D/$P-p.jpg" && cp "$T/p.save" "$D/$P-p.jpg"
# No sidecar.
mv "$D/$P.json" "$T/sc.save"
v "$T/rec.ndjson" "$P"
like "$got" '^false sidecar missing' "no sidecar: not verified"
mv "$T/sc.save" "$D/$P.json"
v "$T/rec.ndjson" "$P"
is "$rc $got" "0 true null" "restored: verified again"

# A live photo is verified only with its video.
cp "$D/$V-a.mov" "$T/v.save"
printf 'video bytez' >"$D/$V-a.mov"
v "$T/rec.ndjson" "$S"
is "$rc" 1 "damaged video: exit 1"
is "$got" "false live-photo video $V did not verify" "damaged video: the still is not verified either"
cp "$T/v.save" "$D/$V-a.mov"
jq -c "del(.backup[\"$V\"])" "$T/rec.ndjson" >"$T/novid.ndjson"
v "$T/novid.ndjson" "$S"
is "$got" "false live-photo video $V not backed up" "video not backed up: the still is not verified"
jq -c "del(.backup[\"$V\"]) | del(.backup[\"$S\"].video)" "$T/rec.ndjson" >"$T/novid2.ndjson"
v "$T/novid2.ndjson" "$S"
is "$got" "false live-photo video $V not in the backup" \
    "the asset has a video the backup does not mention: not verified"

# A loser with no backup entry.
jq -c "del(.backup[\"$P\"])" "$T/rec.ndjson" >"$T/nop.ndjson"
v "$T/nop.ndjson" "$P"
is "$rc $got" "1 false not backed up" "a loser without a backup: not verified"

# The server's checksum in the record differs from the file's.
jq -c "(.assets[] | select(.id==\"$P\")).checksum = \"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\"" \
    "$T/rec.ndjson" >"$T/sum.ndjson"
v "$T/sum.ndjson" "$P"
like "$got" '^false SHA-1 does not match the checksum AAAA' "another checksum in the record: not verified"

# External-library asset: checksum is a path hash.
erec=$(jq -cn --argjson a "$(asset "$E" e.jpg '"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"')" \
    --argjson e "$(entry "$E" e.jpg)" \
    "{assets:[\$a | .checksum = \"cGF0aGhhc2hwYXRoaGFzaHBhdGhoYQ==\"], trash:[\"$E\"],
      backup:{\"$E\":(\$e + {checksum: \"cGF0aGhhc2hwYXRoaGFzaHBhdGhoYQ==\", external:true})}}")
printf '%s\n' "$erec" >"$T/ext.ndjson"
v "$T/ext.ndjson" "$E"
is "$rc $got" "1 false external library asset: checksum is a path hash" \
    "external asset: not verified without -s"
IN=$T/ext.ndjson run immich-verify -s
is "$rc $(printf '%s' "$out" | jq -c ".verified[\"$E\"] | [.ok, .sizeOnly, .bytes]")" \
    "0 [true,true,14]" "external asset with -s: size-only check, recorded"
printf 'external bytez' >"$D/$E-e.jpg"
IN=$T/ext.ndjson run immich-verify -s
is "$rc $(printf '%s' "$out" | jq -r ".verified[\"$E\"].ok")" "1 false" \
    "external asset with -s: bytes changed since the download: not verified"
printf 'external' >"$D/$E-e.jpg"
IN=$T/ext.ndjson run immich-verify -s
is "$rc $(printf '%s' "$out" | jq -r ".verified[\"$E\"].reason")" \
    "1 8 bytes on disk, the server says 14" "external asset with -s: wrong size: not verified"

# Bad input: a bad line is reported, the others still go through.
{ cat "$T/rec.ndjson"; echo '{"backup": '; echo '{"a":1}'; } >"$T/bad.ndjson"
IN=$T/bad.ndjson run immich-verify
is "$rc" 1 "a bad line: exit 1"
like "$err" 'stdin:2: invalid JSON' "a bad line: named"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 2 "a bad line: the other records still out"
is "$(printf '%s\n' "$out" | sed -n 2p)" '{"a":1}' \
    "a record without backup or trash passes through untouched"
run immich-verify extra-operand
is "$rc" 2 "an operand: usage, exit 2"

# The stamp is given only when it proves the bytes (common/fsutil.c,
# driven by t-stamp with a chosen time of seeing): not for a change in
# the last clock tick, not when written while read, not on a file system
# that does not keep change times.
printf abc >"$T/st.f"
is "$(t-stamp "$T/st.f" 50)" untrusted \
    "changed 50 ms before it was seen: no stamp (a write could share the tick)"
case $(stat -f -c %t "$T") in
ef53|58465342|9123683e|2fc12fc1|f2f52010|1021994)
	like "$(t-stamp "$T/st.f" 1000)" '^[0-9]+:[0-9]+:[0-9]+\.[0-9]{9}:[0-9]+\.[0-9]{9}:[0-9a-f-]{36}$' \
	    "changed 1 s before it was seen: stamped"
	is "$(t-stamp -w "$T/st.f" 1000)" untrusted "written while it was read: no stamp";;
*)
	is "$(t-stamp "$T/st.f" 1000)" untrusted \
	    "a file system not known to keep change times: no stamp"
	echo "ok $((_n += 1)) # SKIP $T is not on a file system that keeps change times";;
esac

#!/bin/sh
# immich-fetch against the fake server: bytes on disk identical to the
# server's, faults (reset, short body, wrong bytes) leave no backup and a
# rerun completes it, Range resume, hostile names stay inside DIR, a full
# disk stops cleanly, live-photo videos, external-library assets.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null && command -v jq >/dev/null &&
    command -v openssl >/dev/null || skip_all "needs curl, jq and openssl"
plan 102

S=11111111-1111-4111-8111-111111111111	# still, live photo, album, tag
V=22222222-2222-4222-8222-222222222222	# its video
P=33333333-3333-4333-8333-333333333333	# plain, for the faults
H1=44444444-4444-4444-8444-444444444401	# ../../etc/x
H2=44444444-4444-4444-8444-444444444402	# /abs
H3=44444444-4444-4444-8444-444444444403	# a\nb
H4=44444444-4444-4444-8444-444444444404	# 1,000 bytes
H5=44444444-4444-4444-8444-444444444405	# invalid UTF-8 (record only)
H6=44444444-4444-4444-8444-444444444406	# ..
E=55555555-5555-4555-8555-555555555555	# external library
B=66666666-6666-4666-8666-666666666666	# 2 MiB
L=77777777-7777-4777-8777-777777777777	# says 10 bytes, has 2 MiB
M=88888888-8888-4888-8888-888888888888	# original missing: 404
AL=99999999-9999-4999-8999-999999999999
LIB=aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
long=$(printf '%0996d' 0 | tr 0 n).jpg

cat >"$T/lib.json" <<JSON
{"assets":[
 {"id":"$S","originalFileName":"IMG_0001.HEIC","size":300000,"seed":"s",
  "livePhotoVideoId":"$V","tags":["Trips/Paris"]},
 {"id":"$V","originalFileName":"IMG_0001.MOV","type":"VIDEO",
  "visibility":"hidden","size":120000,"seed":"v"},
 {"id":"$P","originalFileName":"plain.jpg","size":200000,"seed":"p"},
 {"id":"$H1","originalFileName":"../../etc/x","content":"h1"},
 {"id":"$H2","originalFileName":"/abs","content":"h2"},
 {"id":"$H3","originalFileName":"a\nb","content":"h3"},
 {"id":"$H4","originalFileName":"$long","content":"h4"},
 {"id":"$H5","originalFileName":"utf8.jpg","content":"h5"},
 {"id":"$H6","originalFileName":"..","content":"h6"},
 {"id":"$E","originalFileName":"ext.jpg","libraryId":"$LIB",
  "originalPath":"/mnt/photos/ext.jpg","content":"external bytes"},
 {"id":"$B","originalFileName":"big.jpg","size":2097152,"seed":"b"},
 {"id":"$L","originalFileName":"liar.jpg","size":2097152,"seed":"l",
  "exifInfo":{"fileSizeInByte":10}},
 {"id":"$M","originalFileName":"gone.jpg","content":"gone","missing":true}],
 "albums":[{"id":"$AL","albumName":"Paris 2024","assetIds":["$S"]}]}
JSON
fake_start "$T/lib.json"
API=$IMMICH_INSTANCE_URL/api
K="x-api-key: $IMMICH_API_KEY"
original() { curl -sS -H "$K" "$API/assets/$1/original"; }
checksum() { curl -sS -H "$K" "$API/assets/$1" | jq -r .checksum; }
sha() { openssl dgst -sha1 -binary "$1" | openssl base64; }
# A plan record whose trash is the given ids (assets as the server has them).
plan_for() {
	for id in "$@"; do curl -sS -H "$K" "$API/assets/$id"; echo; done |
	    jq -cs '{duplicateId:"dddddddd-dddd-4ddd-8ddd-dddddddddddd",
	    assets:., keep:"ffffffff-ffff-4fff-8fff-ffffffffffff",
	    trash:[.[].id], why:"test", review:[]}'
}
nreq() { wc -l <"$FAKE_LOG" | tr -d ' '; }

# Usage.
run immich-fetch "$S"
is "$rc" 2 "-d missing: exit 2"
like "$err" 'usage: immich-fetch' "-d missing: usage message"
run immich-fetch -d "$T/x" not-an-id
is "$rc" 2 "a malformed id operand: exit 2"
run immich-fetch -d "$T/x" -r lots "$S"
is "$rc" 2 "a bad -r: exit 2"

# A live photo by id: the still, its video, their sidecars.
D=$T/backup
run immich-fetch -d "$D" "$S"
is "$rc" 0 "fetch a live photo: exit 0"
original "$S" >"$T/s.orig"
original "$V" >"$T/v.orig"
cmp -s "$T/s.orig" "$D/$S-IMG_0001.HEIC"
ok $? "still: bytes on disk identical to the server's"
cmp -s "$T/v.orig" "$D/$V-IMG_0001.MOV"
ok $? "video: bytes on disk identical to the server's"
is "$(printf '%s' "$out" | jq -r ".id, .assets[0].id, (.backup|keys|join(\" \"))")" \
    "$S
$S
$S $V" "operand record: id, assets[0] and backup entries for still and video"
is "$(printf '%s' "$out" | jq -c ".backup[\"$S\"] | [.path, .bytes, .sha1 == .checksum, .checksum, .sidecar, .video]")" \
    "[\"$D/$S-IMG_0001.HEIC\",300000,true,\"$(checksum "$S")\",\"$D/$S.json\",\"$V\"]" \
    "still's backup entry: path, bytes, sha1 = checksum, sidecar, video"
is "$(printf '%s' "$out" | jq -c ".backup[\"$V\"] | [.sha1 == \"$(checksum "$V")\", .livePhotoOf]")" \
    "[true,\"$S\"]" "video's backup entry: its own checksum, livePhotoOf"
is "$(jq -c '[.asset.id, .albums, .tags, .file, .bytes, .sha1 == .checksum, (.fetchedAt|test("Z$"))]' "$D/$S.json")" \
    "[\"$S\",[{\"id\":\"$AL\",\"albumName\":\"Paris 2024\"}],[\"Trips/Paris\"],\"$S-IMG_0001.HEIC\",300000,true,true]" \
    "sidecar: asset, albums, tags, file, bytes, sha1"
is "$(jq -c '[.asset.id, .livePhotoOf, has("albums")]' "$D/$V.json")" \
    "[\"$V\",\"$S\",false]" "video sidecar: asset and livePhotoOf"
is "$(stat -c %a "$D" "$D/$S-IMG_0001.HEIC" "$D/$S.json" | tr '\n' ' ')" \
    "700 600 600 " "modes: directory 0700, files 0600"
is "$(LC_ALL=C ls -A "$D" | tr '\n' ' ')-$(ls -A "$D/.tmp" | wc -l | tr -d ' ')" \
    ".tmp $S-IMG_0001.HEIC $S.json $V-IMG_0001.MOV $V.json -0" \
    "the files and their sidecars; nothing left in .tmp (which stays)"
printf '%s\n' "$out" >"$T/live.ndjson"
IN=$T/live.ndjson run immich-verify
is "$rc" 0 "verify the live photo: exit 0"
is "$(printf '%s' "$out" | jq -c '[.verified[].ok]')" "[true,true]" \
    "still and video verified"

# Second run: nothing downloaded, no request at all.
n0=$(nreq)
run immich-fetch -d "$D" "$S"
is "$rc $(nreq)" "0 $n0" "second run: exit 0, no request"
like "$err" '0 downloaded, 2 already there' "second run: says so"
cmp -s "$T/s.orig" "$D/$S-IMG_0001.HEIC"
ok $? "second run: file unchanged"

# Record mode: one original request per loser, plus its albums.
plan_for "$P" >"$T/plan-p.ndjson"
n0=$(nreq)
IN=$T/plan-p.ndjson run immich-fetch -d "$T/rec"
is "$rc" 0 "record mode: exit 0"
is "$(($(nreq) - n0))" 2 "record mode: 2 requests (original, albums)"
is "$(printf '%s' "$out" | jq -c "[.duplicateId, .keep, .why, (.backup|keys)]")" \
    "[\"dddddddd-dddd-4ddd-8ddd-dddddddddddd\",\"ffffffff-ffff-4fff-8fff-ffffffffffff\",\"test\",[\"$P\"]]" \
    "record mode: other keys passed through, backup added"

# Faults: each leaves no final file and no verified true; a rerun completes.
for f in reset short wrongbytes; do
	d=$T/f-$f
	fake_ctl DELETE /_fake/faults >/dev/null
	case $f in
	wrongbytes) rule='{"path":"/original$","action":"wrongbytes"}' ;;
	*) rule="{\"path\":\"/original\$\",\"action\":\"$f\",\"afterBytes\":5000,\"times\":-1}" ;;
	esac
	fake_ctl POST /_fake/faults "$rule" >/dev/null
	IN=$T/plan-p.ndjson IMMICH_RETRIES=1 run immich-fetch -d "$d"
	printf '%s\n' "$out" >"$T/f.ndjson"
	ferr=$err
	is "$rc" 1 "$f: exit 1"
	test ! -e "$d/$P-plain.jpg"
	ok $? "$f: no final file"
	is "$(printf '%s' "$out" | jq -c "[(.backup|has(\"$P\")), .errors[0].stage, .errors[0].asset]")" \
	    "[false,\"immich-fetch\",\"$P\"]" "$f: no backup entry, error recorded"
	IN=$T/f.ndjson run immich-verify
	is "$rc $(printf '%s' "$out" | jq -c "[.verified[\"$P\"].ok]")" \
	    "1 [false]" "$f: not verified"
	if [ $f = wrongbytes ]; then
		like "$ferr" 'do not match the server.s checksum' \
		    "$f: says the bytes do not match"
		is "$(ls -A "$d/.tmp" | wc -l | tr -d ' ')" 0 \
		    "$f: the bad download is removed"
	else
		test -s "$d/.tmp/$P.part"
		ok $? "$f: the partial download is kept for a resume"
	fi
	fake_ctl DELETE /_fake/faults >/dev/null
	: >"$FAKE_LOG"
	IN=$T/plan-p.ndjson run immich-fetch -d "$d"
	printf '%s\n' "$out" >"$T/f.ndjson"
	is "$rc" 0 "$f: rerun completes"
	if [ $f != wrongbytes ]; then
		like "$(fake_log_count '.path|endswith("/original")')-$(jq -r 'select(.path|endswith("/original")).range' "$FAKE_LOG")" \
		    "^1-bytes=[1-9][0-9]*-\$" "$f: rerun resumed with Range from the partial file"
	fi
	original "$P" | cmp -s - "$d/$P-plain.jpg"
	ok $? "$f: rerun: bytes identical"
	IN=$T/f.ndjson run immich-verify
	is "$rc $(printf '%s' "$out" | jq -c "[.verified[\"$P\"].ok]")" \
	    "0 [true]" "$f: rerun: verified"
done

# A partial file left by someone else (not a prefix): resumed, found wrong,
# downloaded again from the start.
d=$T/badpart
mkdir -p "$d/.tmp" && printf 'garbage' >"$d/.tmp/$P.part"
chmod 600 "$d/.tmp/$P.part"	# as immich-fetch leaves one
IN=$T/plan-p.ndjson run immich-fetch -d "$d"
is "$rc" 0 "a wrong partial file: exit 0"
like "$err" 'resumed download does not match' "a wrong partial file: says so"
original "$P" | cmp -s - "$d/$P-plain.jpg"
ok $? "a wrong partial file: bytes identical in the end"

# Killed before the rename: the complete partial file is checked and
# renamed, without a request for the original.
d=$T/complete
n0=$(fake_log_count '.path|endswith("/original")')
mkdir -p "$d/.tmp" && original "$P" >"$d/.tmp/$P.part"
chmod 600 "$d/.tmp/$P.part"
# The fake logs a request after its reply: wait for curl's line before
# emptying the log, so it cannot land after.
i=0
while [ "$(fake_log_count '.path|endswith("/original")')" -le "$n0" ] &&
    [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
: >"$FAKE_LOG"
IN=$T/plan-p.ndjson run immich-fetch -d "$d"
is "$rc $(fake_log_count '.path|endswith("/original")')" "0 0" \
    "a complete partial file: renamed into place, no download"
# The same without a known size: the Range gets 416, it starts again.
d=$T/complete2
mkdir -p "$d/.tmp" && original "$P" >"$d/.tmp/$P.part"
chmod 600 "$d/.tmp/$P.part"
jq -c 'del(.assets[].exifInfo.fileSizeInByte)' "$T/plan-p.ndjson" >"$T/nosize.ndjson"
: >"$FAKE_LOG"
IN=$T/nosize.ndjson run immich-fetch -d "$d"
is "$rc $(jq -r 'select(.path|endswith("/original")) | .status' "$FAKE_LOG" | tr '\n' ' ')" \
    "0 416 200 " "a complete partial file, size unknown: 416, then from the start"
original "$P" | cmp -s - "$d/$P-plain.jpg"
ok $? "a complete partial file, size unknown: bytes identical"

# kill -9 in the middle of a download: no final file; the rerun resumes.
# (Received bytes reach the file in 512 KiB blocks: stall after 1.1 MB.)
d=$T/killed
plan_for "$B" >"$T/plan-b.ndjson"
fake_ctl POST /_fake/faults '{"path":"/original$","action":"stall","afterBytes":1100000,"seconds":30}' >/dev/null
immich-fetch -q -d "$d" <"$T/plan-b.ndjson" >/dev/null 2>&1 &
kpid=$!
i=0
while [ "$(stat -c %s "$d/.tmp/$B.part" 2>/dev/null || echo 0)" -lt 1048576 ] &&
    [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
kill -9 $kpid; wait $kpid 2>/dev/null
fake_ctl DELETE /_fake/faults >/dev/null
test ! -e "$d/$B-big.jpg" && test ! -e "$d/$B.json"
ok $? "kill -9 mid-download: no final file, no sidecar"
: >"$FAKE_LOG"
IN=$T/plan-b.ndjson run immich-fetch -d "$d"
like "$rc $(jq -r 'select(.path|endswith("/original")) | .range' "$FAKE_LOG")" \
    "^0 bytes=(1048576|1572864)-\$" "kill -9 mid-download: the rerun resumes with Range"
original "$B" | cmp -s - "$d/$B-big.jpg"
ok $? "kill -9 mid-download: bytes identical after the rerun"

# A file at the final name that does not match: replaced, and said so.
d=$T/stale
mkdir -p "$d" && printf 'not the photo' >"$d/$P-plain.jpg"
IN=$T/plan-p.ndjson run immich-fetch -d "$d"
is "$rc" 0 "a wrong file at the final name: exit 0"
like "$err" 'does not match the server.s checksum' "a wrong file: says so"
original "$P" | cmp -s - "$d/$P-plain.jpg"
ok $? "a wrong file: replaced by the right bytes"

# A symlink at the final name is replaced, its target left alone.
d=$T/link
mkdir -p "$d" && printf 'outside' >"$T/outside" &&
    ln -s "$T/outside" "$d/$P-plain.jpg" && ln -s "$T/outside" "$d/$P.json"
IN=$T/plan-p.ndjson run immich-fetch -d "$d"
is "$rc $(cat "$T/outside")" "0 outside" "symlinks in DIR: not followed"
test -f "$d/$P-plain.jpg" && test ! -L "$d/$P-plain.jpg" &&
    test ! -L "$d/$P.json"
ok $? "symlinks in DIR: replaced by regular files"

# Hostile names stay inside DIR.
d=$T/h/backup
mkdir -p "$T/h"
run immich-fetch -d "$d" "$H1" "$H2" "$H3" "$H4" "$H6"
is "$rc" 0 "hostile names: exit 0"
# Invalid UTF-8 can only come in a record (a JSON reply is valid UTF-8).
plan_for "$H5" | sed 's/"utf8\.jpg"/"\xff\xfe..\xc0\xaf\xed\xa0\x80.jpg"/' >"$T/h5.ndjson"
IN=$T/h5.ndjson run immich-fetch -d "$d"
is "$rc" 0 "invalid UTF-8 name: exit 0"
is "$(ls -A "$T/h")" backup "hostile names: nothing created beside DIR"
test ! -e /etc/x && test ! -e "$T/etc" && test ! -e /abs
ok $? "hostile names: nothing at ../../etc/x or /abs"
is "$(cd "$d" && ls | grep -v '\.json$' | sed 's/^[0-9a-f-]\{36\}-//' | LC_ALL=C sort | tr '\n' '|' | cut -c1-60)" \
    "__.._____.jpg|a_b|abs|nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" \
    "hostile names: sanitised (invalid UTF-8 and control bytes to _, no leading dots or slashes)"
is "$(cd "$d" && ls | grep -c "^$H6-unnamed\$") $(cd "$d" && ls | grep -c "^$H1-x\$")" \
    "1 1" "hostile names: '..' becomes unnamed, ../../etc/x becomes x"
n=$(cd "$d" && ls | grep "^$H4-" | tr -d '\n' | wc -c)
is "$n $(cd "$d" && ls | grep "^$H4-" | grep -c '\.jpg$')" "237 1" \
    "1,000-byte name: cut to 200 bytes, extension kept"
is "$(cd "$d" && ls | LC_ALL=C grep -c '[^ -~]')" 0 \
    "hostile names: no control bytes or invalid bytes in any name"
cat "$T/h5.ndjson" | immich-fetch -q -d "$d" | immich-verify -q >/dev/null
ok $? "invalid UTF-8 name: verified"

# 404: recorded, no backup entry, the record still goes out.
plan_for "$P" | jq -c ".trash += [\"$M\"] | .assets += [{id:\"$M\",checksum:\"x\",originalFileName:\"gone.jpg\"}]" >"$T/m.ndjson"
IN=$T/m.ndjson run immich-fetch -d "$T/rec"
is "$rc" 1 "original missing (404): exit 1"
is "$(printf '%s' "$out" | jq -c "[(.backup|keys), (.errors[0].message|test(\"HTTP 404\"))]")" \
    "[[\"$P\"],true]" "404: no entry for it, the other loser backed up, error says 404"

# Two processes on one DIR (examples/parallel-fetch.sh runs several): the
# one that finishes first must not take DIR/.tmp away from the other.  The
# first waits for its second record, DIR/.tmp open, while a second process
# runs to its end in the same DIR.
d=$T/shared
plan_for "$H2" >"$T/sh1.ndjson"
plan_for "$H3" >"$T/sh2.ndjson"
plan_for "$H6" >"$T/sh3.ndjson"
# feed_start RECORD-FILE: start immich-fetch reading a FIFO (fd 3 writes to
# it), give it the record, wait (bounded) until it has written it out.
feed_start() {
	rm -f "$T/fifo" && mkfifo "$T/fifo"
	: >"$T/a.out"	# there before the poll below reads it
	immich-fetch -q -d "$d" <"$T/fifo" >"$T/a.out" 2>"$T/a.err" &
	apid=$!
	exec 3>"$T/fifo"
	cat "$1" >&3
	i=0
	while [ "$(wc -l <"$T/a.out")" -lt 1 ] && [ $i -lt 600 ]; do
		sleep 0.1; i=$((i + 1))
	done
}
feed_start "$T/sh1.ndjson"
is "$(wc -l <"$T/a.out" | tr -d ' ')" 1 \
    "shared DIR: the first process wrote its first record out and waits"
run immich-fetch -d "$d" "$H4"
is "$rc" 0 "shared DIR: a second process runs to its end meanwhile"
test -d "$d/.tmp"
ok $? "shared DIR: DIR/.tmp is left in place"
cat "$T/sh2.ndjson" >&3
exec 3>&-
wait $apid
is "$? $(cat "$T/a.err")" "0 " \
    "shared DIR: the first process then completes its second record"
is "$(jq -r '.backup|keys[]' "$T/a.out" | tr '\n' ' ')" "$H2 $H3 " \
    "shared DIR: both records backed up"
original "$H3" | cmp -s - "$d/$H3-a_b"
ok $? "shared DIR: bytes identical"
# DIR/.tmp removed under a running process (as an older immich-fetch did
# when it finished): made again.
feed_start "$T/sh3.ndjson"
rmdir "$d/.tmp"
plan_for "$H1" >&3
exec 3>&-
wait $apid
is "$? $(cat "$T/a.err")" "0 " "DIR/.tmp removed under it: made again, exit 0"
is "$(jq -r '.backup|keys[]' "$T/a.out" | tr '\n' ' ')" "$H6 $H1 " \
    "DIR/.tmp removed under it: both records backed up"

# An asset given twice: the second waits for the first one's commit and
# finds it there.
: >"$FAKE_LOG"
run immich-fetch -d "$T/twice" "$H2" "$H2"
is "$rc $(printf '%s\n' "$out" | jq -r ".backup[\"$H2\"].sha1" | sort -u | wc -l | tr -d ' ') $(fake_log_count '.path|endswith("/original")')" \
    "0 1 1" "an asset twice: exit 0, two records, one download"

# Records go out in input order, every one of them.
for id in "$H3" "$P" "$H1" "$H6"; do plan_for "$id"; done |
    jq -c '.duplicateId = .trash[0]' >"$T/order.ndjson"
IN=$T/order.ndjson run immich-fetch -d "$T/order"
is "$rc $(printf '%s\n' "$out" | jq -r .duplicateId | tr '\n' ' ')" \
    "0 $H3 $P $H1 $H6 " "four records: exit 0, written in input order"

# immich-consolidate leaves each loser's albums in consolidated.albums.ID:
# the sidecar takes them from there and the download is the only request.
plan_for "$P" | jq -c --arg p "$P" --arg al "$AL" \
    '.consolidated = {changes: [], confirmed: true,
    albums: {($p): [{id: $al, albumName: "From the record"}]}}' \
    >"$T/cons.ndjson"
: >"$FAKE_LOG"
IN=$T/cons.ndjson run immich-fetch -d "$T/cons"
is "$rc $(jq -r '.method + " " + .path' "$FAKE_LOG" | tr '\n' ' ')" \
    "0 GET /api/assets/$P/original " \
    "consolidated.albums: the download is the only request"
is "$(jq -c .albums "$T/cons/$P.json")" \
    "[{\"id\":\"$AL\",\"albumName\":\"From the record\"}]" \
    "consolidated.albums: the sidecar's albums come from the record"
is "$(printf '%s' "$out" | jq -c '.consolidated.albums | keys')" "[\"$P\"]" \
    "consolidated.albums: passed through"
jq -c '.consolidated.albums = {}' "$T/cons.ndjson" >"$T/cons2.ndjson"
: >"$FAKE_LOG"
IN=$T/cons2.ndjson run immich-fetch -d "$T/cons2"
is "$rc $(jq -r '.path' "$FAKE_LOG" | sort | tr '\n' ' ')" \
    "0 /api/albums /api/assets/$P/original " \
    "consolidated.albums without the asset: its albums are asked for"

# External-library asset: downloaded, not verifiable without -s.
run immich-fetch -d "$T/ext" "$E"
printf '%s\n' "$out" >"$T/e.ndjson"
is "$rc" 0 "external asset: downloaded, exit 0"
is "$(printf '%s' "$out" | jq -c ".backup[\"$E\"] | [.external, .sha1 == \"$(sha "$T/ext/$E-ext.jpg")\", .sha1 != .checksum]")" \
    "[true,true,true]" "external asset: sha1 of the bytes, external: true"
IN=$T/e.ndjson run immich-verify
is "$rc $(printf '%s' "$out" | jq -c ".verified[\"$E\"] | [.ok, .reason]")" \
    '1 [false,"external library asset: checksum is a path hash"]' \
    "external asset: not verified without -s"
IN=$T/e.ndjson run immich-verify -s
is "$rc $(printf '%s' "$out" | jq -c ".verified[\"$E\"] | [.ok, .sizeOnly]")" \
    '0 [true,true]' "external asset: -s: size-only check, recorded"

# The server's checksum changed since the plan: backs up what is there now,
# and immich-verify holds it back (the plan is stale).
plan_for "$P" >"$T/old.ndjson"
fake_ctl POST /_fake/mutate "{\"id\":\"$P\",\"content\":\"new bytes\"}" >/dev/null
IN=$T/old.ndjson run immich-fetch -d "$T/changed"
is "$rc $(printf '%s' "$out" | jq -r ".backup[\"$P\"].checksum")" \
    "0 $(checksum "$P")" "checksum changed: backs up the current bytes"
like "$err" 'checksum changed on the server' "checksum changed: says so"
printf '%s\n' "$out" | immich-verify -q 2>/dev/null | jq -r ".verified[\"$P\"].ok" >"$T/o"
is "$(cat "$T/o")" false "checksum changed: immich-verify holds it back"

# A full disk stops cleanly: exit 3, a message, no partial file.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" &&
    mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	at_exit "umount '$T/small'"
	run immich-fetch -d "$T/small/d" -r 0 "$B"
	is "$rc" 3 "full disk: exit 3"
	like "$err" "small/d: need 2097152 bytes, [0-9]+ free: free space or lower -r" \
	    "full disk: says how much is needed"
	is "$(find "$T/small/d" -type f | wc -l | tr -d ' ')" 0 \
	    "full disk: no file written"
	run immich-fetch -d "$T/small/d" -r 0 "$L"
	is "$rc" 3 "file larger than its fileSizeInByte: exit 3"
	is "$(find "$T/small/d" -type f | wc -l | tr -d ' ')" 0 \
	    "file larger than its fileSizeInByte: no partial file"
	run immich-fetch -d "$T/small/d" -r 2M "$H2"
	is "$rc" 3 "the reserve counts: exit 3"
	run immich-fetch -d "$T/small/d" -r 0 "$H2"
	is "$rc" 0 "a small file fits"
else
	for i in 1 2 3 4 5 6 7; do
		echo "ok $((_n + 1)) # SKIP full disk: needs root to mount a small tmpfs"
		_n=$((_n + 1))
	done
fi

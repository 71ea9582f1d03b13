#!/bin/sh
# immich-trash's record-only preconditions (common/precond.c) through
# t-precond: each hold code in the order immich-trash checks them, the
# review codes -a accepts, consolidation skipped under -C, and the
# backup file: missing, of another size, or changed with the same size
# (hashed again: no stamp).
. "$(dirname "$0")/lib.sh"

command -v t-precond >/dev/null || skip_all "t-precond not built"
command -v jq >/dev/null && command -v openssl >/dev/null ||
    skip_all "needs jq and openssl"
plan 29

K=00000001-0000-4000-8000-000000000000
L=00000001-0000-4000-8000-000000000001
V=00000001-0000-4000-8000-0000000000f1
X=00000009-0000-4000-8000-000000000009
printf 'loser bytes' >"$T/l.jpg"
printf 'video bytes' >"$T/v.mov"
sha() { openssl dgst -sha1 -binary "$1" | openssl base64; }
SL=$(sha "$T/l.jpg")
SV=$(sha "$T/v.mov")

# A record whose loser passes every check.
jq -nc --arg k "$K" --arg l "$L" --arg v "$V" --arg sl "$SL" --arg sv "$SV" \
    --arg pl "$T/l.jpg" --arg pv "$T/v.mov" '{
  keep: $k, trash: [$l], review: [],
  assets: [{id: $k, checksum: "kk"}, {id: $l, checksum: $sl,
    livePhotoVideoId: $v}],
  consolidated: {confirmed: true, keep: $k, losers: [$l],
    albums: {($l): []}},
  backup: {($l): {path: $pl, bytes: 11, checksum: $sl, video: $v},
           ($v): {path: $pv, bytes: 11, checksum: $sv}},
  verified: {($l): {ok: true, sha1: $sl, bytes: 11},
             ($v): {ok: true, sha1: $sv, bytes: 11}}}' >"$T/rec"

# One case: a jq edit of the record, then the line for t-precond.
case_() {
	jq -c --arg id "${2:-$L}" "{rec: ($1), id: \$id${3:+, $3}}" "$T/rec"
}
check() {
	out=$(case_ "$1" "${4:-}" "${5:-}" | t-precond | head -1)
	like "$out" "$2" "$3"
}

check '.' "^go $SL\$" "every precondition holds: go, with the backup's checksum"
check '.keep = null' '^no-keeper: the record names no keeper$' "no keeper"
check '.keep = "K"' '^no-keeper: "keep" is not an asset id' "keeper not an id"
check ".keep = \"$X\"" '^no-keeper: the keeper is not one of the group.s assets' \
    "keeper not a member"
check '.' '^is-keeper: this is the keeper$' "the keeper itself in the trash list" "$K"
check ".trash += [\"$K\"]" '^is-keeper: the keeper .* is in the trash list too' \
    "keeper in the trash list too"
check '.' "^not-member: not one of the group's assets$" "a loser not in assets" "$X"
check 'del(.review)' '^no-plan: ' "no review list: not a plan"
check '.review = [{code: "gps"}, {code: "date"}]' \
    '^review: unresolved review flags: gps,date$' "unresolved review flags, all named"
check '.review = [{code: "gps"}]' "^go " "a review code -a accepts" "" \
    'accept: ["gps"]'
check 'del(.consolidated)' '^not-consolidated: no consolidation in the record' \
    "no consolidation"
check '.consolidated.confirmed = false' '^not-consolidated: consolidation not confirmed$' \
    "consolidation not confirmed"
check 'del(.consolidated)' "^go $SL cskip\$" "-C: consolidation skipped" "" 'C: true'
check ".consolidated.keep = \"$X\"" '^not-consolidated: the consolidation was made for another keeper' \
    "consolidation made for another keeper"
check '.consolidated.albums = []' '^not-consolidated: consolidated.albums is malformed$' \
    "consolidated.albums malformed"
check "del(.backup[\"$L\"])" '^no-backup: no backup in the record$' "no backup"
check ".verified[\"$L\"].ok = false" '^not-verified: backup not verified$' "not verified"
check ".verified[\"$L\"].sha1 = \"x\"" '^not-verified: verified SHA-1 x is not the server.s checksum' \
    "verified SHA-1 not the server's checksum"
check ".verified[\"$L\"].sizeOnly = true" '^not-verified: verified by size only, but not an asset of an external library$' \
    "size-only verification of an internal asset"
check ".backup[\"$L\"].path = \"$T/none\"" "^file-missing: .*$T/none" "backup file missing"
check ".backup[\"$L\"].bytes = 12 | .verified[\"$L\"].bytes = 12" \
    '^file-missing: .*: 11 bytes on disk, 12 backed up$' "backup file of another size"
check "del(.backup[\"$V\"])" "^no-backup: live-photo video $V: no backup in the record\$" \
    "the live-photo video's backup missing holds the still"

# The same bytes count again: a file changed with its size kept.
printf 'LOSER BYTES' >"$T/l.jpg"
check '.' "^backup-changed: .*l.jpg: changed since it was verified" \
    "backup changed since verified (same size): hashed again, held"
is "$(case_ '.' | t-precond | tail -1)" "rehashed 1" \
    "a backup without a stamp is hashed again (counted)"

# What the server says of a loser: named people the keeper lacks, albums
# consolidation did not see.
P1='{"id": "p1", "name": "Ann"}'
P2='{"id": "p2", "name": ""}'
pc() { printf '%s\n' "$1" | t-precond | head -1; }
is "$(pc "{\"lpeople\": [$P1], \"kpeople\": []}")" \
    "people: it shows Ann (person p1), whom the keeper K does not: tag the face on the keeper in Immich, or allow it with -a people" \
    "a named person the keeper does not show: people"
is "$(pc "{\"lpeople\": [$P1], \"kpeople\": [$P1]}")" go "the keeper shows the person too: go"
is "$(pc "{\"lpeople\": [$P2], \"kpeople\": []}")" go "an unnamed face is no one's tag: go"
is "$(pc '{"now": [{"id": "a1", "albumName": "Paris"}], "seen": []}')" \
    "loser-changed: added to album a1 (Paris) since consolidation" \
    "an album consolidation did not see: loser-changed"
is "$(pc '{"now": [{"id": "a1"}], "seen": [{"id": "a1"}]}')" go \
    "the albums consolidation saw: go"

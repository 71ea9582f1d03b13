#!/bin/sh
# Stamps on a file system with whole-second times (ext4 with 128-byte
# inodes, as ext3 and ext2 keep them): a rewrite in the same second leaves
# device, inode and both times as they were, so such a stamp proves
# nothing.  immich-verify gives none there, and immich-trash hashes a
# backup again whatever whole-second stamp its record carries (one from an
# older version, or a hand-edited one).  Needs root, mkfs.ext4 and a loop
# device: an ext4 image is mounted for the backup folder.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
[ "$(id -u)" = 0 ] || skip_all "needs root to mount an ext4 image"
command -v mkfs.ext4 >/dev/null || skip_all "needs mkfs.ext4 (e2fsprogs)"
F=$T/f
mkdir -p "$F/backup"
truncate -s 16M "$T/e.img"
mkfs.ext4 -q -F -I 128 "$T/e.img" >/dev/null 2>&1 &&
    mount -o loop "$T/e.img" "$F/backup" 2>/dev/null ||
    skip_all "cannot mount an ext4 image on a loop device here"
at_exit "umount '$F/backup'"
plan 10

python3 "$TESTDIR/trash-fixture.py" "$F" coarse forged || exit 1
. "$F/ids.sh"
fake_start "$F/lib.json"
asset() { fake_state | jq -c --arg id "$1" '.assets[]|select(.id==$id)'; }
deletes_of() { fake_log_count ".method==\"DELETE\" and
    (.body.ids|index(\"$1\"))"; }

# The file system keeps whole seconds (the test's premise).
p=$(jq -r ".backup[\"$L_coarse\"].path" "$F/coarse.ndjson")
is "$(stat -c %z "$p" | sed 's/.*\.\([0-9]*\) .*/\1/')" 000000000 \
    "the backup folder's file system keeps whole seconds"

# immich-verify: no stamp, even for a file changed long before.
is "$(t-stamp "$p" 5000)" untrusted "t-stamp: a whole-second stamp is never trusted"
IN=$F/coarse.ndjson run immich-verify -q
is "$rc:$err" "0:" "immich-verify: ok, nothing on stderr"
is "$(printf '%s\n' "$out" | jq -c ".verified[\"$L_coarse\"] | [.ok, has(\"stamp\")]")" \
    '[true,false]' "immich-verify: verified, and no stamp on whole-second times"

# immich-trash: the record carries the stamp the file has now (as an
# older immich-verify would have recorded it before a rewrite in the same
# second): the bytes are not the verified ones, so it is read again and
# the loser held.
p=$(jq -r ".backup[\"$L_forged\"].path" "$F/forged.ndjson")
head -c "$(wc -c <"$p")" /dev/zero | tr '\0' x | dd of="$p" conv=notrunc status=none
st=$(stat -c '%d:%i:%Y.000000000:%Z.000000000' "$p")
jq -c --arg l "$L_forged" --arg st "$st" '.verified[$l].stamp = $st' \
    "$F/forged.ndjson" >"$F/.e" && mv "$F/.e" "$F/forged.ndjson"
IN=$F/forged.ndjson run immich-trash
is "$rc" 1 "immich-trash: a loser held, exit 1"
is "$(printf '%s\n' "$out" | jq -r ".trashed[\"$L_forged\"].held")" backup-changed \
    "immich-trash: a whole-second stamp that matches is no proof: hashed again, held backup-changed"
like "$err" "$L_forged.*changed since it was verified" "immich-trash: says why"
like "$err" '1 backups? hashed again' "immich-trash: the summary counts the file read again"
is "$(asset "$L_forged" | jq -r .isTrashed) $(deletes_of "$L_forged")" "false 0" \
    "immich-trash: no DELETE for the loser, still on the server"
like "$(head -c 4 "$p")" '^xxxx' "the damaged backup is what is on disk (the test's premise)"

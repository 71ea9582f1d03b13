#!/bin/sh
# immich-trash: every precondition holds a loser back on its own; trash
# disabled, force, batches with a bad id, already trashed, -n, kill -9.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
command -v immich-trash >/dev/null || skip_all "immich-trash not built"
plan 168

F=$T/f
CASES="ok nobackup noverified verifiedfalse filegone filesize livenovideo
liveok notconsolidated noconsolidation dryrunconsolidation review
keeperintrash nokeeper keepertrashed keepermissing checksum already accept
cskip disabled force dryrun killed b1 b2 b3 order1 order2 eco1 eco2 ecog twin keepertwin shadiff loserchanged lostreply
swap swapb upper notmember notmember2 stalekeep stalelosers edited latealbum
sizeonly sizeonlyext nosha noreview symlink badalbums replaced rewritten
swapc swapd swape lie lieg swapdry dryk dryagain visalbum"
# shellcheck disable=SC2086
python3 "$TESTDIR/trash-fixture.py" "$F" $CASES || exit 1
. "$F/ids.sh"
fake_start "$F/lib.json"

# Edit a case's record with jq.
edit() { jq -c "$2" "$F/$1.ndjson" >"$F/.e" && mv "$F/.e" "$F/$1.ndjson"; }
mutate() { fake_ctl POST /_fake/mutate "$1" >/dev/null; }
asset() { fake_state | jq -c --arg id "$1" '.assets[]|select(.id==$id)'; }
deletes_of() { fake_log_count ".method==\"DELETE\" and
    (.body.ids|index(\"$1\"))"; }
held() { printf '%s\n' "$out" | jq -r --arg l "$1" \
    '.trashed[$l] // empty | if .ok then "ok" else .held end'; }
trash_case() {
	c=$1; shift
	IN=$F/$c.ndjson run immich-trash -q "$@"
}

# Break exactly one precondition per case.
edit nobackup "del(.backup[\"$L_nobackup\"])"
edit noverified "del(.verified)"
edit verifiedfalse ".verified[\"$L_verifiedfalse\"] =
    {ok:false, reason:\"checksum mismatch\"}"
rm "$(jq -r ".backup[\"$L_filegone\"].path" "$F/filegone.ndjson")"
printf x >>"$(jq -r ".backup[\"$L_filesize\"].path" "$F/filesize.ndjson")"
edit livenovideo "del(.backup[\"$V_livenovideo\"])"
edit shadiff ".verified[\"$L_shadiff\"].sha1 = \"2jmj7l5rSw0yVb/vlWAYkK/YBwk=\""
edit notconsolidated '.consolidated.confirmed = false'
edit noconsolidation 'del(.consolidated)'
edit dryrunconsolidation '.consolidated.dryRun = true'
for c in review accept; do
	eval "l=\$L_$c"
	edit $c ".review = [{code:\"gps-conflict\", asset:\"$l\",
	    detail:\"the losers disagree\"}]"
done
edit keeperintrash ".trash += [\"$K_keeperintrash\"]"
edit nokeeper 'del(.keep)'
edit cskip '.consolidated = {changes:[], confirmed:false,
    skipped:"review flags"}'
mutate "{\"id\":\"$K_keepertrashed\",\"trash\":true}"
mutate "{\"id\":\"$K_keepermissing\",\"purge\":true}"
mutate "{\"id\":\"$L_checksum\",\"content\":\"edited on the server\"}"
mutate "{\"id\":\"$L_already\",\"trash\":true}"
# A caption typed on the loser after the plan was made: consolidation
# never saw it, so the loser must stay.
mutate "{\"id\":\"$L_loserchanged\",\"set\":{\"exifInfo\":{\"description\":\"typed later\"}}}"
# The loser changed, and another asset now has its old bytes: the bulk
# checksum check finds that other asset, which must not count.
mutate "{\"id\":\"$L_twin\",\"content\":\"edited on the server\"}"
fake_ctl POST /_fake/add '{"assets":[{"id":"7e1e7e1e-0000-4000-8000-000000000001",
    "content":"loser of case twin"}]}' >/dev/null
mutate "{\"id\":\"$K_keepertwin\",\"purge\":true}"
fake_ctl POST /_fake/add '{"assets":[{"id":"7e1e7e1e-0000-4000-8000-000000000002",
    "content":"keeper keepertwin, the bigger file xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}' >/dev/null

# The plan's keep or trash edited by hand after consolidation.
edit stalekeep ".consolidated.keep = \"$L_stalekeep\""
edit stalelosers '.consolidated.losers = []'
edit badalbums '.consolidated.albums = []'
# Ids differ only in letter case: Immich's are lower case.
edit upper '.keep |= ascii_upcase | .consolidated.keep |= ascii_upcase'
# The keeper is an asset outside the group; a loser outside the group.
edit notmember ".keep = \"$K_ok\" | .consolidated.keep = \"$K_ok\""
edit notmember2 ".trash += [\"$L_nobackup\"]"
# Edited in Immich after planning; added to an album after consolidation.
mutate "{\"id\":\"$L_edited\",\"set\":{\"isEdited\":true}}"
fake_ctl POST /_fake/add "{\"albums\":[{\"id\":\"0000abcd-0000-4000-8000-000000000001\",
    \"albumName\":\"Late album\",\"assetIds\":[\"$L_latealbum\"]}]}" >/dev/null
# Verified by size alone: only for an asset of an external library.
for c in sizeonly sizeonlyext; do
	eval "l=\$L_$c"
	edit $c ".verified[\"$l\"] |= {ok:true, sizeOnly:true, bytes:.bytes}"
done
edit sizeonlyext ".backup[\"$L_sizeonlyext\"].external = true"
# Verified with no SHA-1 of its own: the backup's is not enough.
edit nosha ".verified[\"$L_nosha\"] = {ok:true}"
edit noreview 'del(.review)'
# The backup file replaced by a symbolic link to the same bytes.
p=$(jq -r ".backup[\"$L_symlink\"].path" "$F/symlink.ndjson")
mv "$p" "$p.real" && ln -s "$p.real" "$p"

# Verified by immich-verify, then the backup overwritten in place by other
# bytes of the same size, its modification time set back: the stamp
# verify recorded no longer holds, the file is hashed again, and held.
# The same bytes written anew (a new inode): hashed again, and passes.
sleep 0.2	# a file changed in the last 100 ms gets no stamp
for c in replaced rewritten; do
	immich-verify -q <"$F/$c.ndjson" >"$F/.v" && mv "$F/.v" "$F/$c.ndjson"
done
like "$(jq -r ".verified[\"$L_replaced\"] | \"\\(.ok) \\(.stamp)\"" "$F/replaced.ndjson")" \
    '^true [0-9]+:[0-9]+:[0-9]+\.[0-9]{9}:[0-9]+\.[0-9]{9}:[0-9a-f-]{36}$' "immich-verify records the file's stamp"
p=$(jq -r ".backup[\"$L_replaced\"].path" "$F/replaced.ndjson")
touch -r "$p" "$F/.ref"
head -c "$(wc -c <"$p")" /dev/zero | tr '\0' x | dd of="$p" conv=notrunc status=none
touch -r "$F/.ref" "$p"
p=$(jq -r ".backup[\"$L_rewritten\"].path" "$F/rewritten.ndjson")
cat "$p" >"$p.new" && mv "$p.new" "$p"

# The table: case, expected code for the loser, expected exit status.
while read -r c want st; do
	eval "l=\$L_$c"
	trash_case "$c"
	is "$(held "$l") $rc" "$want $st" "$c: $want, exit $st"
	if [ "$want" = ok ]; then
		is "$(asset "$l" | jq -r .isTrashed)" true "$c: loser trashed"
	else
		is "$(asset "$l" | jq -r '.isTrashed') $(deletes_of "$l")" \
		    "$( [ $c = already ] && echo true || echo false) 0" \
		    "$c: no DELETE for the loser"
	fi
done <<'TABLE'
ok ok 0
liveok ok 0
nobackup no-backup 1
noverified not-verified 1
verifiedfalse not-verified 1
shadiff not-verified 1
filegone file-missing 1
filesize file-missing 1
livenovideo no-backup 1
notconsolidated not-consolidated 1
noconsolidation not-consolidated 1
dryrunconsolidation not-consolidated 1
review review 1
keeperintrash is-keeper 1
nokeeper no-keeper 1
keepertrashed keeper-trashed 1
keepermissing keeper-missing 1
checksum checksum-changed 1
twin checksum-changed 1
keepertwin keeper-missing 1
loserchanged loser-changed 1
stalekeep not-consolidated 1
stalelosers not-consolidated 1
badalbums not-consolidated 1
upper no-keeper 1
notmember no-keeper 1
edited loser-changed 1
latealbum loser-changed 1
sizeonly not-verified 1
sizeonlyext ok 0
nosha not-verified 1
noreview no-plan 1
symlink file-missing 1
replaced backup-changed 1
rewritten ok 0
already ok 0
TABLE

# Details of a few.
like "$(IN=$F/upper.ndjson run immich-trash; echo "$err")" \
    "lower-case UUID" "an upper-case keeper id: said clearly"
trash_case notmember2
is "$(held "$L_nobackup") $(held "$L_notmember2") $(deletes_of "$L_nobackup")" \
    "not-member ok 0" "a loser outside the group: held (not-member)"
trash_case latealbum
like "$(printf '%s' "$out" | jq -r ".trashed[\"$L_latealbum\"].detail")" \
    "Late album" "the album it was added to is named"
# Two records name each other's keeper as a loser (one batch): neither
# is deleted.
cat "$F/swap.ndjson" "$F/swap-b.ndjson" >"$F/swaps"
IN=$F/swaps run immich-trash -q
is "$(held "$L_swap") $(held "$K_swap") $rc" "is-keeper is-keeper 1" \
    "keeper of one record, loser of the other: both held"
like "$(printf '%s\n' "$out" | jq -r ".trashed[\"$K_swap\"].detail // empty")" \
    "keeper of group" "the detail names the other group"
is "$(asset "$K_swap" | jq -r .isTrashed)$(asset "$L_swap" | jq -r .isTrashed) $(deletes_of "$K_swap") $(deletes_of "$L_swap")" \
    "falsefalse 0 0" "nothing deleted: the group is not emptied"
# The same in separate batches: the second finds its keeper trashed.
cat "$F/swapb.ndjson" "$F/swapb-b.ndjson" >"$F/swaps"
IN=$F/swaps run immich-trash -q -b 1
is "$(held "$L_swapb") $(held "$K_swapb")" "ok is-keeper" \
    "-b 1: a keeper of an earlier batch is never deleted"
is "$(asset "$K_swapb" | jq -r .isTrashed)" false "and its loser stays"
trash_case keeperintrash
is "$(held "$K_keeperintrash")" is-keeper "the keeper in the trash list: held"
is "$(asset "$K_keeperintrash" | jq -r .isTrashed)" false "keeper not trashed"
trash_case ok
is "$(printf '%s' "$out" | jq -c '.trashed|to_entries[0].value')" \
    '{"ok":true,"alreadyTrashed":true}' "rerun: already trashed"
is "$(printf '%s' "$out" | jq -c 'del(.trashed)')" \
    "$(jq -c . "$F/ok.ndjson")" "every other key passes through unchanged"
is "$(asset "$L_already" | jq -r .trashCount) $(deletes_of "$L_already")" \
    "1 0" "already-trashed loser not deleted again (trashCount 1)"
like "$(IN=$F/checksum.ndjson run immich-trash; echo "$err")" \
    "asset $L_checksum: held back \(checksum-changed\)" \
    "the reason is said on stderr"
is "$(asset "$K_keepertrashed" | jq -r .isTrashed)" true \
    "(the trashed keeper is left alone)"

# Options that accept a reason on purpose.
trash_case accept -a gps-conflict,other
is "$(held "$L_accept") $rc" "ok 0" "-a accepts the review code"
trash_case cskip
is "$(held "$L_cskip")" not-consolidated "skipped consolidation: held"
trash_case cskip -C
is "$(held "$L_cskip") $rc" "ok 0" "-C: trashed without consolidation"
is "$(printf '%s' "$out" | jq -r ".trashed[\"$L_cskip\"].consolidationSkipped")" \
    true "-C is recorded as consolidationSkipped"

# -n sends no DELETE.
n0=$(fake_log_count '.method=="DELETE"')
trash_case dryrun -n
is "$(printf '%s' "$out" | jq -c ".trashed[\"$L_dryrun\"]") $rc" \
    '{"ok":true,"dryRun":true} 0' "-n: would be trashed"
is "$(fake_log_count '.method=="DELETE"')" "$n0" "-n: no DELETE sent"
is "$(asset "$L_dryrun" | jq -r .isTrashed)" false "-n: loser untouched"
IN=$F/dryrun.ndjson run immich-trash -n
like "$err" 'dry run: 1 would go, 0 already in the trash, 0 held back' \
    "-n: the summary counts what would go"

# Trash kept for 0 days is no trash.
fake_ctl POST /_fake/config '{"trashDays":0}' >/dev/null
trash_case disabled
is "$rc $out" "2 " "trashDays 0: refused with exit 2, no output"
like "$err" "0 days.*-F" "the refusal says why and names -F"
fake_ctl POST /_fake/config '{"trashDays":30}' >/dev/null

# Trash disabled on the server.
fake_ctl POST /_fake/config '{"features":{"trash":false}}' >/dev/null
trash_case disabled
is "$rc $out" "2 " "trash disabled: refused with exit 2, no output"
like "$err" "trash is disabled.*(for good|permanent).*-F" \
    "the refusal explains and names -F"
is "$(deletes_of "$L_disabled")" 0 "trash disabled: no DELETE"
trash_case disabled -n
is "$rc" 0 "trash disabled, -n: reports only"
trash_case force -F
is "$(held "$L_force") $rc" "ok 0" "-F: deleted"
is "$(fake_log_count ".method==\"DELETE\" and .body.force==true and
    (.body.ids|index(\"$L_force\"))")" 1 "-F sends force true"
is "$(asset "$L_force" | jq -r .purged)" true "-F: purged"
fake_ctl POST /_fake/config '{"features":{"trash":true}}' >/dev/null
is "$(fake_log_count '.method=="DELETE" and .body.force!=false' )" 1 \
    "force is false in every other DELETE"

# Never POST /trash/empty.
is "$(fake_state | jq .trashEmptyCalls) $(fake_log_count '.path|test("/trash/empty")')" \
    "0 0" "never calls POST /trash/empty"

# A batch with one bad id: b2's loser vanishes after the checks, while
# the server holds the DELETE back.
d0=$(fake_log_count '.method=="DELETE"')
fake_ctl POST /_fake/faults '[{"method":"DELETE","path":"^/api/assets$",
    "action":"delay","seconds":1}]' >/dev/null
cat "$F/b1.ndjson" "$F/b2.ndjson" "$F/b3.ndjson" >"$F/bs"
# The checks' requests, counted by a dry run (the same checks, without
# GET /users/me and the DELETE): the DELETE is the request after those
# and GET /users/me.
r0=$(fake_state | jq .requests)
immich-trash -q -n -b 10 <"$F/bs" >/dev/null 2>&1
k=$(($(fake_state | jq .requests) - r0 + 2))
r0=$(fake_state | jq .requests)
immich-trash -q -b 10 <"$F/bs" >"$T/.out" 2>"$T/.err" &
wpid=$!
i=0
# Wait for the DELETE (held back by the fault), request k.
while [ "$(fake_state | jq .requests)" -lt $((r0 + k)) ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
mutate "{\"id\":\"$L_b2\",\"purge\":true}"
wait $wpid
rc=$?
out=$(cat "$T/.out")
err=$(cat "$T/.err")
is "$rc" 1 "batch with a bad id: exit 1"
is "$(held "$L_b1") $(held "$L_b2") $(held "$L_b3")" "ok error ok" \
    "the bad id is isolated, the others trashed"
like "$(printf '%s\n' "$out" | jq -r ".trashed[\"$L_b2\"].detail // empty")" \
    "DELETE /api/assets: HTTP 400: Not found" "with the server's message"
is "$(printf '%s\n' "$out" | jq -r '.errors[]?|.stage+" "+.asset')" \
    "immich-trash $L_b2" "and an error in its record"
is "$(printf '%s\n' "$out" | jq -r .duplicateId | tr '\n' ' ')" \
    "$(cat "$F/b1.ndjson" "$F/b2.ndjson" "$F/b3.ndjson" | jq -r .duplicateId | tr '\n' ' ')" \
    "records come out in input order"
is "$(fake_log_count '.method=="DELETE"')" $((d0 + 5)) \
    "isolation: 1 batch of 3, then 1 + (2: then 1 + 1)"
is "$(asset "$L_b1" | jq -r .isTrashed)$(asset "$L_b3" | jq -r .isTrashed)" \
    truetrue "b1 and b3 in the trash"

# Two immich-trash at once, given two records that name each other's
# keeper as their loser, the first one's DELETE held back by the server:
# the second waits for the first, then finds its keeper in the trash.
# (Without the lock both pass their checks and the group is emptied.)
# The lock is the server user's, wherever the second run comes from: the
# same settings; the URL written another way (localhost, a trailing
# slash); another login environment and rate file (cron: no
# XDG_RUNTIME_DIR).
crossing() {	# CASE DESC [env assignments for the second run]
	c=$1 desc=$2; shift 2
	eval "l=\$L_$c k=\$K_$c"
	fake_ctl POST /_fake/faults '[{"method":"DELETE","path":"^/api/assets$",
	    "action":"delay","seconds":1}]' >/dev/null
	f0=$(fake_log_count '.path=="/api/server/features"')
	immich-trash -q <"$F/$c.ndjson" >"$F/c1.out" 2>"$F/c1.err" &
	p1=$!
	i=0	# it holds the lock once it asks for the server's features
	while [ "$(fake_log_count '.path=="/api/server/features"')" -le "$f0" ] &&
	    [ $i -lt 400 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	env "$@" immich-trash -q <"$F/$c-b.ndjson" >"$F/c2.out" 2>"$F/c2.err"
	rc2=$?
	wait $p1
	rc1=$?
	is "$(jq -r ".trashed[\"$l\"].ok" "$F/c1.out") $rc1:$(cat "$F/c1.err")" \
	    "true 0:" "$desc: the first run trashes its loser, silently"
	is "$(jq -r ".trashed[\"$k\"].held" "$F/c2.out") $rc2" "keeper-trashed 1" \
	    "$desc: the second waited, then found its keeper in the trash: held"
	is "$(sed -n '1p;$=' "$F/c2.err")" "immich-trash: waiting for another immich-trash of this user on this server to finish
2" "$desc: and said it was waiting (then why it held)"
	like "$(sed -n 2p "$F/c2.err")" "^immich-trash: stdin:1: asset $k: held back \\(keeper-trashed\\)" \
	    "$desc: why it held"
	is "$(asset "$k" | jq -r .isTrashed)" false "$desc: the group is not emptied"
}
crossing swapc "at once"
crossing swapd "URL written another way" \
    IMMICH_INSTANCE_URL="http://localhost:$FAKE_PORT/"
mkdir -m 700 "$T/xdg"
crossing swape "another login environment and rate file" \
    XDG_RUNTIME_DIR="$T/xdg" IMMICH_RATE_FILE="$T/other.rate"

# Batches: -b 1 flushes after every record; order kept.
d0=$(fake_log_count '.method=="DELETE"')
cat "$F/order1.ndjson" "$F/order2.ndjson" >"$F/orders"
IN=$F/orders run immich-trash -q -b 1
is "$rc $(fake_log_count '.method=="DELETE"')" "0 $((d0 + 2))" \
    "-b 1: one DELETE per record"
is "$(printf '%s\n' "$out" | jq -r .trash[0] | tr '\n' ' ')" \
    "$L_order1 $L_order2 " "-b 1: order kept"

# kill -9 after the DELETE was sent: the rerun does not delete again.
fake_ctl POST /_fake/faults '[{"method":"DELETE","path":"^/api/assets$",
    "action":"delay","seconds":1.5}]' >/dev/null
r0=$(fake_state | jq .requests)
immich-trash -q -n <"$F/killed.ndjson" >/dev/null 2>&1
k=$(($(fake_state | jq .requests) - r0 + 2))
r0=$(fake_state | jq .requests)
immich-trash -q <"$F/killed.ndjson" >"$F/killed.out" 2>&1 &
pid=$!
i=0
while [ "$(fake_state | jq .requests)" -lt $((r0 + k)) ] &&
    [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
# (k requests, counted as they arrive: who I am, the checks a dry run
# makes (features, config, GET /duplicates, the albums, the people),
# DELETE; the DELETE is delayed)
kill -9 $pid
wait $pid 2>/dev/null
is "$(wc -c <"$F/killed.out" | tr -d ' ')" 0 "killed before any output"
i=0
while [ "$(asset "$L_killed" | jq -r .isTrashed)" != true ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
is "$(asset "$L_killed" | jq -r .trashCount)" 1 "the DELETE arrived once"
trash_case killed
is "$(printf '%s' "$out" | jq -c ".trashed[\"$L_killed\"]") $rc" \
    '{"ok":true,"alreadyTrashed":true} 0' "rerun after kill -9: already trashed"
is "$(asset "$L_killed" | jq -r .trashCount)" 1 "and not deleted again"

# Request economy: who I am, features and config, then per batch one
# GET /duplicates (every loser and keeper as the server has them now: a
# keeper listed there needs no bulk check), the albums (GET /albums, one
# search per album: this library has 2), the named people (GET /people:
# none here), one DELETE and one bulk checksum check to confirm it.  No
# request per loser.  -G confirms each deleted loser with a GET instead.
r0=$(fake_state | jq .requests)
b0=$(fake_log_count '.path=="/api/assets/bulk-upload-check" and
    (.body.assets|length)==2')
cat "$F/eco1.ndjson" "$F/eco2.ndjson" >"$F/ecos"
IN=$F/ecos run immich-trash -q
is "$rc $(($(fake_state | jq .requests) - r0))" "0 10" \
    "two pairs: who I am, features, config, GET /duplicates, GET /albums + 2 searches, GET /people, one DELETE, one bulk check to confirm it"
is "$(fake_log_count '.path=="/api/assets/bulk-upload-check" and
    (.body.assets|length)==2')" $((b0 + 1)) "the keepers were in GET /duplicates: one bulk check, the losers'"
is "$(jq -c 'select(.path=="/api/assets/bulk-upload-check") | [.body.assets[].checksum]' "$FAKE_LOG" | tail -n 1)" \
    "$(jq -c '[.assets[1].checksum]' "$F/eco1.ndjson" | jq -c --slurpfile b "$F/eco2.ndjson" '. + [$b[0].assets[1].checksum]')" \
    "the last one asks for the losers' checksums"
r0=$(fake_state | jq .requests)
IN=$F/ecog.ndjson run immich-trash -q -G
is "$rc $(held "$L_ecog") $(($(fake_state | jq .requests) - r0))" "0 ok 10" \
    "-G: who I am, features, config, GET /duplicates, GET /albums + 2 searches, GET /people, DELETE, GET loser to confirm it"

# Bad input.
printf '%s\n' '{"trash":' '{"keep":"x"}' >"$F/bad"
IN=$F/bad run immich-trash -q
is "$rc" 1 "bad lines: exit 1"
like "$err" "stdin:1: invalid JSON" "bad JSON named by line"
like "$err" "stdin:2: no \"trash\" list" "missing trash list named by line"
is "$(printf '%s' "$out" | jq -c '.errors[0].stage')" '"immich-trash"' \
    "the record with a missing field still goes out, with its error"
run immich-trash -b 0
is "$rc" 2 "-b 0: usage error"
run immich-trash -x
is "$rc $(printf '%s' "$err" | grep -c '^usage: immich-trash \[')" "2 1" \
    "unknown option: usage"

# A DELETE whose reply is lost after the server trashed the assets: the
# rerun-free recovery asks the server instead of deleting again (a second
# delete would restart the 30-day clock).
fake_ctl POST /_fake/faults '[{"method":"DELETE","path":"^/api/assets$","action":"close","process":true}]' >/dev/null
trash_case lostreply
is "$(held "$L_lostreply") $rc" "ok 0" "a lost DELETE reply: the loser counts as trashed"
is "$(asset "$L_lostreply" | jq -r .trashCount)" 1 "... and was deleted once (trashCount 1)"

# A DELETE that answers 204 but trashes nothing: the confirmation after
# the batch (one bulk checksum check; a GET under -G) finds the loser not
# in the trash, and it is recorded so, not as trashed.
for c in lie lieg; do
	eval "l=\$L_$c"
	fake_ctl POST /_fake/faults '[{"method":"DELETE","path":"^/api/assets$",
	    "action":"status","status":204}]' >/dev/null
	d0=$(fake_log_count '.method=="DELETE"')
	if [ $c = lieg ]; then
		IN=$F/$c.ndjson run immich-trash -G
	else
		IN=$F/$c.ndjson run immich-trash
	fi
	is "$(held "$l") $rc $(asset "$l" | jq -r .isTrashed)" "not-trashed 1 false" \
	    "$c: a 204 without trashing: held as not-trashed, exit 1"
	is "$(printf '%s\n' "$out" | jq -r ".trashed[\"$l\"].detail")" \
	    "DELETE /api/assets answered HTTP 204, but the asset is not in the trash (GET /api/assets/$l: isTrashed false)" \
	    "$c: the detail says what the server said and what it did"
	is "$(printf '%s\n' "$out" | jq -r '.errors[]?|.stage+" "+.asset')" \
	    "immich-trash $l" "$c: and an error in its record"
	like "$err" "asset $l: DELETE /api/assets answered HTTP 204, but the asset is not in the trash" \
	    "$c: said on stderr"
	like "$err" "0 trashed, 0 already in the trash, 1 held back" \
	    "$c: the summary does not count it as trashed"
	is "$(($(fake_log_count '.method=="DELETE"') - d0))" 1 "$c: one DELETE, not sent again"
done

# -n says what the real run does, when a loser of an earlier batch is
# the keeper of a later record (-b 1): the real run finds that keeper in
# the trash and holds (keeper-trashed); a loser trashed by an earlier
# batch is already in the trash.
jq -c --slurpfile k "$F/dryk.ndjson" ".keep = \"$K_dryk\" |
    .suggestedKeepAssetIds = [\"$K_dryk\"] | .consolidated.keep = \"$K_dryk\" |
    .assets += [\$k[0].assets[0]]" "$F/swapdry-b.ndjson" >"$F/.e" &&
    mv "$F/.e" "$F/swapdry-b.ndjson"
cat "$F/swapdry-b.ndjson" "$F/swapdry.ndjson" "$F/dryagain.ndjson" \
    "$F/dryagain.ndjson" >"$F/drys"
outcome() { printf '%s\n' "$out" | jq -r '.trashed | to_entries[] | .key + " " +
    (if .value.ok then (if .value.alreadyTrashed then "already" else "ok" end)
     else .value.held end)' | tr '\n' ' '; }
summary() { printf '%s\n' "$err" | sed -En 's/.* ([0-9]+) (trashed|would go), ([0-9]+) already in the trash, ([0-9]+) held back,.*/\1 \3 \4/p'; }
d0=$(fake_log_count '.method=="DELETE"')
IN=$F/drys run immich-trash -n -b 1
dry="$(outcome)| $(summary) | $rc"
is "$dry" "$K_swapdry ok $L_swapdry keeper-trashed $L_dryagain ok $L_dryagain already | 2 1 1 | 1" \
    "-n -b 1: a loser of an earlier batch is taken as trashed"
like "$(printf '%s\n' "$out" | jq -r ".trashed[\"$L_swapdry\"].detail")" \
    "would be in the trash" "-n: the detail says it would be"
is "$(printf '%s\n' "$out" | sed -n 4p | jq -c ".trashed[\"$L_dryagain\"]")" \
    '{"ok":true,"alreadyTrashed":true,"dryRun":true}' \
    "-n: a loser an earlier batch would trash: already trashed, dry run"
like "$err" "asset $L_swapdry: held back \(keeper-trashed\)" "-n: the hold is said on stderr"
is "$(fake_log_count '.method=="DELETE"') $(asset "$K_swapdry" | jq -r .isTrashed)" \
    "$d0 false" "-n: nothing deleted"
IN=$F/drys run immich-trash -b 1
is "$(outcome)| $(summary) | $rc" "$dry" "the real run does what -n said"

# A held loser's detail quoting a server's name (an album named with ESC
# and BEL sequences): kept as it is in the record, shown with \uXXXX on
# stderr, so no control byte reaches the terminal (audit D12).
fake_ctl POST /_fake/add "{\"albums\":[{\"id\":\"0000abcd-0000-4000-8000-000000000002\",
    \"albumName\":\"\\u001b]0;pwned\\u0007\\u001b[31mred\",\"assetIds\":[\"$L_visalbum\"]}]}" >/dev/null
trash_case visalbum
is "$(held "$L_visalbum") $rc" "loser-changed 1" "an album with a hostile name: held"
is "$(printf '%s\n' "$out" | jq -r ".trashed[\"$L_visalbum\"].detail")" \
    "$(printf 'added to album 0000abcd-0000-4000-8000-000000000002 (\033]0;pwned\007\033[31mred) since consolidation')" \
    "... the record keeps the name as it is"
is "$err" "immich-trash: stdin:1: asset $L_visalbum: held back (loser-changed): added to album 0000abcd-0000-4000-8000-000000000002 (\\u001b]0;pwned\\u0007\\u001b[31mred) since consolidation" \
    "... stderr shows its control characters as \\uXXXX"


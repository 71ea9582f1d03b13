#!/bin/sh
# The whole pipeline over a library with every kind of group:
#   immich-dupes | immich-consolidate | immich-fetch -d DIR | immich-verify |
#   immich-trash
# then: every group's metadata is on its keeper, every trashed loser is
# backed up byte-identical, every review group is untouched, and
# immich-restore brings the library back to its starting set of assets.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null && command -v curl >/dev/null ||
    skip_all "needs jq and curl"
for b in immich-dupes immich-consolidate immich-fetch immich-verify \
    immich-trash immich-restore; do
	command -v $b >/dev/null || skip_all "$b not built yet"
done
[ -f "$TESTDIR/mklib.py" ] || skip_all "tests/mklib.py missing"
plan 24

python3 "$TESTDIR/mklib.py" --kinds >"$T/lib.json" || exit 1
fake_start "$T/lib.json"
fake_state >"$T/start.json"

# Exit statuses of a pipeline, one file per stage.
{ immich-dupes 2>"$T/e1"; echo $? >"$T/rc1"; } |
{ immich-consolidate 2>"$T/e2"; echo $? >"$T/rc2"; } |
{ immich-fetch -d "$T/backup" 2>"$T/e3"; echo $? >"$T/rc3"; } |
{ immich-verify 2>"$T/e4"; echo $? >"$T/rc4"; } |
{ immich-trash 2>"$T/e5"; echo $? >"$T/rc5"; } >"$T/done.ndjson"
fake_state >"$T/end.json"
is "$(cat "$T/rc1" "$T/rc5" | tr '\n' ' ')" "0 1 " \
    "the pipeline ran (immich-trash exits 1: review groups held back)"
n=$(wc -l <"$T/done.ndjson" | tr -d ' ')
is "$n" "$(jq '.groups|length' "$T/lib.json")" "one record per group"
for i in 1 2 3 4 5; do
	diag "$(tail -n 1 "$T/e$i")"
done

# Each stage's stderr: its summary line, and only the messages this
# library calls for (the external asset verify cannot check, and the
# losers of the review groups held back).
nrev=$(jq -s 'map(select(.review != [])) | length' "$T/done.ndjson")
nheld=$(jq -s '[.[] | .trashed // {} | .[] | select(.ok | not)] | length' \
    "$T/done.ndjson")
nt=$(jq -s '[.[] | .trashed // {} | to_entries[] | select(.value.ok)] | length' \
    "$T/done.ndjson")
all_like "$(cat "$T/e1")" \
    "^immich-dupes: $n records, [0-9]+ assets, 0 failed, .*, 1 request, [0-9.]+ s$" \
    "immich-dupes: its summary alone on stderr"
all_like "$(cat "$T/e2")" \
    "^immich-consolidate: $n records, [0-9]+ assets, $nrev failed, .*, [0-9]+ requests, [0-9.]+ s$" \
    "immich-consolidate: its summary alone (the review groups failed)"
all_like "$(cat "$T/e3")" \
    "^immich-fetch: $n records, [0-9]+ assets, 0 failed, .*, [0-9]+ downloaded, 0 already there, 0 resumed$" \
    "immich-fetch: its summary alone"
all_like "$(cat "$T/e4")" \
    "^immich-verify: (stdin:[0-9]+: asset [0-9a-f-]{36}: external library asset: checksum is a path hash|$n records, [0-9]+ assets, 1 failed, .*, [0-9]+ verified, 1 did not verify)$" \
    "immich-verify: the external asset it cannot check, and its summary"
all_like "$(cat "$T/e5")" \
    "^immich-trash: (stdin:[0-9]+: asset [0-9a-f-]{36}: held back \\(review\\): unresolved review flags: [a-z,-]+|$n records, [0-9]+ assets, $nrev failed, .*, $nt trashed, 0 already in the trash, $nheld held back, [0-9]+ backups hashed again)$" \
    "immich-trash: a line per loser held for review, and its summary"
is "$(grep -c 'held back (review)' "$T/e5") $(grep -c 'records, ' "$T/e5")" \
    "$nheld 1" "... one per held loser, and one summary"

cat >"$T/check.py" <<'PY'
import base64, hashlib, json, sys
what, start, end, done = sys.argv[1:5]
S = {a['id']: a for a in json.load(open(start))['assets']}
E = {a['id']: a for a in json.load(open(end))['assets']}
recs = [json.loads(l) for l in open(done)]
bad = []

def ex(a, k):
    return (a.get('exifInfo') or {}).get(k)

def tags(a):
    return sorted(t['value'] for t in a.get('tags') or [])

def view(a):
    return [a.get('purged'), a['isTrashed'], a['isFavorite'],
            a['visibility'], ex(a, 'description'), ex(a, 'rating'),
            ex(a, 'latitude'), ex(a, 'longitude'),
            ex(a, 'dateTimeOriginal'), sorted(a.get('albums') or []),
            tags(a)]

def sha1(p):
    h = hashlib.sha1()
    with open(p, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return base64.b64encode(h.digest()).decode()

def trashed(r):
    return [i for i, t in (r.get('trashed') or {}).items() if t.get('ok')]

for r in recs:
    k = E[r['keep']]
    if what == 'meta':
        for l in trashed(r):
            L = S[l]
            d = ex(L, 'description')
            if d and d not in (ex(k, 'description') or ''):
                bad.append('%s: description %r' % (l, d))
            if (ex(L, 'rating') or 0) > (ex(k, 'rating') or 0):
                bad.append('%s: rating' % l)
            if L['isFavorite'] and not k['isFavorite']:
                bad.append('%s: favorite' % l)
            if ex(L, 'latitude') is not None and ex(k, 'latitude') is None:
                bad.append('%s: GPS' % l)
            if ex(L, 'dateTimeOriginal') and not ex(k, 'dateTimeOriginal'):
                bad.append('%s: date' % l)
            if L['visibility'] == 'archive' and k['visibility'] != 'archive':
                bad.append('%s: archive' % l)
            for al in L.get('albums') or []:
                if al not in (k.get('albums') or []):
                    bad.append('%s: album %s' % (l, al))
            for t in tags(L):
                if t not in tags(k):
                    bad.append('%s: tag %s' % (l, t))
    elif what == 'backup':
        for l in trashed(r):
            ids = [l] + ([S[l]['livePhotoVideoId']]
                         if S[l].get('livePhotoVideoId') else [])
            for i in ids:
                b = (r.get('backup') or {}).get(i)
                if not b:
                    bad.append('%s: no backup' % i)
                elif sha1(b['path']) != S[i]['checksum']:
                    bad.append('%s: backup differs' % i)
    elif what == 'review':
        if not r['review']:
            continue
        for a in r['assets']:
            if view(S[a['id']]) != view(E[a['id']]):
                bad.append('%s changed: %s -> %s' % (
                    a['id'], view(S[a['id']]), view(E[a['id']])))
    elif what == 'count':
        if r['review']:
            print('review')
        for l in trashed(r):
            print('trashed')
print('\n'.join(bad))
PY
check() { python3 "$T/check.py" "$1" "$T/start.json" "$T/end.json" \
    "$T/done.ndjson"; }

like "$(check count | sort | uniq -c | tr '\n' ' ')" \
    "[0-9]+ review +[0-9]+ trashed" "some groups trashed, some held for review"
is "$(check meta)" "" "every trashed group's metadata is on its keeper"
is "$(check backup)" "" "every trashed loser is backed up byte-identical"
is "$(check review)" "" "every review group is untouched"
is "$(jq -r 'select(.review != []) | .trashed[] | .held' "$T/done.ndjson" |
    sort -u)" review "review groups were held back for review"
is "$(jq -r '.trashed | to_entries[] | select(.value.ok) | .key' \
    "$T/done.ndjson" | while read -r id; do
	jq -r --arg id "$id" '.assets[]|select(.id==$id)|.isTrashed' "$T/end.json"
    done | sort -u)" true "every loser said trashed is in the trash"
is "$(jq -r '.keep' "$T/done.ndjson" | while read -r id; do
	jq -r --arg id "$id" '.assets[]|select(.id==$id)|.isTrashed' "$T/end.json"
    done | sort -u)" false "no keeper is trashed"
is "$(jq '.trashEmptyCalls' "$T/end.json")" 0 "the trash was never emptied"

# Requests: per stage, and per group.
req() { sed -n 's/.* \([0-9][0-9]*\) request.*/\1/p' "$T/e$1" | tail -n 1; }
total=0
for i in 1 2 3 4 5; do total=$((total + $(req $i))); done
diag "requests: dupes $(req 1), consolidate $(req 2), fetch $(req 3)," \
    "verify $(req 4), trash $(req 5); $total for $n groups" \
    "($(awk -v t="$total" -v n="$n" 'BEGIN { printf "%.2f", t / n }') per group)"
plain=$(jq -r '.groups.plain' "$T/lib.json")
pk=$(jq -r --arg g "$plain" 'select(.duplicateId==$g)|.keep' "$T/done.ndjson")
pl=$(jq -r --arg g "$plain" 'select(.duplicateId==$g)|.trash[0]' "$T/done.ndjson")
pr=$(fake_log_count "((.path|test(\"$pk|$pl\")) or
    ((.query|tostring)|test(\"$pk|$pl\")) or
    ((.body|tostring)|test(\"$pk|$pl\")))")
diag "the plain pair: $pr requests naming it (+ its share of GET /duplicates):" \
    "$(jq -r "select((.path|test(\"$pk|$pl\")) or
    ((.query|tostring)|test(\"$pk|$pl\")) or
    ((.body|tostring)|test(\"$pk|$pl\"))) | .method + \" \" + .path" \
    "$FAKE_LOG" | sed 's/[0-9a-f-]\{36\}/ID/g' | tr '\n' ',')"
nal=$(jq '.albums | length' "$T/lib.json")
is "$(req 5)" "$((8 + nal))" \
    "immich-trash: no request per loser: who I am, features, config, GET /duplicates, GET /albums and a search per album ($nal), GET /people, one DELETE, one bulk check to confirm it"
is "$pr" 2 "the plain pair: 2 requests naming it, its loser's download and DELETE (+ shares of batch requests)"

# A second run changes nothing and deletes nothing again.
d0=$(fake_log_count '.method=="DELETE"')
IN=$T/done.ndjson run immich-trash -q
printf '%s\n' "$out" >"$T/again.ndjson"
is "$(fake_log_count '.method=="DELETE"')" "$d0" "rerun: no DELETE"
is "$rc $(printf '%s\n' "$err" | grep -c 'held back (review)')" "1 $nheld" \
    "rerun: exit 1, the same losers held for review"
all_like "$err" \
    "^immich-trash: stdin:[0-9]+: asset [0-9a-f-]{36}: held back \\(review\\): unresolved review flags: [a-z,-]+$" \
    "rerun: nothing else on stderr"
is "$(jq -c '[.trashed[]|select(.ok)|.alreadyTrashed]|unique' "$T/again.ndjson" |
    sort -u | tr '\n' ' ')" '[] [true] ' "rerun: every one already trashed"

# Undo.
IN=$T/done.ndjson run immich-restore -q
expect_err 0 '' "immich-restore: exit 0, nothing on stderr"
fake_state >"$T/back.json"
live() { jq -r '.assets[]|select((.purged|not) and (.isTrashed|not))|.id' "$1" |
    sort; }
is "$(live "$T/back.json")" "$(live "$T/start.json")" \
    "the library is back to its starting set of assets"

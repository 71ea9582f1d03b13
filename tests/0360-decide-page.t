#!/bin/sh
# Deciding on the review page, in headless Chromium over the DevTools
# protocol (tests/cdp.py; keys typed as a person types them): a keeper by
# key and by click, stack, keep all, skip, resolve, undo; the filter's
# "decided" and "not decided yet"; a reload finds the choices kept; the
# export (a download of a Blob, under the page's strict
# Content-Security-Policy) holds exactly what was chosen, and
# immich-decide takes it.  Then the first paint of a page of 10,000
# groups with 2,000 of them decided, printed (measured, not asserted).
# Skipped with a reason when Chromium is missing and cannot be installed
# (as root, apt-get install chromium; IMMICH_TEST_NO_INSTALL=1 stops it).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "needs jq"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ] && [ "$(id -u)" = 0 ] && [ "${IMMICH_TEST_NO_INSTALL:-0}" != 1 ] &&
    command -v apt-get >/dev/null 2>&1; then
	diag "installing chromium (apt-get install chromium)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium >"$T/apt.log" 2>&1 ||
	    diag "apt-get install chromium failed"
	CHROME=$(command -v chromium || true)
fi
[ -n "$CHROME" ] || skip_all "chromium is not installed (apt-get install chromium)"
plan 15

python3 "$TESTDIR/bench/dupes-gen.py" 30 7 >"$T/dup.json" &&
    immich-dupes -q -f "$T/dup.json" >"$T/plan.ndjson" &&
    immich-review -n -q -o "$T/p" <"$T/plan.ndjson" >/dev/null || exit 1
P=file://$T/p/index.html
like "$(grep -o '<meta http-equiv="Content-Security-Policy"[^>]*>' "$T/p/index.html")" \
    "default-src 'none'; img-src 'self' data:; style-src 'sha256-[^']+'; script-src 'sha256-[^']+' 'sha256-[^']+'; base" \
    "the page keeps its strict Content-Security-Policy"

# What a card says, and which photo is outlined, for the first 7 cards.
S="[].slice.call(document.querySelectorAll('article'), 0, 7).map(function (a) {
    return (a.getAttribute('data-d') || '-') + ':' +
    [].indexOf.call(a.querySelectorAll('figure'), a.querySelector('figure.ck')) }).join(' ')"
# Click the first photo of card 5 that is not the plan's keeper.
CLICK="var a = document.querySelectorAll('article')[4], f = a.querySelectorAll('figure'), i;
    for (i = 0; f[i].classList.contains('k'); i++); f[i].click();
    i + ' ' + a.querySelector('.dd').textContent"
mkdir -p "$T/dl"
CDP_DOWNLOADS=$T/dl timeout 120 python3 "$TESTDIR/cdp.py" "$CHROME" "$P" \
    "document.querySelector('article.cur') == document.querySelector('article')" \
    KEY:2 KEY:s KEY:a KEY:x KEY:r "$CLICK" \
    KEY:j KEY:r KEY:u \
    "$S" \
    "var f = document.getElementById('f'); f.value = 'dec'; f.dispatchEvent(new Event('change'));
     var n = document.querySelectorAll('article').length; f.value = 'und';
     f.dispatchEvent(new Event('change'));
     var r = [n, document.querySelectorAll('article').length, location.hash].join();
     f.value = ''; f.dispatchEvent(new Event('change')); r" \
    RELOAD "$S" \
    "document.getElementById('ex').textContent" \
    "document.getElementById('ex').click(); 'exported'" DOWNLOAD \
    >"$T/cdp.out" 2>"$T/cdp.err"
is "$?" 0 "cdp.py ran"
sed -n 1p "$T/cdp.out" | grep -qx true
ok $? "the first card is the current one"
like "$(sed -n 7p "$T/cdp.out")" '^"[0-9]+ decided: resolve, keep [^ ]+, trash the rest despite .*\(not the plan’s keeper: immich-decide reviews the group again for it\)' \
    "a click on a photo picks it as the keeper, the card says so at once"
# 2 then s: stack under photo 2; a: keep all; x: skip; r: resolve with the
# plan's keeper; the click; j r u: resolve card 7 then undo it.
# (Every answer keeps its keeper, outlined: the plan's unless chosen.)
k5=$(sed -n 7p "$T/cdp.out" | sed 's/^"\([0-9]*\) .*/\1/')
k4=$(sed -n 4p "$T/plan.ndjson" | jq -r '.keep as $k | [.assets[].id] | index($k)')
k2=$(sed -n 2p "$T/plan.ndjson" | jq -r '.keep as $k | [.assets[].id] | index($k)')
k3=$(sed -n 3p "$T/plan.ndjson" | jq -r '.keep as $k | [.assets[].id] | index($k)')
want="\"stack:1 dismiss:$k2 skip:$k3 resolve:$k4 resolve:$k5 -:-1 -:-1\""
is "$(sed -n 11p "$T/cdp.out")" "$want" \
    "keys: 2 s, a, x, r; a click; j r u (undone): the cards show each answer"
is "$(sed -n 12p "$T/cdp.out")" '"5,25,#und"' \
    "the filter: 5 decided, 25 not decided yet"
is "$(sed -n 14p "$T/cdp.out")" "$want" "after a reload the choices are kept"
is "$(sed -n 15p "$T/cdp.out")" '"export decisions (5)"' "the export button counts them"
is "$(sed -n 17p "$T/cdp.out"):$(ls "$T/dl")" '"decisions.ndjson":decisions.ndjson' \
    "the export is downloaded as decisions.ndjson"

# The exported file against what was chosen.
E=$T/dl/decisions.ndjson
sed -n 1,5p "$T/plan.ndjson" | jq -c --argjson k5 "$k5" -s '
    [["stack", 1], ["dismiss", null], ["skip", null], ["resolve", null],
     ["resolve", $k5]] as $c |
    to_entries[] | .key as $i | .value |
    {duplicateId, action: $c[$i][0],
     keep: (if $c[$i][1] == null then .keep else .assets[$c[$i][1]].id end),
     accept: ([.review[].code] | unique),
     assets: [.assets[] | {id, checksum}]}' >"$T/want"
jq -c '.accept |= sort' "$E" >"$T/got"
cmp -s "$T/want" "$T/got"
ok $? "the export holds exactly the five answers chosen, in the page's order"
[ "$(jq -r '.accept | length == (unique | length)' "$E" | sort -u)" = true ]
ok $? "each accept list names a code once"

IN=$T/plan.ndjson run immich-decide "$E"
printf '%s\n' "$out" >"$T/decided.ndjson"
like "$err" "4 decided, 1 skipped, 0 refused" "immich-decide applies the export"
is "$(jq -r 'select(.decision) | .decision.action' "$T/decided.ndjson" | tr '\n' ' ')" \
    "stack dismiss resolve resolve " "... each answer in its group's decision"
is "$(sed -n 1p "$T/decided.ndjson" | jq -r .keep)" "$(sed -n 1p "$T/plan.ndjson" | jq -r '.assets[1].id')" \
    "... the keeper chosen by key is the group's keeper"

# A choice shows at once: the time the page takes to handle a key and
# paint the card (to the next frame), printed.
timeout 60 python3 "$TESTDIR/cdp.py" "$CHROME" "$P" \
    "new Promise(function (ok) { var t = performance.now();
     document.dispatchEvent(new KeyboardEvent('keydown', {key: 'r'}));
     var js = performance.now() - t;
     requestAnimationFrame(function () { requestAnimationFrame(function () {
     ok([js.toFixed(1), (performance.now() - t).toFixed(1)].join()) }) }) })" \
    >"$T/choice.out" 2>>"$T/cdp.err"
figure "a choice: $(tr -d '"' <"$T/choice.out" | sed 's/,/ ms in the script, on screen within /') ms"

# 10,000 groups, 2,000 of them decided (kept in the browser's storage):
# the first paint, the first page ready and the whole page read, printed.
python3 "$TESTDIR/bench/dupes-gen.py" 10000 >"$T/big.json" &&
    immich-dupes -q -f "$T/big.json" >"$T/big.ndjson" &&
    immich-review -n -q -o "$T/big" <"$T/big.ndjson" >/dev/null || exit 1
python3 - "$T/big/index.html" >"$T/store.js" <<'EOF'
import json, re, sys
s = open(sys.argv[1], encoding='utf-8').read()
d = []
for c in re.findall(r'<script type="application/json">(.*?)</script>', s, re.S):
    d += json.loads(c)
kept = {'immich-dedupe:' + g['x']: json.dumps({'a': 'resolve',
        'k': g['a'][g['k']].get('i') or g['a'][g['k']].get('u')})
        for g in d[:2000]}
print('var s = %s; Object.keys(s).forEach(function (k) '
      '{ localStorage.setItem(k, s[k]) }); Object.keys(s).length' %
      json.dumps(kept))
EOF
M="['fcp', 'ready', 'full'].map(function (a) {
    return document.documentElement.getAttribute('data-' + a) }).join() + ',' +
    document.getElementById('ex').textContent"
timeout 180 python3 "$TESTDIR/cdp.py" "$CHROME" "file://$T/big/index.html" \
    "@$T/store.js" RELOAD "$M" RELOAD "$M" RELOAD "$M" \
    >"$T/big.out" 2>>"$T/cdp.err"
is "$(sed -n 1p "$T/big.out"):$(sed -n '3p;5p;7p' "$T/big.out" | sed 's/.*,//' | sort -u)" \
    '2000:export decisions (2000)"' "10,000 groups: the 2,000 choices kept are read back"
fcp=$(sed -n '3p;5p;7p' "$T/big.out" | tr -d '"' | cut -d, -f1 | sort -n | sed -n 2p)
rdy=$(sed -n '3p;5p;7p' "$T/big.out" | tr -d '"' | cut -d, -f2 | sort -n | sed -n 2p)
full=$(sed -n '3p;5p;7p' "$T/big.out" | tr -d '"' | cut -d, -f3 | sort -n | sed -n 2p)
figure "10,000 groups, 2,000 decided, median of 3: first paint $fcp ms," \
    "first page ready $rdy ms, whole page read $full ms (load $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs)"

#!/bin/sh
# immich-review: the page for a fake library with every kind of group,
# thumbnails fetched once, records passed on, text escaped; then the page
# in headless Chromium (DOM after the script ran, a screenshot, and the
# network log: no request leaves the page's folder).  The browser part is
# skipped with a reason when Chromium is missing and cannot be installed
# (as root, apt-get install chromium; IMMICH_TEST_NO_INSTALL=1 stops it).
# REVIEW_SHOT=FILE keeps the screenshot.
. "$(dirname "$0")/lib.sh"
plan 59

skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $*"; }
count() { grep -o -- "$1" "$2" | wc -l | tr -d ' '; }
# The page's data: its chunks (<script type="application/json"> without an
# id) as one JSON array, an entry per group (see common/page.c).
pagedata() {
	python3 -c '
import json, re, sys
s = open(sys.argv[1], encoding="utf-8", errors="replace").read()
d = []
for c in re.findall(r"<script type=\"application/json\">(.*?)</script>", s, re.S):
    d += json.loads(c)
json.dump(d, sys.stdout)' "$1"
}

# The "every kind" library, plus: HTML in a loser's description and in
# two file names (one closes the page's data script), a thumbnail that answers 404, and a group of 12.
python3 "$TESTDIR/mklib.py" --kinds >"$T/kinds.json" || exit 1
python3 - "$T/kinds.json" >"$T/lib.json" <<'EOF' || exit 1
import json, random, sys, uuid
lib = json.load(open(sys.argv[1]))
rng = random.Random(7)
uid = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))
g = lib['groups']
members = lambda k: [a for a in lib['assets'] if a.get('duplicateId') == g[k]]
lo = [a for a in members('plain') if a['label'].endswith('/loser')][0]
lo['exifInfo']['description'] = (
    "<script>document.title='pwned'</script><img src=x onerror=\""
    "document.documentElement.setAttribute('data-pwned',1)\"> & 'q'")
lo['originalFileName'] = '<b id="inj">x</b>.jpg'
members('triple')[2]['thumbnail'] = False
members('triple')[0]['originalFileName'] = (
    "</script><!--<script>document.title='pwned'</script>.jpg")
big = uid()
for i in range(12):
    lib['assets'].append({'id': uid(), 'label': 'large/%d' % i,
        'originalFileName': 'BIG_%02d.jpg' % i, 'size': 20000 + 100 * i,
        'seed': str(i), 'width': 4000, 'height': 3000, 'duplicateId': big,
        'exifInfo': {'dateTimeOriginal': '2020-01-01T10:00:00.000Z'}})
json.dump(lib, sys.stdout)
EOF
fake_start "$T/lib.json"
immich-dupes -q >"$T/plan.ndjson" || exit 1
groups=$(wc -l <"$T/plan.ndjson" | tr -d ' ')
nassets=$(jq -s '[.[].assets[]] | length' "$T/plan.ndjson")
nheld=$(jq -s 'map(select(.review != [])) | length' "$T/plan.ndjson")
P=$T/page

run immich-review
is "$rc" 2 "no -o: usage error"
run immich-review -a -n -o "$P"
is "$rc" 2 "-a and -n together: usage error"

IN=$T/plan.ndjson run immich-review -o "$P"
is "$rc" 0 "review of $groups groups exits 0"
jq -c . "$T/plan.ndjson" >"$T/want"
printf '%s\n' "$out" | jq -c . >"$T/got"
cmp -s "$T/want" "$T/got"
ok $? "records pass through unchanged"
is "$(fake_log_count '.path | test("/thumbnail$")')" "$nassets" \
    "one thumbnail request per asset ($nassets)"
is "$(ls "$P/thumbs" | wc -l | tr -d ' ')" "$((nassets - 1))" \
    "every thumbnail stored but the one that answered 404"
is "$(find "$P" -name '*tmp*' | wc -l | tr -d ' ')" 0 "no temporary file left"
like "$err" "$nassets thumbnails fetched|$((nassets - 1)) thumbnails fetched, 1 missing" \
    "summary counts the missing thumbnail"
H=$P/index.html
pagedata "$H" >"$T/data.json"
J=$T/data.json
is "$(jq length "$J")" "$groups" "one entry per group in the page's data"

: >"$FAKE_LOG"
IN=$T/plan.ndjson run immich-review -q -o "$P"
is "$rc:$err" "0:" "rerun exits 0 quietly"
is "$(fake_log_count '.path | test("/thumbnail$")')" 1 \
    "rerun asks only for the thumbnail that was missing"

# The page: self-contained, its data inert.
unlike "$(grep -o "https\?://.\{0,20\}" "$H")" . "no http(s) URL anywhere in the page"
like "$(grep -o '<meta http-equiv="Content-Security-Policy"[^>]*>' "$H")" \
    "default-src 'none'; img-src 'self' data:; style-src 'sha256-[^']+'; script-src 'sha256-[^']+' 'sha256-[^']+'; base" \
    "Content-Security-Policy: nothing but the hashed style and scripts"
grep -rqF "$IMMICH_API_KEY" "$P"
is "$?" 1 "the API key is nowhere in the folder"
# Every script element is one of the page's own: the script, a data
# chunk, or a chunk's call; nothing from a record closes one or opens one
# (a < in the data is written \u003c).
is "$(grep -o '<script[^>]*>.\{0,13\}' "$H" | sed 's/>(function().*/>(function()/; s/>\[.*/>[/' |
    sort -u | tr '\n' '|')" \
    '<script type="application/json" id="end">[|<script type="application/json" id="rows">[|<script type="application/json">[|<script>(function()|<script>review_more()|' \
    "the page's file holds its own script elements and no other"
is "$(grep -o '</script' "$H" | wc -l | tr -d ' ')" "$(grep -o '<script' "$H" | wc -l | tr -d ' ')" \
    "every script element is closed by the page, not by a record"
is "$(jq '[.[].a[].v[9] | select(type == "string" and startswith("<script>document.title"))] | length' "$J")" 1 \
    "HTML in a description is in the data as it is (the DOM shows it as text)"
is "$(jq '[.[].a[].n | select(. == "<b id=\"inj\">x</b>.jpg")] | length' "$J")" 1 \
    "HTML in a file name is in the data as it is"
is "$(jq '[.[].a[] | select(has("i") | not)] | length' "$J")" 1 \
    "a 404 thumbnail: no thumbnail for that asset"
is "$(jq '[.[] | select(.a[0].n | startswith("BIG_")) | .a | length] | add' "$J")" 12 \
    "the group of 12 has 12 photos"
is "$(jq '[.[].a[] | select(.f == "k")] | length' "$J")" "$groups" "one keeper per group"

# -n: no server needed, the stored thumbnails are used.
: >"$FAKE_LOG"
IN=$T/plan.ndjson run env -u IMMICH_INSTANCE_URL -u IMMICH_API_KEY \
    immich-review -n -o "$P"
is "$rc" 0 "-n works without server settings"
is "$(fake_log_count 'true')" 0 "-n makes no request"
is "$(pagedata "$H" | jq '[.[].a[] | select(.i)] | length')" "$((nassets - 1))" \
    "-n shows the stored thumbnails"

# Bad lines, hostile ids, later stages.
head -n 1 "$T/plan.ndjson" | jq -c '.assets[0].id = "../../../x" |
    .assets[0].originalFileName = "../../x"' >"$T/hostile"
{ echo '{"broken'; cat "$T/hostile"; } >"$T/bad.ndjson"
: >"$FAKE_LOG"
IN=$T/bad.ndjson run immich-review -q -o "$T/p2"
is "$rc" 1 "a bad line: exit 1"
like "$err" '^immich-review: stdin:1: ' "the bad line is named"
is "$(pagedata "$T/p2/index.html" | jq length)" 1 "the good record still has its card"
is "$(fake_log_count 'true')" 1 "no request for an id that is not a UUID"
is "$(ls "$T" | grep -c '^x')" 0 "nothing written outside the folder"
sed -n '2p' "$T/plan.ndjson" | jq -c '. as $r | .consolidated = {changes:
    [{field: "description", value: "Eiffel tower", from: .trash[0]}],
    confirmed: true} | .trashed = {(.trash[0]): {ok: true}} |
    .errors = [{stage: "immich-fetch", asset: .trash[0],
    message: "HTTP 500: boom"}]' >"$T/later.ndjson"
IN=$T/later.ndjson run immich-review -n -q -o "$T/p3"
H3=$T/p3/data.json
pagedata "$T/p3/index.html" >"$H3"
is "$(jq -r '.[0].a[] | select(.f == "x") | .ft' "$H3")" trashed "a later stage's result is the fate shown"
is "$(jq -r '.[0].m.t' "$H3")" 'Consolidation copied onto the keeper (confirmed)' "consolidation's result is shown"
like "$(jq -r '.[0].e[0]' "$H3")" '^immich-fetch: [^:]*: HTTP 500: boom$' "errors are shown"

# -a: albums, and consolidation's album move.
: >"$FAKE_LOG"
grep "$(jq -r .groups[\"loser-metadata\"] "$T/lib.json")" "$T/plan.ndjson" >"$T/lm"
IN=$T/lm run immich-review -a -q -o "$T/p4"
is "$(fake_log_count '.path == "/api/albums"')" 2 "-a: one album request per asset"
like "$(pagedata "$T/p4/index.html" | jq -c '.[].m.ch[]')" '\["album Paris 2019","' "-a: the album move is shown"

# The server gone: the page is still written, without thumbnails; exit 3.
fake_stop
IN=$T/plan.ndjson run env IMMICH_RETRIES=1 immich-review -q -o "$T/p5"
is "$rc" 3 "server unreachable: exit 3"
is "$(pagedata "$T/p5/index.html" | jq '[.[].a[] | select(has("i") | not)] | length'):$(echo "$err" | grep -c 'no more requests')" \
    "$nassets:1" "the page is written anyway, and it says so once"

# ---- In Chromium.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ] && [ "$(id -u)" = 0 ] && [ "${IMMICH_TEST_NO_INSTALL:-0}" != 1 ] &&
    command -v apt-get >/dev/null 2>&1; then
	diag "installing chromium (apt-get install chromium)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium >"$T/apt.log" 2>&1 ||
	    diag "apt-get install chromium failed"
	CHROME=$(command -v chromium || true)
fi
if [ -z "$CHROME" ]; then
	while [ "$_n" -lt 59 ]; do
		skip "chromium is not installed (apt-get install chromium)"
	done
	exit 0
fi
# Every host name resolves to nothing: no test ever reaches the network.
chrome() {
	timeout 180 "$CHROME" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$(mktemp -d "$T/chrome.XXXXXX")" \
	    --host-resolver-rules='MAP * ~NOTFOUND' "$@" 2>>"$T/chrome.err"
}
# (Once more if the first dump came out short: a loaded machine can end
# Chromium's dump before its layout settles; what the page does is the
# same both times.)
D=$T/dom.html
for try in 1 2; do
	chrome --log-net-log="$T/net.json" --virtual-time-budget=5000 \
	    --dump-dom "file://$H" >"$D"
	near=$(count '<img alt="" src="thumbs/' "$D")
	far=$(count '<img alt="" data-src="thumbs/' "$D")
	[ "$near" -gt 0 ] && [ "$far" -gt 0 ] &&
	    [ $((near + far)) = $((nassets - 1)) ] && break
	diag "dump $try: near $near, far $far of $((nassets - 1))"
done
[ "$near" -gt 0 ] && [ "$far" -gt 0 ] && [ $((near + far)) = $((nassets - 1)) ]
ok $? "thumbnails near the screen are loaded ($near), the others wait ($far)"
like "$(grep -o 'data-ready="[0-9]*"' "$D")" '[0-9]' "the page's script ran"
is "$(grep -o '<title>[^<]*' "$D")" "<title>Immich duplicates: review" \
    "the injected script did not run (title unchanged)"
unlike "$(grep -o ' data-pwned=.\{0,9\}\|<b id="inj">' "$D")" '.' \
    "no injected element or attribute in the DOM"
grep -q '&lt;script&gt;document.title=.pwned.&lt;/script&gt;' "$D"
ok $? "the injected script is shown as text"
is "$(count '<article class="g' "$D")" "$groups" "DOM: one card per group"
is "$(count 'class="a k"' "$D")" "$groups" "DOM: one keeper per card"
is "$(count 'class="no">no thumbnail' "$D")" 1 "DOM: a 404 thumbnail shows a placeholder"
unlike "$(grep -o '<b id="inj">' "$D")" . "DOM: HTML in a file name is not markup"
like "$(cat "$D")" '&lt;b id="inj"&gt;x&lt;/b&gt;.jpg' "DOM: HTML in a file name is shown as text"
is "$(sed -n '/BIG_00/,/<\/article>/p' "$D" | grep -o '<figure' | wc -l | tr -d ' ')" 12 \
    "DOM: the group of 12 shows 12 photos"
like "$(cat "$D")" 'class="b v">▶ 0:13<' "DOM: a video shows its duration"
like "$(cat "$D")" 'class="b l">LIVE<' "DOM: a live photo has its badge"
like "$(cat "$D")" 'Consolidation will copy onto the keeper:</b><ul><li>location 48.85840, 2.29450' \
    "DOM: what consolidation will move is shown"
missing=
for c in $(jq -r '.review[].code' "$T/plan.ndjson" | sort -u); do
	grep -q "<li><b>$c</b> " "$D" || missing="$missing $c"
done
is "$missing" "" "DOM: every review reason is shown"
like "$(cat "$D")" "<option value=\"held\">held for review \\($nheld\\)</option>" \
    "DOM: the filter counts $nheld groups held for review"
python3 - "$T/net.json" >"$T/netbad" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
types = {v: k for k, v in d['constants']['logEventTypes'].items()}
for e in d['events']:
    p = e.get('params') or {}
    # The browser's own requests have no origin; the page's have one.
    if (types.get(e['type']) == 'URL_REQUEST_START_JOB' and 'url' in p
            and p.get('initiator') != 'not an origin'):
        print(p.get('method'), p.get('url'), p.get('initiator'))
EOF
is "$(cat "$T/netbad")" "" "no request from the page left its folder"
chrome --dump-dom "file://$H#c:gps-conflict" >"$T/dom2.html"
shown=$(python3 -c '
import html.parser, sys
class P(html.parser.HTMLParser):
    n = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article" and "hidden" not in a:
            self.n += 1
p = P(); p.feed(open(sys.argv[1]).read()); print(p.n)' "$T/dom2.html")
is "$shown" 1 "the filter shows only the gps-conflict group"
# Paging: 250 groups, 100 cards to a page; a link to a card (#g-ID)
# opens the page it is on; the search looks through every page.
python3 "$TESTDIR/bench/dupes-gen.py" 250 >"$T/many.json" &&
    immich-dupes -q -f "$T/many.json" >"$T/many.ndjson" &&
    immich-review -n -q -o "$T/p6" <"$T/many.ndjson" >/dev/null
chrome --dump-dom "file://$T/p6/index.html" >"$T/dom3.html"
is "$(count '<article class="g' "$T/dom3.html"), $(grep -o 'page [0-9]* of [0-9]*' "$T/dom3.html")" \
    "100, page 1 of 3" "250 groups: 100 cards on page 1 of 3"
id=$(sed -n 201p "$T/many.ndjson" | jq -r .duplicateId)
chrome --dump-dom "file://$T/p6/index.html#g-$id" >"$T/dom4.html"
is "$(count '<article class="g' "$T/dom4.html"), $(grep -o 'page [0-9]* of [0-9]*' "$T/dom4.html"), $(count "id=\"g-$id\"" "$T/dom4.html")" \
    "50, page 3 of 3, 1" "a link to the 201st card opens page 3, where it is"
name=$(sed -n 250p "$T/many.ndjson" | jq -r '.assets[0].originalFileName')
want=$(jq -r '.assets[].originalFileName' "$T/many.ndjson" | grep -cixF "$name")
chrome --dump-dom "file://$T/p6/index.html#q=$name" >"$T/dom5.html"
[ "$(count '<article class="g' "$T/dom5.html")" -ge 1 ] &&
    [ "$(count '<article class="g' "$T/dom5.html")" -le "$want" ] &&
    grep -q "id=\"g-$(sed -n 250p "$T/many.ndjson" | jq -r .duplicateId)\"" "$T/dom5.html"
ok $? "the search finds a file name of the last page"
# Clicks and typing, over the DevTools protocol (tests/cdp.py): the pager,
# the filter and the search, and the address following them.
nheld6=$(jq -s 'map(select(.review != [])) | length' "$T/many.ndjson")
nname6=$(jq -s --arg n "$name" '[.[] | select([.assets[].originalFileName |
    ascii_downcase | contains($n | ascii_downcase)] | any)] | length' "$T/many.ndjson")
timeout 120 python3 "$TESTDIR/cdp.py" "$CHROME" "file://$T/p6/index.html" \
    "var \$=function(i){return document.getElementById(i)}; \$('nx').click(); \$('nx').click();
     [\$('pn').textContent, document.querySelectorAll('article').length].join()" \
    "\$('pv').click(); [\$('pn').textContent, \$('cnt').textContent].join()" \
    "\$('f').value = 'held'; \$('f').dispatchEvent(new Event('change'));
     [location.hash, \$('cnt').textContent.replace(/.* of /, ''),
      document.querySelectorAll('article:not(.h)').length].join()" \
    "\$('f').value = ''; \$('f').dispatchEvent(new Event('change'));
     \$('q').value = '$name'; \$('q').dispatchEvent(new Event('input'));
     new Promise(function (ok) { setTimeout(function () { ok([location.hash,
     document.querySelectorAll('article').length].join()) }, 600) })" \
    "location.hash = '#g-$id'; new Promise(function (ok) { setTimeout(function () {
     ok([\$('pn').textContent, document.querySelectorAll('#g-$id').length].join()) }, 300) })" \
    "location.hash = '#xyz'; new Promise(function (ok) { setTimeout(function () {
     ok([\$('cnt').textContent, \$('f').value].join()) }, 300) })" \
    >"$T/cdp.out" 2>>"$T/chrome.err"
is "$(tr -d '"' <"$T/cdp.out" | tr '\n' '|')" \
    "page 3 of 3,50|page 2 of 3,101–200 of 250 groups shown|#held,$nheld6 groups shown (of 250),0|#q=$name,$nname6|page 3 of 3,1|1–100 of 250 groups shown,|" \
    "pager, filter, search and a new address (#g-ID, then an unknown one) work"
SHOT=${REVIEW_SHOT:-$T/shot.png}
chrome --window-size=1280,2400 --screenshot="$SHOT" "file://$H" >/dev/null
[ "$(head -c 4 "$SHOT" | od -An -c | tr -d ' ')" = '211PNG' ] &&
    [ "$(wc -c <"$SHOT")" -gt 20000 ]
ok $? "a screenshot was taken ($SHOT)"

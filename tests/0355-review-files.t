#!/bin/sh
# immich-review's folder (security audit D2, D9): files are never written
# through a symbolic link planted at a temporary name, a folder owned by
# someone else is refused, and the page and thumbnails are private (0700
# folders, 0600 files) whatever the umask.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "jq not installed"
plan 14

python3 "$TESTDIR/mklib.py" --kinds >"$T/kinds.json" || exit 1
fake_start "$T/kinds.json"
immich-dupes -q | head -n 1 >"$T/r1.ndjson" || exit 1
K=$(jq -r .keep "$T/r1.ndjson")
mode() { stat -c %a "$1"; }

# Symbolic links planted at both temporary names.
P=$T/page
mkdir -p "$P/thumbs"
echo precious >"$T/victim"
echo precious2 >"$T/victim2"
ln -s "$T/victim" "$P/index.html.tmp"
ln -s "$T/victim2" "$P/thumbs/.$K.jpg.tmp"
IN=$T/r1.ndjson run immich-review -q -o "$P"
is "$rc:$err" "0:" "links planted at the temporary names: the page is written"
is "$(cat "$T/victim"):$(cat "$T/victim2")" "precious:precious2" \
    "... and the files they point to are untouched"
[ -f "$P/index.html" ] && [ ! -L "$P/index.html" ] &&
    grep -q '</html>' "$P/index.html"
ok $? "... index.html is a new file holding the page"
[ -f "$P/thumbs/$K.jpg" ] && [ ! -L "$P/thumbs/$K.jpg" ] &&
    [ -s "$P/thumbs/$K.jpg" ]
ok $? "... the keeper's thumbnail is a new file"
is "$(find "$P" -name '*tmp*' | wc -l | tr -d ' ')" 0 \
    "... no temporary name is left"

# Modes under a permissive umask.
Q=$T/q
(umask 022; IN=$T/r1.ndjson run immich-review -q -o "$Q"; echo "$rc" >"$T/rc")
is "$(cat "$T/rc")" 0 "umask 022: the page is written"
is "$(mode "$Q"):$(mode "$Q/thumbs")" "700:700" \
    "... its folder and thumbs/ are 0700"
is "$(mode "$Q/index.html"):$(mode "$Q/thumbs/$K.jpg")" "600:600" \
    "... index.html and the thumbnails are 0600"

# A folder owned by someone else (needs root to make one).
if [ "$(id -u)" = 0 ]; then
	O=$T/other
	mkdir -p "$O"
	chown 65534 "$O"
	IN=$T/r1.ndjson run immich-review -q -o "$O"
	is "$rc" 2 "a folder owned by another user: refused (exit 2)"
	like "$err" "^immich-review: $O: owned by uid 65534, not by you \\(uid 0\\)" \
	    "... saying whose it is"
	is "$(ls -A "$O" | wc -l | tr -d ' ')" 0 "... nothing written in it"
	O2=$T/other2
	mkdir -p "$O2/thumbs"
	chown 65534 "$O2/thumbs"
	IN=$T/r1.ndjson run immich-review -q -o "$O2"
	is "$rc" 2 "thumbs/ owned by another user: refused (exit 2)"
	like "$err" "^immich-review: $O2/thumbs: owned by uid 65534" \
	    "... naming thumbs/"
	is "$(ls -A "$O2/thumbs" | wc -l | tr -d ' '):$(ls "$O2")" "0:thumbs" \
	    "... nothing written"
else
	for i in 1 2 3 4 5 6; do
		_n=$((_n + 1)); echo "ok $_n # SKIP not root: cannot make a folder another user owns"
	done
fi

#!/bin/sh
# make install / make uninstall with PREFIX and DESTDIR, and the Debian
# package: make deb builds it (lintian finds no error), it holds exactly
# the files make install installs, and, as root, dpkg -i of it gives
# working programs, man pages and completion from the installed files
# only, and dpkg -r removes every file.
. "$(dirname "$0")/lib.sh"
cd "$TESTDIR/.." || exit 1
command -v immich-dupes >/dev/null || skip_all "immich-dupes not built yet"
[ "${IMMICH_CONFORMANCE:-0}" = 1 ] &&
    skip_all "installing talks to no server: nothing to check through Prism"
plan 17
# make install runs make's "all" in the tree the other tests run from, and
# dpkg -i / -r change /usr/bin: run alone, so that no other test sees a
# program relinked or a completion installed under it.
exclusive_test

# skip N REASON: the next N tests are skipped.
skip() {
	_k=0
	while [ $_k -lt "$1" ]; do
		_n=$((_n + 1)); _k=$((_k + 1))
		echo "ok $_n # SKIP $2"
	done
}
# The build the tests run (make check's BIN and OBJ; bin-asan, obj-asan).
BIN=$(dirname "$(command -v immich-dupes)")
OBJ=$(dirname "$BIN")/$(basename "$BIN" | sed 's/^bin/obj/')
V=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)
# The files (and links) under a directory, as absolute paths, sorted.
files() { (cd "$1" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort); }

# ---- make install / uninstall
D=$T/dest
run make -s install DESTDIR="$D" PREFIX=/usr BIN="$BIN" OBJ="$OBJ"
is "$rc:$err" "0:" "make install DESTDIR=... PREFIX=/usr"
files "$D" >"$T/installed"
want='/usr/bin/immich-dupes
/usr/share/bash-completion/completions/immich-dedupe
/usr/share/bash-completion/completions/immich-trash
/usr/share/zsh/vendor-completions/_immich-dedupe
/usr/share/doc/immich-dedupe/examples/immich-dedupe-nightly.service
/usr/share/doc/immich-dedupe/examples/immich-dedupe-nightly.timer
/usr/share/doc/immich-dedupe/examples/nightly.sh
/usr/share/man/man1/immich-trash.1
/usr/share/man/man5/immich-ndjson.5
/usr/share/man/man7/immich.7'
is "$(printf '%s\n' "$want" | LC_ALL=C sort | LC_ALL=C comm -23 - "$T/installed")" "" \
    "it installs programs, man pages, examples, units and completion"
is "$(grep -h '^\.Os' "$D"/usr/share/man/man*/* | sort -u)" \
    ".Os immich-dedupe $V" "the installed man pages carry version $V"
run make -s uninstall DESTDIR="$D" PREFIX=/usr BIN="$BIN" OBJ="$OBJ"
is "$rc:$err:$(files "$D")" "0::" "make uninstall leaves no file behind"
run make -s install DESTDIR="$T/local" BIN="$BIN" OBJ="$OBJ"
is "$rc:$(files "$T/local" | grep -vc '^/usr/local/'):$(files "$T/local" |
    grep -c '^/usr/local/share/zsh/site-functions/_immich-dedupe$')" "0:0:1" \
    "the default PREFIX is /usr/local (zsh: site-functions)"

# ---- make deb
if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null ||
    ! command -v lintian >/dev/null; then
	skip 12 "make deb needs dpkg-dev, debhelper and lintian"
	exit 0
fi
run make -s deb OBJ="$T/obj"
deb=$(ls "$T"/obj/deb/immich-dedupe_"$V"_*.deb 2>/dev/null)
is "$rc:$(printf '%s\n' "$out" | grep -c '^[EW]: ')" "0:0" \
    "make deb: built, and lintian reports no error or warning"
[ $rc = 0 ] || diag "$out" "$err"
# The package's files; dh_compress added .gz, dh_installdocs the
# copyright and changelog.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\.||' |
    sed 's/\.gz$//' | grep -Ev '^/usr/share/doc/immich-dedupe/(copyright|changelog)$' |
    LC_ALL=C sort >"$T/packaged"
is "$(diff "$T/installed" "$T/packaged")" "" \
    "the package holds exactly what make install installs"
is "$(dpkg-deb -f "$deb" Version)" "$V" "the package's version is $V"
deps=$(dpkg-deb -f "$deb" Depends) miss=
for p in libcurl4 libcjson1 libssl3 libyaml-0-2 jq; do
	printf '%s\n' "$deps" | grep -Eq "(^|, )$p( |,|\$)" || miss="$miss $p"
done
is "$miss" "" "dependencies, by dpkg-shlibdeps: $deps"

# ---- dpkg -i, use, dpkg -r: as root only, one test run at a time.
if [ "$(id -u)" != 0 ]; then
	skip 8 "not root: dpkg -i needs root (CI runs as root)"
	exit 0
fi
exec 8>>"${TMPDIR:-/tmp}/immich-dedupe-dpkg.lock"
flock -w 600 8 || { skip 8 "another test run holds the dpkg lock"; exit 0; }
if dpkg -s immich-dedupe >/dev/null 2>&1; then
	skip 8 "immich-dedupe is installed on this machine already: left alone"
	exit 0
fi
at_exit 'dpkg -P immich-dedupe >/dev/null 2>&1'
# Docker images may exclude man pages and docs from installs: not ours.
run dpkg -i --path-include='/usr/share/man/*' \
    --path-include='/usr/share/doc/immich-dedupe/*' "$deb"
is "$rc" 0 "dpkg -i of the package"
[ $rc = 0 ] || diag "$err"
# From here on only the installed files: a clean environment, no build
# directory on PATH, no MANPATH.
inst() { run env -i PATH=/usr/bin:/bin HOME="$T" LANG=C "$@"; }
inst immich-dupes -V
is "$rc:$out:$err" "0:immich-dupes $V:" "installed immich-dupes -V"
inst man -w immich-trash
is "$rc:$out" "0:/usr/share/man/man1/immich-trash.1.gz" \
    "installed man -w immich-trash"
inst immich-dupes -q -f "$TESTDIR/fixtures/dupes/review.json"
is "$rc:$(printf '%s\n' "$out" | jq -s length):$err" \
    "0:$(bin=$BIN; "$bin/immich-dupes" -q -f "$TESTDIR/fixtures/dupes/review.json" | jq -s length):" \
    "installed immich-dupes -f on a saved response: the same records"
inst bash -c '. /usr/share/bash-completion/completions/immich-trash &&
    complete -p immich-trash'
is "$rc:$out" "0:complete -F _immich_dedupe immich-trash" \
    "installed bash completion"
run dpkg -r immich-dedupe
is "$rc" 0 "dpkg -r"
left=
while read -r f; do
	for g in "$f" "$f.gz"; do
		[ -e "$g" ] || [ -L "$g" ] && left="$left $g"
	done
done <"$T/packaged"
is "$left" "" "dpkg -r removed every file of the package"
run dpkg -P immich-dedupe
is "$rc:$(dpkg -s immich-dedupe >/dev/null 2>&1; echo $?)" "0:1" \
    "dpkg -P: nothing of it is left in dpkg's database"

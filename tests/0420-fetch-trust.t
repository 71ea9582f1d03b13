#!/bin/sh
# immich-fetch: what it must not trust.  A write that fails mid-file (an
# LD_PRELOAD shim built here fails the Nth write to the .part file) stops
# it, with nothing committed, and the SHA-1 is of the bytes written; an
# old backup whose checksum the server no longer has is downloaded again;
# an external-library backup (whose checksum is a path hash) is never
# kept on its size alone: each run downloads it again and compares; a
# .tmp/ID.part that is a hard link, not 0600 or not ours is not written
# to; a backup folder owned by someone else is refused.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null && command -v jq >/dev/null &&
    command -v openssl >/dev/null || skip_all "needs curl, jq and openssl"
command -v t-sha1 >/dev/null || skip_all "t-sha1 not built (make testbins)"
plan 49

P=33333333-3333-4333-8333-333333333333	# 200000 bytes
Q=33333333-3333-4333-8333-333333333334	# 9 bytes
B=66666666-6666-4666-8666-666666666666	# 2 MiB
E=55555555-5555-4555-8555-555555555555	# external library
LIB=aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
cat >"$T/lib.json" <<JSON
{"assets":[
 {"id":"$P","originalFileName":"plain.jpg","size":200000,"seed":"p"},
 {"id":"$Q","originalFileName":"small.jpg","content":"small one"},
 {"id":"$B","originalFileName":"big.jpg","size":2097152,"seed":"b"},
 {"id":"$E","originalFileName":"ext.jpg","libraryId":"$LIB",
  "originalPath":"/mnt/photos/ext.jpg","content":"external bytes, 32 of them...."}]}
JSON
fake_start "$T/lib.json"
API=$IMMICH_INSTANCE_URL/api
K="x-api-key: $IMMICH_API_KEY"
original() { curl -sS -H "$K" "$API/assets/$1/original"; }
checksum() { curl -sS -H "$K" "$API/assets/$1" | jq -r .checksum; }
sha() { openssl dgst -sha1 -binary "$1" | openssl base64; }
plan_for() {
	for id in "$@"; do curl -sS -H "$K" "$API/assets/$id"; echo; done |
	    jq -cs '{duplicateId:"dddddddd-dddd-4ddd-8ddd-dddddddddddd",
	    assets:., keep:"ffffffff-ffff-4fff-8fff-ffffffffffff",
	    trash:[.[].id], why:"test", review:[]}'
}
files() { (cd "$1" && find . -type f | LC_ALL=C sort | tr '\n' ' '); }

# ---- The write-and-hash pipe hashes what it wrote, not what it was fed.
is "$(t-sha1 | cut -d' ' -f3-)" "EAGAIN same" \
    "sha1 pipe: after a failed write, the SHA-1 is of the bytes written"

# ---- Whole buffers go to the file with O_DIRECT on a local disk file
# system (ext2/3/4, XFS, Btrfs, F2FS: stat's %t) that takes it, the tail
# and a resumed part at an odd offset through the page cache: the same
# bytes and the same SHA-1 either way, the fd's flags as they were after.
mode=cached
case $(stat -f -c %t "$T") in
ef53|58465342|9123683e|f2f52010)
	dd if=/dev/zero of="$T/probe" bs=4096 count=1 oflag=direct \
	    2>/dev/null && mode=direct ;;
esac
is "$(t-sha1 "$T/dio" 0 2>&1)" "$mode 3146728 same same restored" \
    "sha1 pipe into a file ($mode): the bytes fed, their SHA-1, flags restored"
is "$(t-sha1 "$T/dio" 1000 2>&1)" "cached 3147728 same same restored" \
    "sha1 pipe into a file at an odd offset: page cache, the bytes fed"
# A shim makes the second write with O_DIRECT fail with EINVAL (the file
# system refuses it there), or take only 8 KiB of the buffer: the pipe
# goes on through the page cache, and the file and the hash are still
# the bytes fed.
cat >"$T/dioshim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ndirect;

ssize_t
write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	const char *how = getenv("DIO_SHIM");
	int fl = fcntl(fd, F_GETFL);

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
		    "write");
	if (how == NULL || fl == -1 || !(fl & O_DIRECT) ||
	    __atomic_add_fetch(&ndirect, 1, __ATOMIC_SEQ_CST) != 2)
		return real(fd, buf, n);
	if (strcmp(how, "einval") == 0) {
		errno = EINVAL;
		return -1;
	}
	return real(fd, buf, n > 8192 ? 8192 : n);	/* short, aligned */
}
EOF
if [ "$mode" = direct ] && ${CC:-cc} -shared -fPIC -o "$T/dioshim.so" \
    "$T/dioshim.c" -ldl 2>"$T/cc.err"; then
	for how in einval short; do
		is "$(DIO_SHIM=$how LD_PRELOAD=$T/dioshim.so \
		    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		    t-sha1 "$T/dio" 0 2>&1)" "direct 3146728 same same restored" \
		    "sha1 pipe, a direct write $how: page cache after it, the bytes fed"
	done
else
	ok 0 "# SKIP no O_DIRECT here, or the shim did not build"
	ok 0 "# SKIP no O_DIRECT here, or the shim did not build"
fi

# ---- A write error mid-file (code review M5): a shim fails the write to
# the .part once SHIM_FAIL_AFTER bytes are in it.
cat >"$T/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long done;

ssize_t
write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	const char *lim = getenv("SHIM_FAIL_AFTER");
	char p[64], t[4096];
	ssize_t l, w;

	if (real == NULL)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
		    "write");
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	if (lim == NULL || (l = readlink(p, t, sizeof(t) - 1)) < 10)
		return real(fd, buf, n);
	t[l] = '\0';
	if (strcmp(t + l - 5, ".part") != 0 ||
	    strcmp(t + l - 10, ".json.part") == 0)
		return real(fd, buf, n);
	if (done >= atoll(lim)) {
		errno = getenv("SHIM_ENOSPC") ? ENOSPC : EIO;
		return -1;
	}
	if (done + (long long)n > atoll(lim))
		n = atoll(lim) - done;	/* a short write first */
	if ((w = real(fd, buf, n)) > 0)
		done += w;
	return w;
}
EOF
SHIM=
if ${CC:-cc} -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl 2>"$T/cc.err"; then
	SHIM=$T/shim.so
else
	diag "cannot build the write shim: $(cat "$T/cc.err")"
fi
# ASan (make asan) wants its runtime first; the shim goes first here.
shimmed() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    LD_PRELOAD=$SHIM run "$@"
}
if [ -n "$SHIM" ]; then
	# A small file: the failure shows only when the pipe is drained.
	SHIM_FAIL_AFTER=4 shimmed immich-fetch -q -r 0 -d "$T/w1" "$Q"
	is "$rc" 3 "write error in a small file: fatal, exit 3"
	like "$err" "w1/$Q.part: write error: Input/output error" \
	    "write error in a small file: says so"
	is "$out|$(files "$T/w1")" "|" \
	    "write error in a small file: no record, no file, no .part left"
	# A 2 MiB one: ENOSPC after 1 MiB, while the transfer goes on.
	SHIM_FAIL_AFTER=1048577 SHIM_ENOSPC=1 shimmed immich-fetch -q -r 0 \
	    -d "$T/w2" "$B"
	is "$rc" 3 "disk full in the middle of a 2 MiB file: exit 3"
	like "$err" "w2/$B.part: disk full: free space or lower -r" \
	    "disk full in the middle: says so"
	is "$out|$(files "$T/w2")" "|" \
	    "disk full in the middle: no record, no file, no .part left"
	# The same through a plan record, then the rerun without the shim.
	plan_for "$P" >"$T/p.ndjson"
	IN=$T/p.ndjson SHIM_FAIL_AFTER=100000 shimmed immich-fetch -q -r 0 \
	    -d "$T/w3"
	is "$rc|$out|$(files "$T/w3")" "3||" \
	    "write error, record mode: exit 3, no record out, nothing kept"
	IN=$T/p.ndjson run immich-fetch -q -r 0 -d "$T/w3"
	is "$rc $(printf '%s' "$out" | jq -r ".backup[\"$P\"].sha1")" \
	    "0 $(checksum "$P")" "write error: the rerun backs it up"
else
	for i in 1 2 3 4 5 6 7 8; do ok 0 "write errors # SKIP no C compiler"; done
fi

# ---- An old backup whose checksum the server no longer has (code review
# M6) is not reused: downloaded again.
D=$T/bk
plan_for "$P" >"$T/p.ndjson"
IN=$T/p.ndjson run immich-fetch -d "$D"
is "$rc" 0 "checksum changed: the first backup"
fake_ctl POST /_fake/mutate "{\"id\":\"$P\",\"content\":\"the new bytes of it\"}" >/dev/null
plan_for "$P" >"$T/p2.ndjson"
IN=$T/p2.ndjson run immich-fetch -d "$D"
is "$rc" 0 "checksum changed since the backup: exit 0"
like "$err" '1 downloaded, 0 already there' \
    "checksum changed since the backup: downloaded again"
is "$(printf '%s' "$out" | jq -r ".backup[\"$P\"] | [.sha1, .checksum, .bytes] | join(\" \")")" \
    "$(checksum "$P") $(checksum "$P") 19" \
    "checksum changed since the backup: the entry is of the new bytes"
original "$P" >"$T/p.orig"
cmp -s "$T/p.orig" "$D/$P-plain.jpg"
ok $? "checksum changed since the backup: the file is the new bytes"
is "$(jq -r '.checksum' "$D/$P.json")" "$(checksum "$P")" \
    "checksum changed since the backup: so is the sidecar"
IN=$T/p2.ndjson run immich-fetch -d "$D"
like "$rc $err" '^0 .*0 downloaded, 1 already there' \
    "and the next run keeps it"

# ---- External-library asset: wrong bytes of the right size once (the
# checksum cannot tell); the next run downloads it again and compares.
original "$E" >"$T/e.orig"
X=$T/ext
fake_ctl POST /_fake/faults '{"path":"/original$","action":"wrongbytes"}' >/dev/null
run immich-fetch -d "$X" "$E"
is "$rc" 0 "external, wrong bytes: kept (only the size can be checked)"
cmp -s "$T/e.orig" "$X/$E-ext.jpg"
is "$?" 1 "external, wrong bytes: the file is not the server's"
bad=$(sha "$X/$E-ext.jpg")
run immich-fetch -d "$X" "$E"
is "$rc" 0 "external, next run: exit 0"
like "$err" "$E-ext.jpg: external-library asset: the new download \(SHA-1 [^ ]+\) differs from the file there \(SHA-1 $bad\) .*downloading it again to decide" \
    "external, next run: the new download differs: a third decides"
like "$err" "two new downloads agree; replacing the file" \
    "external, next run: two new downloads agree: replaced"
cmp -s "$T/e.orig" "$X/$E-ext.jpg"
ok $? "external, next run: the file is now the server's"
is "$(printf '%s' "$out" | jq -r ".backup[\"$E\"] | [.sha1, .external] | join(\" \")")|$(jq -r .sha1 "$X/$E.json")" \
    "$(sha "$T/e.orig") true|$(sha "$T/e.orig")" \
    "external, next run: entry and sidecar have the SHA-1 of the new bytes"
: >"$FAKE_LOG"
run immich-fetch -d "$X" "$E"
is "$rc|$(printf '%s\n' "$err" | grep -c .)|$(fake_log_count '.path|test("/original$")')" \
    "0|1|1" \
    "external, a run with the same bytes: downloaded once, quietly"
# One bad download, the file there right: the third keeps it.
fake_ctl POST /_fake/faults '{"path":"/original$","action":"wrongbytes"}' >/dev/null
run immich-fetch -d "$X" "$E"
like "$rc $err" "^0 .*differs from the file there .*to decide" \
    "external, a bad new download: a third decides"
unlike "$err" "replacing" "external, a bad new download: not replacing"
cmp -s "$T/e.orig" "$X/$E-ext.jpg"
ok $? "external, a bad new download: the file stays the server's"
# Three different: no backup entry, the file there untouched.
fake_ctl POST /_fake/faults '[{"path":"/original$","action":"wrongbytes","at":1},
    {"path":"/original$","action":"wrongbytes","at":2}]' >/dev/null
run immich-fetch -d "$X" "$E"
is "$rc $(printf '%s' "$out" | jq -c '.backup')" "1 {}" \
    "external, the file and two downloads all differ: no backup, exit 1"
like "$err" "the file there and two new downloads all differ" \
    "external, all differ: says so"
cmp -s "$T/e.orig" "$X/$E-ext.jpg"
ok $? "external, all differ: the file there is untouched"
is "$(ls -A "$X/.tmp")" "" "external, all differ: no .part left"
fake_ctl DELETE /_fake/faults >/dev/null

# ---- A .tmp/ID.part that is not ours alone (audit D6).
printf 'PRECIOUS %.0s' $(seq 5000) >"$T/victim"
H=$T/hl
mkdir -p "$H/.tmp"
chmod 700 "$H" "$H/.tmp"
ln "$T/victim" "$H/.tmp/$P.part"
cp "$T/victim" "$T/victim.orig"
run immich-fetch -q -d "$H" "$P"
is "$rc" 0 "a hard-linked .part: exit 0"
like "$err" "$H/.tmp/$P.part: has 2 links: not resuming it; removed it and starting again" \
    "a hard-linked .part: says so"
cmp -s "$T/victim.orig" "$T/victim"
ok $? "a hard-linked .part: the linked file is untouched"
is "$(stat -c '%h' "$T/victim")" 1 "a hard-linked .part: the link is gone"
cmp -s "$T/p.orig" "$H/$P-plain.jpg"
ok $? "a hard-linked .part: the backup is the server's bytes"
is "$(stat -c %a "$H/$P-plain.jpg")" 600 "a hard-linked .part: backup 0600"
# A world-readable partial download: not resumed (its mode would stay).
head -c 7 "$T/p.orig" >"$H/.tmp/$Q.part"
chmod 644 "$H/.tmp/$Q.part"
original "$Q" >"$T/q.orig"
run immich-fetch -q -d "$H" "$Q"
like "$rc $err" "^0 .*$Q.part: mode 0644, not 0600: not resuming it" \
    "a .part of mode 0644: not resumed, says so"
is "$(stat -c %a "$H/$Q-small.jpg")" 600 "a .part of mode 0644: backup 0600"
cmp -s "$T/q.orig" "$H/$Q-small.jpg"
ok $? "a .part of mode 0644: the backup is the server's bytes"
if [ "$(id -u)" = 0 ]; then
	rm -f "$H/$Q-small.jpg" "$H/$Q.json"
	head -c 3 "$T/q.orig" >"$H/.tmp/$Q.part"
	chmod 600 "$H/.tmp/$Q.part"
	chown 65534 "$H/.tmp/$Q.part"
	run immich-fetch -q -d "$H" "$Q"
	like "$rc $err" "^0 .*$Q.part: owned by uid 65534, not by you: not resuming it" \
	    "a .part owned by someone else: not resumed, says so"
	is "$(stat -c %u:%a "$H/$Q-small.jpg")" 0:600 \
	    "a .part owned by someone else: the backup is ours, 0600"
	# A backup folder owned by someone else: refused.
	mkdir -p "$T/theirs"
	chown 65534 "$T/theirs"
	run immich-fetch -d "$T/theirs" "$Q"
	is "$rc|$out|$(files "$T/theirs")" "2||" \
	    "a backup folder owned by someone else: exit 2, nothing written"
	is "$err" "immich-fetch: $T/theirs: owned by uid 65534, not by you (uid 0): refusing to keep backups there" \
	    "a backup folder owned by someone else: says so"
	# Refused before anything is done, even with nothing to download.
	mkdir -p "$T/ours/.tmp"
	chown 65534 "$T/ours/.tmp"
	cp "$H/$Q-small.jpg" "$H/$Q.json" "$T/ours/"
	run immich-fetch -d "$T/ours" "$Q"
	like "$rc|$out|$err" "^2\\|\\|immich-fetch: $T/ours/.tmp: owned by uid 65534, not by you" \
	    "a .tmp owned by someone else: refused, no record out"
else
	for i in 1 2 3 4 5; do ok 0 "owners # SKIP needs root (chown)"; done
fi

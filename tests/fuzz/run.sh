#!/bin/sh
# SPDX-License-Identifier: ISC
# Build the libFuzzer targets (clang, ASan + UBSan) and run each for a
# while.  Usage: tests/fuzz/run.sh BUILDDIR SECONDS [TARGET...]
# (run from the top of the source tree; make fuzz and tests/0840-fuzz.t
# call it).  First every file in tests/fuzz/regress/TARGET/ (inputs that
# once crashed) is replayed; then the target runs SECONDS seconds from its
# seed corpus tests/fuzz/corpus/TARGET/ (the corpus it grows is kept in
# BUILDDIR).  A crash leaves its input in BUILDDIR/TARGET-crash-*: copy it
# to tests/fuzz/regress/TARGET/ once fixed.  Prints "TARGET: N execs, C
# crashes" per target and "fuzz: N execs, C crashes"; exits 1 on a crash,
# 2 when clang or libFuzzer is missing.
set -u
B=$1 SECS=$2
shift 2
CC=${FUZZ_CC:-clang}
F=tests/fuzz
if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found"; exit 2
fi
mkdir -p "$B/obj"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
V=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' Makefile)	# one place
CFL="-g -O1 -std=c11 -D_GNU_SOURCE -DVERSION=\"$V\" -I. -Wall -Wextra $SAN
    $(pkg-config --cflags libcurl libcjson yaml-0.1 2>/dev/null)"
LIBS="$(pkg-config --libs libcurl libcjson yaml-0.1 2>/dev/null ||
    echo -lcurl -lcjson -lyaml) -lcrypto -lm"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)
{ (void)d; (void)n; return 0; }' >"$B/probe.c"
# shellcheck disable=SC2086
if [ ! -x "$B/probe" ] && ! "$CC" -fsanitize=fuzzer $SAN -o "$B/probe" \
    "$B/probe.c" >"$B/probe.log" 2>&1; then
	echo "fuzz: $CC cannot build libFuzzer targets:" \
	    "$(head -1 "$B/probe.log")"
	exit 2
fi
# The common objects, rebuilt when their source is newer.
objs='' new=''
for c in common/util.c common/ndjson.c common/jsonsplit.c common/fsutil.c \
    common/http.c common/ratelimit.c common/env.c common/progress.c; do
	o=$B/obj/$(basename "$c" .c).o
	if [ ! -f "$o" ] || [ -n "$(find common -newer "$o" -name '*.[ch]')" ]
	then
		# shellcheck disable=SC2086
		"$CC" $CFL -fsanitize=fuzzer-no-link -c -o "$o" "$c" || exit 1
		new=1
	fi
	objs="$objs $o"
done
if [ -n "$new" ] || [ ! -f "$B/libcommon.a" ]; then
	rm -f "$B/libcommon.a"
	# shellcheck disable=SC2086
	ar rcs "$B/libcommon.a" $objs
fi
# shellcheck disable=SC2046
[ $# -gt 0 ] || set -- $(cd $F && ls fuzz-*.c | sed 's/\.c$//')
total=0 crashes=0
for t in "$@"; do
	if [ ! -x "$B/$t" ] || [ -n "$(find "$F/$t.c" "$B/libcommon.a" \
	    -newer "$B/$t")" ]; then
		# shellcheck disable=SC2086
		"$CC" $CFL -fsanitize=fuzzer -o "$B/$t" "$F/$t.c" \
		    "$B/libcommon.a" $LIBS || exit 1
	fi
	c=0
	if [ -d "$F/regress/$t" ] && [ -n "$(ls "$F/regress/$t")" ]; then
		if ! "$B/$t" -runs=1 "$F/regress/$t"/* >"$B/$t.regress" 2>&1
		then
			echo "$t: a regression input crashes:"
			grep -E 'ERROR|SUMMARY|abort|Running' "$B/$t.regress" |
			    head -5
			c=$((c + 1))
		fi
	fi
	mkdir -p "$B/corpus/$t"
	"$B/$t" -max_total_time="$SECS" -print_final_stats=1 \
	    -close_fd_mask=1 -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
	    -artifact_prefix="$B/$t-" "$B/corpus/$t" "$F/corpus/$t" \
	    >"$B/$t.log" 2>&1
	rc=$?
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$t.log")
	n=${n:-0}
	if [ $rc != 0 ]; then
		c=$((c + 1))
		grep -E 'ERROR|SUMMARY|fs_safename|http_errmsg|differs' \
		    "$B/$t.log" | head -5
		ls "$B/$t"-crash-* "$B/$t"-leak-* "$B/$t"-timeout-* \
		    "$B/$t"-oom-* 2>/dev/null | head -3
	fi
	echo "$t: $n execs, $c crashes"
	total=$((total + n)) crashes=$((crashes + c))
done
echo "fuzz: $total execs, $crashes crashes"
[ $crashes = 0 ]

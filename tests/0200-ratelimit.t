#!/bin/sh
# The shared rate limit (common/ratelimit.c) across processes: the rate
# bound measured from the fake server's own arrival times, the in-flight
# cap, a killed holder, stale and garbled state, and the state directory
# checks.  Driver: t-rl (tests/t-rl.c); checker: tests/rl-check.py.
. "$(dirname "$0")/lib.sh"
exclusive_test

command -v t-rl >/dev/null || skip_all "t-rl not built (make testbins)"
plan 43

check() { python3 "$TESTDIR/rl-check.py" "$@"; }
# N copies of a command at once, each writing $T/p.I
many() {
	_k=$1; shift
	rm -f "$T"/p.*
	_i=1 _pids=
	while [ "$_i" -le "$_k" ]; do
		"$@" >"$T/p.$_i" 2>>"$T/p.err" &
		_pids="$_pids $!"
		_i=$((_i + 1))
	done
	_bad=0
	for _p in $_pids; do wait "$_p" || _bad=$((_bad + 1)); done
	return "$_bad"
}
boot=$(t-rl -c | cut -d' ' -f1)
now() { t-rl -c | cut -d' ' -f2; }
S=$IMMICH_RATE_FILE

# --- 1. The rate: 8 processes, 400 requests, 50/s, burst 5 ------------------
# The bound is checked on the server's arrival times when the fake server
# is there (through http_json, which takes the limit on every attempt),
# else on the times t-rl takes right after each rl_acquire.
if command -v fake_start >/dev/null 2>&1 &&
    [ -f "$TESTDIR/fake_immich.py" ]; then
	echo '{"apiKey":"k-rl","assets":[]}' >"$T/lib.json"
	fake_start "$T/lib.json"
	burst8() {
		_l0=$(cat "$FAKE_LOG" 2>/dev/null | wc -l)
		many 8 t-rl -w 120 -g /server/ping 50
		_r=$?
		_i=0	# the server may log a reply just after the client saw it
		while :; do
			tail -n +$((_l0 + 1)) "$FAKE_LOG" |
			    grep '"/api/server/ping"' >"$T/times"
			[ "$(wc -l <"$T/times")" -ge 400 ] || [ $_i -ge 20 ] &&
			    break
			sleep 0.1; _i=$((_i + 1))
		done
		return $_r
	}
	where="server arrival times"
else
	burst8() {
		many 8 t-rl -w 120 50
		_r=$?
		cat "$T"/p.* | grep "^A " >"$T/times"
		return $_r
	}
	where="local times (no fake server)"
fi
diag "rate test measured on $where"

# The upper bound is never relaxed; a run whose achieved rate falls under
# 95% (a loaded machine) is repeated once.
for attempt in 1 2; do
	IMMICH_RATE=50 IMMICH_BURST=5 IMMICH_INFLIGHT=5 burst8
	brc=$?
	check window 50 5 0.010 "$T/times" >"$T/chk"
	wrc=$?
	rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$T/chk")
	awk -v r="$rate" 'BEGIN { exit !(r >= 47.5) }' && break
	diag "attempt $attempt: achieved $rate/s, under 95%; running again"
done
diag "$(cat "$T/chk")"
# A failure under heavy load is worth reading: the times are taken by the
# fake server's handler threads, so a stall of the server of N ms shows as
# N ms of slack needed, whatever the clients did.
[ "$wrc" = 0 ] || diag "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
is "$brc" 0 "8 processes at 50/s: every request made"
is "$(wc -l <"$T/times" | tr -d ' ')" 400 "400 requests seen"
is "$wrc" 0 "no window of length t holds more than 5 + 50(t + 10 ms)"
awk -v r="$rate" 'BEGIN { exit !(r >= 47.5) }'
ok $? "achieved rate $rate/s is at least 95% of 50/s"

IMMICH_RATE=0 IMMICH_BURST=5 burst8
check window 50 5 0.010 "$T/times" >"$T/chk"
is "$?" 1 "limit off: the same check fails (so it can)"
diag "$(cat "$T/chk")"

# --- 2. The in-flight cap -----------------------------------------------------
export IMMICH_RATE=0
IMMICH_INFLIGHT=3 many 8 t-rl -w 60 -h 30 6
ok $? "8 processes under IMMICH_INFLIGHT=3 finish"
most=$(check inflight "$T"/p.*)
awk -v m="$most" 'BEGIN { exit !(m <= 3) }'
ok $? "at most 3 in flight at once (saw $most)"
awk -v m="$most" 'BEGIN { exit !(m >= 2) }'
ok $? "the cap was reached by more than one process (saw $most)"
IMMICH_INFLIGHT=0 many 8 t-rl -w 60 -h 30 6
most=$(check inflight "$T"/p.*)
awk -v m="$most" 'BEGIN { exit !(m > 3) }'
ok $? "with IMMICH_INFLIGHT=0 more than 3 overlap (saw $most)"

# --- 3. A holder killed with SIGKILL frees its slot ---------------------------
export IMMICH_INFLIGHT=1
t-rl -H >"$T/holder" 2>&1 &
holder=$!
at_exit "kill -9 $holder 2>/dev/null"
i=0
while [ "$(cat "$T/holder")" != held ] && [ $i -lt 200 ]; do
	sleep 0.05; i=$((i + 1))
done
is "$(cat "$T/holder")" held "a process holds the only slot"
run t-rl -w 1 1
is "$rc" 4 "another process waits for it"
kill -9 $holder
wait $holder 2>/dev/null
run t-rl -w 10 1
is "$rc" 0 "after SIGKILL of the holder the slot is free at once"

# --- 4. State file: reset when garbled, stale or from another boot -----------
export IMMICH_RATE=1 IMMICH_BURST=1 IMMICH_INFLIGHT=0
state_ok() { grep -Eqx "immich-rl 1 $boot [0-9]{20}" "$S"; }

# A file named by IMMICH_RATE_FILE that is not a state file (a plan named
# by mistake, binary data) is the person's: refused, left as it was.
printf '{"keep":"x"}\n%.0s' 1 2 3 4 5 6 7 8 9 10 >"$S"
cp "$S" "$T/S.orig"
run t-rl -w 10 1
is "$rc" 2 "a file that is not a state file: refused, exit 2"
is "$err" "t-rl: IMMICH_RATE_FILE $S is not a rate limit state file (it does not begin with \"immich-rl 1\"): not overwriting it; name a new file, or remove it" \
    "a file that is not a state file: says so"
cmp -s "$S" "$T/S.orig"
ok $? "a file that is not a state file: left as it was"
head -c 300 /dev/urandom >"$S"
cp "$S" "$T/S.orig"
run t-rl -w 10 1
is "$rc" 2 "binary data: refused, exit 2"
cmp -s "$S" "$T/S.orig"
ok $? "binary data: left as it was"

# A state file garbled after its first words is reset.
printf 'immich-rl 1 garbled beyond repair %s\n' "$(head -c 200 /dev/zero | tr '\0' x)" >"$S"
run t-rl -w 10 1
is "$rc" 0 "garbled state file: no wait"
like "$err" "rate.state: garbled; reset" "garbled state file: reset, with a warning"
state_ok
ok $? "garbled state file rewritten as one line (truncated)"

printf 'immich-rl 1 %s %s\n' "$boot" 999999999999999999 >"$S"
run t-rl -w 10 1
is "$rc" 0 "far-future time: not waited on"
like "$err" "too far in the future; reset" "far-future time: reset, with a warning"

printf 'immich-rl 1 %s %s\n' "$boot" 99999999999999999999999 >"$S"
run t-rl -w 10 1
is "$rc" 0 "out-of-range number: reset"

printf 'immich-rl 1 %s %s\n' 00000000-0000-0000-0000-000000000000 \
    $(( $(now) + 20000000000 )) >"$S"
run t-rl -w 10 1
is "$rc" 0 "a time from another boot: reset, not waited on"
is "$err" "" "another boot: reset silently"

: >"$S"
run t-rl -w 10 1
is "$rc:$err" "0:" "empty state file: fine, silently"

# A valid time in the near future is honoured: 1 request/s, burst 1, the
# next slot 1.5 s away.
t0=$(now)
printf 'immich-rl 1 %s %s\n' "$boot" $((t0 + 1500000000)) >"$S"
run t-rl -w 20 1
t1=$(printf '%s\n' "$out" | sed -n 's/^A //p')
waited=$(( (t1 - t0) / 1000000 ))
[ "$waited" -ge 1400 ]
ok $? "a valid reservation 1.5 s ahead is waited for (waited $waited ms)"
is "$err" "" "and it is not reported as stale"

rm -f "$S"
ln -s "$T/elsewhere" "$S"
run t-rl -w 10 1
is "$rc" 2 "IMMICH_RATE_FILE that is a symlink: refused"
like "$err" "symbolic link" "with a message saying so"
test ! -e "$T/elsewhere"
ok $? "and the link is not followed"
rm -f "$S"

# --- 5. The default state directory -------------------------------------------
unset IMMICH_RATE_FILE
export XDG_RUNTIME_DIR="$T/xdg" IMMICH_RATE=10 IMMICH_INFLIGHT=2
export IMMICH_INSTANCE_URL=http://127.0.0.1:9 IMMICH_API_KEY=sekrit-rl-key-42
unset IMMICH_API_KEY_FILE
mkdir -m 700 "$T/xdg"
D=$T/xdg/immich-dedupe
run t-rl 2
is "$rc" 0 "default state: works"
is "$(stat -c %a "$D")" 700 "state directory created 0700"
f=$(ls "$D" | grep '\.rate$')
is "$(stat -c %a "$D/$f")" 600 "state file created 0600"
is "$(ls "$D" | grep -c '\.rate\.slot\.')" 2 "one slot file per in-flight slot"
grep -rqF sekrit-rl-key-42 "$D"; r1=$?
ls "$D" | grep -qF sekrit-rl-key-42; r2=$?
is "$r1$r2" 11 "the API key is in no file name or content"
IMMICH_API_KEY=other-key t-rl 1 >/dev/null
IMMICH_INSTANCE_URL=http://127.0.0.1:10 t-rl 1 >/dev/null
is "$(ls "$D" | grep -c '\.rate$')" 3 "one state file per server and per key"

chmod 777 "$D"
run t-rl 1
is "$rc" 2 "group/other-writable state directory: refused"
like "$err" "writable by others: chmod 700" "message says what to fix"
chmod 700 "$D"

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$D"
	run t-rl 1
	is "$rc" 2 "state directory owned by another user: refused"
	like "$err" "immich-dedupe is owned by uid [0-9]+, not by you" \
	    "message names the owner"
	chown 0 "$D"
else
	ok 0 "# SKIP chown needs root"
	ok 0 "# SKIP chown needs root"
fi

mv "$D" "$T/real"
ln -s "$T/real" "$D"
run t-rl 1
is "$rc" 2 "state directory that is a symlink: refused"
like "$err" "is a symbolic link: not following it" "message says so"

#!/bin/sh
# Out of memory in cJSON stops the program (exit 3, "out of memory")
# instead of leaving a key out of a record or a request body: every
# binary's start-up (progress_init) routes cJSON's allocations through
# xmalloc.  Driver: t-oom (tests/t-oom.c).
. "$(dirname "$0")/lib.sh"

command -v t-oom >/dev/null || skip_all "t-oom not built (make testbins)"
plan 4

# (AddressSanitizer would stop at the huge request itself.)
run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1" t-oom huge
is "$rc:$out" "3:" "a cJSON allocation that cannot be met: exit 3, nothing printed"
# (AddressSanitizer says the allocation failed first: its line, not ours.)
is "$(printf '%s\n' "$err" | grep -v '^==[0-9]*==WARNING: AddressSanitizer failed to allocate')" \
    "t-oom: out of memory" "... saying out of memory"

run t-oom key
if [ "$out" = skip ]; then
	for i in 1 2; do
		_n=$((_n + 1)); echo "ok $_n # SKIP AddressSanitizer: no address-space limit"
	done
else
	is "$rc:$out" "3:" "a key whose copy does not fit: exit 3, no record without it"
	is "$err" "t-oom: out of memory" "... saying out of memory"
fi

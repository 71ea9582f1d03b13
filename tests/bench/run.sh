#!/bin/sh
# SPDX-License-Identifier: ISC
# Runs every benchmark in this directory (make bench).
dir=$(dirname "$0")
rc=0
for b in "$dir"/*.sh; do
	[ "${b##*/}" = run.sh ] && continue
	echo "== ${b##*/}"
	sh "$b" || rc=1
done
exit $rc

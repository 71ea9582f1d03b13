#!/bin/sh
# The crash campaign (tests/campaign.py crashes): one stage of the pipeline
# killed with SIGKILL at a seeded moment (35 points over the seven stages,
# the five of a resolve, immich-stack and immich-dismiss: a request held by
# the server, between a change and its reply (PUT /assets/id, DELETE
# /assets, POST /stacks, DELETE /duplicates), mid-download, after k input
# records, after a random time), then the pipeline rerun from the killed
# stage's saved input: the invariants hold, the end state (server, stacks
# and backup folder) equals that of an uninterrupted run, and no stack is
# made and no group dismissed twice.  CAMPAIGN_LONG=1 (make campaign):
# more points on a larger library.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "needs jq"
for s in dupes consolidate fetch verify trash stack dismiss; do
	command -v immich-$s >/dev/null || skip_all "immich-$s not built"
done
plan 1
export IMMICH_LOW_SPEED_TIME=1
if [ "${CAMPAIGN_LONG:-0}" = 1 ]; then
	set -- --points "${CAMPAIGN_POINTS:-150}" --library kinds
else
	set -- --points "${CAMPAIGN_POINTS:-35}"
fi
python3 "$TESTDIR/campaign.py" crashes --dir "$T/c" \
    --seed "${CAMPAIGN_SEED:-1}" "$@" >"$T/c.out" 2>&1
rc=$?
grep '^#' "$T/c.out"
grep -v '^#' "$T/c.out" | sed 's/^/# /'
grep -E '^crashes:' "$T/c.out" >&2
line=$(grep '^crashes:' "$T/c.out")
like "$line" '^crashes: ([0-9]+) kill points, 0 assets lost, end state equal \1/\1, 0 keepers trashed, 0 groups emptied, 0 review groups touched, 0 groups left half done, 0 temporary files counted, 0 crashes, 0 hangs, 0 done twice$' \
    "crash campaign: nothing lost, end state equal (status $rc)"

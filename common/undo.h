/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_UNDO_H
#define IMMICH_UNDO_H

#include <cjson/cJSON.h>

#include "common/ndjson.h"

/*
 * immich-restore's undo of what the stages did to a group besides
 * trashing its losers: the stack immich-stack made ("stacked"), the
 * keeper's metadata immich-consolidate added ("consolidated.changes",
 * each with the keeper's value before it, "was"), and the group's
 * duplicateId on every member (cleared by immich-dismiss, by a stack, or
 * by Immich's own singleton clean-up while a loser was in the trash).
 *
 * Each step reads what the server says now and changes only what is
 * still as the stage left it, so it can be run again (after a crash, or
 * on its own output) and does nothing twice; what a person changed
 * since is left as it is and said.  Results go into the record's
 * "undone" object ("stack", "keeper", "group"; see immich-ndjson(5)),
 * and the group's id on each "restored" entry of an asset brought back;
 * failures are rec_errors.  Each returns 0, or -1 when the record failed
 * or was held.
 */
struct undo {
	cJSON	*rec;
	const struct ndjson_in *in;
	cJSON	*restored;	/* the record's "restored", by asset id */
	cJSON	*undone;	/* its "undone" (added if not empty) */
	int	 keep_merged;	/* -k: the keeper's merged metadata stays */
};

/* DELETE /stacks/{id} of the record's "stacked", if it is still the
 * stack immich-stack made. */
int	 undo_stack(struct undo *);
/* Each change of "consolidated" taken back on the keeper, unless -k. */
int	 undo_keeper(struct undo *);
/* PUT /assets {ids, duplicateId} on the members (their new ids when
 * uploaded again) whose duplicateId is empty now, when the record's
 * losers were restored, or it was stacked or dismissed. */
int	 undo_group(struct undo *);

#endif

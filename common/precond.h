/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_PRECOND_H
#define IMMICH_PRECOND_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * immich-trash's preconditions that the record alone settles (DESIGN §4,
 * invariants 1-3): a keeper that is one of the group's assets, a plan
 * with no unresolved review flag, a confirmed consolidation made for
 * this keeper and loser, and a verified backup still on disk (the
 * loser's and its live-photo video's).  Each check gives NULL when it
 * passes, else the hold code of immich-trash(1) with a detail (the
 * caller frees it).  Nothing here talks to the server; the backup file
 * is opened, and hashed again when its stamp does not prove it
 * unchanged.  Driven by tests/t-precond.c.
 */

/* What the record says once for all its losers. */
struct pc_group {
	const char	*keep;		/* the keeper's id, or NULL */
	const char	*kwhy;		/* why there is no usable keeper */
	const cJSON	*trash;		/* the record's "trash" list */
	const cJSON	*review;	/* its "review" list (NULL: none) */
	char		*unresolved;	/* review codes not accepted, "a,b" */
	const cJSON	*cons;		/* the consolidation object */
	const char	*cwhy;		/* why it is not confirmed */
	const cJSON	*calb;		/* consolidated.albums */
};

/* Fill g from rec; accepted[n] are the review codes allowed (-a). */
void	 pc_group(struct pc_group *g, const cJSON *rec,
	    const char *const *accepted, size_t n);
void	 pc_group_free(struct pc_group *);

/*
 * Every record-only check of loser id (a UUID in the trash list), in
 * order: keeper, member, plan, review, consolidation (skipped, with
 * *cskip set, when skip_cons, as -C), backup, live-photo video's
 * backup.  NULL and *sum (the checksum the backup was made against)
 * when it may go on to the server checks.
 */
const char *pc_loser(const struct pc_group *g, const cJSON *rec,
	    const char *id, int skip_cons, char **detail, const char **sum,
	    int *cskip);

/* The backup of asset id (a loser, or with what "live-photo video X: "
 * its video): in the record, verified, and the file still on disk with
 * those bytes.  *sum (may be NULL) gets the backed-up checksum. */
const char *pc_backup(const cJSON *rec, const char *id, const char *what,
	    char **detail, const char **sum);
/* A loser's live-photo video id, from its backup or its asset. */
const char *pc_video(const cJSON *rec, const char *id);
/*
 * What the server says now of a loser, against what it is compared
 * with.  pc_named: whether people (an asset's) shows a person someone
 * named.  pc_people: such a person on the loser (lpeople) whom the
 * keeper (kpeople) does not show: "people".  pc_new_album: an album the
 * loser is in now ([{id, albumName}]) that consolidation did not see
 * (seen): "loser-changed".
 */
int	 pc_named(const cJSON *people);
const char *pc_people(const cJSON *lpeople, const cJSON *kpeople,
	    const char *keep, char **detail);
const char *pc_new_album(const cJSON *now, const cJSON *seen,
	    char **detail);

/*
 * Loser id as the server has it now (fresh: GET /duplicates or
 * GET /assets/{id}, not in the trash) against the record: the checksum
 * its backup was made against (sum; "checksum-changed"), no live-photo
 * video linked since without a verified backup (pc_backup's codes), and
 * none of the metadata consolidation moves changed since the plan
 * (merge_loser_changed; "loser-changed").  NULL, or the code with
 * *detail set.
 */
const char *pc_fresh(const cJSON *rec, const char *id, const cJSON *fresh,
	    const char *sum, char **detail);

/* Whether string id is in list before item upto (NULL: anywhere). */
int	 pc_listed(const cJSON *list, const char *id, const cJSON *upto);
/* How many backup files were hashed again. */
long	 pc_rehashed(void);

#endif

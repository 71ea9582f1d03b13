/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_BULK_H
#define IMMICH_BULK_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Bulk id requests that Immich accepts or refuses as a whole
 * (DELETE /assets, POST /trash/restore/assets): one request with
 * {"ids": [...]} plus the members of extra; when the server refuses it
 * with 400 (one bad id refuses the lot, nothing is changed), the ids are
 * split in halves, recursively, until the refused ids are alone, and the
 * rest are sent again.  Costs about 2 log2(n) more requests per bad id.
 */
struct bulk_res {
	long	 status;	/* the final HTTP status for this id; 0 when
				 * no reply came after retries */
	char	*msg;		/* the server's message (or why no reply)
				 * when refused; NULL on 2xx.  Caller frees. */
};

void	 bulk_ids(const char *method, const char *path, const cJSON *extra,
	    const char *const *ids, size_t n, struct bulk_res *res);
/*
 * The same for a request that must not be sent twice (DELETE /assets:
 * deleting a trashed asset again restarts its 30-day clock).  When its
 * outcome is unknown (no reply, 408, 429 or 5xx: it may have been done),
 * done(id) is asked of each id (1: already done, counted as done); only
 * the others are sent again, up to IMMICH_RETRIES times with backoff.
 */
void	 bulk_ids_once(const char *method, const char *path,
	    const cJSON *extra, const char *const *ids, size_t n,
	    struct bulk_res *res, int (*done)(const char *id));

/*
 * One POST /assets/bulk-upload-check for the n checksums sums[i] (NULL
 * ones left out; sent as ids "<tag>i"): out[i] is what the server says
 * of the user's asset with that checksum.  0, or -1 when the request or
 * its reply failed (said on stderr unless quiet): nothing is known, out
 * is all "not said".
 */
struct bulk_sum {
	char	 asset[40];	/* its id; "" when not said */
	int	 reject;	/* action "reject": the server has it */
	int	 trashed;	/* isTrashed: 1 true, 0 false, -1 not said */
};
int	 bulk_checksums(const char *const *sums, size_t n, char tag,
	    struct bulk_sum *out, int quiet);

/*
 * After DELETE /assets: is each id the server said it deleted (res[i]
 * 2xx) in the trash now?  A server can answer 204 and do nothing.  One
 * bulk_checksums of sums[] settles those it names, under their own id,
 * as trashed; the rest (all when per_asset, -G) are read with
 * GET /assets/{id}.  One that is not gets res[i].status 0, code[i]
 * "not-trashed" (or stays NULL when unknown) and a message in res[i].msg.
 */
void	 bulk_confirm_trashed(const char **ids, const char **sums,
	    struct bulk_res *res, const char **code, size_t n, int per_asset,
	    int quiet);
/* After a DELETE whose outcome is unknown: whether id is in the trash
 * now (GET /assets/{id}), or gone under force (purged). */
int	 bulk_trashed(const char *id, int force);

#endif

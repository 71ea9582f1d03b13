/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_BATCHREAD_H
#define IMMICH_BATCHREAD_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/idset.h"

/*
 * What immich-trash asks the server of a batch of keepers and losers just
 * before deleting it (DESIGN §4.5), read in bulk, and the per-asset reads
 * for what the bulk reads leave open.  Per batch (br_read): one streamed
 * GET /duplicates for every keeper and loser (common/fresh.h), the
 * albums' members when losers' albums are compared, and the named
 * people: GET /people, then one search per named person when there are
 * no more of them than losers, else each loser's own GET /assets/{id}
 * (common/members.h).  Which request proves which precondition is in
 * immich(7), Request economy.
 */

/* A record's keeper as the server has it. */
struct br_keeper {
	const char *id;
	int	 state;		/* 0 not known yet, 1 there and not trashed,
				 * -1 held: code and detail */
	const char *code;
	char	*detail;
	cJSON	*people;	/* its people, once read */
};

/* Read the batch: want holds its losers and keepers (nlosers losers);
 * albums: losers' albums are compared; people: the people rule applies
 * (not -a people).  quiet: no warning when GET /duplicates fails. */
void	 br_read(const struct idset *want, size_t nlosers, int albums,
	    int people, int quiet);
/* The batch is done: drop its GET /duplicates copy. */
void	 br_done(void);
/* Asset id as GET /duplicates listed it now (there, not trashed), or
 * NULL when not listed. */
const cJSON *br_listed(const char *id);
/* One POST /assets/bulk-upload-check with the keepers' checksums
 * (sums[i] of ks[i]; NULL ones left out): a keeper it names under its
 * own id, not trashed, is settled fine; the others stay unknown. */
void	 br_keepers_bulk(struct br_keeper *const *ks,
	    const char *const *sums, size_t n, int quiet);
/* Settle k->state: listed, else read with GET /assets/{id}. */
void	 br_keeper(struct br_keeper *k);
void	 br_keeper_free(struct br_keeper *k);
/*
 * A person someone named on loser id whom keeper k does not show (the
 * tag would be lost): NULL, or the held code ("people", "error") with
 * *detail set.  la is the loser as read, listed whether it came from
 * GET /duplicates (whose people are always []).
 */
const char *br_people(struct br_keeper *k, const char *id, const cJSON *la,
	    int listed, char **detail);
/* An album loser id is in now that consolidation did not see (seen):
 * NULL, or the held code with *detail set. */
const char *br_new_album(const char *id, const cJSON *seen, char **detail);

#endif

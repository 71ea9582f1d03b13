/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_FRESH_H
#define IMMICH_FRESH_H

#include <cjson/cJSON.h>

#include "common/idset.h"

/*
 * What the server says now of many assets at once, in one request: a
 * streamed GET /duplicates (split as it arrives, one group in memory at a
 * time), keeping a copy of each listed asset whose id is in want.  An
 * asset listed there exists, is not in the trash, is not stacked, and is
 * the user's own (FACTS §3); its copy carries exifInfo and tags as
 * GET /assets/{id} does, but people is always [].  An asset not listed
 * (trashed, gone, its group dissolved or dismissed) must be read on its
 * own.  Side effect of the request (Immich's, every time): groups left
 * with one member that is neither trashed nor stacked lose their
 * duplicateId, trashed members included.
 */
struct fresh;

/* NULL when the request or its reply failed (said on stderr, as
 * "reading each asset instead", unless quiet): then read each asset. */
struct fresh *fresh_read(const struct idset *want, int quiet);
/* The asset's copy (owned by f), or NULL when not listed (or f NULL). */
const cJSON *fresh_get(const struct fresh *f, const char *id);
void	 fresh_free(struct fresh *);

#endif

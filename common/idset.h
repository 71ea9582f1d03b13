/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_IDSET_H
#define IMMICH_IDSET_H

#include <stddef.h>

/*
 * A set of asset ids, each with an optional note (a string, copied):
 * open addressing over the id's 16 bytes, grown at half full, so
 * 100,000 ids cost a few MB.  Ids are UUIDs (hex digits in either case,
 * with or without dashes); anything else, and the nil UUID, is never in
 * a set.
 */
struct idset;

struct idset *idset_new(void);
/* The note of uuid ("" when put without one), or NULL if not in s. */
const char *idset_get(const struct idset *, const char *uuid);
int	 idset_has(const struct idset *, const char *uuid);
/* Add uuid with note val (may be NULL).  1 added, 0 already in the set
 * (its note is kept), -1 not a UUID (not added). */
int	 idset_put(struct idset *, const char *uuid, const char *val);
size_t	 idset_count(const struct idset *);
void	 idset_free(struct idset *);

#endif

/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_STAGE_H
#define IMMICH_STAGE_H

#include "common/ndjson.h"

/*
 * What every stage's main() does around its own options and records:
 * stdout line-buffered, the options all of them take (-q, -V), asset
 * ids as operands, the record loop over stdin with its progress line,
 * and the summary line at the end.
 */

extern int stage_quiet;		/* -q */

/*
 * getopt(3) for a stage: opts is the stage's whole option string
 * (with q and V, as SYNOPSIS lists it); -q and -V are handled here and
 * never returned.  The first call makes stdout line-buffered.
 */
int	 stage_getopt(int argc, char *argv[], const char *opts);
/* Each operand must be an asset id, else "ID: not an asset id" and exit 2. */
void	 stage_ids(int argc, char *argv[]);
/* Start the progress line and run fn over the records on stdin. */
int	 stage_loop(int (*fn)(cJSON *, const struct ndjson_in *, void *),
	    void *arg);
/* Flush the records, then the summary: requests made and printf-style
 * extra (fmt may be NULL). */
void	 stage_end(long requests, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif

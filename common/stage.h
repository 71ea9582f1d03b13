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
extern int stage_nflag;		/* -n, for the stages whose opts list it */

/*
 * getopt(3) for a stage: opts is the stage's whole option string
 * (with q and V, as SYNOPSIS lists it), synopsis what its usage line
 * says after the name.  -q, -V and -n (a dry run: each stage's page says
 * what it still reads) are handled here and never returned; an unknown
 * option or a missing argument is stage_usage().  The first call makes
 * stdout line-buffered and cJSON allocate through xmalloc.
 */
int	 stage_getopt(int argc, char *argv[], const char *opts,
	    const char *synopsis);
/* "usage: PROG SYNOPSIS" on stderr, exit 2. */
void	 stage_usage(void) __attribute__((noreturn));
/* -b's argument: a batch of 1 to 10000 (unit says of what), else exit 2. */
long	 stage_batch(const char *arg, const char *unit);
/* Each operand must be an asset id, else "ID: not an asset id" and exit 2. */
void	 stage_ids(int argc, char *argv[]);
/* Start the progress line and run fn over the records on stdin. */
int	 stage_loop(int (*fn)(cJSON *, const struct ndjson_in *, void *),
	    void *arg);
/*
 * The same for a filter: fn checks and acts on one record (-1 if that
 * failed), then the record is written out and freed.
 */
int	 stage_filter(int (*fn)(cJSON *, const struct ndjson_in *));
/* Flush the records, then the summary: requests made and printf-style
 * extra (fmt may be NULL). */
void	 stage_end(long requests, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif

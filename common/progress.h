/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_PROGRESS_H
#define IMMICH_PROGRESS_H

/*
 * Progress on stderr.  Not a terminal: one summary line at the end, in
 * the same words for every stage.  A terminal: one live row per stage,
 * and the stages of one pipeline (one process group on one terminal)
 * share one block of rows in pipeline order, as pv -c does; at the end
 * the rows are the summary lines.  -q silences both.
 */
struct progress {
	long	 records;	/* records read */
	long	 assets;	/* assets handled */
	long	 failed;	/* records failed or held back */
	long	 held;		/* of those, records held back */
	long long bytes;	/* bytes moved */
	long long total_bytes;	/* when known, for the ETA; else 0 */
	long	 total_records;	/* when known; else 0 */
};

extern struct progress prog;

/* Every binary calls it at start-up, before any record is read: it also
 * makes out of memory in cJSON fatal (ndjson_init). */
void	 progress_init(int quiet);
void	 progress_tick(void);		/* redraw the live row if due */
/* The summary line: "NAME: N records, N assets, N failed, BYTES, N
 * requests, T s" plus extra text (may be NULL). */
void	 progress_end(long requests, const char *extra);

#endif

/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_PROGRESS_H
#define IMMICH_PROGRESS_H

/*
 * Progress on stderr: a live line when stderr is a terminal (at most a few
 * redraws a second), and a one-line summary at the end in the same words
 * for every stage.  -q silences both.
 */
struct progress {
	long	 records;	/* records read */
	long	 assets;	/* assets handled */
	long	 failed;	/* records failed or held back */
	long long bytes;	/* bytes moved */
	long long total_bytes;	/* when known, for the ETA; else 0 */
	long	 total_records;	/* when known; else 0 */
};

extern struct progress prog;

/* Every binary calls it at start-up, before any record is read: it also
 * makes out of memory in cJSON fatal (ndjson_init). */
void	 progress_init(int quiet);
void	 progress_tick(void);		/* redraw the live line if due */
/* The summary line: "NAME: N records, N assets, N failed, BYTES, N
 * requests, T s" plus extra text (may be NULL). */
void	 progress_end(long requests, const char *extra);

#endif

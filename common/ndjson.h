/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_NDJSON_H
#define IMMICH_NDJSON_H

#include <stdio.h>

#include <cjson/cJSON.h>

/*
 * Newline-delimited JSON records: one object per line in, one per line
 * out.  One record is in memory at a time.  A bad line is reported as
 * "prog: NAME:LINE: reason" and skipped; the caller counts it as failed.
 */
struct ndjson_in {
	FILE	*fp;
	const char *name;	/* "stdin" or the file name, for messages */
	size_t	 lineno;
	char	*line;
	size_t	 cap;
};

/*
 * Routes cJSON's allocations through xmalloc, so that running out of
 * memory ends the program (EX_FATAL) instead of cJSON leaving a key out
 * of a record or a request body.  progress_init calls it: every binary
 * does at start-up.
 */
void	 ndjson_init(void);

void	 ndjson_open(struct ndjson_in *, FILE *, const char *name);
/* 1: *out is a record (caller cJSON_Deletes it); 0: end; -1: bad line. */
int	 ndjson_next(struct ndjson_in *, cJSON **out);
void	 ndjson_close(struct ndjson_in *);

/*
 * The record loop of every stage, on the model of mblaze's blaze822_loop:
 * reads fp to the end and calls fn on each record.  fn owns rec: it
 * emits it (now or later) and frees it; it returns 0, or -1 when the
 * record failed.  A bad line is reported (as ndjson_next does) and
 * skipped.  Each record, bad lines too, counts in prog.records, each
 * failed one in prog.failed; the live progress line is redrawn after
 * each.  Returns EX_DONE, or EX_SOME when a line was bad or fn failed.
 */
int	 ndjson_loop(FILE *fp, const char *name,
	    int (*fn)(cJSON *rec, const struct ndjson_in *, void *arg),
	    void *arg);

/* Write one record and a newline; write errors exit EX_FATAL, EPIPE
 * ends the process as SIGPIPE would. */
void	 ndjson_emit(const cJSON *);
/* Flush stdout and check for write errors; call before exiting. */
void	 ndjson_finish(void);

/* Record helpers. */
cJSON	*rec_get(const cJSON *obj, const char *key);	/* member or NULL */
const char *rec_str(const cJSON *obj, const char *key);	/* NULL unless a string */
long long rec_num(const cJSON *obj, const char *key);	/* -1 unless a number >= 0 */
cJSON	*rec_asset(const cJSON *rec, const char *id);	/* assets[] member by id */
/* Whether the list (an array of {id, ...}) has a member with this id. */
int	 rec_has_id(const cJSON *list, const char *id);
/* Whether the list (an array of strings) holds s; 0 if either is NULL. */
int	 rec_has_str(const cJSON *list, const char *s);
/* Replace or add key (keeping its place if it exists); takes ownership. */
void	 rec_set(cJSON *obj, const char *key, cJSON *val);
/* Append {stage, asset, message} to the record's "errors" list and say it
 * on stderr as "prog: NAME:LINE: asset ID: message". asset may be NULL. */
void	 rec_error(cJSON *rec, const struct ndjson_in *, const char *asset,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A canonical UUID: 8-4-4-4-12 hex digits. */
int	 valid_uuid(const char *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * t-records: a test driver for common/ndjson.c (not installed).  Reads
 * records from stdin and writes each one to stdout unchanged, as a stage
 * passes on the keys it does not own; bad lines are reported and
 * skipped.  With -k KEY=JSON it sets KEY on each record first, as a stage
 * adds its result.  With -e MESSAGE it adds an error to each record
 * (rec_error), which is also said on stderr.  Exits 1 when a line was bad.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ndjson.h"
#include "common/util.h"

int
main(int argc, char *argv[])
{
	struct ndjson_in in;
	const char *key = NULL, *val = NULL, *emsg = NULL;
	cJSON *rec, *v;
	int ch, rv, bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "e:k:")) != -1) {
		switch (ch) {
		case 'e':
			emsg = optarg;
			break;
		case 'k':
			key = optarg;
			if ((val = strchr(optarg, '=')) == NULL)
				errx(EX_USAGE, "-k KEY=JSON");
			break;
		default:
			fprintf(stderr, "usage: t-records [-e message] [-k key=json]\n");
			return EX_USAGE;
		}
	}
	ndjson_open(&in, stdin, "stdin");
	while ((rv = ndjson_next(&in, &rec)) != 0) {
		if (rv == -1) {
			bad = 1;
			continue;
		}
		if (key) {
			char *k = xasprintf("%.*s", (int)(val - key), key);
			if ((v = cJSON_Parse(val + 1)) == NULL)
				errx(EX_USAGE, "-k %s: bad JSON", key);
			rec_set(rec, k, v);
			free(k);
		}
		if (emsg)
			rec_error(rec, &in, NULL, "%s", emsg);
		ndjson_emit(rec);
		cJSON_Delete(rec);
	}
	ndjson_close(&in);
	ndjson_finish();
	return bad ? EX_SOME : EX_DONE;
}

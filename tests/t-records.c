/* SPDX-License-Identifier: ISC */
/*
 * t-records: a test driver for common/ndjson.c (not installed).  Reads
 * records from stdin and writes each one to stdout unchanged, as a stage
 * passes on the keys it does not own; bad lines are reported and
 * skipped.  With -k KEY=JSON it sets KEY on each record first, as a stage
 * adds its result.  With -e MESSAGE it adds an error to each record
 * (rec_error), which is also said on stderr.  Exits 1 when a line was bad.
 * Its loop is ndjson_loop.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ndjson.h"
#include "common/util.h"

static const char *key, *val, *emsg;

static int
pass(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	cJSON *v;

	(void)arg;
	if (key) {
		char *k = xasprintf("%.*s", (int)(val - key), key);
		if ((v = cJSON_Parse(val + 1)) == NULL)
			errx(EX_USAGE, "-k %s: bad JSON", key);
		rec_set(rec, k, v);
		free(k);
	}
	if (emsg)
		rec_error(rec, in, NULL, "%s", emsg);
	ndjson_emit(rec);
	cJSON_Delete(rec);
	return 0;
}

int
main(int argc, char *argv[])
{
	int ch, status;

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
	status = ndjson_loop(stdin, "stdin", pass, NULL);
	ndjson_finish();
	return status;
}

/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/progress.h"
#include "common/stage.h"
#include "common/util.h"

int stage_quiet;
int stage_nflag;
static const char *usage_line;

int
stage_getopt(int argc, char *argv[], const char *opts, const char *synopsis)
{
	int ch;

	if (usage_line == NULL) {
		ndjson_init();
		setvbuf(stdout, NULL, _IOLBF, 0);
	}
	usage_line = synopsis;
	while ((ch = getopt(argc, argv, opts)) != -1)
		if (ch == '?' || ch == ':')
			stage_usage();
		else if (ch == 'n')
			stage_nflag = 1;
		else if (!std_option(ch, &stage_quiet))
			return ch;
	return -1;
}

void
stage_usage(void)
{
	fprintf(stderr, "usage: %s %s\n", program_invocation_short_name,
	    usage_line);
	exit(EX_USAGE);
}

long
stage_batch(const char *arg, const char *unit)
{
	long long v = parse_num(arg);

	if (v < 1 || v > 10000)
		errx(EX_USAGE, "-b %s: a batch of 1 to 10000 %s", arg, unit);
	return v;
}

void
stage_ids(int argc, char *argv[])
{
	int i;

	for (i = 0; i < argc; i++)
		if (!valid_uuid(argv[i]))
			errx(EX_USAGE, "%s: not an asset id (a lower-case "
			    "UUID)", argv[i]);
}

int
stage_loop(int (*fn)(cJSON *, const struct ndjson_in *, void *), void *arg)
{
	progress_init(stage_quiet);
	return ndjson_loop(stdin, "stdin", fn, arg);
}

static int
filter_one(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	int (**fn)(cJSON *, const struct ndjson_in *) = arg;
	int rv = (*fn)(rec, in);

	ndjson_emit(rec);
	cJSON_Delete(rec);
	return rv;
}

int
stage_filter(int (*fn)(cJSON *, const struct ndjson_in *))
{
	return stage_loop(filter_one, &fn);
}

void
stage_end(long requests, const char *fmt, ...)
{
	va_list ap;
	char *extra = NULL;

	ndjson_finish();
	if (fmt != NULL) {
		va_start(ap, fmt);
		extra = xvasprintf(fmt, ap);
		va_end(ap);
	}
	progress_end(requests, extra);
	free(extra);
}

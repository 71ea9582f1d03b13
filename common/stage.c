/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/progress.h"
#include "common/stage.h"
#include "common/util.h"

int stage_quiet;

int
stage_getopt(int argc, char *argv[], const char *opts)
{
	static int started;
	int ch;

	if (!started) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		started = 1;
	}
	while ((ch = getopt(argc, argv, opts)) != -1)
		if (!std_option(ch, &stage_quiet))
			return ch;
	return -1;
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

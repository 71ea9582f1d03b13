/* SPDX-License-Identifier: ISC */
/*
 * t-jsplit: a test driver for common/jsonsplit.c (not installed).  Reads
 * stdin whole, feeds it to the splitter in pieces of CHUNK bytes (default
 * 65536; 0 = every piece size from 1 to 64 in turn, which must all give
 * the same answer) and prints each element as "LEN:BYTES", then "ok" or
 * "error: REASON".  -m MAX caps the element size.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonsplit.h"
#include "common/util.h"

struct out {
	char	*s;
	size_t	 len, cap;
};

static void
put(struct out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->s = xrealloc(o->s, o->cap);
	}
	memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static int
elem(void *arg, const char *p, size_t n)
{
	struct out *o = arg;
	char b[32];

	snprintf(b, sizeof(b), "%zu:", n);
	put(o, b, strlen(b));
	put(o, p, n);
	put(o, "\n", 1);
	return 0;
}

static void
split(const char *in, size_t len, size_t chunk, size_t max, struct out *o)
{
	struct jsplit js;
	size_t i, n;
	int bad = 0;

	o->len = 0;
	put(o, "", 0);
	jsplit_init(&js, max);
	for (i = 0; i < len && !bad; i += n) {
		n = len - i < chunk ? len - i : chunk;
		bad = jsplit_feed(&js, in + i, n, elem, o) == -1;
	}
	if (!bad)
		bad = jsplit_finish(&js) == -1;
	if (bad) {
		put(o, "error: ", 7);
		put(o, js.err, strlen(js.err));
		put(o, "\n", 1);
	} else
		put(o, "ok\n", 3);
	jsplit_free(&js);
}

int
main(int argc, char *argv[])
{
	struct out first = { 0 }, o = { 0 };
	size_t len = 0, cap = 0, chunk = 65536, max = (size_t)1 << 30, c;
	char *in = NULL;
	ssize_t r;
	int ch;

	while ((ch = getopt(argc, argv, "m:")) != -1) {
		if (ch != 'm')
			errx(2, "usage: t-jsplit [-m max] [chunk]");
		max = strtoul(optarg, NULL, 10);
	}
	if (argv[optind])
		chunk = strtoul(argv[optind], NULL, 10);
	for (;;) {
		if (len == cap)
			in = xrealloc(in, cap = cap ? cap * 2 : 65536);
		if ((r = read(0, in + len, cap - len)) <= 0)
			break;
		len += r;
	}
	if (chunk) {
		split(in, len, chunk, max, &o);
		fputs(o.s, stdout);
		free(o.s);
		free(in);
		return 0;
	}
	split(in, len, 1, max, &first);
	for (c = 2; c <= 64; c++) {
		split(in, len, c, max, &o);
		if (strcmp(o.s, first.s) != 0)
			errx(1, "chunk size %zu differs from 1:\n%s\n---\n%s",
			    c, o.s, first.s);
	}
	fputs(first.s, stdout);
	free(first.s);
	free(o.s);
	free(in);
	return 0;
}

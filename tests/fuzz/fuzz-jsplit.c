/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the streaming splitter of GET /api/duplicates
 * (common/jsonsplit.h), fed in chunks whose sizes come from the first
 * byte; each element it hands out is parsed with cJSON, and the elements
 * must be the same whatever the chunk size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/jsonsplit.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct acc {
	unsigned long	 sum;		/* a hash of the elements' bytes */
	long		 n;
};

static int
elem(void *arg, const char *s, size_t len)
{
	struct acc *a = arg;
	cJSON *o;
	size_t i;

	o = cJSON_ParseWithLength(s, len);
	cJSON_Delete(o);
	for (i = 0; i < len; i++)
		a->sum = a->sum * 31 + (unsigned char)s[i];
	a->n++;
	return 0;
}

static int
split(const uint8_t *data, size_t size, size_t chunk, struct acc *a)
{
	struct jsplit js;
	size_t off, n;
	int rv = 0;

	memset(a, 0, sizeof(*a));
	jsplit_init(&js, 1 << 20);
	for (off = 0; off < size && rv == 0; off += n) {
		n = size - off < chunk ? size - off : chunk;
		rv = jsplit_feed(&js, (const char *)data + off, n, elem, a);
	}
	if (rv == 0)
		rv = jsplit_finish(&js);
	jsplit_free(&js);
	return rv;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acc whole, bits;
	size_t chunk;
	int r1, r2;

	if (size < 1)
		return 0;
	chunk = 1 + data[0] % 7;
	data++, size--;
	r1 = split(data, size, size ? size : 1, &whole);
	r2 = split(data, size, chunk, &bits);
	if (r1 != r2 || whole.n != bits.n || whole.sum != bits.sum) {
		fprintf(stderr, "chunked split differs: %d/%d %ld/%ld\n",
		    r1, r2, whole.n, bits.n);
		abort();
	}
	return 0;
}

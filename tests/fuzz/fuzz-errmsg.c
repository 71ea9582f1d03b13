/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the error-body parser (http_errmsg), into buffers of
 * several sizes.  The result must be NUL-terminated within the buffer and
 * hold no control byte (it goes into one line on stderr and into records).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = { 1, 2, 7, 64, 300 };
	char *body, *buf;
	size_t i, j, len;

	/* An exact-size copy, not NUL-terminated, so ASan sees overreads. */
	body = malloc(size ? size : 1);
	memcpy(body, data, size);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		buf = malloc(sizes[i]);
		memset(buf, 'Z', sizes[i]);
		http_errmsg(body, size, buf, sizes[i]);
		len = strnlen(buf, sizes[i]);
		if (len == sizes[i]) {
			fprintf(stderr, "http_errmsg: not terminated\n");
			abort();
		}
		for (j = 0; j < len; j++)
			if ((unsigned char)buf[j] < 0x20 || buf[j] == 0x7f) {
				fprintf(stderr, "http_errmsg: control byte "
				    "0x%02x at %zu\n", buf[j], j);
				abort();
			}
		free(buf);
	}
	free(body);
	return 0;
}

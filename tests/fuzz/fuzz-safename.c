/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the file-name sanitiser (fs_safename).  Besides not
 * crashing, its result must be one safe path component: not empty, not
 * "." or "..", no '/', no leading dot, no control byte (C0, DEL, C1),
 * valid UTF-8, at most FS_NAMEMAX bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
u8len(const unsigned char *s)
{
	size_t n, i;
	unsigned long c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 ||
	    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

static void
fail(const char *why, const char *out)
{
	fprintf(stderr, "fs_safename: %s: \"%s\"\n", why, out);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *out;
	const unsigned char *s;
	size_t n;

	in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	out = fs_safename(in);
	if (*out == '\0')
		fail("empty", out);
	if (strlen(out) > FS_NAMEMAX)
		fail("too long", out);
	if (strchr(out, '/') != NULL)
		fail("a slash", out);
	if (out[0] == '.')
		fail("a leading dot", out);
	for (s = (const unsigned char *)out; *s; s += n) {
		if ((n = u8len(s)) == 0)
			fail("invalid UTF-8", out);
		if (*s < 0x20 || *s == 0x7f || (n == 2 && s[0] == 0xc2 &&
		    s[1] < 0xa0))
			fail("a control character", out);
	}
	free(out);
	free(in);
	return 0;
}

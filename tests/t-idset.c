/* SPDX-License-Identifier: ISC */
/*
 * t-idset: a test driver for common/idset.c (not installed).  Reads
 * lines "put ID [NOTE]", "get ID" and "count", and prints per line the
 * result: put's 1, 0 or -1; get's note in brackets or "none"; count's
 * number.  "fill N" puts N generated ids and prints how many of them
 * are then found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/idset.h"
#include "common/util.h"

int
main(void)
{
	struct idset *s = idset_new();
	char *line = NULL, id[64], *sp;
	const char *v;
	size_t cap = 0;
	ssize_t n;
	long i, k, found;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strncmp(line, "put ", 4) == 0) {
			if ((sp = strchr(line + 4, ' ')) != NULL)
				*sp++ = '\0';
			printf("%d\n", idset_put(s, line + 4, sp));
		} else if (strncmp(line, "get ", 4) == 0) {
			v = idset_get(s, line + 4);
			printf(v ? "[%s]\n" : "none\n", v);
		} else if (strcmp(line, "count") == 0)
			printf("%zu\n", idset_count(s));
		else if (strncmp(line, "fill ", 5) == 0) {
			k = atol(line + 5);
			for (i = 0; i < k; i++) {
				snprintf(id, sizeof(id), "%08lx-0000-4000-8000-"
				    "%012lx", i * 2654435761UL % 0xffffffffUL,
				    i + 1);
				idset_put(s, id, NULL);
			}
			for (i = 0, found = 0; i < k; i++) {
				snprintf(id, sizeof(id), "%08lx-0000-4000-8000-"
				    "%012lx", i * 2654435761UL % 0xffffffffUL,
				    i + 1);
				found += idset_has(s, id);
			}
			printf("%ld\n", found);
		} else
			puts("bad line");
	}
	idset_free(s);
	free(line);
	return EX_DONE;
}

/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_JSONSPLIT_H
#define IMMICH_JSONSPLIT_H

#include <stddef.h>

/*
 * An incremental splitter for one top-level JSON array: feed it the bytes
 * as they arrive and it hands out each element's bytes, one element at a
 * time, so memory is bounded by the largest element, not the array.  It
 * checks the array's punctuation (brackets, commas, strings and escapes)
 * but not the elements' grammar: parse each element (cJSON) to know it is
 * valid.  Elements may be any JSON value.
 */

/* Called once per element; return 0 to go on, -1 to stop (feed then
 * returns -1 with err empty). */
typedef int (*jsplit_fn)(void *arg, const char *elem, size_t len);

struct jsplit {
	int	 state;		/* private */
	int	 instr, esc;	/* inside a string; after a backslash */
	int	 scalar;	/* current element is a bare number/literal */
	int	 bom;		/* bytes of a UTF-8 BOM seen */
	long	 depth;		/* bracket depth inside the element */
	char	*buf;		/* the element so far, when split by chunks */
	size_t	 len, cap;
	size_t	 max;		/* largest element accepted (bytes) */
	long long off;		/* bytes fed so far */
	long	 count;		/* elements handed out */
	char	 err[160];	/* why feed/finish failed; "" if the callback
				 * stopped it */
};

void	 jsplit_init(struct jsplit *, size_t max);
/* 0: fine so far; -1: malformed (err says why) or stopped. */
int	 jsplit_feed(struct jsplit *, const char *, size_t, jsplit_fn, void *);
/* At the end of input: 0 if the array was complete, else -1 and err says
 * "truncated" or "not a JSON array". */
int	 jsplit_finish(struct jsplit *);
void	 jsplit_free(struct jsplit *);

#endif

/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonsplit.h"
#include "common/util.h"

enum { S_BEGIN, S_FIRST, S_NEXT, S_AFTER, S_ELEM, S_END, S_ERR };

/* Bytes that matter inside a string, and inside an object or array. */
static unsigned char instr_tab[256], incont_tab[256], scalar_tab[256];

static void
tables(void)
{
	const char *s;

	if (instr_tab['"'])
		return;
	instr_tab['"'] = instr_tab['\\'] = 1;
	for (s = "\"{}[]"; *s; s++)
		incont_tab[(unsigned char)*s] = 1;
	for (s = "0123456789+-.eEabcdfilnrstu"; *s; s++)
		scalar_tab[(unsigned char)*s] = 1;
}

void
jsplit_init(struct jsplit *js, size_t max)
{
	tables();
	memset(js, 0, sizeof(*js));
	js->state = S_BEGIN;
	js->max = max;
}

void
jsplit_free(struct jsplit *js)
{
	free(js->buf);
	js->buf = NULL;
	js->len = js->cap = 0;
}

static int
fail(struct jsplit *js, const char *what, long long at)
{
	js->state = S_ERR;
	if (at >= 0)
		snprintf(js->err, sizeof(js->err), "%s at byte %lld", what,
		    at + 1);
	else
		snprintf(js->err, sizeof(js->err), "%s", what);
	return -1;
}

static int
append(struct jsplit *js, const char *p, size_t n)
{
	if (js->len + n > js->max) {
		snprintf(js->err, sizeof(js->err),
		    "element %ld is larger than %zu bytes", js->count + 1,
		    js->max);
		js->state = S_ERR;
		return -1;
	}
	if (js->len + n > js->cap) {
		size_t cap = js->cap ? js->cap : 65536;

		while (cap < js->len + n)
			cap *= 2;
		js->buf = xrealloc(js->buf, cap);
		js->cap = cap;
	}
	memcpy(js->buf + js->len, p, n);
	js->len += n;
	return 0;
}

/* Scan an element from p[i]; returns the index just past its end, or n
 * when it goes on past this chunk. */
static size_t
scan(struct jsplit *js, const char *p, size_t i, size_t n, int *done)
{
	*done = 0;
	if (js->scalar) {
		while (i < n && scalar_tab[(unsigned char)p[i]])
			i++;
		*done = i < n;
		return i;
	}
	while (i < n) {
		if (js->instr) {
			if (js->esc) {
				js->esc = 0;
				i++;
				continue;
			}
			while (i < n && !instr_tab[(unsigned char)p[i]])
				i++;
			if (i == n)
				break;
			if (p[i] == '\\')
				js->esc = 1;
			else {
				js->instr = 0;
				if (js->depth == 0) {
					*done = 1;
					return i + 1;
				}
			}
			i++;
			continue;
		}
		while (i < n && !incont_tab[(unsigned char)p[i]])
			i++;
		if (i == n)
			break;
		switch (p[i]) {
		case '"':
			js->instr = 1;
			break;
		case '{':
		case '[':
			js->depth++;
			break;
		default:	/* } or ] */
			if (--js->depth == 0) {
				*done = 1;
				return i + 1;
			}
		}
		i++;
	}
	return n;
}

static int
isws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Inside an element from p[*ip]: scan to its end (keeping what there is
 * of it when it goes on past n) and hand it to fn.  1 to go on, *ip past
 * it; 0 when feed returns *ret.
 */
static int
feed_elem(struct jsplit *js, const char *p, size_t *ip, size_t n,
    jsplit_fn fn, void *arg, int *ret)
{
	size_t start = *ip, end;
	int done, r;

	end = scan(js, p, start, n, &done);
	if (!done) {
		*ret = append(js, p + start, n - start);
		return 0;
	}
	if (js->len == 0) {
		if (end - start > js->max) {
			*ret = append(js, p + start, end - start);
			return 0;
		}
		r = fn(arg, p + start, end - start);
	} else {
		if (append(js, p + start, end - start) == -1) {
			*ret = -1;
			return 0;
		}
		r = fn(arg, js->buf, js->len);
		js->len = 0;
	}
	js->count++;
	js->state = S_AFTER;
	if (r != 0) {
		js->state = S_ERR;
		js->err[0] = '\0';
		*ret = -1;
		return 0;
	}
	*ip = end;
	return 1;
}

int
jsplit_feed(struct jsplit *js, const char *p, size_t n, jsplit_fn fn,
    void *arg)
{
	size_t i = 0;
	long long base = js->off;
	int r;
	char c;

	if (js->state == S_ERR)
		return -1;
	js->off += n;
	while (i < n) {
		if (js->state == S_ELEM) {
			if (feed_elem(js, p, &i, n, fn, arg, &r) == 0)
				return r;
			continue;
		}
		c = p[i];
		if (isws(c)) {
			i++;
			continue;
		}
		switch (js->state) {
		case S_BEGIN:
			/* A UTF-8 byte order mark is tolerated. */
			if (js->bom < 3 && base + (long long)i == js->bom &&
			    c == "\xef\xbb\xbf"[js->bom]) {
				js->bom++;
				i++;
				continue;
			}
			if (c != '[' || js->bom == 1 || js->bom == 2)
				return fail(js, "not a JSON array", -1);
			js->state = S_FIRST;
			i++;
			continue;
		case S_AFTER:
			if (c == ',')
				js->state = S_NEXT;
			else if (c == ']')
				js->state = S_END;
			else
				return fail(js, "expected ',' or ']'",
				    base + i);
			i++;
			continue;
		case S_END:
			return fail(js, "trailing data after the array",
			    base + i);
		case S_FIRST:
			if (c == ']') {
				js->state = S_END;
				i++;
				continue;
			}
			break;
		}
		/* S_FIRST or S_NEXT: an element starts here. */
		js->instr = js->esc = js->scalar = 0;
		js->depth = 0;
		if (c == '{' || c == '[' || c == '"')
			;
		else if (scalar_tab[(unsigned char)c] && c != '+' && c != '.')
			js->scalar = 1;
		else
			return fail(js, "expected a JSON value", base + i);
		js->state = S_ELEM;
		/* scan() counts the opening bracket or quote itself. */
	}
	return 0;
}

int
jsplit_finish(struct jsplit *js)
{
	switch (js->state) {
	case S_END:
		return 0;
	case S_ERR:
		return -1;
	case S_BEGIN:
		return fail(js, "not a JSON array (empty body)", -1);
	default:
		return fail(js, "truncated", -1);
	}
}

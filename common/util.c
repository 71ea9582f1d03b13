/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		errx(EX_FATAL, "out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (p == NULL)
		errx(EX_FATAL, "out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		errx(EX_FATAL, "out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		errx(EX_FATAL, "out of memory");
	return p;
}

char *
xstrvis(const char *s)
{
	const unsigned char *p;
	char *out = xmalloc(strlen(s) * 6 + 1), *o = out;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += sprintf(o, "\\u%04x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			o += sprintf(o, "\\u%04x", *++p);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		errx(EX_FATAL, "out of memory");
	return s;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
xappend(char **s, const char *sep, const char *add)
{
	char *t = xasprintf("%s%s%s", *s ? *s : "", *s ? sep : "", add);

	free(*s);
	*s = t;
}

double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long long
parse_num(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	return v;
}

void
print_version(void)
{
	printf("%s %s\n", program_invocation_short_name, VERSION);
	exit(EX_DONE);
}

int
std_option(int ch, int *qflag)
{
	switch (ch) {
	case 'q':
		*qflag = 1;
		return 1;
	case 'V':
		print_version();
	}
	return 0;
}

/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_UTIL_H
#define IMMICH_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Exit statuses shared by every binary; the same table is in immich(7). */
enum {
	EX_DONE = 0,	/* every record done */
	EX_SOME = 1,	/* finished; some records failed or were held back */
	EX_USAGE = 2,	/* usage or configuration error; nothing done */
	EX_FATAL = 3	/* stopped: server unreachable, auth refused, disk full, write error */
};

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list)
	    __attribute__((format(printf, 1, 0)));
/* Append add to the malloc'd list *s (NULL: empty), sep between. */
void	 xappend(char **s, const char *sep, const char *add);
/*
 * A copy of s for a terminal: control characters (C0, DEL, and C1 in
 * UTF-8), which a server's names may hold, shown as \uXXXX.
 */
char	*xstrvis(const char *);

/* -V: print "NAME VERSION" (VERSION from the Makefile) and exit 0. */
void	 print_version(void) __attribute__((noreturn));
/* The options every program takes, from its getopt loop's default case:
 * -q sets *qflag, -V prints the version and exits; 0 for any other. */
int	 std_option(int ch, int *qflag);

/* Monotonic clock in seconds (CLOCK_MONOTONIC). */
double	 now_mono(void);

/* Parse a whole non-negative decimal number; -1 if not one. */
long long parse_num(const char *);

#endif

/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_HTML_H
#define IMMICH_HTML_H

#include <stdio.h>

/*
 * Text for HTML pages (immich-review).  Everything from a record goes
 * through these: & < > " ' become character references, so the result is
 * safe both as element text and inside a quoted attribute value; C0
 * control bytes other than tab and newline, and DEL, become U+FFFD.
 * Bytes of invalid UTF-8 are passed on (a browser shows U+FFFD for them).
 */
void	 html_esc(FILE *, const char *);
/* The same for the first len bytes of s. */
void	 html_escn(FILE *, const char *, size_t);
/* printf, then the whole result escaped. */
void	 html_escf(FILE *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The base64 SHA-256 of s, for a Content-Security-Policy hash source
 * ('sha256-...'), into buf (at least 45 bytes). */
void	 html_sha256(const char *s, char *buf, size_t bufsz);

#endif

/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_HTML_H
#define IMMICH_HTML_H

#include <stdio.h>

/*
 * For the review page (page.c).  JSON text json (as cJSON prints it) into
 * a <script type="application/json"> element: every < is written \u003c,
 * which JSON reads back as <, so neither </script nor <!-- can occur in
 * the element however hostile the strings.  (Only strings can hold a <.)
 */
void	 html_script_json(FILE *, const char *json);
/* The base64 SHA-256 of s, for a Content-Security-Policy hash source
 * ('sha256-...'), into buf (at least 45 bytes). */
void	 html_sha256(const char *s, char *buf, size_t bufsz);

#endif

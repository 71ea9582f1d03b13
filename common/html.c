/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/html.h"
#include "common/util.h"

void
html_escn(FILE *fp, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		case '\t':
		case '\n':
			putc(p[i], fp);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				fputs("\xef\xbf\xbd", fp);
			else
				putc(p[i], fp);
		}
	}
}

void
html_esc(FILE *fp, const char *s)
{
	if (s)
		html_escn(fp, s, strlen(s));
}

void
html_escf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		err(EX_FATAL, "html_escf");
	html_escn(fp, s, n);
	free(s);
}

void
html_sha256(const char *s, char *buf, size_t bufsz)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;

	if (!EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL))
		abort();
	EVP_EncodeBlock(b64, md, mdlen);
	snprintf(buf, bufsz, "%s", (char *)b64);
}

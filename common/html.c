/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/html.h"
#include "common/util.h"

void
html_script_json(FILE *fp, const char *json)
{
	const char *p, *q;

	for (p = json; (q = strchr(p, '<')) != NULL; p = q + 1) {
		fwrite(p, 1, q - p, fp);
		fputs("\\u003c", fp);
	}
	fputs(p, fp);
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

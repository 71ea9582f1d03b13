/* SPDX-License-Identifier: ISC */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/sha1.h"
#include "common/util.h"

#define CHUNK	(1024 * 1024)

void
sha1_init(struct sha1 *h)
{
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		errx(EX_FATAL, "out of memory");
	sha1_reset(h);
}

void
sha1_reset(struct sha1 *h)
{
	if (EVP_DigestInit_ex(h->ctx, EVP_sha1(), NULL) != 1)
		errx(EX_FATAL, "OpenSSL: SHA-1 unavailable");
}

void
sha1_update(struct sha1 *h, const void *buf, size_t len)
{
	if (EVP_DigestUpdate(h->ctx, buf, len) != 1)
		errx(EX_FATAL, "OpenSSL: SHA-1 update failed");
}

void
sha1_final(struct sha1 *h, char b64[SHA1_B64LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 20)
		errx(EX_FATAL, "OpenSSL: SHA-1 final failed");
	EVP_EncodeBlock((unsigned char *)b64, md, 20);
	b64[SHA1_B64LEN - 1] = '\0';
}

void
sha1_free(struct sha1 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int
sha1_fd(struct sha1 *h, int fd, long long max, long long *bytes,
    void (*tick)(size_t))
{
	static char *buf;
	ssize_t n;
	size_t want;

	if (buf == NULL)
		buf = xmalloc(CHUNK);
	while (max != 0) {
		want = max > 0 && max < CHUNK ? (size_t)max : CHUNK;
		n = read(fd, buf, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		sha1_update(h, buf, n);
		if (bytes)
			*bytes += n;
		if (max > 0)
			max -= n;
		if (tick)
			tick(n);
	}
	return 0;
}

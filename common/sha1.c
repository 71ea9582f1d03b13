/* SPDX-License-Identifier: ISC */
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define PIPE_NBUF	4
#define PIPE_BUFSZ	(512 * 1024)
#define PIPE_KICK	(8 * 1024 * 1024)	/* start writeback this often */

struct sha1_pipe {
	struct sha1 *h;
	int	 fd;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t ready;	/* a buffer for the thread */
	pthread_cond_t done;	/* the thread finished one */
	char	*buf[PIPE_NBUF];
	size_t	 len[PIPE_NBUF];
	int	 head, count;	/* buffers [head, head+count) are the thread's */
	int	 quit;
	int	 werr;		/* errno of a failed write */
	/* The feeding side's own, not shared: */
	int	 fillidx;	/* the buffer being filled */
	size_t	 fill;		/* bytes in it */
};

/*
 * Buffers of pipes freed, for the next one: a fresh 512 KiB malloc is a
 * fresh mmap, and filling it costs a page fault every 4 KiB.
 */
static pthread_mutex_t spare_mu = PTHREAD_MUTEX_INITIALIZER;
static char *spare[PIPE_NBUF];
static int nspare;

static void *
pipe_main(void *arg)
{
	struct sha1_pipe *p = arg;
	const char *b;
	size_t n, off, unsynced = 0;
	ssize_t w;
	int werr;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->count == 0 && !p->quit)
			pthread_cond_wait(&p->ready, &p->mu);
		if (p->count == 0)
			break;
		b = p->buf[p->head];
		n = p->len[p->head];
		werr = p->werr;
		pthread_mutex_unlock(&p->mu);
		for (off = 0; p->fd >= 0 && !werr && off < n; off += w) {
			w = write(p->fd, b + off, n - off);
			if (w < 0) {
				w = 0;
				if (errno != EINTR)
					werr = errno;
			}
		}
#ifdef SYNC_FILE_RANGE_WRITE
		/* Keep little dirty data for the fsync at the end. */
		if (p->fd >= 0 && !werr && (unsynced += n) >= PIPE_KICK) {
			sync_file_range(p->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
			unsynced = 0;
		}
#endif
		/* The hash is of what is in the file: after a failed write,
		 * of the bytes written before it only. */
		sha1_update(p->h, b, p->fd >= 0 ? off : n);
		pthread_mutex_lock(&p->mu);
		p->werr = werr;
		p->head = (p->head + 1) % PIPE_NBUF;
		p->count--;
		pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct sha1_pipe *
sha1_pipe_new(struct sha1 *h, int fd)
{
	struct sha1_pipe *p = xcalloc(1, sizeof(*p));
	int i;

	p->h = h;
	p->fd = fd;
	pthread_mutex_lock(&spare_mu);
	for (i = 0; i < PIPE_NBUF; i++)
		p->buf[i] = nspare > 0 ? spare[--nspare] : xmalloc(PIPE_BUFSZ);
	pthread_mutex_unlock(&spare_mu);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->ready, NULL);
	pthread_cond_init(&p->done, NULL);
	if ((errno = pthread_create(&p->th, NULL, pipe_main, p)) != 0)
		err(EX_FATAL, "pthread_create");
	return p;
}

/* With p->mu held: wait until at most max buffers are queued, then
 * unlock; -1 with errno when the writer thread failed. */
static int
wait_upto(struct sha1_pipe *p, int max)
{
	int werr;

	while (p->count > max)
		pthread_cond_wait(&p->done, &p->mu);
	werr = p->werr;
	pthread_mutex_unlock(&p->mu);
	if (werr) {
		errno = werr;
		return -1;
	}
	return 0;
}

/* Hand the buffer being filled to the thread; wait for a free one.
 * 0, or -1 with errno set when a write has failed. */
static int
pipe_push(struct sha1_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->fill > 0) {
		p->len[p->fillidx] = p->fill;
		p->count++;
		p->fillidx = (p->fillidx + 1) % PIPE_NBUF;
		p->fill = 0;
		pthread_cond_signal(&p->ready);
	}
	return wait_upto(p, PIPE_NBUF - 1);
}

int
sha1_pipe_feed(struct sha1_pipe *p, const void *data, size_t len)
{
	const char *s = data;
	size_t n;

	while (len > 0) {
		/* The thread never touches the buffer being filled. */
		n = PIPE_BUFSZ - p->fill;
		if (n > len)
			n = len;
		memcpy(p->buf[p->fillidx] + p->fill, s, n);
		p->fill += n;
		s += n;
		len -= n;
		if (p->fill == PIPE_BUFSZ && pipe_push(p) == -1)
			return -1;
	}
	return 0;
}

int
sha1_pipe_drain(struct sha1_pipe *p)
{
	pipe_push(p);
	pthread_mutex_lock(&p->mu);
	return wait_upto(p, 0);
}

void
sha1_pipe_free(struct sha1_pipe *p)
{
	int i;

	if (p == NULL)
		return;
	sha1_pipe_drain(p);
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->ready);
	pthread_cond_destroy(&p->done);
	pthread_mutex_lock(&spare_mu);
	for (i = 0; i < PIPE_NBUF; i++)
		if (nspare < PIPE_NBUF)
			spare[nspare++] = p->buf[i];
		else
			free(p->buf[i]);
	pthread_mutex_unlock(&spare_mu);
	free(p);
}

int
sha1_open(const char *path, struct stat *st, char *why, size_t whysz)
{
	return sha1_openat(AT_FDCWD, path, path, st, why, whysz);
}

int
sha1_openat(int dirfd, const char *name, const char *path, struct stat *st,
    char *why, size_t whysz)
{
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		snprintf(why, whysz, "%s: %s", path, e == ELOOP ?
		    "a symbolic link" : strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		snprintf(why, whysz, "%s: not a regular file", path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

int
sha1_whole(int fd, const char *path, char sha[SHA1_B64LEN], long long *bytes,
    void (*tick)(size_t), char *why, size_t whysz)
{
	struct sha1 h;
	int rv;

	*bytes = 0;
	sha1_init(&h);
	if ((rv = sha1_fd(&h, fd, -1, bytes, tick)) == -1)
		snprintf(why, whysz, "%s: read error: %s", path,
		    strerror(errno));
	sha1_final(&h, sha);
	sha1_free(&h);
	return rv;
}

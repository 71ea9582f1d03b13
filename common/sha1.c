/* SPDX-License-Identifier: ISC */
#include <sys/types.h>
#include <sys/vfs.h>

#include <linux/magic.h>

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
#define PIPE_ALIGN	4096	/* O_DIRECT: buffers, sizes and offsets */

/*
 * A ring of PIPE_NBUF buffers, each in turn: filled by the feeding side,
 * written by the thread, then hashed by the feeding side (the bytes the
 * write took), then filled again.  So writing one buffer and hashing the
 * one before run side by side, each on a core: on loopback a download's
 * time is its write(2) into the page cache plus its SHA-1, and one thread
 * doing both was the slowest part of immich-fetch.  The hash is of what
 * is in the file, in the file's order.
 *
 * A regular file on a local disk file system (ext2/3/4, XFS, Btrfs,
 * F2FS) is written with O_DIRECT while the writes are whole buffers at
 * aligned offsets: the bytes go from the buffer to the device, without
 * the copy into the page cache that cost as much CPU as the download
 * itself, and the barrier at the end (durable.h) has only the device's
 * cache and the metadata left to flush.  The file's tail (the last,
 * partial buffer), a resumed file at an odd offset, a refused write, and
 * other file systems take the page cache as before: on NFS or SMB a
 * direct write waits for the server's disk, and tmpfs keeps the bytes in
 * memory anyway.  The hash and the file's bytes are the same either way.
 */
struct sha1_pipe {
	struct sha1 *h;
	int	 fd;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t ready;	/* a buffer for the thread */
	pthread_cond_t done;	/* the thread wrote one */
	char	*buf[PIPE_NBUF];
	size_t	 len[PIPE_NBUF];	/* bytes in it; once written, bytes written */
	int	 head, count;	/* buffers [head, head+count) are the thread's */
	int	 nwritten;	/* buffers written, not hashed yet */
	int	 quit;
	int	 werr;		/* errno of a failed write */
	/* The thread's: O_DIRECT not tried yet on fd, or set on it; the
	 * writes made with it (for t-sha1). */
	int	 maydirect, direct;
	long	 ndirect;
	/* The feeding side's own, not shared: */
	int	 fillidx;	/* the buffer being filled */
	size_t	 fill;		/* bytes in it */
	int	 hashidx;	/* the next buffer to hash */
};

/*
 * Buffers of pipes freed, for the next one: a fresh 512 KiB malloc is a
 * fresh mmap, and filling it costs a page fault every 4 KiB.
 */
static pthread_mutex_t spare_mu = PTHREAD_MUTEX_INITIALIZER;
static char *spare[PIPE_NBUF];
static int nspare;

/* Whether fd's file system is one of the local disk ones above. */
static int
local_disk(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) == -1)
		return 0;
	switch (sf.f_type) {
	case EXT4_SUPER_MAGIC:	/* ext2 and ext3 too */
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
		return 1;
	}
	return 0;
}

/* fd set to O_DIRECT, when a regular file at an aligned offset on a local
 * disk file system that takes it: 1, else 0.  Tried at the first whole
 * buffer, so a file smaller than one costs nothing. */
static int
direct_on(int fd)
{
	struct stat st;
	off_t at;
	int fl;

	if (fd < 0 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (at = lseek(fd, 0, SEEK_CUR)) == -1 || at % PIPE_ALIGN != 0 ||
	    !local_disk(fd) || (fl = fcntl(fd, F_GETFL)) == -1)
		return 0;
	return fcntl(fd, F_SETFL, fl | O_DIRECT) == 0;
}

/* Back to the page cache: 0, or -1 with errno. */
static int
direct_off(struct sha1_pipe *p)
{
	int fl;

	p->direct = 0;
	if ((fl = fcntl(p->fd, F_GETFL)) == -1 ||
	    fcntl(p->fd, F_SETFL, fl & ~O_DIRECT) == -1)
		return -1;
	return 0;
}

/* Write b[0..n) at fd's offset: the bytes written, with *werr set when
 * it stopped short. */
static size_t
pipe_write(struct sha1_pipe *p, const char *b, size_t n, int *werr)
{
	size_t off = 0;
	ssize_t w;

	if (p->maydirect && n == PIPE_BUFSZ) {
		p->maydirect = 0;
		p->direct = direct_on(p->fd);
	}
	/* The tail, or after a short write: not aligned. */
	if (p->direct && n % PIPE_ALIGN != 0 && direct_off(p) == -1) {
		*werr = errno;
		return 0;
	}
	while (off < n) {
		if ((w = write(p->fd, b + off, n - off)) > 0) {
			off += w;
			p->ndirect += p->direct;
			if (p->direct && off < n && direct_off(p) == -1)
				break;
		} else if (w == 0) {
			errno = EIO;	/* no progress: not a disk's answer */
			break;
		} else if (errno == EINVAL && p->direct) {
			/* O_DIRECT refused here: the page cache, again. */
			if (direct_off(p) == -1)
				break;
		} else if (errno != EINTR)
			break;
	}
	if (off < n)
		*werr = errno;
	return off;
}

static void *
pipe_main(void *arg)
{
	struct sha1_pipe *p = arg;
	const char *b;
	size_t n, off, unsynced = 0;
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
		off = p->fd >= 0 && !werr ? pipe_write(p, b, n, &werr) : 0;
#ifdef SYNC_FILE_RANGE_WRITE
		/* Keep little dirty data for the fsync at the end. */
		if (p->fd >= 0 && !werr && !p->direct &&
		    (unsynced += n) >= PIPE_KICK) {
			sync_file_range(p->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
			unsynced = 0;
		}
#endif
		pthread_mutex_lock(&p->mu);
		/* After a failed write, only the bytes written before it. */
		if (p->fd >= 0)
			p->len[p->head] = off;
		p->werr = werr;
		p->head = (p->head + 1) % PIPE_NBUF;
		p->count--;
		p->nwritten++;
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
		if (nspare > 0)
			p->buf[i] = spare[--nspare];
		else if ((errno = posix_memalign((void **)&p->buf[i],
		    PIPE_ALIGN, PIPE_BUFSZ)) != 0)
			err(EX_FATAL, "posix_memalign");
	pthread_mutex_unlock(&spare_mu);
	p->maydirect = fd >= 0;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->ready, NULL);
	pthread_cond_init(&p->done, NULL);
	if ((errno = pthread_create(&p->th, NULL, pipe_main, p)) != 0)
		err(EX_FATAL, "pthread_create");
	return p;
}

/*
 * Hash the buffers written so far, in order, and wait until at most max
 * buffers are the thread's (hashing those it writes meanwhile): 0, or -1
 * with errno when a write failed.
 */
static int
hash_upto(struct sha1_pipe *p, int max)
{
	int i, n, werr;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while ((n = p->nwritten) > 0) {
			/* Hashed outside the lock, while the thread writes. */
			pthread_mutex_unlock(&p->mu);
			for (i = 0; i < n; i++) {
				sha1_update(p->h, p->buf[p->hashidx],
				    p->len[p->hashidx]);
				p->hashidx = (p->hashidx + 1) % PIPE_NBUF;
			}
			pthread_mutex_lock(&p->mu);
			p->nwritten -= n;
		}
		if (p->count <= max)
			break;
		pthread_cond_wait(&p->done, &p->mu);
	}
	werr = p->werr;
	pthread_mutex_unlock(&p->mu);
	if (werr) {
		errno = werr;
		return -1;
	}
	return 0;
}

/* Hand the buffer being filled to the thread, hash what it has written,
 * and wait for a free buffer.  0, or -1 with errno set when a write has
 * failed. */
static int
pipe_push(struct sha1_pipe *p)
{
	if (p->fill > 0) {
		pthread_mutex_lock(&p->mu);
		p->len[p->fillidx] = p->fill;
		p->count++;
		pthread_cond_signal(&p->ready);
		pthread_mutex_unlock(&p->mu);
		p->fillidx = (p->fillidx + 1) % PIPE_NBUF;
		p->fill = 0;
	}
	return hash_upto(p, PIPE_NBUF - 1);
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
	int rv;

	pipe_push(p);
	rv = hash_upto(p, 0);
	/* The thread is idle: the fd as it was given, for the caller's
	 * reads (a restart hashes the file's first bytes again) and the
	 * writes after, through the page cache. */
	if (p->direct && direct_off(p) == -1 && rv == 0)
		rv = -1;
	return rv;
}

long
sha1_pipe_ndirect(const struct sha1_pipe *p)
{
	return p->ndirect;
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

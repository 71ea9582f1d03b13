/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_SHA1_H
#define IMMICH_SHA1_H

#include <sys/stat.h>

#include <stddef.h>

/*
 * SHA-1 over OpenSSL's EVP interface, with the digest written the way
 * Immich writes an asset's checksum: standard base64, padded, 28 chars.
 */
#define SHA1_B64LEN	29	/* 28 characters and a NUL */

struct sha1 {
	void	*ctx;		/* EVP_MD_CTX */
};

void	 sha1_init(struct sha1 *);
void	 sha1_reset(struct sha1 *);	/* start again from no bytes */
void	 sha1_update(struct sha1 *, const void *, size_t);
/* Writes the base64 digest; the context can then be reset or freed. */
void	 sha1_final(struct sha1 *, char b64[SHA1_B64LEN]);
void	 sha1_free(struct sha1 *);

/*
 * Hash fd from its current offset to its end (or to max bytes when
 * max >= 0), reading in large chunks.  Adds the bytes read to *bytes
 * when bytes is not NULL.  Returns 0, or -1 with errno set on a read
 * error.  Calls tick() (may be NULL) after each chunk with the chunk's
 * size.
 */
int	 sha1_fd(struct sha1 *, int fd, long long max, long long *bytes,
	    void (*tick)(size_t));

/*
 * Open the regular file at path to hash it, not following a symbolic
 * link: the fd, with *st its stat; or -1 with a message in why ("PATH:
 * reason").
 */
int	 sha1_open(const char *path, struct stat *st, char *why, size_t whysz);
/* The same for name in dirfd (path, for messages, names it); errno is
 * ENOENT when there is nothing there.  Every file hashed on disk is
 * opened by one of these two and hashed by sha1_whole. */
int	 sha1_openat(int dirfd, const char *name, const char *path,
	    struct stat *st, char *why, size_t whysz);
/* Hash fd from where it is to its end: 0 with the digest and *bytes, or
 * -1 with a message in why; tick as for sha1_fd.  path is for the
 * message. */
int	 sha1_whole(int fd, const char *path, char sha[SHA1_B64LEN],
	    long long *bytes, void (*tick)(size_t), char *why, size_t whysz);

/*
 * A second thread that writes to fd (when fd >= 0) while the feeding
 * side hashes what it has written, so that receiving, writing and
 * hashing overlap.  Bytes are copied into a few large buffers (2 MiB in
 * all, kept for the next pipe when this one is freed); feed blocks when
 * they are all in use.  A regular file on a local disk gets whole
 * buffers with O_DIRECT (the tail through the page cache; fd must not
 * have O_DIRECT when given), and O_DIRECT cleared again at drain.  After drain the thread is idle and the struct
 * sha1 may be used directly (reset, final) until the next feed.
 */
struct sha1_pipe;

struct sha1_pipe *sha1_pipe_new(struct sha1 *, int fd);
/* 0, or -1 with errno set when a write has failed. */
int	 sha1_pipe_feed(struct sha1_pipe *, const void *, size_t);
/* Wait until everything fed is written and hashed: 0, or -1 and errno. */
int	 sha1_pipe_drain(struct sha1_pipe *);
/* After drain: how many writes went to the file with O_DIRECT. */
long	 sha1_pipe_ndirect(const struct sha1_pipe *);
void	 sha1_pipe_free(struct sha1_pipe *);

#endif

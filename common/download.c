/* SPDX-License-Identifier: ISC */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/commit.h"
#include "common/download.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/progress.h"
#include "common/util.h"

struct dl {
	int	 fd;
	struct sha1 h;
	struct sha1_pipe *pipe;	/* writes to fd on a thread, hashes here */
	long long size;		/* bytes in the .part file */
	long long reserve;	/* bytes to keep free */
	int	 werr;		/* errno of a failed write, or 0 */
	int	 nospace;	/* the reply is larger than the free space */
	long long need, avail;
	char	 why[160];	/* why start() refused */
};

static void __attribute__((noreturn))
nospace(long long need, long long avail)
{
	errx(EX_FATAL, "%s: need %lld bytes, %lld free: free space or lower "
	    "-r", commit_path(), need, avail);
}

static int
sink_start(void *arg, long long offset, long long total)
{
	struct dl *d = arg;

	if (offset != d->size) {
		if (offset > d->size) {
			snprintf(d->why, sizeof(d->why), "the reply starts "
			    "at byte %lld, the file has %lld", offset,
			    d->size);
			return -1;
		}
		/* Start again from offset (0 when the Range was ignored). */
		if (sha1_pipe_drain(d->pipe) == -1 ||
		    ftruncate(d->fd, offset) == -1 ||
		    lseek(d->fd, 0, SEEK_SET) == -1) {
			d->werr = errno;
			return -1;
		}
		sha1_reset(&d->h);
		d->size = 0;
		if (offset > 0 && (sha1_fd(&d->h, d->fd, offset, &d->size,
		    NULL) == -1 || d->size != offset)) {
			d->werr = errno ? errno : EIO;
			return -1;
		}
		if (lseek(d->fd, offset, SEEK_SET) == -1) {
			d->werr = errno;
			return -1;
		}
	}
	if (total >= 0) {
		d->avail = fs_avail(commit_dirfd());
		d->need = total - offset + d->reserve;
		if (d->avail >= 0 && d->avail < d->need) {
			d->nospace = 1;
			return -1;
		}
	}
	return 0;
}

static int
sink_data(void *arg, const char *buf, size_t len)
{
	struct dl *d = arg;

	if (sha1_pipe_feed(d->pipe, buf, len) == -1) {
		d->werr = errno;
		return -1;
	}
	d->size += len;
	prog.bytes += len;
	progress_tick();
	return 0;
}

/*
 * Is a partial download left in DIR/.tmp one this user's immich-fetch
 * made: a single link, owned by us, mode 0600 at most?  If not, why.
 */
static int
part_private(const struct stat *st, char *why, size_t whysz)
{
	if (st->st_nlink != 1)
		snprintf(why, whysz, "has %ju links", (uintmax_t)st->st_nlink);
	else if (st->st_uid != geteuid())
		snprintf(why, whysz, "owned by uid %ju, not by you",
		    (uintmax_t)st->st_uid);
	else if ((st->st_mode & 07777 & ~0600) != 0)
		snprintf(why, whysz, "mode %04o, not 0600",
		    (unsigned)(st->st_mode & 07777));
	else
		return 1;
	return 0;
}

/* A partial DIR/.tmp/part of ours, open, with *have its bytes to keep;
 * -1 if there is none (one not ours alone is removed). */
static int
old_part(const char *part, long long size, long long *have)
{
	const char *dir = commit_path();
	struct stat st;
	char why[80];
	int fd;

	*have = 0;
	fd = openat(commit_tmpfd(), part, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT)
		err(EX_FATAL, "%s/.tmp/%s", dir, part);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		err(EX_FATAL, "%s/.tmp/%s", dir, part);
	if (!S_ISREG(st.st_mode))
		errx(EX_FATAL, "%s/.tmp/%s: not a regular file", dir, part);
	if (!part_private(&st, why, sizeof(why))) {
		/* Writing to it would write to a file that is not ours
		 * alone (a hard link), or keep its mode. */
		warnx("%s/.tmp/%s: %s: not resuming it; removed it and "
		    "starting again", dir, part, why);
		close(fd);
		if (unlinkat(commit_tmpfd(), part, 0) == -1 && errno != ENOENT)
			err(EX_FATAL, "%s/.tmp/%s", dir, part);
		return -1;
	}
	*have = st.st_size;
	if (size >= 0 && *have > size)
		*have = 0;	/* not a prefix: start again */
	return fd;
}

/*
 * DIR/.tmp/part open and locked, with d's hash and size at its first
 * have bytes (kept) and its offset there; -1 with *msg when another
 * process holds it.
 */
static int
open_part(struct dl *d, const char *part, long long size, int *resumed,
    char **msg)
{
	const char *dir = commit_path();
	long long have, avail, need;
	int fd;

	fd = old_part(part, size, &have);
	/* Enough room for the rest of it, and the reserve? */
	avail = fs_avail(commit_dirfd());
	need = (size > have ? size - have : 0) + d->reserve;
	if (avail >= 0 && avail < need) {
		if (fd != -1)
			close(fd);
		nospace(need, avail);
	}
	if (fd == -1)
		fd = openat(commit_tmpfd(), part, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 && errno == ENOENT)
		fd = openat(commit_tmpfd_again(), part, O_RDWR | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		err(EX_FATAL, "%s/.tmp/%s", dir, part);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		*msg = xasprintf("%s/.tmp/%s: another process is downloading "
		    "it", dir, part);
		close(fd);
		return -1;
	}
	d->fd = fd;
	sha1_init(&d->h);
	if (have > 0) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		if (sha1_fd(&d->h, fd, have, &d->size, NULL) == -1 ||
		    d->size != have)
			err(EX_FATAL, "%s/.tmp/%s: read error", dir, part);
		*resumed = 1;
	} else if (ftruncate(fd, 0) == -1)
		commit_fatal(part, errno);
	if (lseek(fd, d->size, SEEK_SET) == -1)
		err(EX_FATAL, "%s/.tmp/%s", dir, part);
	return 0;
}

/* GET the original from d->size on into d (from 0 again if the server
 * says the part is not shorter than the original). */
static int
stream(struct dl *d, const char *path, const char *part,
    struct http_resp *r)
{
	struct http_sink sink = { sink_start, sink_data, d };
	int rv;

	d->pipe = sha1_pipe_new(&d->h, d->fd);
	rv = http_stream(path, d->size, 1, &sink, r);
	if (rv == 0 && r->status == 416 && d->size > 0) {
		http_free(r);
		if (ftruncate(d->fd, 0) == -1 || lseek(d->fd, 0, SEEK_SET) == -1)
			commit_fatal(part, errno);
		sha1_reset(&d->h);
		d->size = 0;
		rv = http_stream(path, 0, 1, &sink, r);
	}
	/* Everything received is in the file (a resume needs it). */
	if (sha1_pipe_drain(d->pipe) == -1 && !d->werr)
		d->werr = errno;
	sha1_pipe_free(d->pipe);
	if (rv == 0 || r->status == 0)
		api_seen(r->status);
	if (d->nospace || d->werr) {
		close(d->fd);
		unlinkat(commit_tmpfd(), part, 0);
		if (d->nospace)
			nospace(d->need, d->avail);
		commit_fatal(part, d->werr);
	}
	return rv;
}

int
dl_original(const char *id, long long size, long long reserve,
    struct dl_result *res, char **msg)
{
	struct http_resp r;
	struct dl d;
	char path[64], part[64];
	int rv;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	d.reserve = reserve;
	*msg = NULL;
	snprintf(part, sizeof(part), "%s.part", id);
	if (open_part(&d, part, size, &res->resumed, msg) == -1)
		return -1;
	if (size > 0 && d.size == size) {
		/* Complete already (killed before the rename). */
		goto done;
	}
	snprintf(path, sizeof(path), "/assets/%s/original", id);
	rv = stream(&d, path, part, &r);
	if (rv == -1 || r.status < 200 || r.status >= 300) {
		if (rv == -1)
			*msg = xasprintf("GET %s%s: %s%s%s", api_prefix(), path,
			    r.msg, d.why[0] ? ": " : "", d.why);
		else
			*msg = xasprintf("GET %s%s: HTTP %ld: %s", api_prefix(),
			    path, r.status, r.msg);
		http_free(&r);
		sha1_free(&d.h);
		close(d.fd);
		if (d.size == 0)
			unlinkat(commit_tmpfd(), part, 0);
		return -1;
	}
	http_free(&r);
done:
	sha1_final(&d.h, res->sha);
	sha1_free(&d.h);
	res->bytes = d.size;
	res->fd = d.fd;
	return 0;
}

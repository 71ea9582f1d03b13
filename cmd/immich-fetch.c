/* SPDX-License-Identifier: ISC */
/*
 * immich-fetch: download the originals of the assets a record is about
 * to trash (and their live-photo videos) into a backup folder.  Each
 * file is streamed to DIR/.tmp/ID.part (O_EXCL, O_NOFOLLOW, 0600) while
 * its SHA-1 is computed and checked against the server's checksum; a
 * metadata sidecar is written next to it in DIR/.tmp.  A second thread
 * (the committer) flushes both with fdatasync, renames them to
 * DIR/ID-NAME and DIR/ID.json and flushes DIR, while this one downloads
 * the next assets; a record goes out, in input order, with its "backup"
 * key only once everything it names is committed.  A file already there
 * and intact costs no request; a partial one is resumed with Range.
 * DIR/.tmp is shared by every process writing to DIR and never removed.
 */

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/env.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/sha1.h"
#include "common/sidecar.h"
#include "common/util.h"

#define MAX_UNREACHABLE	3	/* assets in a row with no reply: stop */
#define QMAX		8	/* assets downloaded, not yet committed */
#define PENDMAX		64	/* records waiting for their commits */

static int qflag;
static long long reserve = 64LL << 20;
static char *dirpath;		/* absolute */
static int dirfd = -1, tmpfd = -1;
static const char *apibase = "";	/* path part of the API URL */
static long ndown, nskip, nresume;
static int unreachable;		/* assets in a row without any reply */
static int anyfailed;

/* The asset being worked on, for messages. */
static cJSON *currec;
static const struct ndjson_in *curin;

struct dl {
	int	 fd;
	struct sha1 h;
	struct sha1_pipe *pipe;	/* writes to fd and hashes on a thread */
	long long size;		/* bytes in the .part file */
	int	 werr;		/* errno of a failed write, or 0 */
	int	 nospace;	/* the reply is larger than the free space */
	long long need, avail;
	char	 why[160];	/* why start() refused */
};

static void
usage(void)
{
	fprintf(stderr, "usage: immich-fetch [-qV] -d dir [-r reserve] "
	    "[id ...]\n");
	exit(EX_USAGE);
}

static long long
asset_size(const cJSON *asset)
{
	return rec_num(cJSON_GetObjectItemCaseSensitive(asset, "exifInfo"),
	    "fileSizeInByte");
}

static int
asset_external(const cJSON *asset)
{
	return rec_str(asset, "libraryId") != NULL;
}

/*
 * The backup folder (and its .tmp) must be ours: whoever owns it could
 * remove or replace the backups, or plant links in .tmp.
 */
static void
owned_by_us(int fd, const char *sub)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		err(EX_FATAL, "%s%s", dirpath, sub);
	if (st.st_uid != geteuid())
		errx(EX_USAGE, "%s%s: owned by uid %ju, not by you (uid %ju): "
		    "refusing to keep backups there", dirpath, sub,
		    (uintmax_t)st.st_uid, (uintmax_t)geteuid());
}

/*
 * DIR/.tmp, shared with any other process writing to DIR: it is never
 * removed (another process may be about to create a file in it).
 */
static void
open_tmpdir(void)
{
	if (tmpfd != -1)
		return;
	if (mkdirat(dirfd, ".tmp", 0700) == -1 && errno != EEXIST)
		err(EX_FATAL, "%s/.tmp", dirpath);
	tmpfd = openat(dirfd, ".tmp",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tmpfd == -1)
		err(EX_FATAL, "%s/.tmp", dirpath);
	owned_by_us(tmpfd, "/.tmp");
}

static void __attribute__((noreturn))
write_fatal(const char *name, int e)
{
	if (e == ENOSPC || e == EDQUOT)
		errx(EX_FATAL, "%s/%s: disk full: free space or lower -r",
		    dirpath, name);
	errno = e;
	err(EX_FATAL, "%s/%s: write error", dirpath, name);
}

/*
 * Commits.  A downloaded original (or none, when the file in DIR was
 * already right) and its sidecar, both written to DIR/.tmp but not yet
 * flushed, are handed to the committer thread.  It takes every job
 * queued so far as one batch: starts writeback of all the files, flushes
 * each with fdatasync, renames them into place (the original first: a
 * sidecar means its file is complete), then flushes DIR once for the
 * whole batch.  The more it falls behind, the larger its batches, so the
 * flushes cost less per file.  It also writes the records out, in input
 * order, each once the commits of all its files are done.  At most QMAX
 * jobs are in flight and PENDMAX records wait.
 */
struct job {
	struct job *next;	/* in the committer's queue */
	struct job *rnext;	/* in its record's list */
	long	 seq;
	int	 fd;		/* the original's .part, or -1 */
	int	 scfd;		/* the sidecar's .part */
	int	 tfd;		/* DIR/.tmp */
	int	 err;		/* errno of a failed rename of the original */
	char	 id[40], part[64], sctmp[64], scname[64];
	char	*name;		/* the original's final name */
};

struct pend {
	struct pend *next;
	cJSON	*rec;
	struct ndjson_in in;	/* name and line, for messages */
	int	 hasin;
	int	 failed;
	struct job *jobs;
	long	 seq;		/* the last job it waits for */
};

/* Shared with the committer, under cm.mu. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t work;	/* for the committer */
	pthread_cond_t done;	/* for the main thread */
	struct job *head, *tail;	/* queued */
	int	 inflight;	/* queued or being committed */
	long	 durable;	/* every job up to this one is committed */
	struct pend *phead, *ptail;	/* records waiting */
	int	 npend;
	int	 quit;
	int	 ferr;		/* errno of a fatal error: the committer stopped */
	char	 fname[320];	/* the file it was about, in DIR */
	long	 failed;	/* records it wrote out as failed */
} cm = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER };
static long lastseq;		/* main thread's */
static struct job *curjobs;	/* of the record being worked on */
static pthread_t cmth;
static int cmstarted;

/* The committer's fatal error; -1 always. */
static int
cm_fatal(const char *what, const char *name, int e)
{
	pthread_mutex_lock(&cm.mu);
	snprintf(cm.fname, sizeof(cm.fname), "%s%s", what, name);
	cm.ferr = e ? e : EIO;
	pthread_mutex_unlock(&cm.mu);
	return -1;
}

static int
commit_batch(struct job *batch)
{
	struct job *j;

#ifdef SYNC_FILE_RANGE_WRITE
	/* Start writing all of them out, then wait for each. */
	for (j = batch; j; j = j->next) {
		if (j->fd != -1)
			sync_file_range(j->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		sync_file_range(j->scfd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
#endif
	for (j = batch; j; j = j->next) {
		if (j->fd != -1 && fdatasync(j->fd) == -1)
			return cm_fatal(".tmp/", j->part, errno);
		if (fdatasync(j->scfd) == -1)
			return cm_fatal(".tmp/", j->sctmp, errno);
	}
	for (j = batch; j; j = j->next) {
		if (j->fd != -1 && renameat(j->tfd, j->part, dirfd,
		    j->name) == -1) {
			j->err = errno;
			unlinkat(j->tfd, j->sctmp, 0);
		} else if (renameat(j->tfd, j->sctmp, dirfd, j->scname) == -1)
			return cm_fatal("", j->scname, errno);
		/* Closed after the rename: the lock on the .part is held
		 * until it is gone from DIR/.tmp. */
		if (j->fd != -1 && close(j->fd) == -1 && !j->err)
			return cm_fatal("", j->name, errno);
		j->fd = -1;
		if (close(j->scfd) == -1)
			return cm_fatal("", j->scname, errno);
		j->scfd = -1;
	}
	if (fs_syncdir(dirfd) == -1)
		return cm_fatal("", ".", errno);
	return 0;
}

/* Write out a record whose commits are done (committer thread). */
static void
emit(struct pend *p)
{
	struct job *j, *next;
	cJSON *backup;

	backup = cJSON_GetObjectItemCaseSensitive(p->rec, "backup");
	for (j = p->jobs; j; j = next) {
		next = j->rnext;
		if (j->err) {
			cJSON_DeleteItemFromObjectCaseSensitive(backup, j->id);
			rec_error(p->rec, p->hasin ? &p->in : NULL, j->id,
			    "rename %s/.tmp/%s to %s: %s", dirpath, j->part,
			    j->name, strerror(j->err));
			p->failed = 1;
		}
		free(j->name);
		free(j);
	}
	ndjson_emit(p->rec);
	cJSON_Delete(p->rec);
	if (p->failed) {
		pthread_mutex_lock(&cm.mu);
		cm.failed++;
		pthread_mutex_unlock(&cm.mu);
	}
	free(p);
}

static void *
committer(void *arg)
{
	struct job *batch, *j;
	struct pend *p;
	long last = 0;
	int n;

	(void)arg;
	pthread_mutex_lock(&cm.mu);
	for (;;) {
		if ((p = cm.phead) != NULL && p->seq <= cm.durable) {
			if ((cm.phead = p->next) == NULL)
				cm.ptail = NULL;
			cm.npend--;
			pthread_mutex_unlock(&cm.mu);
			emit(p);
			pthread_mutex_lock(&cm.mu);
			pthread_cond_broadcast(&cm.done);
			continue;
		}
		if ((batch = cm.head) != NULL) {
			cm.head = cm.tail = NULL;
			pthread_mutex_unlock(&cm.mu);
			for (n = 0, j = batch; j; j = j->next, n++)
				last = j->seq;
			if (commit_batch(batch) == -1) {
				pthread_mutex_lock(&cm.mu);
				pthread_cond_broadcast(&cm.done);
				break;
			}
			pthread_mutex_lock(&cm.mu);
			cm.durable = last;
			cm.inflight -= n;
			pthread_cond_broadcast(&cm.done);
			continue;
		}
		if (cm.quit)
			break;	/* nothing queued, nothing waiting */
		pthread_cond_wait(&cm.work, &cm.mu);
	}
	pthread_mutex_unlock(&cm.mu);
	return NULL;
}

static void
commit_start(void)
{
	if ((errno = pthread_create(&cmth, NULL, committer, NULL)) != 0)
		err(EX_FATAL, "pthread_create");
	cmstarted = 1;
}

/* Called with cm.mu held: stop if the committer failed. */
static void
commit_check_locked(void)
{
	char name[sizeof(cm.fname)];
	int e;

	if (cm.ferr == 0)
		return;
	e = cm.ferr;
	memcpy(name, cm.fname, sizeof(name));
	pthread_mutex_unlock(&cm.mu);
	write_fatal(name, e);
}

static void
commit_submit(struct job *j)
{
	pthread_mutex_lock(&cm.mu);
	while (cm.inflight >= QMAX && cm.ferr == 0)
		pthread_cond_wait(&cm.done, &cm.mu);
	commit_check_locked();
	j->seq = ++lastseq;
	j->next = NULL;
	if (cm.tail)
		cm.tail->next = j;
	else
		cm.head = j;
	cm.tail = j;
	cm.inflight++;
	pthread_cond_signal(&cm.work);
	pthread_mutex_unlock(&cm.mu);
	j->rnext = curjobs;
	curjobs = j;
}

/* Wait until every job up to seq is committed. */
static void
commit_wait(long seq)
{
	pthread_mutex_lock(&cm.mu);
	while (cm.durable < seq && cm.ferr == 0)
		pthread_cond_wait(&cm.done, &cm.mu);
	commit_check_locked();
	pthread_mutex_unlock(&cm.mu);
}

/* An asset being committed is waited for before it is looked at again. */
static void
commit_settle(const char *id)
{
	struct pend *p;
	struct job *j;
	long need = 0;

	for (j = curjobs; j; j = j->rnext)
		if (strcmp(j->id, id) == 0 && j->seq > need)
			need = j->seq;
	pthread_mutex_lock(&cm.mu);
	for (p = cm.phead; p; p = p->next)
		for (j = p->jobs; j; j = j->rnext)
			if (strcmp(j->id, id) == 0 && j->seq > need)
				need = j->seq;
	pthread_mutex_unlock(&cm.mu);
	if (need > 0)
		commit_wait(need);
}

/* The record is done here: it goes out once its commits are. */
static void
record_done(cJSON *rec, const struct ndjson_in *in, int failed)
{
	struct pend *p = xcalloc(1, sizeof(*p));

	p->rec = rec;
	if (in) {
		p->in = *in;
		p->hasin = 1;
	}
	p->failed = failed;
	p->jobs = curjobs;
	curjobs = NULL;
	p->seq = lastseq;
	pthread_mutex_lock(&cm.mu);
	while (cm.npend >= PENDMAX && cm.ferr == 0)
		pthread_cond_wait(&cm.done, &cm.mu);
	commit_check_locked();
	if (cm.ptail)
		cm.ptail->next = p;
	else
		cm.phead = p;
	cm.ptail = p;
	cm.npend++;
	pthread_cond_signal(&cm.work);
	pthread_mutex_unlock(&cm.mu);
}

/* Write out every record and stop the committer. */
static void
commit_end(void)
{
	if (!cmstarted)
		return;
	pthread_mutex_lock(&cm.mu);
	cm.quit = 1;
	pthread_cond_signal(&cm.work);
	pthread_mutex_unlock(&cm.mu);
	pthread_join(cmth, NULL);
	cmstarted = 0;
	pthread_mutex_lock(&cm.mu);
	commit_check_locked();
	pthread_mutex_unlock(&cm.mu);
	if (cm.failed > 0) {
		prog.failed += cm.failed;
		anyfailed = 1;
	}
}

/*
 * DIR/.tmp was removed under us (by an older immich-fetch that removed it
 * when it finished): make it again, once every commit from the old one is
 * done.
 */
static void
reopen_tmpdir(void)
{
	commit_wait(lastseq);
	if (tmpfd != -1)
		close(tmpfd);
	tmpfd = -1;
	open_tmpdir();
}

/*
 * GET a JSON reply; *out gets the parsed value on 200.  -1 with an error
 * recorded for the asset otherwise.  No reply at all after the retries
 * counts towards MAX_UNREACHABLE.
 */
static int
get_json(const char *asset, const char *path, cJSON **out)
{
	struct http_resp r;

	*out = NULL;
	if (http_json("GET", path, NULL, &r) == -1) {
		rec_error(currec, curin, asset, "GET %s%s: %s", apibase, path,
		    r.msg);
		if (r.status == 0 && ++unreachable >= MAX_UNREACHABLE)
			errx(EX_FATAL, "%s: server unreachable; stopping",
			    env_get()->api);
		http_free(&r);
		return -1;
	}
	unreachable = 0;
	if (r.status != 200) {
		rec_error(currec, curin, asset, "GET %s%s: HTTP %ld: %s",
		    apibase, path, r.status, r.msg);
		http_free(&r);
		return -1;
	}
	*out = cJSON_ParseWithLength(r.body, r.len);
	http_free(&r);
	if (*out == NULL) {
		rec_error(currec, curin, asset, "GET %s%s: invalid JSON reply",
		    apibase, path);
		return -1;
	}
	return 0;
}

/* GET /assets/ID: a fresh AssetResponseDto, or NULL. */
static cJSON *
get_asset(const char *id)
{
	char path[64];
	cJSON *a;

	snprintf(path, sizeof(path), "/assets/%s", id);
	if (get_json(id, path, &a) == -1)
		return NULL;
	if (!cJSON_IsObject(a) || rec_str(a, "checksum") == NULL) {
		rec_error(currec, curin, id, "GET %s%s: reply has no checksum",
		    apibase, path);
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/* [{id, albumName}] of the albums holding the asset, or NULL. */
static cJSON *
get_albums(const char *id)
{
	const cJSON *cons, *c, *al;
	cJSON *list, *out, *o;
	char path[80];

	/* immich-consolidate read them already: consolidated.albums.ID. */
	cons = cJSON_GetObjectItemCaseSensitive(currec, "consolidated");
	c = cJSON_GetObjectItemCaseSensitive(cons, "albums");
	al = cJSON_GetObjectItemCaseSensitive(c, id);
	if (cJSON_IsArray(al))
		list = cJSON_Duplicate(al, 1);
	else {
		snprintf(path, sizeof(path), "/albums?assetId=%s", id);
		if (get_json(id, path, &list) == -1)
			return NULL;
	}
	if (!cJSON_IsArray(list)) {
		rec_error(currec, curin, id, "albums of the asset: not a list");
		cJSON_Delete(list);
		return NULL;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(al, list) {
		if (rec_str(al, "id") == NULL)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", rec_str(al, "id"));
		if (rec_str(al, "albumName"))
			cJSON_AddStringToObject(o, "albumName",
			    rec_str(al, "albumName"));
		cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(list);
	return out;
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
		d->avail = fs_avail(dirfd);
		d->need = total - offset + reserve;
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

/* Do the bytes match what the server says the asset is? */
static int
intact(const char *sha, long long bytes, const char *checksum,
    long long size, int external)
{
	if (size >= 0 && bytes != size)
		return 0;
	return external || strcmp(sha, checksum) == 0;
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

/*
 * Stream the original into DIR/.tmp/ID.part, resuming a partial one.
 * Returns 0 with the part's SHA-1 and size, or -1 after recording the
 * error (the part is kept for a resume when the transfer was cut).
 */
static int
download(const char *id, long long size, char *part, int *fdp,
    char sha[SHA1_B64LEN], long long *bytes, int *resumed)
{
	struct http_sink sink = { sink_start, sink_data, NULL };
	struct http_resp r;
	struct stat st;
	struct dl d;
	char path[64], why[80];
	long long have = 0, avail, need;
	int fd, rv;

	*resumed = 0;
	open_tmpdir();
	memset(&d, 0, sizeof(d));
	fd = openat(tmpfd, part, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno != ENOENT)
		err(EX_FATAL, "%s/.tmp/%s", dirpath, part);
	if (fd != -1) {
		if (fstat(fd, &st) == -1)
			err(EX_FATAL, "%s/.tmp/%s", dirpath, part);
		if (!S_ISREG(st.st_mode))
			errx(EX_FATAL, "%s/.tmp/%s: not a regular file",
			    dirpath, part);
		if (!part_private(&st, why, sizeof(why))) {
			/* Writing to it would write to a file that is not
			 * ours alone (a hard link), or keep its mode. */
			warnx("%s/.tmp/%s: %s: not resuming it; removed it and "
			    "starting again", dirpath, part, why);
			close(fd);
			fd = -1;
			if (unlinkat(tmpfd, part, 0) == -1 && errno != ENOENT)
				err(EX_FATAL, "%s/.tmp/%s", dirpath, part);
		} else {
			have = st.st_size;
			if (size >= 0 && have > size)
				have = 0;	/* not a prefix: start again */
		}
	}

	/* Enough room for the rest of it, and the reserve? */
	avail = fs_avail(dirfd);
	need = (size > have ? size - have : 0) + reserve;
	if (avail >= 0 && avail < need) {
		if (fd != -1)
			close(fd);
		errx(EX_FATAL, "%s: need %lld bytes, %lld free: free space "
		    "or lower -r", dirpath, need, avail);
	}
	if (fd == -1)
		fd = openat(tmpfd, part, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 && errno == ENOENT) {
		reopen_tmpdir();
		fd = openat(tmpfd, part, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd == -1)
		err(EX_FATAL, "%s/.tmp/%s", dirpath, part);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		rec_error(currec, curin, id, "%s/.tmp/%s: another process is "
		    "downloading it", dirpath, part);
		close(fd);
		return -1;
	}
	d.fd = fd;
	sha1_init(&d.h);
	if (have > 0) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		if (sha1_fd(&d.h, fd, have, &d.size, NULL) == -1 ||
		    d.size != have)
			err(EX_FATAL, "%s/.tmp/%s: read error", dirpath, part);
		nresume++;
		*resumed = 1;
	} else if (ftruncate(fd, 0) == -1)
		write_fatal(part, errno);
	if (lseek(fd, d.size, SEEK_SET) == -1)
		err(EX_FATAL, "%s/.tmp/%s", dirpath, part);

	if (size > 0 && d.size == size) {
		/* Complete already (killed before the rename). */
		sha1_final(&d.h, sha);
		sha1_free(&d.h);
		*bytes = d.size;
		*fdp = fd;
		return 0;
	}
	sink.arg = &d;
	d.pipe = sha1_pipe_new(&d.h, fd);
	snprintf(path, sizeof(path), "/assets/%s/original", id);
	rv = http_stream(path, d.size, 1, &sink, &r);
	if (rv == 0 && r.status == 416 && d.size > 0) {
		/* The partial file is not shorter than the original. */
		http_free(&r);
		if (ftruncate(fd, 0) == -1 || lseek(fd, 0, SEEK_SET) == -1)
			write_fatal(part, errno);
		sha1_reset(&d.h);
		d.size = 0;
		rv = http_stream(path, 0, 1, &sink, &r);
	}
	/* Everything received is in the file (a resume needs it). */
	if (sha1_pipe_drain(d.pipe) == -1 && !d.werr)
		d.werr = errno;
	sha1_pipe_free(d.pipe);
	if (rv == 0 && r.status >= 200 && r.status < 300)
		unreachable = 0;
	if (d.nospace || d.werr) {
		close(fd);
		unlinkat(tmpfd, part, 0);
		if (d.nospace)
			errx(EX_FATAL, "%s: need %lld bytes, %lld free: free "
			    "space or lower -r", dirpath, d.need, d.avail);
		write_fatal(part, d.werr);
	}
	if (rv == -1 || r.status < 200 || r.status >= 300) {
		if (rv == -1)
			rec_error(currec, curin, id, "GET %s%s: %s%s%s",
			    apibase, path, r.msg, d.why[0] ? ": " : "",
			    d.why);
		else
			rec_error(currec, curin, id, "GET %s%s: HTTP %ld: %s",
			    apibase, path, r.status, r.msg);
		if (rv == -1 && r.status == 0 &&
		    ++unreachable >= MAX_UNREACHABLE)
			errx(EX_FATAL, "%s: server unreachable; stopping",
			    env_get()->api);
		http_free(&r);
		sha1_free(&d.h);
		close(fd);
		if (d.size == 0)
			unlinkat(tmpfd, part, 0);
		return -1;
	}
	http_free(&r);
	sha1_final(&d.h, sha);
	sha1_free(&d.h);
	*bytes = d.size;
	*fdp = fd;
	return 0;
}

/* Write the sidecar to DIR/.tmp/ID.json.part, unflushed; returns its fd
 * for the committer. */
static int
write_sidecar(const char *id, const char *file, const cJSON *asset,
    cJSON *albums, long long bytes, const char *sha, const char *checksum,
    int external, const char *livePhotoOf)
{
	char tmp[64], *s;
	size_t len;
	int fd;

	s = sidecar_text(file, asset, albums, bytes, sha, checksum, external,
	    livePhotoOf, &len);
	snprintf(tmp, sizeof(tmp), "%s.json.part", id);
	open_tmpdir();
	fd = fs_create_file(tmpfd, tmp, s, len);
	if (fd == -1 && errno == ENOENT) {
		reopen_tmpdir();
		fd = fs_create_file(tmpfd, tmp, s, len);
	}
	if (fd == -1)
		write_fatal(tmp, errno);
	free(s);
	return fd;
}

/*
 * Back up one asset.  asset is its AssetResponseDto from the record, or
 * NULL; livePhotoOf is the still's id for a live-photo video.  Returns
 * the backup entry, or NULL after recording an error; *used gets the
 * asset metadata it used (the caller frees it).
 */
static cJSON *
fetch_asset(const char *id, const cJSON *asset, const char *livePhotoOf,
    cJSON **used)
{
	char sha[SHA1_B64LEN], part[64], *safe;
	char prevsha[SHA1_B64LEN] = "", firstsha[SHA1_B64LEN] = "";
	char *name = NULL;
	const char *want, *checksum;
	cJSON *fresh = NULL, *albums = NULL, *e = NULL;
	struct job *j;
	long long size, bytes = 0;
	int fd = -1, external, have, resumed = 0, restarted = 0;
	int downloaded = 0, scfd;

	*used = NULL;
	prog.assets++;
	commit_settle(id);
	want = asset ? rec_str(asset, "checksum") : NULL;
	if ((e = sidecar_intact(dirfd, dirpath, id, want, livePhotoOf,
	    used)) != NULL) {
		nskip++;
		return e;
	}
	if (asset == NULL || want == NULL ||
	    rec_str(asset, "originalFileName") == NULL) {
		if ((fresh = get_asset(id)) == NULL)
			return NULL;
		asset = fresh;
	}
	checksum = rec_str(asset, "checksum");
	external = asset_external(asset);
	size = asset_size(asset);
	safe = fs_safename(rec_str(asset, "originalFileName"));
	name = xasprintf("%s-%s", id, safe);
	free(safe);
	snprintf(part, sizeof(part), "%s.part", id);

	/* Already there and intact? */
	have = sidecar_hash_file(dirfd, dirpath, name, size, sha, &bytes);
	if (have == 1 && strcmp(sha, checksum) == 0) {
		nskip++;
		goto sidecar;
	}
	if (have == 1 && external) {
		/* Its bytes cannot be checked: download them again and
		 * compare (below).  Quietly when an earlier run wrote it. */
		snprintf(prevsha, sizeof(prevsha), "%s", sha);
		if (!sidecar_names(dirfd, id, name))
			warnx("%s/%s: exists without a sidecar and cannot be "
			    "checked (external library); downloading it again",
			    dirpath, name);
	} else if (have != -1)
		warnx("%s/%s: exists but does not match the server's "
		    "checksum %s; downloading it again to replace it",
		    dirpath, name, checksum);

again:
	if (download(id, size, part, &fd, sha, &bytes, &resumed) == -1)
		goto fail;
	if (!intact(sha, bytes, checksum, size, external) && fresh == NULL) {
		/* The record's copy may be stale: ask the server. */
		if ((fresh = get_asset(id)) == NULL)
			goto discard;
		if (strcmp(rec_str(fresh, "checksum"), checksum) != 0) {
			warnx("asset %s: the checksum changed on the server "
			    "since the record was made", id);
			asset = fresh;
			checksum = rec_str(fresh, "checksum");
			size = asset_size(fresh);
			external = asset_external(fresh);
		}
	}
	if (intact(sha, bytes, checksum, size, external)) {
		if (!external || prevsha[0] == '\0' ||
		    strcmp(sha, checksum) == 0 || strcmp(sha, prevsha) == 0)
			goto done;
		/*
		 * An external asset whose new download differs from the
		 * file already there, and neither can be checked against
		 * the server: a third download decides.
		 */
		if (firstsha[0] == '\0') {
			warnx("%s/%s: external-library asset: the new download "
			    "(SHA-1 %s) differs from the file there (SHA-1 %s) "
			    "and neither can be checked; downloading it again "
			    "to decide", dirpath, name, sha, prevsha);
			snprintf(firstsha, sizeof(firstsha), "%s", sha);
			close(fd);
			fd = -1;
			unlinkat(tmpfd, part, 0);
			restarted = 1;
			goto again;
		}
		if (strcmp(sha, firstsha) == 0) {
			warnx("%s/%s: external-library asset: two new downloads "
			    "agree; replacing the file", dirpath, name);
			goto done;
		}
		rec_error(currec, curin, id, "external-library asset: the "
		    "file there and two new downloads all differ (SHA-1 %s, "
		    "%s, %s); removed the downloads", prevsha, firstsha, sha);
		goto discard;
	}
	if (resumed && !restarted) {
		/* The partial file was not a prefix of the original. */
		warnx("asset %s: the resumed download does not match the "
		    "server's checksum; downloading it again from the start",
		    id);
		close(fd);
		fd = -1;
		unlinkat(tmpfd, part, 0);
		restarted = 1;
		goto again;
	}
	if (size >= 0 && bytes != size)
		rec_error(currec, curin, id, "downloaded %lld bytes, the "
		    "server says %lld; removed the download", bytes, size);
	else
		rec_error(currec, curin, id, "the downloaded bytes do not "
		    "match the server's checksum (SHA-1 %s, checksum %s); "
		    "removed the download", sha, checksum);
discard:
	/* Not a backup: throw it away. */
	close(fd);
	fd = -1;
	unlinkat(tmpfd, part, 0);
	goto fail;

done:
	downloaded = 1;	/* the committer starts writing it out */

sidecar:
	if (livePhotoOf == NULL && (albums = get_albums(id)) == NULL)
		goto fail;	/* a complete .part is kept: no new download */
	external = external && strcmp(sha, checksum) != 0;
	scfd = write_sidecar(id, name, asset, albums, bytes, sha, checksum,
	    external, livePhotoOf);
	/* Flushed and renamed into place by the committer; the record
	 * goes out when that is done. */
	j = xcalloc(1, sizeof(*j));
	j->fd = downloaded ? fd : -1;
	fd = -1;
	j->scfd = scfd;
	j->tfd = tmpfd;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->part, sizeof(j->part), "%s", part);
	snprintf(j->sctmp, sizeof(j->sctmp), "%s.json.part", id);
	snprintf(j->scname, sizeof(j->scname), "%s.json", id);
	j->name = xstrdup(name);
	commit_submit(j);
	if (downloaded)
		ndown++;
	e = sidecar_entry(dirpath, name, id, bytes, sha, checksum, external,
	    livePhotoOf);
	*used = fresh ? fresh : cJSON_Duplicate(asset, 1);
	fresh = NULL;
fail:
	if (fd != -1)
		close(fd);
	cJSON_Delete(fresh);
	free(name);
	return e;
}

/* Back up a still (and its video) into the backup object.  0 or -1. */
static int
fetch_one(cJSON *backup, const char *id, const cJSON *asset, cJSON **used)
{
	const char *vid;
	cJSON *e, *ve, *vused;
	int rv = 0;

	*used = NULL;
	if (!valid_uuid(id)) {
		rec_error(currec, curin, id, "not an asset id");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(backup, id))
		return 0;	/* listed twice, or a video already fetched */
	if ((e = fetch_asset(id, asset, NULL, used)) == NULL)
		return -1;
	cJSON_AddItemToObject(backup, id, e);
	vid = rec_str(*used, "livePhotoVideoId");
	if (vid == NULL)
		return 0;
	cJSON_AddStringToObject(e, "video", vid);
	if (!valid_uuid(vid)) {
		rec_error(currec, curin, id, "livePhotoVideoId is not an asset "
		    "id");
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(backup, vid))
		return 0;	/* shared by two stills */
	if ((ve = fetch_asset(vid, NULL, id, &vused)) == NULL)
		rv = -1;
	else
		cJSON_AddItemToObject(backup, vid, ve);
	cJSON_Delete(vused);
	return rv;
}

/* The record's errors so far, to tell whether this stage added one. */
static int
nerrors(const cJSON *rec)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec,
	    "errors"));
}

static int
do_record(cJSON *rec, const struct ndjson_in *in)
{
	const cJSON *trash, *t;
	cJSON *backup, *used;
	int bad = 0, n0 = nerrors(rec);

	currec = rec;
	curin = in;
	prog.records++;
	trash = cJSON_GetObjectItemCaseSensitive(rec, "trash");
	if (!cJSON_IsArray(trash)) {
		rec_error(rec, in, NULL, "no trash list in the record");
		return -1;
	}
	/* No ETA: records stream in, so the total is never known. */
	backup = cJSON_CreateObject();
	cJSON_ArrayForEach(t, trash) {
		if (!cJSON_IsString(t)) {
			rec_error(rec, in, NULL, "trash: not an asset id");
			bad = 1;
			continue;
		}
		if (fetch_one(backup, t->valuestring,
		    rec_asset(rec, t->valuestring), &used) == -1)
			bad = 1;
		cJSON_Delete(used);
	}
	rec_set(rec, "backup", backup);
	/* An earlier verification was of an earlier backup. */
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "verified");
	return bad || nerrors(rec) > n0 ? -1 : 0;
}

static void
do_id(const char *id)
{
	cJSON *rec, *backup, *used = NULL, *assets;
	int rv;

	rec = cJSON_CreateObject();
	currec = rec;
	curin = NULL;
	prog.records++;
	cJSON_AddStringToObject(rec, "id", id);
	backup = cJSON_CreateObject();
	rv = fetch_one(backup, id, NULL, &used);
	if (used) {
		assets = cJSON_AddArrayToObject(rec, "assets");
		cJSON_AddItemToArray(assets, used);
	}
	cJSON_AddItemToObject(rec, "backup", backup);
	record_done(rec, NULL, rv == -1);
}

static void
open_dir(const char *dir)
{
	char *p;
	int fd;

	if (fs_mkdirs(dir) == -1)
		err(EX_FATAL, "%s", dir);
	if ((p = realpath(dir, NULL)) == NULL)
		err(EX_FATAL, "%s", dir);
	dirpath = p;
	dirfd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1)
		err(EX_FATAL, "%s", dirpath);
	owned_by_us(dirfd, "");
	/* And DIR/.tmp, if there, before anything is done. */
	if ((fd = openat(dirfd, ".tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		owned_by_us(fd, "/.tmp");
		close(fd);
	}
}

static void
set_apibase(void)
{
	const char *u = env_get()->api, *p;

	if ((p = strstr(u, "://")) != NULL && (p = strchr(p + 3, '/')))
		apibase = p;
}

int
main(int argc, char *argv[])
{
	struct ndjson_in in;
	const char *dir = NULL;
	char extra[128];
	cJSON *rec;
	int ch, i, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "d:qr:V")) != -1) {
		switch (ch) {
		case 'V':
			print_version();
		case 'd':
			dir = optarg;
			break;
		case 'q':
			qflag = 1;
			break;
		case 'r':
			if ((reserve = fs_parse_size(optarg)) < 0) {
				warnx("-r %s: not a size (e.g. 64M)", optarg);
				usage();
			}
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (dir == NULL || *dir == '\0') {
		warnx("-d dir is required");
		usage();
	}
	for (i = 0; i < argc; i++)
		if (!valid_uuid(argv[i])) {
			warnx("%s: not an asset id", argv[i]);
			usage();
		}
	umask(077);
	set_apibase();
	http_init();
	open_dir(dir);
	progress_init(qflag);

	commit_start();
	if (argc > 0) {
		for (i = 0; i < argc; i++)
			do_id(argv[i]);
	} else {
		ndjson_open(&in, stdin, "stdin");
		while ((r = ndjson_next(&in, &rec)) != 0) {
			if (r == -1) {
				prog.records++;
				prog.failed++;
				anyfailed = 1;
				continue;
			}
			record_done(rec, &in, do_record(rec, &in) == -1);
		}
		ndjson_close(&in);
	}
	commit_end();
	if (tmpfd != -1)
		close(tmpfd);
	ndjson_finish();
	snprintf(extra, sizeof(extra), "%ld downloaded, %ld already there, "
	    "%ld resumed", ndown, nskip, nresume);
	progress_end(http_requests(), extra);
	return anyfailed ? EX_SOME : EX_DONE;
}

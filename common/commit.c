/* SPDX-License-Identifier: ISC */
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
#include <unistd.h>

#include "common/commit.h"
#include "common/durable.h"
#include "common/fsutil.h"
#include "common/ndjson.h"
#include "common/util.h"

#define QMAX		8	/* assets downloaded, not yet committed */
#define PENDMAX		64	/* records waiting for their commits */

static char *dirpath;		/* absolute */
static int dirfd = -1, tmpfd = -1;

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

void
commit_fatal(const char *name, int e)
{
	if (e == ENOSPC || e == EDQUOT)
		errx(EX_FATAL, "%s/%s: disk full: free space or lower -r",
		    dirpath, name);
	errno = e;
	err(EX_FATAL, "%s/%s: write error", dirpath, name);
}

/*
 * Commits.  A downloaded original (or none, when the file in DIR was
 * already right) and its sidecar, both written to DIR/.tmp, are handed
 * to the committer thread.  It takes every job queued so far as one
 * batch: starts writeback of all the files (sync_file_range, which does
 * not wait), renames them into place (the original first: a sidecar
 * means its file is complete), and writes the records out, in input
 * order, each once the renames of all its files are done.  No file is
 * flushed one by one: durability is settled once, by a barrier
 * (durable.h), at the end of the run (commit_end: syncfs of DIR's file
 * system) and by immich-trash before it deletes anything whose backup
 * it relies on, as git's core.fsyncMethod=batch does.  So a record that
 * goes out names files that are complete but perhaps not yet on disk.
 *
 * Why that is safe to resume: a kill -9 between a rename and the
 * barrier loses nothing (the bytes are in the page cache; the next
 * barrier, this run's or the next one's, writes them).  A power loss
 * there may leave DIR/ID-NAME renamed but short, empty or holding other
 * bytes, and DIR/ID.json likewise, so no file is trusted for its name:
 * the next run hashes the file a sidecar names and skips it only when
 * size and SHA-1 are the sidecar's and the server's (sidecar_intact),
 * a .part resumed with Range is kept only when the whole file has the
 * server's checksum (download's verdict), immich-verify hashes what is
 * on disk, and immich-trash trusts a verification's stamp only in the
 * boot it was made in (fs_stamp holds the boot id; a power loss is a
 * reboot) and otherwise hashes the file again before its own barrier.
 * At most QMAX jobs are in flight and PENDMAX records wait.
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
	struct pend *phead, **ptailp;	/* records waiting */
	int	 npend;
	int	 quit;
	int	 ferr;		/* errno of a fatal error: the committer stopped */
	char	 fname[320];	/* the file it was about, in DIR */
	long	 failed;	/* records it wrote out as failed */
} cm = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER, .ptailp = &cm.phead };
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
	/* Start writing them out, waiting for none: the barrier at the end
	 * then has little left to do. */
	for (j = batch; j; j = j->next) {
		if (j->fd != -1)
			sync_file_range(j->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		sync_file_range(j->scfd, 0, 0, SYNC_FILE_RANGE_WRITE);
	}
#endif
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
	return 0;
}

/* Write out a record whose commits are done (committer thread). */
static void
emit(struct pend *p)
{
	struct job *j, *next;
	cJSON *backup;
	int was = p->failed;

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
	if (p->failed && !was) {
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
				cm.ptailp = &cm.phead;
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

void
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
	commit_fatal(name, e);
}

/* With cm.mu held: wait until *n is below max; stop if the committer
 * failed. */
static void
wait_room(const int *n, int max)
{
	while (*n >= max && cm.ferr == 0)
		pthread_cond_wait(&cm.done, &cm.mu);
	commit_check_locked();
}

static void
submit(struct job *j)
{
	pthread_mutex_lock(&cm.mu);
	wait_room(&cm.inflight, QMAX);
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

void
commit_file(const char *id, int fd, const char *name, const char *sidecar,
    size_t len)
{
	struct job *j = xcalloc(1, sizeof(*j));

	snprintf(j->sctmp, sizeof(j->sctmp), "%s.json.part", id);
	j->scfd = fs_create_file(commit_tmpfd(), j->sctmp, sidecar, len);
	if (j->scfd == -1 && errno == ENOENT)
		j->scfd = fs_create_file(commit_tmpfd_again(), j->sctmp,
		    sidecar, len);
	if (j->scfd == -1)
		commit_fatal(j->sctmp, errno);
	j->fd = fd;
	j->tfd = tmpfd;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->part, sizeof(j->part), "%s.part", id);
	snprintf(j->scname, sizeof(j->scname), "%s.json", id);
	j->name = xstrdup(name);
	submit(j);
}

void
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

void
commit_record(cJSON *rec, const struct ndjson_in *in, int failed)
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
	wait_room(&cm.npend, PENDMAX);
	*cm.ptailp = p;
	cm.ptailp = &p->next;
	cm.npend++;
	pthread_cond_signal(&cm.work);
	pthread_mutex_unlock(&cm.mu);
}

long
commit_end(void)
{
	if (!cmstarted)
		return 0;
	pthread_mutex_lock(&cm.mu);
	cm.quit = 1;
	pthread_cond_signal(&cm.work);
	pthread_mutex_unlock(&cm.mu);
	pthread_join(cmth, NULL);
	cmstarted = 0;
	pthread_mutex_lock(&cm.mu);
	commit_check_locked();
	pthread_mutex_unlock(&cm.mu);
	if (tmpfd != -1)
		close(tmpfd);
	tmpfd = -1;
	/* The barrier: every file of this run, and the renames, on disk.
	 * dirfd was opened before any was written, so syncfs reports their
	 * write-back errors. */
	if (durable_fs(dirfd, "fetch") == -1)
		err(EX_FATAL, "%s: syncfs: the backups of this run may not be "
		    "on disk", dirpath);
	return cm.failed;
}

int
commit_tmpfd(void)
{
	open_tmpdir();
	return tmpfd;
}

int
commit_tmpfd_again(void)
{
	commit_wait(lastseq);
	if (tmpfd != -1)
		close(tmpfd);
	tmpfd = -1;
	open_tmpdir();
	return tmpfd;
}

void
commit_open(const char *dir)
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

const char *
commit_path(void)
{
	return dirpath;
}

int
commit_dirfd(void)
{
	return dirfd;
}

/* SPDX-License-Identifier: ISC */
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/durable.h"
#include "common/fsutil.h"
#include "common/ndjson.h"
#include "common/precond.h"
#include "common/util.h"

struct durable {
	char	**path;		/* files */
	size_t	 n, cap;
};

/* The test hook (durable.h): one line, appended, after a barrier. */
static void
mark(const char *who, size_t files)
{
	const char *log = getenv("IMMICH_TEST_BARRIER_LOG");
	char line[128];
	int fd, len;

	if (log == NULL || *log == '\0')
		return;
	len = snprintf(line, sizeof(line), "{\"barrier\":\"%s\",\"files\":%zu}\n",
	    who, files);
	if ((fd = open(log, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1)
		return;
	if (write(fd, line, (size_t)len) != len)
		warn("IMMICH_TEST_BARRIER_LOG");
	close(fd);
}

int
durable_fs(int fd, const char *who)
{
	if (syncfs(fd) == -1)
		return -1;
	mark(who, 0);
	return 0;
}

struct durable *
durable_new(void)
{
	return xcalloc(1, sizeof(struct durable));
}

static void
add(struct durable *d, const char *path)
{
	if (path == NULL || *path != '/')
		return;	/* precond checked the paths it relies on */
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->path = xrealloc(d->path, d->cap * sizeof(*d->path));
	}
	d->path[d->n++] = xstrdup(path);
}

static void
add_entry(struct durable *d, const cJSON *b)
{
	add(d, rec_str(b, "path"));
	add(d, rec_str(b, "sidecar"));
}

void
durable_add_backup(struct durable *d, const cJSON *rec, const char *id)
{
	const cJSON *backup = rec_get(rec, "backup"), *b;
	const char *vid;

	if ((b = rec_get(backup, id)) == NULL)
		return;
	add_entry(d, b);
	/* The video the preconditions verified (precond.h), not another. */
	if ((vid = pc_video(rec, id)) != NULL && (b = rec_get(backup, vid)))
		add_entry(d, b);
}

/* The folder of path (caller frees). */
static char *
folder(const char *path)
{
	const char *s = strrchr(path, '/');

	return s == path ? xstrdup("/") :
	    xasprintf("%.*s", (int)(s - path), path);
}

static void
fail(const char *path, const char *what)
{
	errx(EX_FATAL, "%s: %s: %s: the backup may not be on disk; "
	    "nothing deleted in this batch", path, what, strerror(errno));
}

void
durable_sync(struct durable *d, const char *who)
{
	char **dirs = xcalloc(d->n + 1, sizeof(*dirs));
	dev_t *devs = xcalloc(d->n + 1, sizeof(*devs));
	size_t i, j, nd = 0, ndev = 0;
	struct stat st;
	char *dir;
	int fd;

	/* The folders, each once (most often one). */
	for (i = 0; i < d->n; i++) {
		dir = folder(d->path[i]);
		for (j = 0; j < nd && strcmp(dirs[j], dir) != 0; j++)
			;
		if (j < nd)
			free(dir);
		else
			dirs[nd++] = dir;
	}
	/* Write back everything dirty on each file system at once ... */
	for (i = 0; i < nd; i++) {
		if ((fd = open(dirs[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1)
			fail(dirs[i], "open");
		for (j = 0; j < ndev && devs[j] != st.st_dev; j++)
			;
		if (j == ndev) {
			devs[ndev++] = st.st_dev;
			if (syncfs(fd) == -1)
				fail(dirs[i], "syncfs");
		}
		close(fd);
	}
	/* ... then flush each file and folder: each now costs little, and
	 * reports its own write-back error. */
	for (i = 0; i < d->n; i++) {
		if ((fd = open(d->path[i], O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC)) == -1)
			fail(d->path[i], "open");
		if (fsync(fd) == -1)
			fail(d->path[i], "fsync");
		close(fd);
	}
	for (i = 0; i < nd; i++) {
		if ((fd = open(dirs[i], O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			fail(dirs[i], "open");
		if (fs_syncdir(fd) == -1)
			fail(dirs[i], "fsync");
		close(fd);
		free(dirs[i]);
	}
	mark(who, d->n);
	for (i = 0; i < d->n; i++)
		free(d->path[i]);
	free(d->path);
	free(dirs);
	free(devs);
	free(d);
}

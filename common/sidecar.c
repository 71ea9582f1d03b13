/* SPDX-License-Identifier: ISC */
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/ndjson.h"
#include "common/sidecar.h"
#include "common/util.h"

char *
sidecar_text(const char *file, const cJSON *asset, cJSON *albums,
    long long bytes, const char *sha, const char *checksum, int external,
    const char *livePhotoOf, size_t *len)
{
	const cJSON *t;
	cJSON *sc, *tl;
	char at[32], *s;
	struct tm tm;
	time_t now = time(NULL);

	sc = cJSON_CreateObject();
	cJSON_AddItemToObject(sc, "asset", cJSON_Duplicate(asset, 1));
	if (albums)
		cJSON_AddItemToObject(sc, "albums", albums);
	tl = cJSON_AddArrayToObject(sc, "tags");
	cJSON_ArrayForEach(t, rec_get(asset, "tags")) {
		const char *v = rec_str(t, "value");
		if (v == NULL)
			v = rec_str(t, "name");
		if (v)
			cJSON_AddItemToArray(tl, cJSON_CreateString(v));
	}
	cJSON_AddStringToObject(sc, "file", file);
	cJSON_AddNumberToObject(sc, "bytes", bytes);
	cJSON_AddStringToObject(sc, "sha1", sha);
	cJSON_AddStringToObject(sc, "checksum", checksum);
	if (external)
		cJSON_AddTrueToObject(sc, "external");
	if (livePhotoOf)
		cJSON_AddStringToObject(sc, "livePhotoOf", livePhotoOf);
	gmtime_r(&now, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(sc, "fetchedAt", at);
	if ((s = cJSON_Print(sc)) == NULL)
		errx(EX_FATAL, "out of memory");
	cJSON_Delete(sc);
	*len = strlen(s);
	s[(*len)++] = '\n';	/* in place of the NUL */
	return s;
}

cJSON *
sidecar_entry(const char *dirpath, const char *file, const char *id,
    long long bytes, const char *sha, const char *checksum, int external,
    const char *livePhotoOf)
{
	cJSON *e = cJSON_CreateObject();
	char *p;

	p = xasprintf("%s/%s", dirpath, file);
	cJSON_AddStringToObject(e, "path", p);
	free(p);
	cJSON_AddNumberToObject(e, "bytes", bytes);
	cJSON_AddStringToObject(e, "sha1", sha);
	cJSON_AddStringToObject(e, "checksum", checksum);
	p = xasprintf("%s/%s.json", dirpath, id);
	cJSON_AddStringToObject(e, "sidecar", p);
	free(p);
	if (external)
		cJSON_AddTrueToObject(e, "external");
	if (livePhotoOf)
		cJSON_AddStringToObject(e, "livePhotoOf", livePhotoOf);
	return e;
}

int
sidecar_read(int dirfd, const char *id, cJSON **sc)
{
	char *name = xasprintf("%s.json", id), *s;
	size_t len;

	*sc = NULL;
	s = fs_slurp(dirfd, name, SIDECAR_MAX, &len);
	free(name);
	if (s == NULL)
		return -1;
	*sc = cJSON_ParseWithLength(s, len);
	free(s);
	return 0;
}

int
sidecar_names(int dirfd, const char *id, const char *file)
{
	const char *f;
	cJSON *sc;
	int rv;

	if (sidecar_read(dirfd, id, &sc) == -1)
		return 0;
	rv = (f = rec_str(sc, "file")) != NULL && strcmp(f, file) == 0;
	cJSON_Delete(sc);
	return rv;
}

int
sidecar_hash_file(int dirfd, const char *dirpath, const char *name,
    long long want, char sha[SHA1_B64LEN], long long *bytes)
{
	char *path = xasprintf("%s/%s", dirpath, name), why[512];
	struct stat st;
	int fd, rv = 0;

	if ((fd = sha1_openat(dirfd, name, path, &st, why,
	    sizeof(why))) == -1) {
		rv = errno == ENOENT ? -1 : 0;
		goto out;
	}
	if (want >= 0 && st.st_size != want)
		goto out;
	if (sha1_whole(fd, path, sha, bytes, NULL, why, sizeof(why)) == -1)
		warnx("%s", why);
	else
		rv = 1;
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rv;
}

cJSON *
sidecar_intact(int dirfd, const char *dirpath, const char *id,
    const char *want, const char *livePhotoOf, cJSON **asset)
{
	char sha[SHA1_B64LEN], *prefix;
	const char *file, *ssha, *sum;
	long long bytes, got = 0;
	cJSON *sc, *e = NULL;
	int external;

	*asset = NULL;
	if (sidecar_read(dirfd, id, &sc) == -1)
		return NULL;
	file = rec_str(sc, "file");
	ssha = rec_str(sc, "sha1");
	sum = rec_str(sc, "checksum");
	bytes = rec_num(sc, "bytes");
	external = cJSON_IsTrue(rec_get(sc, "external"));
	prefix = xasprintf("%s-", id);
	if (file == NULL || ssha == NULL || sum == NULL || bytes < 0 ||
	    strncmp(file, prefix, strlen(prefix)) != 0 ||
	    strchr(file, '/') != NULL || !cJSON_IsObject(rec_get(sc, "asset")))
		goto out;
	if (want && strcmp(want, sum) != 0)
		goto out;	/* the server has other bytes now */
	if (external || strcmp(ssha, sum) != 0)
		goto out;
	if (sidecar_hash_file(dirfd, dirpath, file, bytes, sha, &got) != 1 ||
	    strcmp(sha, ssha) != 0)
		goto out;
	e = sidecar_entry(dirpath, file, id, bytes, sha, sum, external,
	    livePhotoOf);
	*asset = cJSON_DetachItemFromObjectCaseSensitive(sc, "asset");
out:
	free(prefix);
	cJSON_Delete(sc);
	return e;
}

/* The folder of scpath, open, if it is ours and no one else can write
 * to it; -1 with *msg set if not. */
static int
own_folder(const char *dir, char **msg)
{
	struct stat st;
	int dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(dfd, &st) == -1) {
		*msg = xasprintf("%s: %s: not uploaded", dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		*msg = xasprintf("%s: not a backup folder of yours (owned by "
		    "uid %u, mode %03o): not uploaded", dir,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
		close(dfd);
		return -1;
	}
	return dfd;
}

cJSON *
sidecar_checked(const cJSON *b, const char *id, const char *want, char **msg)
{
	const char *scpath = rec_str(b, "sidecar"), *path = rec_str(b, "path");
	const char *file, *aid, *ssha;
	char *dir = NULL, *base, *name = NULL, sha[SHA1_B64LEN], why[512];
	cJSON *side = NULL;
	struct stat st;
	long long bytes;
	int dfd = -1, fd = -1, ok = 0;

	if (scpath == NULL || (base = strrchr(scpath, '/')) == NULL) {
		*msg = xasprintf("the backup has no sidecar path in the record: "
		    "not uploaded");
		return NULL;
	}
	dir = base == scpath ? xstrdup("/") :
	    xasprintf("%.*s", (int)(base - scpath), scpath);
	name = xasprintf("%s.json", id);
	if (strcmp(base + 1, name) != 0) {
		*msg = xasprintf("%s: not the sidecar of %s: not uploaded",
		    scpath, id);
		goto out;
	}
	if ((dfd = own_folder(dir, msg)) == -1)
		goto out;
	if (sidecar_read(dfd, id, &side) == -1) {
		*msg = xasprintf("%s: %s: not uploaded", scpath,
		    strerror(errno));
		goto out;
	}
	file = rec_str(side, "file");
	aid = rec_str(rec_get(side, "asset"), "id");
	ssha = rec_str(side, "sha1");
	if (!cJSON_IsObject(side) || file == NULL || ssha == NULL ||
	    strchr(file, '/') != NULL || strcmp(file, ".") == 0 ||
	    strcmp(file, "..") == 0 || (aid && strcmp(aid, id) != 0)) {
		*msg = xasprintf("%s: not a sidecar of immich-fetch for %s: not "
		    "uploaded", scpath, id);
		goto out;
	}
	free(name);
	name = xasprintf("%s/%s", dir, file);
	if (path == NULL || strcmp(path, name) != 0) {
		*msg = xasprintf("the record's backup path %s is not the file "
		    "its sidecar names (%s): not uploaded", path ? path :
		    "(none)", name);
		goto out;
	}
	if ((fd = sha1_openat(dfd, file, path, &st, why, sizeof(why))) == -1 ||
	    sha1_whole(fd, path, sha, &bytes, NULL, why, sizeof(why)) == -1) {
		*msg = xasprintf("%s: not uploaded", why);
		goto out;
	}
	if (strcmp(sha, ssha) != 0 || strcmp(sha, want) != 0) {
		*msg = xasprintf("%s: SHA-1 %s is not the backup's %s: not "
		    "uploaded", path, sha, strcmp(sha, ssha) != 0 ? ssha : want);
		goto out;
	}
	ok = 1;
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	free(dir);
	free(name);
	if (!ok) {
		cJSON_Delete(side);
		return NULL;
	}
	return side;
}

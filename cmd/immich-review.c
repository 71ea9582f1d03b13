/* SPDX-License-Identifier: ISC */
/*
 * immich-review: a page to look at before acting.  Reads plan records
 * (or a later stage's) and writes DIR/index.html, one card per group:
 * the photos side by side, the keeper and each loser's fate, their
 * metadata with differences marked, the review reasons, and what
 * consolidation will move onto the keeper.  Every record goes on to
 * stdout unchanged, so it can sit in a pipeline.
 *
 * The page works offline: each asset's thumbnail is fetched once
 * (GET /assets/{id}/thumbnail) into DIR/thumbs/ID.jpg, written to a
 * temporary name and renamed, and one already there is not fetched
 * again.  Cards are written as records arrive, to index.html.tmp, which
 * is renamed at the end: one record is in memory at a time.  The page
 * itself is in common/page.c.  The page holds private data (places,
 * descriptions): DIR and DIR/thumbs are made 0700 and must be the
 * user's own, and every file is created 0600, O_EXCL and O_NOFOLLOW,
 * so that a link planted in the folder is never written through.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/api.h"
#include "common/env.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/page.h"
#include "common/progress.h"
#include "common/stage.h"
#include "common/util.h"

static int aflag, nflag;
static int tfd = -1;		/* DIR/thumbs */
static int gone;		/* the server stopped answering */
static long nfetched, nmissing, nfailed;
static cJSON *albums;		/* this record's: {id: AlbumResponseDto[]} */

static void
usage(void)
{
	fprintf(stderr, "usage: immich-review [-anqV] -o dir\n");
	exit(EX_USAGE);
}

/*
 * A new private file (0600) for writing: O_EXCL and O_NOFOLLOW, so that a
 * file or symbolic link planted at the name is never written through; a
 * stale one (an interrupted run's) is removed first.
 */
static int
create_tmp(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
}

struct tsink {
	int	 fd;
	int	 err;		/* errno of a failed write */
};

static int
t_start(void *arg, long long off, long long total)
{
	struct tsink *t = arg;

	(void)off;
	(void)total;
	if (ftruncate(t->fd, 0) == -1 || lseek(t->fd, 0, SEEK_SET) == -1) {
		t->err = errno;
		return -1;
	}
	return 0;
}

static int
t_data(void *arg, const char *buf, size_t len)
{
	struct tsink *t = arg;
	ssize_t w;

	while (len > 0) {
		if ((w = write(t->fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			t->err = errno;
			return -1;
		}
		buf += w;
		len -= w;
		prog.bytes += w;
	}
	return 0;
}

static int
has_thumb(void *arg, const char *id)
{
	char name[64];

	(void)arg;
	if (!valid_uuid(id))
		return 0;
	snprintf(name, sizeof(name), "%s.jpg", id);
	return faccessat(tfd, name, F_OK, 0) == 0;
}

/* No reply after every retry: say so once; the page is finished without
 * the thumbnails still to come. */
static void
unreachable(const char *msg)
{
	warnx("%s; no more requests (the page is written without them)",
	    msg);
	gone = 1;
}

static void
fetch_thumb(const char *id)
{
	struct tsink t = { -1, 0 };
	struct http_sink sink = { t_start, t_data, &t };
	struct http_resp r;
	char name[64], tmp[72], *path, *msg;
	struct stat st;
	int rc;

	if (nflag || gone || !valid_uuid(id) || has_thumb(NULL, id))
		return;
	snprintf(name, sizeof(name), "%s.jpg", id);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if ((t.fd = create_tmp(tfd, tmp)) == -1)
		err(EX_FATAL, "thumbs/%s", tmp);
	path = xasprintf("/assets/%s/thumbnail", id);
	rc = http_stream(path, 0, 0, &sink, &r);
	if (t.err) {
		errno = t.err;
		err(EX_FATAL, "thumbs/%s", tmp);
	}
	if (fstat(t.fd, &st) == -1 || close(t.fd) == -1)
		err(EX_FATAL, "thumbs/%s", tmp);
	if (rc == -1 && r.status == 0) {
		msg = xasprintf("GET %s%s: no reply: %s", api_prefix(), path,
		    r.msg);
		unreachable(msg);
		free(msg);
		nfailed++;
	} else if (r.status == 404 || (rc == 0 && r.status / 100 == 2 &&
	    st.st_size == 0))
		nmissing++;	/* the page shows a placeholder */
	else if (rc == -1 || r.status / 100 != 2) {
		warnx("GET %s%s: HTTP %ld: %s", api_prefix(), path, r.status,
		    r.msg);
		nfailed++;
	} else {
		if (renameat(tfd, tmp, tfd, name) == -1)
			err(EX_FATAL, "thumbs/%s", name);
		nfetched++;
		free(path);
		http_free(&r);
		return;
	}
	unlinkat(tfd, tmp, 0);
	free(path);
	http_free(&r);
}

/* -a: the asset's albums, kept for this record only. */
static void
fetch_albums(const char *id)
{
	struct api_err e;
	cJSON *j;

	if (gone || !valid_uuid(id) || rec_get(albums, id))
		return;
	if ((j = api_albums_of(id, &e)) != NULL)
		cJSON_AddItemToObject(albums, id, j);
	else if (e.status == 0)
		unreachable(e.msg);
	else {
		warnx("%s", e.msg);
		nfailed++;
	}
	api_err_free(&e);
}

static const cJSON *
get_albums(void *arg, const char *id)
{
	(void)arg;
	return cJSON_GetObjectItemCaseSensitive(albums, id);
}

static void
fetch(const cJSON *rec)
{
	const cJSON *a, *assets = cJSON_GetObjectItemCaseSensitive(rec,
	    "assets");

	if (!cJSON_IsArray(assets))
		return;
	cJSON_ArrayForEach(a, assets) {
		prog.assets++;
		fetch_thumb(rec_str(a, "id"));
		if (aflag)
			fetch_albums(rec_str(a, "id"));
		progress_tick();
	}
}

/* Where the cards go. */
struct page_out {
	FILE	*fp;
	struct page_ctx *ctx;
	struct page_stats *st;
};

/* One record: its thumbnails (and albums), its card, passed on. */
static int
do_record(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	struct page_out *pg = arg;

	(void)in;
	albums = cJSON_CreateObject();
	fetch(rec);
	page_card(pg->fp, rec, pg->ctx, pg->st);
	ndjson_emit(rec);
	cJSON_Delete(rec);
	cJSON_Delete(albums);
	albums = NULL;
	return 0;
}

/*
 * The folder name (at dfd, or a path when dfd is AT_FDCWD), made 0700 if
 * it is missing, opened: it must be a directory of the user's own, as
 * another user could plant links in it or read the page.
 */
static int
open_dir(int dfd, const char *name, const char *shown, int flags)
{
	struct stat st;
	int fd;

	if ((fd = fs_owndir(dfd, name, flags, &st)) == -1)
		err(EX_USAGE, "%s", shown);
	if (fd == FS_NOTOURS)
		errx(EX_USAGE, "%s: owned by uid %u, not by you (uid %u): "
		    "not writing into it; choose another -o folder, or "
		    "remove it", shown, (unsigned)st.st_uid,
		    (unsigned)geteuid());
	return fd;
}

static FILE *
open_page(const char *dir, int *dfdp)
{
	char *t;
	FILE *fp;
	int fd;

	*dfdp = open_dir(AT_FDCWD, dir, dir, FS_FOLLOW);
	t = xasprintf("%s/thumbs", dir);
	tfd = open_dir(*dfdp, "thumbs", t, 0);
	free(t);
	if ((fd = create_tmp(*dfdp, "index.html.tmp")) == -1 ||
	    (fp = fdopen(fd, "w")) == NULL)
		err(EX_FATAL, "%s/index.html.tmp", dir);
	return fp;
}

static void
close_page(FILE *fp, const char *dir, int dfd)
{
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1 ||
	    fclose(fp) == EOF) {
		warn("%s/index.html.tmp", dir);
		unlinkat(dfd, "index.html.tmp", 0);
		exit(EX_FATAL);
	}
	if (renameat(dfd, "index.html.tmp", dfd, "index.html") == -1)
		err(EX_FATAL, "%s/index.html", dir);
}

int
main(int argc, char *argv[])
{
	struct page_ctx ctx = { has_thumb, NULL, NULL };
	struct page_stats st = { 0, 0, 0, 0 };
	struct page_out pg;
	const char *dir = NULL;
	FILE *fp;
	int ch, dfd;

	while ((ch = stage_getopt(argc, argv, "anqo:V")) != -1) {
		switch (ch) {
		case 'a':
			aflag = 1;
			break;
		case 'n':
			nflag = 1;
			break;
		case 'o':
			dir = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || dir == NULL || (aflag && nflag))
		usage();
	if (!nflag) {
		env_get();
		http_init();
	}
	if (aflag)
		ctx.albums = get_albums;
	fp = open_page(dir, &dfd);
	progress_init(stage_quiet);
	page_head(fp);
	pg.fp = fp;
	pg.ctx = &ctx;
	pg.st = &st;
	ndjson_loop(stdin, "stdin", do_record, &pg);
	page_foot(fp, &st);
	close_page(fp, dir, dfd);
	stage_end(http_requests(), "%ld thumbnails fetched, %ld missing, "
	    "%ld not fetched; %ld groups, %ld held for review: %s/index.html",
	    nfetched, nmissing, nfailed, st.groups, st.held, dir);
	if (gone)
		return EX_FATAL;
	return prog.failed || nfailed ? EX_SOME : EX_DONE;
}

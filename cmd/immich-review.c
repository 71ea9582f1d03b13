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
 * again; thumbnails are fetched side by side (http_multi).  Cards are
 * written in input order as each record's thumbnails are done, to
 * index.html.tmp, which is renamed at the end: at most WINDOW records
 * are in memory at a time.  The page
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
#include "common/idset.h"
#include "common/ndjson.h"
#include "common/page.h"
#include "common/progress.h"
#include "common/stage.h"
#include "common/util.h"

static int aflag;
static int tfd = -1;		/* DIR/thumbs */
static int gone;		/* the server stopped answering */
static long nfetched, nmissing, nfailed;
static cJSON *albums;		/* this record's: {id: AlbumResponseDto[]} */

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

/*
 * Thumbnails are fetched side by side (http_multi: at most
 * THUMBS_PARALLEL at once, within the shared in-flight cap; with
 * IMMICH_INFLIGHT=1 one at a time).  A record waits in a window until
 * its thumbnails are done, then its card is written and it goes on, in
 * input order; the window holds at most WINDOW records and the gets
 * under way at most WINDOW_GETS, so memory stays bounded.
 */
#define THUMBS_PARALLEL	8
#define WINDOW		64
#define WINDOW_GETS	64

struct rwait {			/* a record waiting for its thumbnails */
	struct rwait *next;
	cJSON	*rec;
	cJSON	*albums;	/* -a: {id: [albums]} */
	int	 left;		/* thumbnails under way */
};

struct tget {			/* one thumbnail under way */
	struct rwait *w;
	struct tsink t;
	char	 name[64], tmp[72];
	char	*path;
};

static struct http_multi *hm;
static struct idset *asked;	/* thumbnails asked for in this run */
static struct rwait *whead, **wtailp = &whead;
static int nwait;

static void
thumb_done(void *arg, int rc, struct http_resp *r)
{
	struct tget *g = arg;
	struct stat st;
	char *msg;

	g->w->left--;
	if (g->t.err) {
		errno = g->t.err;
		err(EX_FATAL, "thumbs/%s", g->tmp);
	}
	if (fstat(g->t.fd, &st) == -1 || close(g->t.fd) == -1)
		err(EX_FATAL, "thumbs/%s", g->tmp);
	if (rc == -2)
		;	/* not sent: the server stopped answering */
	else if (rc == -1 && r->status == 0) {
		if (!gone) {
			msg = xasprintf("GET %s%s: no reply: %s", api_prefix(),
			    g->path, r->msg);
			unreachable(msg);
			free(msg);
			http_multi_cancel(hm);
		}
		nfailed++;
	} else if (r->status == 404 || (rc == 0 && r->status / 100 == 2 &&
	    st.st_size == 0))
		nmissing++;	/* the page shows a placeholder */
	else if (rc == -1 || r->status / 100 != 2) {
		warnx("GET %s%s: HTTP %ld: %s", api_prefix(), g->path,
		    r->status, r->msg);
		nfailed++;
	} else {
		if (renameat(tfd, g->tmp, tfd, g->name) == -1)
			err(EX_FATAL, "thumbs/%s", g->name);
		nfetched++;
		goto out;
	}
	unlinkat(tfd, g->tmp, 0);
out:
	free(g->path);
	free(g);
	http_free(r);
}

/* Queue the thumbnail of asset id for record w, unless it is there or
 * already asked for. */
static void
fetch_thumb(struct rwait *w, const char *id)
{
	struct http_sink sink = { t_start, t_data, NULL };
	struct tget *g;

	if (stage_nflag || gone || !valid_uuid(id) || idset_has(asked, id) ||
	    has_thumb(NULL, id))
		return;
	idset_put(asked, id, NULL);
	g = xcalloc(1, sizeof(*g));
	g->w = w;
	snprintf(g->name, sizeof(g->name), "%s.jpg", id);
	snprintf(g->tmp, sizeof(g->tmp), ".%s.tmp", g->name);
	if ((g->t.fd = create_tmp(tfd, g->tmp)) == -1)
		err(EX_FATAL, "thumbs/%s", g->tmp);
	g->path = xasprintf("/assets/%s/thumbnail", id);
	sink.arg = &g->t;
	w->left++;
	http_multi_add(hm, g->path, &sink, thumb_done, g);
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

/* Where the cards go. */
struct page_out {
	FILE	*fp;
	struct page_ctx *ctx;
	struct page_stats *st;
};

static struct page_out *page;

/* Write the cards of the records at the head of the window whose
 * thumbnails are done, and pass them on. */
static void
write_ready(void)
{
	struct rwait *w;

	while ((w = whead) != NULL && w->left == 0) {
		if ((whead = w->next) == NULL)
			wtailp = &whead;
		nwait--;
		albums = w->albums;
		page_card(page->fp, w->rec, page->ctx, page->st);
		ndjson_emit(w->rec);
		cJSON_Delete(w->rec);
		cJSON_Delete(w->albums);
		albums = NULL;
		free(w);
	}
}

/* One record: its albums (-a), its thumbnails queued; its card once they
 * are done. */
static int
do_record(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	const cJSON *a, *assets = cJSON_GetObjectItemCaseSensitive(rec,
	    "assets");
	struct rwait *w = xcalloc(1, sizeof(*w));

	(void)in;
	(void)arg;
	w->rec = rec;
	w->albums = cJSON_CreateObject();
	*wtailp = w;
	wtailp = &w->next;
	nwait++;
	if (aflag && cJSON_IsArray(assets)) {
		/* Plain requests: none may be under way beside them. */
		if (hm)
			http_multi_run(hm, 0);
		albums = w->albums;
		cJSON_ArrayForEach(a, assets)
			fetch_albums(rec_str(a, "id"));
		albums = NULL;
	}
	if (cJSON_IsArray(assets))
		cJSON_ArrayForEach(a, assets) {
			prog.assets++;
			if (hm)
				fetch_thumb(w, rec_str(a, "id"));
			progress_tick();
		}
	write_ready();
	while (hm && whead && (nwait > WINDOW ||
	    http_multi_pending(hm) > WINDOW_GETS)) {
		http_multi_run(hm, http_multi_pending(hm) - 1);
		write_ready();
	}
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

	while ((ch = stage_getopt(argc, argv, "anqo:V",
	    "[-anqV] -o dir")) != -1) {
		switch (ch) {
		case 'a':
			aflag = 1;
			break;
		case 'o':
			dir = optarg;
			break;
		}
	}
	if (optind != argc || dir == NULL || (aflag && stage_nflag))
		stage_usage();
	if (!stage_nflag) {
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
	page = &pg;
	if (!stage_nflag) {
		hm = http_multi_new(THUMBS_PARALLEL);
		asked = idset_new();
	}
	ndjson_loop(stdin, "stdin", do_record, NULL);
	if (hm)
		http_multi_run(hm, 0);
	write_ready();
	http_multi_free(hm);
	idset_free(asked);
	page_foot(fp, &st);
	close_page(fp, dir, dfd);
	stage_end(http_requests(), "%ld thumbnails fetched, %ld missing, "
	    "%ld not fetched; %ld groups, %ld held for review: %s/index.html",
	    nfetched, nmissing, nfailed, st.groups, st.held, dir);
	if (gone)
		return EX_FATAL;
	return prog.failed || nfailed ? EX_SOME : EX_DONE;
}

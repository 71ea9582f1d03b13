/* SPDX-License-Identifier: ISC */
/*
 * immich-fetch: download the originals of the assets a record is about
 * to trash (and their live-photo videos) into a backup folder.  Each
 * file is streamed to DIR/.tmp/ID.part (O_EXCL, O_NOFOLLOW, 0600) while
 * its SHA-1 is computed and checked against the server's checksum; a
 * metadata sidecar is written next to it in DIR/.tmp.  A second thread
 * (the committer) starts their write-back and renames them to
 * DIR/ID-NAME and DIR/ID.json, while this one downloads the next assets;
 * a record goes out, in input order, with its "backup" key only once
 * everything it names is renamed.  Nothing is flushed file by file: one
 * barrier (syncfs) at the end makes the run's files durable, and
 * immich-trash runs its own before it deletes (common/durable.h).  A
 * file already there and intact costs no request; a partial one is
 * resumed with Range.
 * DIR/.tmp is shared by every process writing to DIR and never removed.
 */

#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/api.h"
#include "common/asset.h"
#include "common/commit.h"
#include "common/download.h"
#include "common/env.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/stage.h"
#include "common/sha1.h"
#include "common/sidecar.h"
#include "common/util.h"

#define MAX_UNREACHABLE	3	/* assets in a row with no reply: stop */

static const char *dirpath;	/* the backup folder (commit.h) */
static int dirfd = -1;
static long long reserve = 64LL << 20;
static long ndown, nskip, nresume;
static int anyfailed;

/* The asset being worked on, for messages. */
static cJSON *currec;
static const struct ndjson_in *curin;

/*
 * A request for asset id failed: say so in the record; stop when the
 * server has not replied to MAX_UNREACHABLE in a row.
 */
static void
failed_call(const char *id, char *msg)
{
	rec_error(currec, curin, id, "%s", msg);
	free(msg);
	if (api_unreachable() >= MAX_UNREACHABLE)
		errx(EX_FATAL, "%s: server unreachable; stopping",
		    env_get()->api);
}

/* GET /assets/ID: a fresh AssetResponseDto, or NULL. */
static cJSON *
get_asset(const char *id)
{
	struct api_err e;
	cJSON *a;

	if (api_asset(id, &a, &e) != 1) {
		failed_call(id, e.msg);
		return NULL;
	}
	if (asset_checksum(a) == NULL) {
		rec_error(currec, curin, id, "GET %s/assets/%s: reply has no "
		    "checksum", api_prefix(), id);
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/* [{id, albumName}] of the albums holding the asset, or NULL.
 * immich-consolidate read them already: consolidated.albums.ID. */
static cJSON *
get_albums(const char *id)
{
	const cJSON *al;
	struct api_err e;
	cJSON *out;

	al = rec_get(rec_get(rec_get(currec, "consolidated"), "albums"), id);
	if (cJSON_IsArray(al))
		return api_album_list(al);
	if ((out = api_albums_of(id, &e)) == NULL)
		failed_call(id, e.msg);
	return out;
}

/* One asset being backed up. */
struct fa {
	const char *id;
	const cJSON *asset;	/* the metadata used */
	cJSON	*fresh;		/* a copy from the server, or NULL */
	const char *checksum;	/* the server's, of asset */
	long long size;		/* of asset; -1 if it does not say */
	int	 external;	/* asset is in an external library */
	char	*name;		/* ID-NAME in DIR */
	char	 sha[SHA1_B64LEN];	/* of the file (downloaded or there) */
	long long bytes;
	int	 fd;		/* the download, or -1 */
	char	 prevsha[SHA1_B64LEN];	/* an external file there, or "" */
};

static void
set_asset(struct fa *f, const cJSON *asset)
{
	f->asset = asset;
	f->checksum = asset_checksum(asset);
	f->size = asset_size(asset);
	f->external = asset_external(asset);
}

/* Do the bytes match what the server says the asset is? */
static int
intact(const struct fa *f)
{
	if (f->size >= 0 && f->bytes != f->size)
		return 0;
	return f->external || strcmp(f->sha, f->checksum) == 0;
}

/*
 * What to do with a download: 1 keep it, 0 download again, -1 throw it
 * away (the error recorded).  firstsha and *restarted are the download
 * loop's.
 */
static int
verdict(struct fa *f, char firstsha[SHA1_B64LEN], int resumed,
    int *restarted)
{
	if (!intact(f) && f->fresh == NULL) {
		/* The record's copy may be stale: ask the server. */
		if ((f->fresh = get_asset(f->id)) == NULL)
			return -1;
		if (strcmp(asset_checksum(f->fresh), f->checksum) != 0) {
			warnx("asset %s: the checksum changed on the server "
			    "since the record was made", f->id);
			set_asset(f, f->fresh);
		}
	}
	if (intact(f)) {
		if (!f->external || f->prevsha[0] == '\0' ||
		    strcmp(f->sha, f->checksum) == 0 ||
		    strcmp(f->sha, f->prevsha) == 0)
			return 1;
		/*
		 * An external asset whose new download differs from the
		 * file already there, and neither can be checked against
		 * the server: a third download decides.
		 */
		if (firstsha[0] == '\0') {
			warnx("%s/%s: external-library asset: the new download "
			    "(SHA-1 %s) differs from the file there (SHA-1 %s) "
			    "and neither can be checked; downloading it again "
			    "to decide", dirpath, f->name, f->sha, f->prevsha);
			snprintf(firstsha, SHA1_B64LEN, "%s", f->sha);
			*restarted = 1;
			return 0;
		}
		if (strcmp(f->sha, firstsha) == 0) {
			warnx("%s/%s: external-library asset: two new downloads "
			    "agree; replacing the file", dirpath, f->name);
			return 1;
		}
		rec_error(currec, curin, f->id, "external-library asset: the "
		    "file there and two new downloads all differ (SHA-1 %s, "
		    "%s, %s); removed the downloads", f->prevsha, firstsha,
		    f->sha);
		return -1;
	}
	if (resumed && !*restarted) {
		/* The partial file was not a prefix of the original. */
		warnx("asset %s: the resumed download does not match the "
		    "server's checksum; downloading it again from the start",
		    f->id);
		*restarted = 1;
		return 0;
	}
	if (f->size >= 0 && f->bytes != f->size)
		rec_error(currec, curin, f->id, "downloaded %lld bytes, the "
		    "server says %lld; removed the download", f->bytes,
		    f->size);
	else
		rec_error(currec, curin, f->id, "the downloaded bytes do not "
		    "match the server's checksum (SHA-1 %s, checksum %s); "
		    "removed the download", f->sha, f->checksum);
	return -1;
}

/* Download the asset into DIR/.tmp/ID.part until it is one to keep:
 * 0 with f->fd, or -1 (the error recorded). */
static int
download(struct fa *f)
{
	char firstsha[SHA1_B64LEN] = "", part[64], *msg;
	struct dl_result dl;
	int restarted = 0, rv;

	snprintf(part, sizeof(part), "%s.part", f->id);
	do {
		rv = dl_original(f->id, f->size, reserve, &dl, &msg);
		if (dl.resumed)
			nresume++;
		if (rv == -1) {
			failed_call(f->id, msg);
			return -1;
		}
		f->fd = dl.fd;
		f->bytes = dl.bytes;
		snprintf(f->sha, sizeof(f->sha), "%s", dl.sha);
		if ((rv = verdict(f, firstsha, dl.resumed, &restarted)) != 1) {
			/* Not a backup: throw it away. */
			close(f->fd);
			f->fd = -1;
			unlinkat(commit_tmpfd(), part, 0);
		}
	} while (rv == 0);
	return rv == 1 ? 0 : -1;
}

/*
 * The sidecar, then both files handed to the committer (the download
 * when downloaded, else only the sidecar of the file already there): the
 * backup entry, or NULL (the error recorded).
 */
static cJSON *
commit_backup(struct fa *f, const char *livePhotoOf, int downloaded,
    cJSON **used)
{
	cJSON *albums = NULL;
	char *sc;
	size_t len;
	int external;

	if (livePhotoOf == NULL && (albums = get_albums(f->id)) == NULL)
		return NULL;	/* a complete .part is kept: no new download */
	external = f->external && strcmp(f->sha, f->checksum) != 0;
	sc = sidecar_text(f->name, f->asset, albums, f->bytes, f->sha,
	    f->checksum, external, livePhotoOf, &len);
	/* Flushed and renamed into place by the committer; the record
	 * goes out when that is done. */
	commit_file(f->id, downloaded ? f->fd : -1, f->name, sc, len);
	free(sc);
	f->fd = -1;
	if (downloaded)
		ndown++;
	*used = f->fresh ? f->fresh : cJSON_Duplicate(f->asset, 1);
	f->fresh = NULL;
	return sidecar_entry(dirpath, f->name, f->id, f->bytes, f->sha,
	    f->checksum, external, livePhotoOf);
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
	struct fa f = { .id = id, .fd = -1 };
	const char *want;
	cJSON *e;
	char *safe;
	int have, downloaded = 0;

	*used = NULL;
	prog.assets++;
	commit_settle(id);
	want = asset ? asset_checksum(asset) : NULL;
	if ((e = sidecar_intact(dirfd, dirpath, id, want, livePhotoOf,
	    used)) != NULL) {
		nskip++;
		return e;
	}
	if (asset == NULL || want == NULL ||
	    rec_str(asset, "originalFileName") == NULL) {
		if ((f.fresh = get_asset(id)) == NULL)
			return NULL;
		asset = f.fresh;
	}
	set_asset(&f, asset);
	safe = fs_safename(rec_str(asset, "originalFileName"));
	f.name = xasprintf("%s-%s", id, safe);
	free(safe);

	/* Already there and intact? */
	have = sidecar_hash_file(dirfd, dirpath, f.name, f.size, f.sha,
	    &f.bytes);
	if (have == 1 && strcmp(f.sha, f.checksum) == 0)
		nskip++;
	else {
		if (have == 1 && f.external) {
			/* Its bytes cannot be checked: download them again
			 * and compare (verdict).  Quietly when an earlier
			 * run wrote it. */
			snprintf(f.prevsha, sizeof(f.prevsha), "%s", f.sha);
			if (!sidecar_names(dirfd, id, f.name))
				warnx("%s/%s: exists without a sidecar and "
				    "cannot be checked (external library); "
				    "downloading it again", dirpath, f.name);
		} else if (have != -1)
			warnx("%s/%s: exists but does not match the server's "
			    "checksum %s; downloading it again to replace it",
			    dirpath, f.name, f.checksum);
		if (download(&f) == -1)
			goto out;
		downloaded = 1;	/* the committer starts writing it out */
	}
	e = commit_backup(&f, livePhotoOf, downloaded, used);
out:
	if (f.fd != -1)
		close(f.fd);
	cJSON_Delete(f.fresh);
	free(f.name);
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
	vid = asset_video(*used);
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

/* The record goes out once its backups are committed. */
static int
fetch_record(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	int failed = do_record(rec, in) == -1;

	(void)arg;
	commit_record(rec, in, failed);
	return failed ? -1 : 0;
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
	commit_record(rec, NULL, rv == -1);
	if (rv == -1) {
		prog.failed++;
		anyfailed = 1;
	}
}

int
main(int argc, char *argv[])
{
	const char *dir = NULL;
	long n;
	int ch, i;

	while ((ch = stage_getopt(argc, argv, "d:qr:V",
	    "[-qV] -d dir [-r reserve] [id ...]")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'r':
			if ((reserve = fs_parse_size(optarg)) < 0) {
				warnx("-r %s: not a size (e.g. 64M)", optarg);
				stage_usage();
			}
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (dir == NULL || *dir == '\0') {
		warnx("-d dir is required");
		stage_usage();
	}
	stage_ids(argc, argv);
	umask(077);
	http_init();
	commit_open(dir);
	dirpath = commit_path();
	dirfd = commit_dirfd();
	progress_init(stage_quiet);

	commit_start();
	for (i = 0; i < argc; i++)
		do_id(argv[i]);
	if (argc == 0 && ndjson_loop(stdin, "stdin", fetch_record, NULL) !=
	    EX_DONE)
		anyfailed = 1;
	if ((n = commit_end()) > 0) {
		prog.failed += n;
		anyfailed = 1;
	}
	stage_end(http_requests(), "%ld downloaded, %ld already there, "
	    "%ld resumed", ndown, nskip, nresume);
	return anyfailed ? EX_SOME : EX_DONE;
}

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
#include "common/asset.h"
#include "common/commit.h"
#include "common/download.h"
#include "common/env.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/sha1.h"
#include "common/sidecar.h"
#include "common/util.h"

#define MAX_UNREACHABLE	3	/* assets in a row with no reply: stop */

static int qflag;
static const char *dirpath;	/* the backup folder (commit.h) */
static int dirfd = -1;
static long long reserve = 64LL << 20;
static long ndown, nskip, nresume;
static int anyfailed;

/* The asset being worked on, for messages. */
static cJSON *currec;
static const struct ndjson_in *curin;

static void
usage(void)
{
	fprintf(stderr, "usage: immich-fetch [-qV] -d dir [-r reserve] "
	    "[id ...]\n");
	exit(EX_USAGE);
}

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

/* Do the bytes match what the server says the asset is? */
static int
intact(const char *sha, long long bytes, const char *checksum,
    long long size, int external)
{
	if (size >= 0 && bytes != size)
		return 0;
	return external || strcmp(sha, checksum) == 0;
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
	fd = fs_create_file(commit_tmpfd(), tmp, s, len);
	if (fd == -1 && errno == ENOENT)
		fd = fs_create_file(commit_tmpfd_again(), tmp, s, len);
	if (fd == -1)
		commit_fatal(tmp, errno);
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
	char *name = NULL, *msg;
	const char *want, *checksum;
	cJSON *fresh = NULL, *albums = NULL, *e = NULL;
	struct dl_result dl;
	long long size, bytes = 0;
	int fd = -1, external, have, resumed = 0, restarted = 0;
	int downloaded = 0, scfd, rv;

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
		if ((fresh = get_asset(id)) == NULL)
			return NULL;
		asset = fresh;
	}
	checksum = asset_checksum(asset);
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
	rv = dl_original(id, size, reserve, &dl, &msg);
	if ((resumed = dl.resumed))
		nresume++;
	if (rv == -1) {
		failed_call(id, msg);
		goto fail;
	}
	fd = dl.fd;
	bytes = dl.bytes;
	snprintf(sha, sizeof(sha), "%s", dl.sha);
	if (!intact(sha, bytes, checksum, size, external) && fresh == NULL) {
		/* The record's copy may be stale: ask the server. */
		if ((fresh = get_asset(id)) == NULL)
			goto discard;
		if (strcmp(asset_checksum(fresh), checksum) != 0) {
			warnx("asset %s: the checksum changed on the server "
			    "since the record was made", id);
			asset = fresh;
			checksum = asset_checksum(fresh);
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
			unlinkat(commit_tmpfd(), part, 0);
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
		unlinkat(commit_tmpfd(), part, 0);
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
	unlinkat(commit_tmpfd(), part, 0);
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
	commit_file(id, downloaded ? fd : -1, name, scfd);
	fd = -1;
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
	char extra[128];
	long n;
	int ch, i;

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
	http_init();
	commit_open(dir);
	dirpath = commit_path();
	dirfd = commit_dirfd();
	progress_init(qflag);

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
	ndjson_finish();
	snprintf(extra, sizeof(extra), "%ld downloaded, %ld already there, "
	    "%ld resumed", ndown, nskip, nresume);
	progress_end(http_requests(), extra);
	return anyfailed ? EX_SOME : EX_DONE;
}

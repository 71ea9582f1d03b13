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

#include "common/api.h"
#include "common/asset.h"
#include "common/commit.h"
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

/*
 * A request for asset id failed: say so in the record; stop when the
 * server has not replied to MAX_UNREACHABLE in a row.
 */
static void
failed_call(const char *id, struct api_err *e)
{
	rec_error(currec, curin, id, "%s", e->msg);
	api_err_free(e);
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
		failed_call(id, &e);
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
		failed_call(id, &e);
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
	int fd, rv, tmpfd;

	*resumed = 0;
	tmpfd = commit_tmpfd();
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
		tmpfd = commit_tmpfd_again();
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
		commit_fatal(part, errno);
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
			commit_fatal(part, errno);
		sha1_reset(&d.h);
		d.size = 0;
		rv = http_stream(path, 0, 1, &sink, &r);
	}
	/* Everything received is in the file (a resume needs it). */
	if (sha1_pipe_drain(d.pipe) == -1 && !d.werr)
		d.werr = errno;
	sha1_pipe_free(d.pipe);
	if (rv == 0 || r.status == 0)
		api_seen(r.status);
	if (d.nospace || d.werr) {
		close(fd);
		unlinkat(tmpfd, part, 0);
		if (d.nospace)
			errx(EX_FATAL, "%s: need %lld bytes, %lld free: free "
			    "space or lower -r", dirpath, d.need, d.avail);
		commit_fatal(part, d.werr);
	}
	if (rv == -1 || r.status < 200 || r.status >= 300) {
		if (rv == -1)
			rec_error(currec, curin, id, "GET %s%s: %s%s%s",
			    api_prefix(), path, r.msg, d.why[0] ? ": " : "",
			    d.why);
		else
			rec_error(currec, curin, id, "GET %s%s: HTTP %ld: %s",
			    api_prefix(), path, r.status, r.msg);
		if (api_unreachable() >= MAX_UNREACHABLE)
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
	char *name = NULL;
	const char *want, *checksum;
	cJSON *fresh = NULL, *albums = NULL, *e = NULL;
	long long size, bytes = 0;
	int fd = -1, external, have, resumed = 0, restarted = 0;
	int downloaded = 0, scfd;

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
	if (download(id, size, part, &fd, sha, &bytes, &resumed) == -1)
		goto fail;
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

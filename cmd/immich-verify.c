/* SPDX-License-Identifier: ISC */
/*
 * immich-verify: re-read every backup file a record lists (immich-fetch's
 * "backup" key) from disk, compute its SHA-1 and compare it, base64,
 * with the asset's checksum, and its size with fileSizeInByte.  Adds a
 * "verified" key.  No network: it works offline.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/asset.h"
#include "common/fsutil.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/stage.h"
#include "common/sha1.h"
#include "common/util.h"

static int sflag;
static long nok, nbad;

static void
tick(size_t n)
{
	prog.bytes += n;
	progress_tick();
}

static cJSON *
result(int ok, const char *sha, long long bytes, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cJSON *
result(int ok, const char *sha, long long bytes, const char *fmt, ...)
{
	cJSON *v = cJSON_CreateObject();
	va_list ap;
	char *reason;

	cJSON_AddBoolToObject(v, "ok", ok);
	if (sha)
		cJSON_AddStringToObject(v, "sha1", sha);
	if (bytes >= 0)
		cJSON_AddNumberToObject(v, "bytes", bytes);
	if (fmt) {
		va_start(ap, fmt);
		reason = xvasprintf(fmt, ap);
		va_end(ap);
		cJSON_AddStringToObject(v, "reason", reason);
		free(reason);
	}
	return v;
}

/* Verify one backup entry; stamp is set to the file's stamp when one can
 * be trusted (fsutil.h), else to "". */
static cJSON *
check1(const cJSON *rec, const char *id, const cJSON *e, char *stamp)
{
	const cJSON *asset = rec_asset(rec, id);
	const char *path, *sidecar, *want, *esha;
	char sha[SHA1_B64LEN], why[1024];
	long long size = -1, bytes;
	struct stat st, st0;
	struct timespec seen;
	int external, fd, rv;

	stamp[0] = '\0';
	path = rec_str(e, "path");
	sidecar = rec_str(e, "sidecar");
	esha = rec_str(e, "sha1");
	if (asset && rec_str(e, "livePhotoOf") == NULL) {
		want = asset_checksum(asset);
		size = asset_size(asset);
		external = asset_external(asset);
	} else {
		want = rec_str(e, "checksum");
		external = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e,
		    "external"));
	}
	if (path == NULL || path[0] != '/')
		return result(0, NULL, -1, "backup entry has no path");
	if (want == NULL)
		return result(0, NULL, -1, "no checksum for the asset in the "
		    "record");
	if ((fd = sha1_open(path, &st0, why, sizeof(why))) == -1)
		return result(0, NULL, -1, "%s", why);
	clock_gettime(CLOCK_REALTIME, &seen);
	rv = sha1_whole(fd, path, sha, &bytes, tick, why, sizeof(why));
	if (rv == 0 && fs_stamp_trusted(fd, &st0, &seen, stamp) == -1)
		stamp[0] = '\0';
	close(fd);
	if (rv == -1)
		return result(0, NULL, -1, "%s", why);
	if (sidecar == NULL || stat(sidecar, &st) == -1 ||
	    !S_ISREG(st.st_mode))
		return result(0, sha, bytes, "sidecar missing: %s",
		    sidecar ? sidecar : "(none recorded)");
	if (size >= 0 && bytes != size)
		return result(0, sha, bytes, "%lld bytes on disk, the server "
		    "says %lld", bytes, size);
	if (strcmp(sha, want) == 0)
		return result(1, sha, bytes, NULL);
	if (external) {
		cJSON *v;

		if (!sflag)
			return result(0, sha, bytes, "external library asset: "
			    "checksum is a path hash");
		if (size < 0)
			return result(0, sha, bytes, "external library asset: "
			    "size unknown, cannot check");
		if (esha == NULL || strcmp(sha, esha) != 0)
			return result(0, sha, bytes, "external library asset: "
			    "SHA-1 differs from the one at download (%s)",
			    esha ? esha : "none");
		v = result(1, sha, bytes, NULL);
		cJSON_AddTrueToObject(v, "sizeOnly");
		return v;
	}
	if (rec_str(e, "checksum") && strcmp(rec_str(e, "checksum"), want))
		return result(0, sha, bytes, "SHA-1 does not match the "
		    "checksum %s: the server's checksum changed since the "
		    "record was made (now %s); plan again", want,
		    rec_str(e, "checksum"));
	return result(0, sha, bytes, "SHA-1 does not match the checksum %s",
	    want);
}

/*
 * Verify one backup entry.  A good one gets the file's stamp (fsutil.h)
 * as it was when hashed, when one can be trusted: immich-trash hashes
 * the file again unless it still has that stamp.
 */
static cJSON *
check(const cJSON *rec, const char *id, const cJSON *e)
{
	char stamp[FS_STAMPLEN];
	cJSON *v;

	prog.assets++;
	v = check1(rec, id, e, stamp);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "ok")) &&
	    stamp[0] != '\0')
		cJSON_AddStringToObject(v, "stamp", stamp);
	return v;
}

static int
is_ok(const cJSON *verified, const char *id)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(verified, id), "ok"));
}

/* Mark a verified entry failed with a reason. */
static void
fail(cJSON *verified, const char *id, const char *fmt, const char *arg)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(verified, id);
	char *reason = xasprintf(fmt, arg);

	cJSON_ReplaceItemInObjectCaseSensitive(v, "ok", cJSON_CreateFalse());
	rec_set(v, "reason", cJSON_CreateString(reason));
	free(reason);
}

static int
do_record(cJSON *rec, const struct ndjson_in *in)
{
	const cJSON *backup, *trash, *e, *t;
	const char *vid, *avid;
	cJSON *verified, *v;
	int bad = 0;

	backup = cJSON_GetObjectItemCaseSensitive(rec, "backup");
	trash = cJSON_GetObjectItemCaseSensitive(rec, "trash");
	if (backup == NULL && trash == NULL)
		return 0;
	if (backup && !cJSON_IsObject(backup)) {
		rec_error(rec, in, NULL, "backup: not an object");
		return -1;
	}
	verified = cJSON_CreateObject();
	cJSON_ArrayForEach(e, backup) {
		if (!cJSON_IsObject(e) || !valid_uuid(e->string)) {
			rec_error(rec, in, e->string, "backup: bad entry");
			bad = 1;
			continue;
		}
		cJSON_AddItemToObject(verified, e->string,
		    check(rec, e->string, e));
	}
	/* Losers with no backup at all. */
	cJSON_ArrayForEach(t, trash) {
		if (!cJSON_IsString(t) ||
		    cJSON_GetObjectItemCaseSensitive(verified, t->valuestring))
			continue;
		prog.assets++;
		cJSON_AddItemToObject(verified, t->valuestring,
		    result(0, NULL, -1, "not backed up"));
	}
	/* A live photo is backed up only with its video. */
	cJSON_ArrayForEach(e, backup) {
		if (!cJSON_IsObject(e) || rec_str(e, "livePhotoOf"))
			continue;
		vid = rec_str(e, "video");
		avid = rec_str(rec_asset(rec, e->string), "livePhotoVideoId");
		if (!is_ok(verified, e->string))
			continue;
		if (avid && (vid == NULL || strcmp(vid, avid) != 0)) {
			fail(verified, e->string, "live-photo video %s not "
			    "in the backup", avid);
			continue;
		}
		if (vid == NULL)
			continue;
		if (cJSON_GetObjectItemCaseSensitive(verified, vid) == NULL)
			fail(verified, e->string, "live-photo video %s not "
			    "backed up", vid);
		else if (!is_ok(verified, vid))
			fail(verified, e->string, "live-photo video %s did "
			    "not verify", vid);
	}
	cJSON_ArrayForEach(v, verified) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "ok")))
			nok++;
		else {
			nbad++;
			bad = 1;
			warnx("%s:%zu: asset %s: %s", in->name, in->lineno,
			    v->string, rec_str(v, "reason"));
		}
	}
	rec_set(rec, "verified", verified);
	return bad ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	int status;

	/* -s is the only option stage_getopt returns. */
	while (stage_getopt(argc, argv, "qsV", "[-qsV]") != -1)
		sflag = 1;
	if (optind != argc)
		stage_usage();
	status = stage_filter(do_record);
	stage_end(0, "%ld verified, %ld did not verify", nok, nbad);
	return status;
}

/* SPDX-License-Identifier: ISC */
/*
 * immich-restore: undo immich-trash.  Restores the assets a record says
 * were trashed (or the ids given as operands) from Immich's trash, and
 * checks that each is out of the trash.  An asset that is gone from the
 * server (purged, or deleted with force) is uploaded again from its
 * backup file, after checking the file's SHA-1, and its metadata
 * (description, rating, favorite, GPS, date and time zone, archive,
 * albums, tags) is put back from the backup's sidecar; its live-photo
 * video too.  When the upload says another live asset already has these
 * bytes, that asset is left as it is ("how": "exists").  Losers that
 * were in the trash before immich-trash ran (alreadyTrashed) are left
 * there unless -a.  Adds "restored" to each record.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/bulk.h"
#include "common/fsutil.h"
#include "common/http.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/sha1.h"
#include "common/util.h"

#define SIDECAR_MAX	(16 * 1024 * 1024)

static int aflag, qflag;
static int major = -1;		/* the server's major version, when read */
static struct ndjson_in in;
static struct ndjson_in *cur;	/* NULL for operands */
static long nrestored, nuploaded, nfailed;

static void
usage(void)
{
	fprintf(stderr, "usage: immich-restore [-aqV] [id ...]\n");
	exit(EX_USAGE);
}

static cJSON *
obj_get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void
result_fail(cJSON *rec, cJSON *restored, const char *id, const char *msg)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "detail", msg);
	rec_set(restored, id, e);
	rec_error(rec, cur, id, "%s", msg);
	nfailed++;
}

/*
 * A JSON request.  Returns the parsed 2xx reply (cJSON_CreateNull for an
 * empty body), or NULL with *msg set (caller frees); *status the status.
 */
static cJSON *
request(const char *method, const char *path, const cJSON *body,
    long *status, char **msg)
{
	struct http_resp r;
	char *b = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON *o = NULL;

	*msg = NULL;
	memset(&r, 0, sizeof(r));
	if (http_json(method, path, b, &r) != 0) {
		*status = 0;
		*msg = xasprintf("%s /api%s: no reply: %s", method, path,
		    r.msg);
	} else if ((*status = r.status) < 200 || r.status > 299)
		*msg = xasprintf("%s /api%s: HTTP %ld: %s", method, path,
		    r.status, r.msg);
	else if (r.len == 0)
		o = cJSON_CreateNull();
	else if ((o = cJSON_ParseWithLength(r.body, r.len)) == NULL)
		*msg = xasprintf("%s /api%s: unreadable reply", method, path);
	http_free(&r);
	free(b);
	return o;
}

/* GET /assets/ID: 1 found (*a set), 0 not on the server, -1 error. */
static int
get_asset(const char *id, cJSON **a, char **msg)
{
	char *path = xasprintf("/assets/%s", id);
	long st;

	*a = request("GET", path, NULL, &st, msg);
	free(path);
	if (*a && cJSON_IsObject(*a))
		return 1;
	cJSON_Delete(*a);
	*a = NULL;
	if (*msg == NULL)
		*msg = xasprintf("GET /api/assets/%s: not an asset", id);
	return st == 400 || st == 404 ? 0 : -1;
}

static int
server_major(void)
{
	cJSON *v;
	char *msg;
	long st;

	if (major >= 0)
		return major;
	v = request("GET", "/server/version", NULL, &st, &msg);
	if (v == NULL)
		errx(EX_FATAL, "%s", msg);
	major = cJSON_IsNumber(obj_get(v, "major")) ?
	    obj_get(v, "major")->valueint : 3;
	cJSON_Delete(v);
	return major;
}

/*
 * The backup of asset id as immich-fetch left it, or NULL with *msg set:
 * the record's sidecar is ID.json in a folder that is ours and writable
 * by no one else; the record's path is the file that sidecar names, in
 * the same folder; a regular file (not a link) whose SHA-1 is the one the
 * sidecar recorded, and want.  So a hand-edited record cannot make
 * restore upload any other local file.  Returns the parsed sidecar.
 */
static cJSON *
checked_backup(const cJSON *b, const char *id, const char *want, char **msg)
{
	const char *scpath = rec_str(b, "sidecar"), *path = rec_str(b, "path");
	const char *file, *aid, *ssha;
	char *dir = NULL, *base, *name = NULL, *s, sha[SHA1_B64LEN], why[512];
	cJSON *side = NULL;
	struct stat st;
	long long bytes;
	size_t len;
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
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(dfd, &st) == -1) {
		*msg = xasprintf("%s: %s: not uploaded", dir, strerror(errno));
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		*msg = xasprintf("%s: not a backup folder of yours (owned by "
		    "uid %u, mode %03o): not uploaded", dir,
		    (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if ((s = fs_slurp(dfd, base + 1, SIDECAR_MAX, &len)) == NULL) {
		*msg = xasprintf("%s: %s: not uploaded", scpath,
		    strerror(errno));
		goto out;
	}
	side = cJSON_ParseWithLength(s, len);
	free(s);
	file = rec_str(side, "file");
	aid = rec_str(obj_get(side, "asset"), "id");
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
	if ((fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		*msg = xasprintf("%s: %s: not uploaded", path, fd == -1 ||
		    errno ? strerror(errno) : "not a regular file");
		goto out;
	}
	if (sha1_whole(fd, path, sha, &bytes, NULL, why, sizeof(why)) == -1) {
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

static void
add_field(const char **f, int *n, char *s)
{
	f[(*n)++] = s;
	f[*n] = NULL;
}

/*
 * Upload the backup of asset id: POST /assets.  Returns the new id
 * (caller frees) or NULL with *msg set.  *dup is set when the server
 * already had these bytes.
 */
static char *
upload(const char *path, const cJSON *asset, const char *id, int *dup,
    char **msg)
{
	const char *fields[8], *name = rec_str(asset, "originalFileName");
	const char *cre = rec_str(asset, "fileCreatedAt");
	const char *mod = rec_str(asset, "fileModifiedAt");
	struct http_resp r;
	cJSON *o = NULL;
	char *newid = NULL, stamp[32];
	int n = 0, i;
	time_t now = time(NULL);
	struct tm tm;

	*dup = 0;
	fields[0] = NULL;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	if (cre == NULL)
		cre = mod ? mod : stamp;
	if (mod == NULL)
		mod = cre;
	if (name == NULL)
		name = id;
	add_field(fields, &n, xasprintf("fileCreatedAt=%s", cre));
	add_field(fields, &n, xasprintf("fileModifiedAt=%s", mod));
	add_field(fields, &n, xasprintf("filename=%s", name));
	if (server_major() == 2) {
		const char *da = rec_str(asset, "deviceAssetId");
		const char *di = rec_str(asset, "deviceId");
		add_field(fields, &n, da ? xasprintf("deviceAssetId=%s", da) :
		    xasprintf("deviceAssetId=immich-restore-%s", id));
		add_field(fields, &n, xasprintf("deviceId=%s",
		    di ? di : "immich-restore"));
	}
	memset(&r, 0, sizeof(r));
	if (http_upload("/assets", fields, "assetData", path, name, &r) != 0)
		*msg = xasprintf("POST /api/assets: no reply: %s", r.msg);
	else if (r.status != 200 && r.status != 201)
		*msg = xasprintf("POST /api/assets: HTTP %ld: %s", r.status,
		    r.msg);
	else if ((o = cJSON_ParseWithLength(r.body, r.len)) == NULL ||
	    !valid_uuid(rec_str(o, "id")))
		*msg = xasprintf("POST /api/assets: no asset id in the reply");
	else {
		newid = xstrdup(rec_str(o, "id"));
		*dup = rec_str(o, "status") &&
		    strcmp(rec_str(o, "status"), "duplicate") == 0;
	}
	cJSON_Delete(o);
	http_free(&r);
	for (i = 0; i < n; i++)
		free((char *)fields[i]);
	return newid;
}

/*
 * Add the new asset to an album or a tag (what: "albums" or "tags");
 * 0, or -1 with *msg.  "duplicate" in the reply means it is there.
 */
static int
link_add(const char *what, const char *id, const char *asset, char **msg)
{
	cJSON *b = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(b,
	    "ids"), *o, *e;
	char *path = xasprintf("/%s/%s/assets", what, id);
	const char *why;
	long st;
	int rv = -1;

	cJSON_AddItemToArray(ids, cJSON_CreateString(asset));
	o = request("PUT", path, b, &st, msg);
	if (o) {
		e = cJSON_GetArrayItem(o, 0);
		why = rec_str(e, "error");
		if (cJSON_IsTrue(obj_get(e, "success")) ||
		    (why && strcmp(why, "duplicate") == 0))
			rv = 0;
		else
			*msg = xasprintf("PUT /api%s: %s", path,
			    why ? why : "not added");
	}
	cJSON_Delete(o);
	cJSON_Delete(b);
	free(path);
	return rv;
}

static const cJSON *
exif(const cJSON *a)
{
	const cJSON *e = obj_get(a, "exifInfo");

	return cJSON_IsObject(e) ? e : NULL;
}

/*
 * The capture time of a backed-up asset as Immich wants it back: the
 * instant (exifInfo.dateTimeOriginal) written in its own time zone, so
 * the zone is restored too.  NULL when it has none.
 */
static char *
render_date(const cJSON *a)
{
	const char *d = rec_str(exif(a), "dateTimeOriginal");
	const char *tz = rec_str(exif(a), "timeZone");
	long long ms, local;
	long off;
	time_t t;
	struct tm tm;

	if (d == NULL || merge_parse_instant(d, &ms) < 0)
		return NULL;
	if (tz == NULL || merge_zone_offset(tz, ms, &off) < 0)
		return xstrdup(d);
	local = ms + off * 1000LL;
	t = (time_t)(local >= 0 ? local / 1000 : -((-local + 999) / 1000));
	gmtime_r(&t, &tm);
	return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03lld%c%02ld:%02ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, local - (long long)t * 1000,
	    off < 0 ? '-' : '+', labs(off) / 3600, labs(off) % 3600 / 60);
}

/*
 * The PUT /assets/{id} body that gives the new asset the old one's
 * favorite, visibility (archive), description, rating, GPS and capture
 * time, all as the sidecar has them: the sidecar is the truth, whatever
 * the server read from the file (edits made in Immich are not in the
 * file).
 */
static cJSON *
update_body(const cJSON *old, const char *video)
{
	const cJSON *e = exif(old), *lat, *lon, *r;
	const char *s;
	cJSON *b = cJSON_CreateObject();
	char *d;

	cJSON_AddBoolToObject(b, "isFavorite",
	    cJSON_IsTrue(obj_get(old, "isFavorite")));
	if ((s = rec_str(old, "visibility")) && strcmp(s, "archive") == 0)
		cJSON_AddStringToObject(b, "visibility", s);
	if ((s = rec_str(e, "description")) && *s)
		cJSON_AddStringToObject(b, "description", s);
	r = obj_get(e, "rating");
	/* Only what Immich takes: a whole -1 (rejected) or 1 to 5. */
	if (cJSON_IsNumber(r) && r->valuedouble == floor(r->valuedouble) &&
	    r->valuedouble != 0 && r->valuedouble >= -1 &&
	    r->valuedouble <= 5)
		cJSON_AddNumberToObject(b, "rating", r->valuedouble);
	lat = obj_get(e, "latitude");
	lon = obj_get(e, "longitude");
	if (cJSON_IsNumber(lat) && cJSON_IsNumber(lon) &&
	    (lat->valuedouble != 0 || lon->valuedouble != 0)) {
		cJSON_AddNumberToObject(b, "latitude", lat->valuedouble);
		cJSON_AddNumberToObject(b, "longitude", lon->valuedouble);
	}
	if ((d = render_date(old)) != NULL) {
		cJSON_AddStringToObject(b, "dateTimeOriginal", d);
		free(d);
	}
	if (video)
		cJSON_AddStringToObject(b, "livePhotoVideoId", video);
	return b;
}

/* Which fields of the update body did not arrive on the re-read asset. */
static char *
missing_fields(const cJSON *body, const cJSON *a)
{
	const cJSON *f, *v;
	char *out = NULL, *t;
	long long m1, m2;
	int bad;

	cJSON_ArrayForEach(f, body) {
		const char *k = f->string;

		if (strcmp(k, "isFavorite") == 0 || strcmp(k, "visibility") == 0 ||
		    strcmp(k, "livePhotoVideoId") == 0)
			v = obj_get(a, k);
		else
			v = obj_get(exif(a), k);
		if (cJSON_IsNumber(f))
			bad = !cJSON_IsNumber(v) ||
			    fabs(v->valuedouble - f->valuedouble) > 1e-6;
		else if (cJSON_IsBool(f))
			bad = !cJSON_IsBool(v) ||
			    cJSON_IsTrue(v) != cJSON_IsTrue(f);
		else if (strcmp(k, "dateTimeOriginal") == 0)
			bad = merge_parse_instant(cJSON_GetStringValue(v),
			    &m1) < 0 || merge_parse_instant(f->valuestring,
			    &m2) < 0 || m1 != m2;
		else
			bad = !cJSON_IsString(v) ||
			    strcmp(v->valuestring, f->valuestring) != 0;
		if (!bad)
			continue;
		t = xasprintf("%s%s%s", out ? out : "", out ? ", " : "", k);
		free(out);
		out = t;
	}
	return out;
}

/*
 * Put the backed-up metadata back on the new asset: its fields, its
 * albums (the sidecar's) and tags (the asset's, by id).  Returns the
 * number of things that failed or did not arrive (each recorded as an
 * error), or -1 when the final re-read failed.  *fresh is replaced by
 * the re-read asset.
 */
static int
put_back(cJSON *rec, const char *id, const char *newid, const cJSON *old,
    const cJSON *albums, const char *video, cJSON **fresh)
{
	const cJSON *x;
	cJSON *body, *o, *a;
	char *path = xasprintf("/assets/%s", newid), *msg, *miss;
	long st;
	int bad = 0;

	body = update_body(old, video);
	if ((o = request("PUT", path, body, &st, &msg)) == NULL) {
		rec_error(rec, cur, id, "%s", msg);
		free(msg);
		bad++;
	}
	cJSON_Delete(o);
	cJSON_ArrayForEach(x, albums) {
		const char *aid = rec_str(x, "id");
		if (!valid_uuid(aid))
			continue;
		if (link_add("albums", aid, newid, &msg) < 0) {
			rec_error(rec, cur, id, "album %s: %s", aid, msg);
			free(msg);
			bad++;
		}
	}
	cJSON_ArrayForEach(x, obj_get(old, "tags")) {
		const char *tid = rec_str(x, "id");
		if (!valid_uuid(tid))
			continue;
		if (link_add("tags", tid, newid, &msg) < 0) {
			rec_error(rec, cur, id, "tag %s: %s", rec_str(x,
			    "value") ? rec_str(x, "value") : tid, msg);
			free(msg);
			bad++;
		}
	}
	/* Re-read: everything sent must be there. */
	if (get_asset(newid, &a, &msg) != 1) {
		rec_error(rec, cur, id, "%s", msg);
		free(msg);
		bad = -1;
	} else {
		cJSON_Delete(*fresh);
		*fresh = a;
		if ((miss = missing_fields(body, a)) != NULL) {
			rec_error(rec, cur, id, "did not arrive on the new "
			    "asset %s: %s", newid, miss);
			free(miss);
			bad++;
		}
		cJSON_ArrayForEach(x, obj_get(old, "tags")) {
			const char *tid = rec_str(x, "id"), *y;
			const cJSON *t;
			int found = 0;
			if (!valid_uuid(tid))
				continue;
			cJSON_ArrayForEach(t, obj_get(a, "tags"))
				if ((y = rec_str(t, "id")) && !strcmp(y, tid))
					found = 1;
			if (!found) {
				rec_error(rec, cur, id, "tag %s did not arrive "
				    "on the new asset %s", tid, newid);
				bad++;
			}
		}
	}
	cJSON_Delete(body);
	free(path);
	return bad;
}

/*
 * Bring back asset id from its backup: upload, check the checksum, put
 * the metadata back.  Returns the result object; *ok set when the asset
 * is back with the backup's bytes.
 */
static cJSON *
reupload(cJSON *rec, const char *id, int *ok, int depth)
{
	const cJSON *b = obj_get(obj_get(rec, "backup"), id), *asset;
	const cJSON *albums;
	cJSON *e = cJSON_CreateObject(), *side, *fresh = NULL;
	const char *path = rec_str(b, "path"), *want, *video, *vnew = NULL;
	char *msg = NULL, *newid = NULL, *vid = NULL;
	int dup, vok, bad;

	*ok = 0;
	want = rec_str(b, "sha1");
	if (want == NULL)
		want = rec_str(b, "checksum");
	if (path == NULL || want == NULL) {
		msg = xasprintf("not on the server, and no backup of it in "
		    "the record");
		goto fail;
	}
	if ((side = checked_backup(b, id, want, &msg)) == NULL)
		goto fail;
	asset = obj_get(side, "asset");
	if (!cJSON_IsObject(asset))
		asset = rec_asset(rec, id);
	albums = obj_get(side, "albums");
	if (asset == NULL) {
		msg = xasprintf("no metadata for it (no sidecar, not in the "
		    "record's assets)");
		cJSON_Delete(side);
		goto fail;
	}

	/* Its live-photo video first, so that the still can be linked. */
	video = rec_str(b, "video");
	if (video == NULL)
		video = rec_str(asset, "livePhotoVideoId");
	if (video && !valid_uuid(video)) {
		rec_error(rec, cur, id, "live-photo video id is not an asset "
		    "id: not restored");
		video = NULL;
	}
	if (video && depth == 0) {
		cJSON *va;
		int k = get_asset(video, &va, &msg);
		free(msg);
		msg = NULL;
		if (k == 1 && !cJSON_IsTrue(obj_get(va, "isTrashed")))
			vnew = video;
		else if (k == 0) {
			cJSON *ve = reupload(rec, video, &vok, depth + 1);
			if (vok)
				vnew = vid = xstrdup(rec_str(ve, "newId"));
			else
				rec_error(rec, cur, id, "live-photo video %s: "
				    "%s", video, rec_str(ve, "detail"));
			cJSON_Delete(ve);
		} else
			rec_error(rec, cur, id, "live-photo video %s is not "
			    "available", video);
		cJSON_Delete(va);
	}

	if ((newid = upload(path, asset, id, &dup, &msg)) == NULL) {
		cJSON_Delete(side);
		goto fail;
	}
	if (get_asset(newid, &fresh, &msg) != 1) {
		cJSON_Delete(side);
		goto fail;
	}
	if (dup && strcmp(newid, id) != 0 &&
	    !cJSON_IsTrue(obj_get(fresh, "isTrashed"))) {
		/* Another live asset has these bytes: it is someone's own,
		 * with its own metadata; leave it as it is. */
		cJSON_Delete(side);
		cJSON_Delete(fresh);
		*ok = 1;
		cJSON_AddTrueToObject(e, "ok");
		cJSON_AddStringToObject(e, "how", "exists");
		cJSON_AddStringToObject(e, "newId", newid);
		free(newid);
		free(vid);
		return e;
	}
	if (dup && cJSON_IsTrue(obj_get(fresh, "isTrashed"))) {
		/* These bytes are in the trash under another id. */
		struct bulk_res r = { 0, NULL };
		const char *ids[1] = { newid };
		bulk_ids("POST", "/trash/restore/assets", NULL, ids, 1, &r);
		free(r.msg);
		cJSON_Delete(fresh);
		fresh = NULL;
		if (get_asset(newid, &fresh, &msg) != 1) {
			cJSON_Delete(side);
			goto fail;
		}
	}
	if (rec_str(fresh, "checksum") == NULL ||
	    strcmp(rec_str(fresh, "checksum"), want) != 0) {
		msg = xasprintf("the uploaded asset %s has checksum %s, not "
		    "the backup's %s", newid, rec_str(fresh, "checksum") ?
		    rec_str(fresh, "checksum") : "(none)", want);
		cJSON_Delete(side);
		goto fail;
	}
	bad = put_back(rec, id, newid, asset, albums, vnew, &fresh);
	cJSON_Delete(side);
	if (bad < 0) {
		msg = xasprintf("could not re-read the new asset %s", newid);
		goto fail;
	}
	if (cJSON_IsTrue(obj_get(fresh, "isTrashed"))) {
		msg = xasprintf("the new asset %s is in the trash", newid);
		goto fail;
	}
	*ok = 1;
	cJSON_AddTrueToObject(e, "ok");
	cJSON_AddStringToObject(e, "how", "upload");
	cJSON_AddStringToObject(e, "newId", newid);
	if (dup)
		cJSON_AddTrueToObject(e, "duplicate");
	if (vid)
		cJSON_AddStringToObject(e, "newVideoId", vid);
	if (bad > 0)
		cJSON_AddNumberToObject(e, "metadataFailed", bad);
	cJSON_Delete(fresh);
	free(newid);
	free(vid);
	return e;
fail:
	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "detail", msg);
	if (newid)
		cJSON_AddStringToObject(e, "newId", newid);
	cJSON_Delete(fresh);
	free(newid);
	free(vid);
	free(msg);
	return e;
}

/* Restore ids (from one record) and record the outcome of each. */
static int
restore(cJSON *rec, const char **ids, size_t n)
{
	cJSON *restored = cJSON_CreateObject(), *a, *e;
	struct bulk_res *res;
	char *msg;
	size_t i;
	int failed = 0, k, ok;

	rec_set(rec, "restored", restored);
	if (n == 0)
		return 0;
	res = xcalloc(n, sizeof(*res));
	bulk_ids("POST", "/trash/restore/assets", NULL, ids, n, res);
	for (i = 0; i < n; i++) {
		prog.assets++;
		k = get_asset(ids[i], &a, &msg);
		if (k == 1 && !cJSON_IsTrue(obj_get(a, "isTrashed"))) {
			e = cJSON_CreateObject();
			cJSON_AddTrueToObject(e, "ok");
			cJSON_AddStringToObject(e, "how", "trash");
			rec_set(restored, ids[i], e);
			nrestored++;
		} else if (k == 1) {
			free(msg);
			msg = xasprintf("still in the trash after POST "
			    "/api/trash/restore/assets%s%s",
			    res[i].msg ? ": " : "", res[i].msg ? res[i].msg :
			    "");
			result_fail(rec, restored, ids[i], msg);
			failed = 1;
		} else if (k < 0) {
			result_fail(rec, restored, ids[i], msg);
			failed = 1;
		} else {
			int nerr = cJSON_GetArraySize(obj_get(rec, "errors"));

			e = reupload(rec, ids[i], &ok, 0);
			rec_set(restored, ids[i], e);
			/* Its live-photo video not restored: an error in
			 * the record, which counts as failed. */
			if (cJSON_GetArraySize(obj_get(rec, "errors")) > nerr)
				failed = 1;
			if (!ok) {
				rec_error(rec, cur, ids[i], "%s",
				    rec_str(e, "detail"));
				nfailed++;
				failed = 1;
			} else {
				nuploaded++;
				if (cJSON_IsNumber(obj_get(e,
				    "metadataFailed")))
					failed = 1;
			}
		}
		cJSON_Delete(a);
		free(msg);
		free(res[i].msg);
		progress_tick();
	}
	free(res);
	return failed;
}

/* The ids immich-trash says it trashed (or found in the trash). */
/*
 * The ids immich-trash trashed, from the record's "trashed".  A malformed
 * "trashed" or entry is an error of the record (*bad set), never skipped
 * in silence: an asset it names may be in the trash.
 */
static const char **
trashed_ids(cJSON *rec, size_t *n, int *bad)
{
	const cJSON *t = obj_get(rec, "trashed"), *e, *ok;
	const char **ids;

	*n = 0;
	*bad = 0;
	ids = xcalloc(cJSON_GetArraySize(t) + 1, sizeof(*ids));
	if (t == NULL)
		return ids;
	if (!cJSON_IsObject(t)) {
		rec_error(rec, cur, NULL, "\"trashed\" is not an object of "
		    "results by asset id");
		*bad = 1;
		return ids;
	}
	cJSON_ArrayForEach(e, t) {
		ok = obj_get(e, "ok");
		if (!valid_uuid(e->string) || !cJSON_IsObject(e) ||
		    !cJSON_IsBool(ok)) {
			rec_error(rec, cur, valid_uuid(e->string) ? e->string :
			    NULL, "\"trashed\" entry %s%.40s%s is not a "
			    "result with a true or false \"ok\"",
			    valid_uuid(e->string) ? "" : "\"",
			    valid_uuid(e->string) ? "" : e->string,
			    valid_uuid(e->string) ? "" : "\"");
			*bad = 1;
			continue;
		}
		if (cJSON_IsTrue(ok) && !cJSON_IsTrue(obj_get(e, "dryRun")) &&
		    (aflag || !cJSON_IsTrue(obj_get(e, "alreadyTrashed"))))
			ids[(*n)++] = e->string;
	}
	return ids;
}

int
main(int argc, char *argv[])
{
	cJSON *rec;
	const char **ids;
	char extra[96];
	size_t n;
	int ch, rv, i, bad, status = EX_DONE;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "aqV")) != -1) {
		switch (ch) {
		case 'V':
			print_version();
		case 'a':
			aflag = 1;
			break;
		case 'q':
			qflag = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < argc; i++)
		if (!valid_uuid(argv[i]))
			errx(EX_USAGE, "%s: not an asset id (a lower-case "
			    "UUID)", argv[i]);

	http_init();
	progress_init(qflag);
	if (argc > 0) {
		for (i = 0; i < argc; i++) {
			const char *id[1] = { argv[i] };
			rec = cJSON_CreateObject();
			cJSON_AddStringToObject(rec, "id", argv[i]);
			prog.records++;
			if (restore(rec, id, 1)) {
				status = EX_SOME;
				prog.failed++;
			}
			ndjson_emit(rec);
			cJSON_Delete(rec);
		}
	} else {
		cur = &in;
		ndjson_open(&in, stdin, "stdin");
		while ((rv = ndjson_next(&in, &rec)) != 0) {
			if (rv < 0) {
				status = EX_SOME;
				prog.failed++;
				continue;
			}
			prog.records++;
			ids = trashed_ids(rec, &n, &bad);
			if (restore(rec, ids, n) || bad) {
				status = EX_SOME;
				prog.failed++;
			}
			free(ids);
			ndjson_emit(rec);
			cJSON_Delete(rec);
			progress_tick();
		}
		ndjson_close(&in);
	}
	ndjson_finish();
	snprintf(extra, sizeof(extra), "%ld restored from the trash, %ld "
	    "uploaded again, %ld not restored", nrestored, nuploaded, nfailed);
	progress_end(http_requests(), extra);
	return status;
}

/* SPDX-License-Identifier: ISC */
/*
 * An asset brought back from its backup (immich-restore): upload the
 * file, check the checksum the server computed, put the sidecar's
 * metadata back (merge.c says how), its live-photo video first.
 *
 * A mark beside the sidecar, DIR/ID.restoring, says "uploading" before
 * the upload and "done NEWID" once all is back: a run killed after the
 * upload knows, when run again, that the live asset the server names as
 * having these bytes is its own upload, not someone's, and finishes it.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/api.h"
#include "common/asset.h"
#include "common/bulk.h"
#include "common/fsutil.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/reupload.h"
#include "common/sidecar.h"
#include "common/util.h"

static const struct ndjson_in *in;	/* the record's, for rec_error */

/* The message of e, now the caller's. */
static char *
take_msg(struct api_err *e)
{
	char *m = e->msg;

	e->msg = NULL;
	return m;
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
	struct api_err e;
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
	if (api_server_major() == 2) {
		const char *da = rec_str(asset, "deviceAssetId");
		const char *di = rec_str(asset, "deviceId");
		add_field(fields, &n, da ? xasprintf("deviceAssetId=%s", da) :
		    xasprintf("deviceAssetId=immich-restore-%s", id));
		add_field(fields, &n, xasprintf("deviceId=%s",
		    di ? di : "immich-restore"));
	}
	if (api_upload(fields, path, name, &o, &e) != 0)
		*msg = take_msg(&e);
	else if (!valid_uuid(rec_str(o, "id")))
		*msg = xasprintf("POST %s/assets: no asset id in the reply",
		    api_prefix());
	else {
		newid = xstrdup(rec_str(o, "id"));
		*dup = rec_str(o, "status") &&
		    strcmp(rec_str(o, "status"), "duplicate") == 0;
	}
	cJSON_Delete(o);
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
	    "ids"), *o = NULL, *e;
	char *path = xasprintf("/%s/%s/assets", what, id);
	struct api_err err;
	const char *why;
	int rv = -1;

	cJSON_AddItemToArray(ids, cJSON_CreateString(asset));
	if (api_call("PUT", path, b, &o, &err) != 0)
		*msg = take_msg(&err);
	else {
		e = cJSON_GetArrayItem(o, 0);
		why = rec_str(e, "error");
		if (cJSON_IsTrue(rec_get(e, "success")) ||
		    (why && strcmp(why, "duplicate") == 0))
			rv = 0;
		else
			*msg = xasprintf("PUT %s%s: %s", api_prefix(), path,
			    why ? why : "not added");
	}
	cJSON_Delete(o);
	cJSON_Delete(b);
	free(path);
	return rv;
}

/* Add the new asset to each album or tag (what: "albums" or "tags") of
 * list whose id is valid; returns how many failed (each an error). */
static int
link_all(cJSON *rec, const char *id, const char *newid, const char *what,
    const cJSON *list)
{
	const cJSON *x;
	const char *xid, *name;
	char *msg;
	int bad = 0;

	cJSON_ArrayForEach(x, list) {
		if (!valid_uuid(xid = rec_str(x, "id")))
			continue;
		if (link_add(what, xid, newid, &msg) < 0) {
			name = rec_str(x, "value");
			rec_error(rec, in, id, "%.*s %s: %s", (int)strlen(what) -
			    1, what, name ? name : xid, msg);
			free(msg);
			bad++;
		}
	}
	return bad;
}

/* Each valid tag id of old that is not on fresh, recorded as an error;
 * returns how many. */
static int
tags_missing(cJSON *rec, const char *id, const char *newid,
    const cJSON *old, const cJSON *fresh)
{
	const cJSON *x;
	const char *tid;
	int bad = 0;

	cJSON_ArrayForEach(x, rec_get(old, "tags")) {
		if (!valid_uuid(tid = rec_str(x, "id")) ||
		    rec_has_id(rec_get(fresh, "tags"), tid))
			continue;
		rec_error(rec, in, id, "tag %s did not arrive on the new "
		    "asset %s", tid, newid);
		bad++;
	}
	return bad;
}

/*
 * Put the backed-up metadata back on the new asset: its fields
 * (merge_restore_body), its albums (the sidecar's) and tags (the
 * asset's, by id).  Returns the number of things that failed or did not
 * arrive (each recorded as an error), or -1 when the final re-read
 * failed.  *fresh is replaced by the re-read asset.
 */
static int
put_back(cJSON *rec, const char *id, const char *newid, const cJSON *old,
    const cJSON *albums, const char *video, cJSON **fresh)
{
	cJSON *body, *a;
	char *path = xasprintf("/assets/%s", newid), *miss;
	struct api_err err;
	int bad = 0;

	body = merge_restore_body(old, video);
	if (api_call("PUT", path, body, NULL, &err) != 0) {
		rec_error(rec, in, id, "%s", err.msg);
		api_err_free(&err);
		bad++;
	}
	bad += link_all(rec, id, newid, "albums", albums);
	bad += link_all(rec, id, newid, "tags", rec_get(old, "tags"));
	/* Re-read: everything sent must be there. */
	if (api_asset(newid, &a, &err) != 1) {
		rec_error(rec, in, id, "%s", err.msg);
		api_err_free(&err);
		bad = -1;
	} else {
		cJSON_Delete(*fresh);
		*fresh = a;
		if ((miss = merge_missing(body, a)) != NULL) {
			rec_error(rec, in, id, "did not arrive on the new "
			    "asset %s: %s", newid, miss);
			free(miss);
			bad++;
		}
		bad += tags_missing(rec, id, newid, old, a);
	}
	cJSON_Delete(body);
	free(path);
	return bad;
}

/* The folder of backup entry b's sidecar (sidecar_checked has checked
 * it is ours), open; -1 if not. */
static int
mark_dir(const cJSON *b)
{
	char *sc = xstrdup(rec_str(b, "sidecar"));
	int dfd = open(dirname(sc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	free(sc);
	return dfd;
}

/* What DIR/ID.restoring says: 0 nothing, 1 "uploading" (after an
 * earlier upload: "uploading after NEWID"), 2 "done NEWID"; the earlier
 * upload's id in prev (37 bytes; "" when none). */
static int
mark_read(int dfd, const char *id, char *prev)
{
	char *name = xasprintf("%s.restoring", id), *t, *p;
	size_t len;
	int st = 0;

	prev[0] = '\0';
	if (dfd != -1 && (t = fs_slurp(dfd, name, 128, &len)) != NULL) {
		st = strncmp(t, "done ", 5) == 0 ? 2 : 1;
		p = st == 2 ? t + 5 : strncmp(t, "uploading after ", 16) == 0 ?
		    t + 16 : NULL;
		if (p && strlen(p) >= 36) {
			snprintf(prev, 37, "%.36s", p);
			if (!valid_uuid(prev))
				prev[0] = '\0';
		}
		if (st == 2 && prev[0] == '\0')
			st = 1;
		free(t);
	}
	free(name);
	return st;
}

/* Write DIR/ID.restoring (durably, atomically), or remove it when text
 * is NULL; a folder that cannot be written (a read-only copy of the
 * backup) goes without the mark. */
static void
mark_write(int dfd, const char *id, const char *text)
{
	char *name = xasprintf("%s.restoring", id);
	char *tmp = xasprintf("%s.restoring.tmp", id);

	if (dfd != -1 && text == NULL)
		(void)unlinkat(dfd, name, 0);
	else if (dfd != -1)
		(void)fs_write_atomic(dfd, name, dfd, tmp, text, strlen(text));
	free(name);
	free(tmp);
}

/*
 * The backup of asset id to upload (backup entry b): its SHA-1 (*want),
 * its checked sidecar (returned) and the asset's metadata (*asset, the
 * sidecar's, else the record's copy); NULL with *msg when there is none.
 */
static cJSON *
backup_of(const cJSON *rec, const cJSON *b, const char *id,
    const char **want, const cJSON **asset, char **msg)
{
	cJSON *side;

	if ((*want = rec_str(b, "sha1")) == NULL)
		*want = rec_str(b, "checksum");
	if (rec_str(b, "path") == NULL || *want == NULL) {
		*msg = xasprintf("not on the server, and no backup of it in "
		    "the record");
		return NULL;
	}
	if ((side = sidecar_checked(b, id, *want, msg)) == NULL)
		return NULL;
	*asset = rec_get(side, "asset");
	if (!cJSON_IsObject(*asset))
		*asset = rec_asset(rec, id);
	if (*asset == NULL) {
		*msg = xasprintf("no metadata for it (no sidecar, not in the "
		    "record's assets)");
		cJSON_Delete(side);
		return NULL;
	}
	return side;
}

/*
 * The server had the bytes of asset id already, under newid, a live
 * asset: 1 when that is the upload an earlier run made and finished
 * (prev), 2 when it is someone's own asset (to be left exactly as it
 * is, and never taken for ours when run again), 0 when it is our own
 * upload from a run killed before it was done (mark 1: to be finished).
 */
static int
known(int dfd, const char *id, const char *newid, int mark, const char *prev)
{
	char *t;

	if (strcmp(prev, newid) == 0 || (mark != 1 && *prev)) {
		mark_write(dfd, id, t = xasprintf("done %s\n", prev));
		free(t);
		return strcmp(prev, newid) == 0 ? 1 : 2;
	}
	if (mark == 1)
		return 0;
	mark_write(dfd, id, NULL);
	return 2;
}

static cJSON *reupload(cJSON *, const char *, int *, int);

/*
 * The live-photo video of asset id (backup b), before the still, so
 * that the still can be linked to it: the id to link (*vid, the caller
 * frees, when it was uploaded again), or NULL with an error recorded.
 */
static const char *
live_video(cJSON *rec, const cJSON *b, const cJSON *asset, const char *id,
    int depth, char **vid)
{
	const char *video = rec_str(b, "video"), *vnew = NULL;
	struct api_err err;
	cJSON *va, *ve;
	int k, vok;

	*vid = NULL;
	if (video == NULL)
		video = asset_video(asset);
	if (video && !valid_uuid(video)) {
		rec_error(rec, in, id, "live-photo video id is not an asset "
		    "id: not restored");
		return NULL;
	}
	if (video == NULL || depth > 0)
		return NULL;
	k = api_asset(video, &va, &err);
	api_err_free(&err);
	if (k == 1 && !cJSON_IsTrue(rec_get(va, "isTrashed")))
		vnew = video;
	else if (k == 0) {
		ve = reupload(rec, video, &vok, depth + 1);
		if (vok)
			vnew = *vid = xstrdup(rec_str(ve, "newId"));
		else
			rec_error(rec, in, id, "live-photo video %s: %s",
			    video, rec_str(ve, "detail"));
		cJSON_Delete(ve);
	} else
		rec_error(rec, in, id, "live-photo video %s is not "
		    "available", video);
	cJSON_Delete(va);
	return vnew;
}

/* reupload's result: how it is back ("upload", or "exists": the bytes
 * are another live asset's), and what it took. */
static cJSON *
result_ok(const char *how, const char *newid, int dup, const char *vid,
    int bad)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddTrueToObject(e, "ok");
	cJSON_AddStringToObject(e, "how", how);
	cJSON_AddStringToObject(e, "newId", newid);
	if (strcmp(how, "upload") != 0)
		return e;
	if (dup)
		cJSON_AddTrueToObject(e, "duplicate");
	if (vid)
		cJSON_AddStringToObject(e, "newVideoId", vid);
	if (bad > 0)
		cJSON_AddNumberToObject(e, "metadataFailed", bad);
	return e;
}

/* reupload's result when the asset is not back. */
static cJSON *
result_failed(const char *detail, const char *newid)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddFalseToObject(e, "ok");
	cJSON_AddStringToObject(e, "detail", detail);
	if (newid)
		cJSON_AddStringToObject(e, "newId", newid);
	return e;
}

/*
 * Bring back asset id from its backup: upload, check the checksum, put
 * the metadata back.  Returns the result object; *ok set when the asset
 * is back with the backup's bytes.
 */
static cJSON *
reupload(cJSON *rec, const char *id, int *ok, int depth)
{
	const cJSON *b = rec_get(rec_get(rec, "backup"), id), *asset;
	cJSON *e, *side = NULL, *fresh = NULL;
	const char *path = rec_str(b, "path"), *want, *vnew, *how = "upload";
	const char *sum;
	char *msg = NULL, *newid = NULL, *vid = NULL, prev[37], *t;
	struct api_err err = { 0, NULL };
	int dup = 0, bad = 0, dfd = -1, mark = 0, k;

	*ok = 0;
	if ((side = backup_of(rec, b, id, &want, &asset, &msg)) == NULL)
		goto out;
	vnew = live_video(rec, b, asset, id, depth, &vid);
	dfd = mark_dir(b);
	if ((mark = mark_read(dfd, id, prev)) != 1) {
		mark_write(dfd, id, t = xasprintf("uploading%s%s\n",
		    *prev ? " after " : "", prev));
		free(t);
	}
	if ((newid = upload(path, asset, id, &dup, &msg)) == NULL)
		goto out;
	if (api_asset(newid, &fresh, &err) != 1)
		goto out;
	if (dup && strcmp(newid, id) != 0 &&
	    !cJSON_IsTrue(rec_get(fresh, "isTrashed")) &&
	    (k = known(dfd, id, newid, mark, prev)) != 0) {
		how = k == 1 ? "upload" : "exists";
		dup = k == 2;
		*ok = 1;
		goto out;
	}
	if (dup && cJSON_IsTrue(rec_get(fresh, "isTrashed"))) {
		/* These bytes are in the trash under another id. */
		struct bulk_res r = { 0, NULL };
		const char *ids[1] = { newid };
		bulk_ids("POST", "/trash/restore/assets", NULL, ids, 1, &r);
		free(r.msg);
		cJSON_Delete(fresh);
		if (api_asset(newid, &fresh, &err) != 1)
			goto out;
	}
	if ((sum = asset_checksum(fresh)) == NULL || strcmp(sum, want) != 0) {
		msg = xasprintf("the uploaded asset %s has checksum %s, not "
		    "the backup's %s", newid, sum ? sum : "(none)", want);
		goto out;
	}
	if ((bad = put_back(rec, id, newid, asset, rec_get(side, "albums"),
	    vnew, &fresh)) < 0)
		msg = xasprintf("could not re-read the new asset %s", newid);
	else if (cJSON_IsTrue(rec_get(fresh, "isTrashed")))
		msg = xasprintf("the new asset %s is in the trash", newid);
	else {
		*ok = 1;
		mark_write(dfd, id, t = xasprintf("done %s\n", newid));
		free(t);
	}
out:
	if (dfd != -1)
		close(dfd);
	e = *ok ? result_ok(how, newid, dup, vid, bad) :
	    result_failed(msg ? msg : err.msg, newid);
	cJSON_Delete(side);
	cJSON_Delete(fresh);
	api_err_free(&err);
	free(newid);
	free(vid);
	free(msg);
	return e;
}

cJSON *
reupload_asset(cJSON *rec, const struct ndjson_in *from, const char *id,
    int *ok)
{
	in = from;
	return reupload(rec, id, ok, 0);
}

/* SPDX-License-Identifier: ISC */
/*
 * immich-consolidate: copy onto each group's keeper the metadata that its
 * losers have and it lacks, then re-read the keeper and confirm that every
 * change arrived.  Reads plan records (keep, trash, review, assets) and
 * adds "consolidated": {changes: [{field, value, from}], confirmed,
 * albums: {loserId: [{id, albumName}]}}.
 *
 * It decides from what the server says now about the keeper
 * (GET /assets/{keep}, and GET /albums?assetId={keep} only when a loser
 * is in an album), so a caption typed on it after planning is kept.  The
 * keeper and losers must be among the record's "assets" (else an error);
 * the losers are taken as the plan saw them and their albums are read now
 * (GET /albums?assetId= each) and recorded in "consolidated.albums" for
 * immich-fetch, with the keep and losers it handled ("keep", "losers").
 * A loser changed after planning is caught by immich-trash,
 * which compares it with the plan's copy (merge_loser_changed) before
 * trashing it.  The asset fields then go in one PUT /assets/{keep}, each
 * missing tag in one PUT /tags/{id}/assets and each missing album in one
 * PUT /albums/{id}/assets, and the keeper is re-read only when something
 * was sent.  A group with nothing to move costs 1 + losers requests.  The
 * rules for each field are in common/merge.c.
 *
 * Named people (common/face.c): when the library has one (GET /people,
 * once a run), each loser's faces are read (GET /faces?id=); a named
 * person the keeper does not show gets a face on it (POST /faces, sent
 * once), confirmed by GET /faces?id={keep}, or the group is held with
 * review code people.  Every change records the keeper's value before it
 * ("was").
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/api.h"
#include "common/env.h"
#include "common/face.h"
#include "common/http.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/review.h"
#include "common/util.h"

static int nflag;
static const char *cur_keep;	/* the record's keep and trash, once */
static const cJSON *cur_trash;	/* checked: recorded in the result */
static struct codes accepted;	/* -a */
static const struct ndjson_in *cur;
static int named_people = -1;	/* GET /people shows a named person:
				 * 1, 0, or -1 not asked yet */

/*
 * After a request: rv and e as api.h gives them.  Still no answer, or
 * only 429/502/503/504, after every retry: the next group would fare no
 * better: record it, pass the record on, stop (EX_FATAL).  Any other
 * failure is recorded on the record.  0 when rv was 0.
 */
static int
settle(cJSON *rec, const char *asset, int rv, struct api_err *e)
{
	if (rv < 0 && (e->status == 0 || e->status == 429 ||
	    e->status >= 502)) {
		rec_error(rec, cur, asset, "%s", e->msg);
		ndjson_emit(rec);
		ndjson_finish();
		progress_end(http_requests(), NULL);
		errx(EX_FATAL, "%.*s: server unreachable, stopping",
		    (int)strcspn(e->msg, ":"), e->msg);
	}
	if (rv != 0 && e->msg)
		rec_error(rec, cur, asset, "%s", e->msg);
	api_err_free(e);
	return rv == 0 ? 0 : -1;
}

/* A request whose 2xx reply is JSON; NULL (and an error) otherwise. */
static cJSON *
call(cJSON *rec, const char *asset, const char *method, const char *path,
    const cJSON *body)
{
	struct api_err e;
	cJSON *j;

	settle(rec, asset, api_call(method, path, body, &j, &e), &e);
	return j;
}

/* GET /assets/ID (asset: the record's asset the error is about). */
static cJSON *
get_asset(cJSON *rec, const char *asset, const char *id)
{
	struct api_err e;
	cJSON *a;
	int rv = api_asset(id, &a, &e);

	settle(rec, asset, rv == 1 ? 0 : rv == 0 ? 1 : -1, &e);
	return a;
}

/* [{id, albumName}] of the albums holding id, or NULL (an error). */
static cJSON *
get_albums(cJSON *rec, const char *id)
{
	char *path = xasprintf("/albums?assetId=%s", id);
	cJSON *a = call(rec, id, "GET", path, NULL), *list = NULL;

	if (cJSON_IsArray(a))
		list = api_album_list(a);
	else if (a)
		rec_error(rec, cur, id, "GET %s%s: reply is not a list",
		    api_prefix(), path);
	cJSON_Delete(a);
	free(path);
	return list;
}

/* Add the keeper to one tag or album. */
static int
add_to(cJSON *rec, const char *keep, const char *kind, const char *id)
{
	cJSON *body = cJSON_CreateObject(), *reply;
	const char *why;
	char *path;
	int rc = -1;

	cJSON_AddItemToObject(body, "ids", cJSON_CreateStringArray(&keep, 1));
	path = xasprintf("/%ss/%s/assets", kind, id);
	reply = call(rec, keep, "PUT", path, body);
	if (reply && !cJSON_IsArray(reply))
		rec_error(rec, cur, keep, "PUT %s%s: reply is not a list",
		    api_prefix(), path);
	else if (reply && (why = merge_bulk_failure(reply, keep)) != NULL)
		rec_error(rec, cur, keep, "%s %s: the keeper was not added: %s",
		    kind, id, why);
	else if (reply)
		rc = 0;
	cJSON_Delete(reply);
	cJSON_Delete(body);
	free(path);
	return rc;
}

/*
 * Whether the library has a named person (GET /people, once a run): if
 * not, no loser can show one and their faces are not read.  People
 * whose faces are all on archived or trashed assets are not listed
 * there; immich-trash still holds such a loser.  -1 on a failure.
 */
static int
library_has_named(cJSON *rec)
{
	const cJSON *p;
	const char *n;
	cJSON *r;

	if (named_people >= 0)
		return named_people;
	r = call(rec, NULL, "GET", "/people?withHidden=true", NULL);
	if (r == NULL)
		return -1;
	named_people = cJSON_IsTrue(rec_get(r, "hasNextPage")) ||
	    !cJSON_IsArray(rec_get(r, "people"));
	cJSON_ArrayForEach(p, rec_get(r, "people"))
		if ((n = rec_str(p, "name")) && *n)
			named_people = 1;
	cJSON_Delete(r);
	return named_people;
}

/* GET /faces?id=ID: the asset's faces (AssetFaceResponseDto[]), or NULL
 * (an error). */
static cJSON *
get_faces(cJSON *rec, const char *id)
{
	char *path = xasprintf("/faces?id=%s", id);
	cJSON *f = call(rec, id, "GET", path, NULL);

	if (f && !cJSON_IsArray(f)) {
		rec_error(rec, cur, id, "GET %s%s: reply is not a list",
		    api_prefix(), path);
		cJSON_Delete(f);
		f = NULL;
	}
	free(path);
	return f;
}

/* POST /faces for one face change, sent once (never twice: a second
 * face would be a second tag); 0 or -1. */
static int
add_face(cJSON *rec, const char *keep, const cJSON *c)
{
	cJSON *body = face_body(c, keep);
	struct api_err e;
	int rv;

	rv = api_call_once("POST", "/faces", body, NULL, &e);
	cJSON_Delete(body);
	if (rv < 0 && e.status == 0) {
		/* No reply: the face may be there; the read-back says.  Not
		 * fatal by itself (the next request is retried). */
		rec_error(rec, cur, keep, "%s", e.msg);
		api_err_free(&e);
		return -1;
	}
	return settle(rec, keep, rv, &e);
}

/* Send every change; failed[i] is set for each that was refused. */
static void
apply(cJSON *rec, const char *keep, const cJSON *changes, int *failed)
{
	cJSON *body = merge_update_body(changes), *reply = NULL;
	const cJSON *c;
	const char *f;
	char *path;
	int i = 0;

	if (body) {
		path = xasprintf("/assets/%s", keep);
		reply = call(rec, keep, "PUT", path, body);
		free(path);
	}
	cJSON_ArrayForEach(c, changes) {
		f = rec_str(c, "field");
		if (merge_is_asset_field(c))
			failed[i] = reply == NULL;
		else if (strcmp(f, "face") == 0)
			failed[i] = add_face(rec, keep, c) < 0;
		else
			failed[i] = add_to(rec, keep, f,
			    rec_str(c, "value")) < 0;
		i++;
	}
	cJSON_Delete(reply);
	cJSON_Delete(body);
}

/* Re-read the keeper (and its albums) and check every change that was
 * sent; 1 when all of them are there. */
static int
confirm(cJSON *rec, const char *keep, const cJSON *changes, const int *failed)
{
	cJSON *k = NULL, *albums = NULL, *faces = NULL;
	const cJSON *c;
	const char *fid, *f;
	int i = 0, need_asset = 0, need_albums = 0, need_faces = 0, ok = 1;
	int refused;

	cJSON_ArrayForEach(c, changes) {
		f = rec_str(c, "field");
		if (strcmp(f, "face") == 0)
			need_faces = 1;	/* even refused: it may be there */
		if (failed[i++])
			ok = 0;
		else if (strcmp(f, "album") == 0)
			need_albums = 1;
		else if (strcmp(f, "face") != 0)
			need_asset = 1;
	}
	/* A face: the keeper's faces name it, with its id (faceId), also
	 * one whose POST got no reply (so that an undo finds it). */
	if (need_faces && (faces = get_faces(rec, keep)) == NULL)
		return 0;
	i = 0;
	cJSON_ArrayForEach(c, changes) {
		refused = failed[i++];
		if (strcmp(rec_str(c, "field"), "face") != 0)
			continue;
		if ((fid = face_find(c, faces)) != NULL) {
			rec_set((cJSON *)c, "faceId", cJSON_CreateString(fid));
			continue;
		}
		if (refused)
			continue;
		rec_error(rec, cur, keep, "the face of %s (person %s) did not "
		    "arrive on the keeper", rec_str(rec_get(c, "value"),
		    "name"), rec_str(rec_get(c, "value"), "personId"));
		ok = 0;
	}
	cJSON_Delete(faces);
	if (need_asset && (k = get_asset(rec, keep, keep)) == NULL)
		return 0;
	if (need_albums && (albums = get_albums(rec, keep)) == NULL) {
		cJSON_Delete(k);
		return 0;
	}
	i = 0;
	cJSON_ArrayForEach(c, changes) {
		if (failed[i++] || strcmp(rec_str(c, "field"), "face") == 0 ||
		    merge_arrived(c, k, albums))
			continue;
		rec_error(rec, cur, keep, "%s%s%s did not arrive on the keeper",
		    rec_str(c, "field"), merge_is_asset_field(c) ? "" : " ",
		    merge_is_asset_field(c) ? "" : rec_str(c, "value"));
		ok = 0;
	}
	cJSON_Delete(k);
	cJSON_Delete(albums);
	return ok;
}

/* The plan's keys are usable: keep, trash (UUIDs), keep not in trash. */
static int
check_plan(cJSON *rec, const char **keep, const cJSON **trash)
{
	const cJSON *t, *review = cJSON_GetObjectItemCaseSensitive(rec,
	    "review");

	*keep = rec_str(rec, "keep");
	*trash = cJSON_GetObjectItemCaseSensitive(rec, "trash");
	if (!valid_uuid(*keep) || !cJSON_IsArray(*trash)) {
		rec_error(rec, cur, NULL, "no valid \"keep\" id (a lower-case "
		    "UUID) and \"trash\" list; not a plan record");
		return -1;
	}
	cJSON_ArrayForEach(t, *trash) {
		if (!cJSON_IsString(t) || !valid_uuid(t->valuestring)) {
			rec_error(rec, cur, NULL, "\"trash\" holds something "
			    "that is not an asset id (a lower-case UUID)");
			return -1;
		}
		if (strcmp(t->valuestring, *keep) == 0) {
			rec_error(rec, cur, *keep, "the keeper is also in "
			    "\"trash\"");
			return -1;
		}
	}
	/* Keeper and losers are the group's own assets. */
	if (rec_asset(rec, *keep) == NULL) {
		rec_error(rec, cur, *keep, "the keeper is not one of the "
		    "group's assets");
		return -1;
	}
	cJSON_ArrayForEach(t, *trash) {
		if (rec_asset(rec, t->valuestring) == NULL) {
			rec_error(rec, cur, t->valuestring, "in \"trash\" but "
			    "not one of the group's assets");
			return -1;
		}
	}
	if (review && !cJSON_IsNull(review) && !cJSON_IsArray(review)) {
		rec_error(rec, cur, NULL, "\"review\" is not a list");
		return -1;
	}
	return 0;
}

static void
result(cJSON *rec, cJSON *changes, int confirmed, cJSON *notmoved,
    cJSON *albums)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddItemToObject(c, "changes", changes ? changes :
	    cJSON_CreateArray());
	if (nflag && confirmed >= 0)
		cJSON_AddTrueToObject(c, "dryRun");
	cJSON_AddBoolToObject(c, "confirmed", confirmed > 0);
	if (notmoved && cJSON_GetArraySize(notmoved) > 0)
		cJSON_AddItemToObject(c, "notMoved", notmoved);
	else
		cJSON_Delete(notmoved);
	if (albums)
		cJSON_AddItemToObject(c, "albums", albums);
	/* What it handled: immich-trash holds a loser if keep or trash
	 * were edited since. */
	if (cur_keep) {
		cJSON *l = cJSON_AddArrayToObject(c, "losers");
		const cJSON *t, *u;

		cJSON_AddStringToObject(c, "keep", cur_keep);
		cJSON_ArrayForEach(t, cur_trash) {
			for (u = cur_trash->child; u != t; u = u->next)
				if (strcmp(u->valuestring, t->valuestring) == 0)
					break;
			if (u == t)
				cJSON_AddItemToArray(l,
				    cJSON_CreateString(t->valuestring));
		}
	}
	rec_set(rec, "consolidated", c);
}

/* {"<loserId>": [{id, albumName}, ...]} for immich-fetch. */
static cJSON *
album_list(const cJSON **losers, cJSON **albums, int n)
{
	cJSON *all = cJSON_CreateObject();
	int i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToObject(all, rec_str(losers[i], "id"),
		    api_album_list(albums[i]));
	return all;
}

/*
 * The losers as the plan saw them (read from the server only when the
 * record has no copy: owned[i] then holds it) and their albums now;
 * 0, or -1 on a failure.
 */
static int
read_losers(cJSON *rec, const cJSON *trash, const cJSON **losers,
    cJSON **owned, cJSON **albums, int *n)
{
	const cJSON *t, *a;
	const char *id;
	int i;

	*n = 0;
	cJSON_ArrayForEach(t, trash) {
		id = t->valuestring;
		for (i = 0; i < *n; i++)
			if (strcmp(rec_str(losers[i], "id"), id) == 0)
				break;
		if (i < *n)
			continue;	/* listed twice */
		if (!cJSON_IsObject(a = rec_asset(rec, id))) {
			if ((a = owned[*n] = get_asset(rec, id, id)) == NULL)
				return -1;
			if (!valid_uuid(rec_str(a, "id")) ||
			    strcmp(rec_str(a, "id"), id) != 0) {
				rec_error(rec, cur, id, "GET %s/assets/%s: the "
				    "reply is another asset", api_prefix(), id);
				return -1;
			}
		}
		losers[*n] = a;
		albums[*n] = get_albums(rec, id);
		(*n)++;
		if (albums[*n - 1] == NULL)
			return -1;
	}
	return 0;
}

/* The losers' faces (faces[i], GET /faces?id=) when the library has a
 * named person; 0, or -1 on a failure. */
static int
read_faces(cJSON *rec, const cJSON **losers, int n, cJSON **faces)
{
	int i, has;

	if ((has = library_has_named(rec)) <= 0)
		return has;
	for (i = 0; i < n; i++)
		if ((faces[i] = get_faces(rec, rec_str(losers[i], "id"))) ==
		    NULL)
			return -1;
	return 0;
}

/*
 * People that cannot be copied (held, from face_plan): without -a
 * people, the group is held with review code people (the reason in its
 * detail) and 1 returned; with it, each is noted in notmoved and 0
 * returned.
 */
static int
hold_people(cJSON *rec, cJSON *held, cJSON *notmoved)
{
	cJSON *rv = rec_get(rec, "review"), *h, *o;
	char *v;

	cJSON_ArrayForEach(h, held) {
		o = cJSON_CreateObject();
		if (codes_has(&accepted, "people")) {
			cJSON_AddStringToObject(o, "field", "face");
			cJSON_AddStringToObject(o, "from", rec_str(h, "asset"));
			cJSON_AddStringToObject(o, "reason", rec_str(h,
			    "detail"));
			cJSON_AddItemToArray(notmoved, o);
			continue;
		}
		if (!cJSON_IsArray(rv)) {
			rv = cJSON_CreateArray();
			rec_set(rec, "review", rv);
		}
		cJSON_AddStringToObject(o, "code", "people");
		cJSON_AddStringToObject(o, "asset", rec_str(h, "asset"));
		cJSON_AddStringToObject(o, "detail", rec_str(h, "detail"));
		cJSON_AddItemToArray(rv, o);
		v = xstrvis(rec_str(h, "detail"));
		warnx("%s:%zu: asset %s: held back (people): %s", cur->name,
		    cur->lineno, rec_str(h, "asset"), v);
		free(v);
	}
	if (codes_has(&accepted, "people") || cJSON_GetArraySize(held) == 0)
		return 0;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "skipped", "review");
	rec_set(rec, "consolidated", o);
	prog.held++;
	return 1;
}

/* One group; 0 when done, -1 when it failed or was held back. */
static int
consolidate(cJSON *rec)
{
	const char *keep;
	const cJSON *trash, **losers;
	struct merge_in m = { 0 };
	struct face_in fi;
	cJSON *keeper, **owned, **albums, *kalbums = NULL, *changes;
	cJSON *notmoved, *c, *lists, **faces, *held;
	int i, n, nt, ok = 0, *failed;

	cur_keep = NULL;
	cur_trash = NULL;
	if (check_plan(rec, &keep, &trash) < 0)
		return -1;
	cur_keep = keep;
	cur_trash = trash;
	if (merge_held(rec, (const char *const *)accepted.v, accepted.n)) {
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "skipped", "review");
		rec_set(rec, "consolidated", c);
		prog.held++;
		return -1;
	}
	if ((nt = cJSON_GetArraySize(trash)) == 0) {
		result(rec, NULL, 1, NULL, cJSON_CreateObject());
		return 0;
	}
	if ((keeper = get_asset(rec, keep, keep)) == NULL) {
		result(rec, NULL, -1, NULL, NULL);
		return -1;
	}
	losers = xcalloc(nt, sizeof(*losers));
	owned = xcalloc(nt, sizeof(*owned));
	albums = xcalloc(nt, sizeof(*albums));
	faces = xcalloc(nt, sizeof(*faces));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(keeper,
	    "isTrashed"))) {
		rec_error(rec, cur, keep, "the keeper is in the trash");
		goto fail;
	}
	if (read_losers(rec, trash, losers, owned, albums, &n) < 0)
		goto fail;
	prog.assets += 1 + n;
	for (i = 0; i < n; i++)
		if (cJSON_GetArraySize(albums[i]) > 0)
			break;
	/* The keeper's albums matter only when a loser is in one. */
	if (i < n && (kalbums = get_albums(rec, keep)) == NULL)
		goto fail;
	if (read_faces(rec, losers, n, faces) < 0)
		goto fail;
	m.keeper = keeper;
	m.keeper_albums = kalbums;
	m.losers = losers;
	m.loser_albums = (const cJSON **)albums;
	m.nlosers = n;
	notmoved = cJSON_CreateArray();
	changes = merge_plan(&m, notmoved);
	fi.keeper = keeper;
	fi.losers = losers;
	fi.faces = (const cJSON **)faces;
	fi.nlosers = n;
	held = cJSON_CreateArray();
	face_plan(&fi, changes, held);
	if (hold_people(rec, held, notmoved)) {
		cJSON_Delete(held);
		cJSON_Delete(changes);
		cJSON_Delete(notmoved);
		goto done;
	}
	cJSON_Delete(held);
	lists = album_list(losers, albums, n);
	if (nflag || cJSON_GetArraySize(changes) == 0) {
		result(rec, changes, nflag ? 0 : 1, notmoved, lists);
		ok = 1;
		goto done;
	}
	failed = xcalloc(cJSON_GetArraySize(changes), sizeof(*failed));
	apply(rec, keep, changes, failed);
	ok = confirm(rec, keep, changes, failed);
	free(failed);
	result(rec, changes, ok, notmoved, lists);
	goto done;
fail:
	result(rec, NULL, -1, NULL, NULL);
done:
	for (i = 0; i < nt; i++) {
		cJSON_Delete(owned[i]);
		cJSON_Delete(albums[i]);
		cJSON_Delete(faces[i]);
	}
	free(faces);
	free(losers);
	free(owned);
	free(albums);
	cJSON_Delete(kalbums);
	cJSON_Delete(keeper);
	return ok ? 0 : -1;
}

static int
do_record(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	int rv;

	(void)arg;
	cur = in;
	rv = consolidate(rec);
	ndjson_emit(rec);
	cJSON_Delete(rec);
	return rv;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: immich-consolidate [-nqV] [-a code,...]\n");
	exit(EX_USAGE);
}

int
main(int argc, char *argv[])
{
	int ch, qflag = 0, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((ch = getopt(argc, argv, "a:nqV")) != -1) {
		switch (ch) {
		case 'a':
			codes_add(&accepted, optarg);
			break;
		case 'n':
			nflag = 1;
			break;
		default:
			if (!std_option(ch, &qflag))
				usage();
		}
	}
	if (optind != argc)
		usage();
	env_get();
	http_init();
	progress_init(qflag);
	status = ndjson_loop(stdin, "stdin", do_record, NULL);
	ndjson_finish();
	progress_end(http_requests(), nflag ? "dry run" : NULL);
	return status;
}

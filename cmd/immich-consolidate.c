/* SPDX-License-Identifier: ISC */
/*
 * immich-consolidate: copy onto each group's keeper the metadata that its
 * losers have and it lacks, then re-read the keeper and confirm that every
 * change arrived.  Reads plan records (keep, trash, review, assets) and
 * adds "consolidated": {changes: [{field, value, from}], confirmed,
 * albums: {loserId: [{id, albumName}]}}.
 *
 * It decides from what the server says now about the keeper, read for
 * a batch of records at once (one GET /duplicates; GET /assets/{keep}
 * for a keeper it does not list), so a caption typed on it after
 * planning is kept.  The keeper and losers must be among the record's
 * "assets" (else an error); the losers are taken as the plan saw them
 * and their albums now (the batch's album read, common/members.c) are
 * recorded in "consolidated.albums" for immich-fetch, with the keep and
 * losers it handled ("keep", "losers").
 * A loser changed after planning is caught by immich-trash,
 * which compares it with the plan's copy (merge_loser_changed) before
 * trashing it.  The asset fields then go in one PUT /assets/{keep}, each
 * missing tag in one PUT /tags/{id}/assets and each missing album in one
 * PUT /albums/{id}/assets, each confirmed from its reply (PUT /assets/{id}
 * answers with the keeper after the update).  A group with nothing to
 * move costs no request of its own.  The rules for each field are in
 * common/merge.c.
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
#include "common/fresh.h"
#include "common/face.h"
#include "common/faceio.h"
#include "common/http.h"
#include "common/members.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/progress.h"
#include "common/reccall.h"
#include "common/review.h"
#include "common/stage.h"
#include "common/util.h"

static const char *cur_keep;	/* the record's keep and trash, once */
static const cJSON *cur_trash;	/* checked: recorded in the result */
static struct codes accepted;	/* -a */
static const struct ndjson_in *cur;

/*
 * Records are taken BATCH at a time: one GET /duplicates gives each
 * keeper as the server has it now (fr), and the albums are read for the
 * batch (mem: only those changed since the last batch again).
 */
#define BATCH	250
static struct {
	cJSON	*rec;
	struct ndjson_in in;
} held[BATCH];
static size_t nheld;
static struct fresh *fr;
static struct members *mem;
static char *albmsg;		/* why the albums could not be read */
static int readdone;		/* fr and mem read for this batch */
static void read_server(void);
static int status = EX_DONE;

/* [{id, albumName}] of the albums holding id (read for the batch), or
 * NULL (an error). */
static cJSON *
get_albums(cJSON *rec, const char *id)
{
	cJSON *list = members_albums(mem, id);

	if (list == NULL)
		rec_error(rec, cur, id, "%s", albmsg ? albmsg :
		    "albums not read");
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
	reply = rc_call(rec, cur, keep, "PUT", path, body);
	if (reply && !cJSON_IsArray(reply))
		rec_error(rec, cur, keep, "PUT %s%s: reply is not a list",
		    api_prefix(), path);
	else if (reply && (why = merge_bulk_failure(reply, keep)) != NULL)
		rec_error(rec, cur, keep, "%s %s: the keeper was not added: %s",
		    kind, id, why);
	else if (reply) {
		rc = 0;
		if (strcmp(kind, "album") == 0)
			members_album_add(mem, id, keep);
	}
	cJSON_Delete(reply);
	cJSON_Delete(body);
	free(path);
	return rc;
}

/*
 * Send every change; failed[i] is set for each that was refused.  The
 * PUT /assets/{id} reply is the keeper after the update (*after, or NULL
 * when none was sent): the asset fields are confirmed from it; a tag or
 * album is confirmed by its own reply (added, or there already).
 */
static void
apply(cJSON *rec, const char *keep, const cJSON *changes, int *failed,
    cJSON **after)
{
	cJSON *body = merge_update_body(changes), *reply = NULL;
	const cJSON *c;
	const char *f;
	char *path;
	int i = 0;

	if (body) {
		path = xasprintf("/assets/%s", keep);
		reply = rc_call(rec, cur, keep, "PUT", path, body);
		if (reply && !cJSON_IsObject(reply)) {
			rec_error(rec, cur, keep, "PUT %s%s: the reply is not "
			    "an asset", api_prefix(), path);
			cJSON_Delete(reply);
			reply = NULL;
		}
		free(path);
	}
	cJSON_ArrayForEach(c, changes) {
		f = rec_str(c, "field");
		if (merge_is_asset_field(c))
			failed[i] = reply == NULL;
		else if (strcmp(f, "face") == 0)
			failed[i] = faceio_add(rec, cur, keep, c) < 0;
		else
			failed[i] = add_to(rec, keep, f,
			    rec_str(c, "value")) < 0;
		i++;
	}
	*after = reply;
	cJSON_Delete(body);
}

/* Every change sent arrived: the asset fields on the keeper as the
 * update's reply shows it; 1 when all of them are there. */
static int
confirm(cJSON *rec, const char *keep, const cJSON *changes,
    const int *failed, const cJSON *after)
{
	cJSON *faces = NULL;
	const cJSON *c;
	const char *fid;
	int i = 0, need_faces = 0, ok = 1, refused;

	cJSON_ArrayForEach(c, changes)
		if (strcmp(rec_str(c, "field"), "face") == 0)
			need_faces = 1;	/* even refused: it may be there */
	/* A face: the keeper's faces name it, with its id (faceId), also
	 * one whose POST got no reply (so that an undo finds it). */
	if (need_faces && (faces = faceio_get(rec, cur, keep)) == NULL)
		return 0;
	cJSON_ArrayForEach(c, changes) {
		if ((refused = failed[i++]))
			ok = 0;
		if (strcmp(rec_str(c, "field"), "face") == 0) {
			if ((fid = face_find(c, faces)) != NULL)
				rec_set((cJSON *)c, "faceId",
				    cJSON_CreateString(fid));
			else if (!refused) {
				rec_error(rec, cur, keep, "the face of %s "
				    "(person %s) did not arrive on the keeper",
				    rec_str(rec_get(c, "value"), "name"),
				    rec_str(rec_get(c, "value"), "personId"));
				ok = 0;
			}
			continue;
		}
		if (refused)
			continue;
		if (!merge_is_asset_field(c) || merge_arrived(c, after, NULL))
			continue;
		rec_error(rec, cur, keep, "%s did not arrive on the keeper",
		    rec_str(c, "field"));
		ok = 0;
	}
	cJSON_Delete(faces);
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
	if (stage_nflag && confirmed >= 0)
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
			if ((a = owned[*n] = rc_asset(rec, cur, id, id)) == NULL)
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

/*
 * One group; 0 when done, -1 when it failed or was held back.  Longer
 * than 80 lines on purpose: it is the stage's whole story read top-down
 * (check, read, plan, hold, apply, confirm), each step already its own
 * function; split further, the owned reads would be freed far from
 * where they are made.
 */
static int
consolidate(cJSON *rec)
{
	const char *keep;
	const cJSON *trash, **losers;
	struct merge_in m = { 0 };
	struct face_in fi;
	cJSON *keeper, **owned, **albums, *kalbums = NULL, *changes;
	cJSON *notmoved, *c, *lists, *after, **faces, *held;
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
	/* As the server has it now: listed in GET /duplicates (there and
	 * not trashed), else read on its own. */
	read_server();
	if ((keeper = cJSON_Duplicate(fresh_get(fr, keep), 1)) == NULL &&
	    (keeper = rc_asset(rec, cur, keep, keep)) == NULL) {
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
	if (faceio_losers(rec, cur, losers, n, faces) < 0)
		goto fail;
	/* GET /duplicates shows no one's people (FACTS §3): a loser with
	 * faces needs the keeper's own read, or a person it shows already
	 * would be given a second face. */
	for (i = 0; i < n; i++)
		if (cJSON_GetArraySize(faces[i]) > 0)
			break;
	if (i < n && fresh_get(fr, keep) != NULL) {
		cJSON_Delete(keeper);
		if ((keeper = rc_asset(rec, cur, keep, keep)) == NULL)
			goto fail;
	}
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
	if (stage_nflag || cJSON_GetArraySize(changes) == 0) {
		result(rec, changes, stage_nflag ? 0 : 1, notmoved, lists);
		ok = 1;
		goto done;
	}
	failed = xcalloc(cJSON_GetArraySize(changes), sizeof(*failed));
	apply(rec, keep, changes, failed, &after);
	ok = confirm(rec, keep, changes, failed, after);
	cJSON_Delete(after);
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

/* What the batch's records need from the server, read when the first
 * of them needs it: every keeper now (GET /duplicates), the albums. */
static void
read_server(void)
{
	struct idset *want;
	size_t i;

	if (readdone)
		return;
	readdone = 1;
	want = idset_new();
	for (i = 0; i < nheld; i++)
		idset_put(want, rec_str(held[i].rec, "keep"), NULL);
	fr = fresh_read(want, 0);
	idset_free(want);
	free(albmsg);
	albmsg = NULL;
	if (members_albums_read(mem, &albmsg) == -1 && !albmsg)
		albmsg = xstrdup("albums not read");
}

/* Consolidate, emit and free each record of the batch, in order. */
static void
flush(void)
{
	size_t i;

	for (i = 0; i < nheld; i++) {
		cur = &held[i].in;
		prog.records++;
		if (consolidate(held[i].rec) < 0) {
			prog.failed++;
			status = EX_SOME;
		}
		ndjson_emit(held[i].rec);
		cJSON_Delete(held[i].rec);
		progress_tick();
	}
	nheld = 0;
	readdone = 0;
	fresh_free(fr);
	fr = NULL;
}

static int
do_record(cJSON *rec, const struct ndjson_in *in, void *arg)
{
	(void)arg;
	/* Counted when done (flush), not when read: the progress row and
	 * its ETA follow the groups consolidated. */
	prog.records--;
	held[nheld].rec = rec;
	held[nheld].in.name = in->name;
	held[nheld].in.lineno = in->lineno;
	if (++nheld == BATCH)
		flush();
	return 0;
}

int
main(int argc, char *argv[])
{
	/* -a is the only option stage_getopt returns. */
	while (stage_getopt(argc, argv, "a:nqV", "[-nqV] [-a code,...]") != -1)
		codes_add(&accepted, optarg);
	if (optind != argc)
		stage_usage();
	http_init();
	mem = members_new();
	if (stage_loop(do_record, NULL) != EX_DONE)
		status = EX_SOME;
	/* The input has ended: the total is known. */
	prog.total_records = prog.records + (long)nheld;
	flush();
	stage_end(http_requests(), stage_nflag ? "dry run" : NULL);
	return status;
}

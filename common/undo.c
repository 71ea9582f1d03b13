/* SPDX-License-Identifier: ISC */
/*
 * The undo of a group's stack, keeper metadata and duplicate group, for
 * immich-restore (undo.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/api.h"
#include "common/asset.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/undo.h"
#include "common/util.h"

/* What to do with one change of "consolidated". */
enum { U_DO, U_ALREADY, U_CHANGED, U_CANNOT };

/* The part name ("stack", "keeper", "group") of the record's "undone",
 * made {id: id, ok: true} if none. */
static cJSON *
part(struct undo *u, const char *name, const char *idkey, const char *id)
{
	cJSON *e = rec_get(u->undone, name);

	if (!cJSON_IsObject(e)) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, idkey, id);
		cJSON_AddTrueToObject(e, "ok");
		rec_set(u->undone, name, e);
	}
	return e;
}

/* Set the part's ok to false when rv says it failed. */
static void
part_ok(cJSON *e, int rv)
{
	if (rv < 0)
		rec_set(e, "ok", cJSON_CreateFalse());
}

/* A request whose reply is JSON (or empty); 0 with *reply (may be
 * NULL), or -1 with the error recorded against asset. */
static int
req(struct undo *u, const char *asset, const char *method, char *path,
    const cJSON *body, cJSON **reply)
{
	struct api_err e;
	cJSON *r = NULL;
	int rv = api_call(method, path, body, &r, &e);

	free(path);
	if (rv != 0) {
		rec_error(u->rec, u->in, asset, "%s", e.msg);
		api_err_free(&e);
		r = NULL;
	}
	if (reply)
		*reply = r;
	else
		cJSON_Delete(r);
	return rv == 0 ? 0 : -1;
}

static int
stopped(const cJSON *o)
{
	return cJSON_IsTrue(rec_get(o, "dryRun")) || rec_get(o, "skipped");
}

/* ---- the stack */

/* The stack st (GET /stacks/{id}) is the one recorded in s: the same
 * primary and the same assets. */
static int
same_stack(const cJSON *st, const cJSON *s)
{
	const cJSON *a, *want = rec_get(s, "assets");
	const char *p = rec_str(st, "primaryAssetId");

	if (p == NULL || strcmp(p, rec_str(s, "primary")) != 0)
		return 0;
	if (!cJSON_IsArray(want))
		return 1;
	if (cJSON_GetArraySize(rec_get(st, "assets")) !=
	    cJSON_GetArraySize(want))
		return 0;
	cJSON_ArrayForEach(a, rec_get(st, "assets"))
		if (!valid_uuid(rec_str(a, "id")) ||
		    !rec_has_str(want, rec_str(a, "id")))
			return 0;
	return 1;
}

int
undo_stack(struct undo *u)
{
	const cJSON *s = rec_get(u->rec, "stacked");
	const char *sid = rec_str(s, "id"), *primary = rec_str(s, "primary");
	struct api_err err;
	cJSON *st = NULL, *e;
	char *path;
	int rv;

	if (!cJSON_IsObject(s) || stopped(s) || sid == NULL)
		return 0;
	if (!valid_uuid(sid) || !valid_uuid(primary)) {
		rec_error(u->rec, u->in, NULL, "\"stacked\" has no stack id "
		    "and primary (lower-case UUIDs): the stack is left as it "
		    "is");
		return -1;
	}
	e = part(u, "stack", "id", sid);
	path = xasprintf("/stacks/%s", sid);
	rv = api_call("GET", path, NULL, &st, &err);
	free(path);
	if (rv == 1 && err.status == 400)	/* gone: dissolved already */
		rv = 0;
	else if (rv != 0) {
		rec_error(u->rec, u->in, primary, "%s", err.msg);
		rv = -1;
	} else if (!same_stack(st, s)) {
		rec_error(u->rec, u->in, primary, "stack %s was changed since "
		    "immich-stack made it: left as it is", sid);
		rec_set(e, "kept", cJSON_CreateString("changed since "
		    "immich-stack made it: left as it is"));
		rv = -1;
	} else
		rv = req(u, primary, "DELETE", xasprintf("/stacks/%s", sid),
		    NULL, NULL);
	if (rv == 0)
		rec_set(e, "dissolved", cJSON_CreateTrue());
	part_ok(e, rv);
	api_err_free(&err);
	cJSON_Delete(st);
	return rv;
}

/* ---- the keeper's metadata */

static int
has_gps(const cJSON *k)
{
	const cJSON *la = rec_get(asset_exif(k), "latitude");
	const cJSON *lo = rec_get(asset_exif(k), "longitude");

	return cJSON_IsNumber(la) && cJSON_IsNumber(lo) &&
	    (la->valuedouble != 0 || lo->valuedouble != 0);
}

/* Whether the keeper k has field f at was (NULL or null: none). */
static int
at_was(const char *f, const cJSON *was, const cJSON *k)
{
	const cJSON *ex = asset_exif(k);
	const char *s;
	cJSON *c;
	int yes;

	if (strcmp(f, "isFavorite") == 0)
		return cJSON_IsTrue(rec_get(k, "isFavorite")) ==
		    cJSON_IsTrue(was);
	if (was == NULL || cJSON_IsNull(was)) {
		if (strcmp(f, "description") == 0)
			return (s = rec_str(ex, "description")) == NULL ||
			    strspn(s, " \t\r\n") == strlen(s);
		if (strcmp(f, "rating") == 0)
			return !cJSON_IsNumber(rec_get(ex, "rating"));
		if (strcmp(f, "gps") == 0)
			return !has_gps(k);
		if (strcmp(f, "dateTimeOriginal") == 0)
			return rec_str(ex, "dateTimeOriginal") == NULL;
		if (strcmp(f, "visibility") == 0)
			return (s = rec_str(k, "visibility")) != NULL &&
			    strcmp(s, "timeline") == 0;
		return 0;
	}
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "field", f);
	cJSON_AddItemToObject(c, "value", cJSON_Duplicate(was, 1));
	yes = merge_arrived(c, k, NULL);
	cJSON_Delete(c);
	return yes;
}

/* The value to send back for change ch (*was): the record's "was", or
 * what consolidation only ever replaces (not a favorite, the timeline)
 * when it has none; the reason when it cannot be sent back, else NULL. */
static const char *
undo_value(const cJSON *ch, const cJSON **was)
{
	const char *f = rec_str(ch, "field");
	static cJSON *no, *timeline;
	int none;

	if (no == NULL) {
		no = cJSON_CreateFalse();
		timeline = cJSON_CreateString("timeline");
	}
	*was = rec_get(ch, "was");
	none = *was == NULL || cJSON_IsNull(*was);
	if (none && strcmp(f, "isFavorite") == 0)
		*was = no;
	else if (none && strcmp(f, "visibility") == 0)
		*was = timeline;
	else if (none && strcmp(f, "gps") == 0)
		return "Immich cannot take a location away (latitude and "
		    "longitude cannot be null)";
	else if (none && strcmp(f, "dateTimeOriginal") == 0)
		return "Immich cannot take a capture date away "
		    "(dateTimeOriginal cannot be null)";
	else if (*was == NULL)
		return "the record does not say what it was (no \"was\")";
	else if (strcmp(f, "visibility") == 0 && (!cJSON_IsString(*was) ||
	    (strcmp((*was)->valuestring, "timeline") != 0 &&
	    strcmp((*was)->valuestring, "archive") != 0)))
		/* Never hidden or locked (locked hides it from the key). */
		return "the record's \"was\" is not timeline or archive";
	return NULL;
}

/* Add the undo of asset-field change ch (to was) to the PUT body. */
static void
add_undo(struct undo *u, cJSON *body, const char *f, const cJSON *was,
    const char *keep)
{
	const cJSON *snap;
	long long a, b;
	char *d;

	if (strcmp(f, "gps") == 0) {
		cJSON_AddItemToObject(body, "latitude",
		    cJSON_Duplicate(rec_get(was, "latitude"), 1));
		cJSON_AddItemToObject(body, "longitude",
		    cJSON_Duplicate(rec_get(was, "longitude"), 1));
	} else if (strcmp(f, "description") == 0 && cJSON_IsNull(was))
		cJSON_AddStringToObject(body, f, "");
	else if (strcmp(f, "dateTimeOriginal") == 0) {
		/* In the keeper's own time zone, as the plan saw it. */
		snap = rec_asset(u->rec, keep);
		if (merge_parse_instant(cJSON_GetStringValue(was), &a) == 0 &&
		    merge_parse_instant(rec_str(asset_exif(snap),
		    "dateTimeOriginal"), &b) == 0 && a == b &&
		    (d = merge_render_date(snap)) != NULL) {
			cJSON_AddStringToObject(body, f, d);
			free(d);
		} else
			cJSON_AddItemToObject(body, f, cJSON_Duplicate(was, 1));
	} else
		cJSON_AddItemToObject(body, f, cJSON_Duplicate(was, 1));
}

/* The face with id fid in faces (GET /faces?id=), or NULL. */
static const cJSON *
find_face(const cJSON *faces, const char *fid)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, faces) {
		const char *id = rec_str(f, "id");
		if (id && fid && strcmp(id, fid) == 0)
			return f;
	}
	return NULL;
}

/* The keeper's state now: the asset, and its albums and faces when a
 * change needs them.  0, or -1 (recorded). */
struct keeper {
	cJSON	*asset, *albums, *faces;
};

static void
keeper_free(struct keeper *k)
{
	cJSON_Delete(k->asset);
	cJSON_Delete(k->albums);
	cJSON_Delete(k->faces);
	memset(k, 0, sizeof(*k));
}

static int
read_keeper(struct undo *u, const char *keep, const cJSON *changes,
    struct keeper *k)
{
	const cJSON *c;
	struct api_err err;
	int albums = 0, faces = 0, rv;

	memset(k, 0, sizeof(*k));
	cJSON_ArrayForEach(c, changes) {
		albums |= strcmp(rec_str(c, "field"), "album") == 0;
		faces |= strcmp(rec_str(c, "field"), "face") == 0;
	}
	if ((rv = api_asset(keep, &k->asset, &err)) != 1) {
		rec_error(u->rec, u->in, keep, "%s", rv == 0 ? "the keeper is "
		    "not on the server: its metadata is not taken back" :
		    err.msg);
		api_err_free(&err);
		return -1;
	}
	if (albums && (k->albums = api_albums_of(keep, &err)) == NULL) {
		rec_error(u->rec, u->in, keep, "%s", err.msg);
		api_err_free(&err);
		keeper_free(k);
		return -1;
	}
	if (faces && req(u, keep, "GET", xasprintf("/faces?id=%s", keep),
	    NULL, &k->faces) < 0) {
		keeper_free(k);
		return -1;
	}
	return 0;
}

/* What to do with change ch given the keeper now; *why for U_CANNOT. */
static int
decide(const cJSON *ch, const struct keeper *k, const char **why)
{
	const char *f = rec_str(ch, "field"), *v = rec_str(ch, "value");
	const cJSON *was, *face;
	const char *pid;

	*why = NULL;
	if (strcmp(f, "tag") == 0)
		return rec_has_id(rec_get(k->asset, "tags"), v) ? U_DO :
		    U_ALREADY;
	if (strcmp(f, "album") == 0)
		return rec_has_id(k->albums, v) ? U_DO : U_ALREADY;
	if (strcmp(f, "face") == 0 && rec_str(ch, "faceId") == NULL) {
		*why = "no faceId: the face is not known to have been made";
		return U_CANNOT;
	}
	if (strcmp(f, "face") == 0) {
		if ((face = find_face(k->faces, rec_str(ch, "faceId"))) == NULL)
			return U_ALREADY;
		pid = rec_str(rec_get(face, "person"), "id");
		return pid && rec_str(rec_get(ch, "value"), "personId") &&
		    strcmp(pid, rec_str(rec_get(ch, "value"), "personId")) ==
		    0 ? U_DO : U_CHANGED;
	}
	*why = undo_value(ch, &was);
	if (merge_arrived(ch, k->asset, NULL))
		return *why ? U_CANNOT : U_DO;
	if (*why == NULL && at_was(f, was, k->asset))
		return U_ALREADY;
	*why = NULL;
	return U_CHANGED;
}

/* DELETE /albums|tags/{id}/assets {ids: [keep]}; 0 when the keeper is
 * out (success, or not_found: it was not in it). */
static int
take_out(struct undo *u, const char *keep, const char *what, const char *id)
{
	cJSON *b = cJSON_CreateObject(), *r = NULL;
	const cJSON *x;
	const char *why = NULL;
	int rv;

	cJSON_AddItemToObject(b, "ids", cJSON_CreateStringArray(&keep, 1));
	rv = req(u, keep, "DELETE", xasprintf("/%s/%s/assets", what, id), b,
	    &r);
	cJSON_ArrayForEach(x, r)
		if (rec_str(x, "id") && strcmp(rec_str(x, "id"), keep) == 0 &&
		    !cJSON_IsTrue(rec_get(x, "success")))
			why = rec_str(x, "error") ? rec_str(x, "error") : "refused";
	if (rv == 0 && why && strcmp(why, "not_found") != 0) {
		rec_error(u->rec, u->in, keep, "DELETE %s/%s/%s/assets: %s",
		    api_prefix(), what, id, why);
		rv = -1;
	}
	cJSON_Delete(r);
	cJSON_Delete(b);
	return rv;
}

/* Send one change's undo that is not in the PUT body. */
static int
send_other(struct undo *u, const char *keep, const cJSON *ch)
{
	const char *f = rec_str(ch, "field"), *v = rec_str(ch, "value");
	cJSON *b;
	int rv;

	if (strcmp(f, "tag") == 0)
		return take_out(u, keep, "tags", v);
	if (strcmp(f, "album") == 0)
		return take_out(u, keep, "albums", v);
	b = cJSON_CreateObject();
	cJSON_AddTrueToObject(b, "force");
	rv = req(u, keep, "DELETE", xasprintf("/faces/%s", rec_str(ch,
	    "faceId")), b, NULL);
	cJSON_Delete(b);
	return rv;
}

/* Re-read the keeper: is every change in act[] that was sent undone? */
static int
confirm(struct undo *u, const char *keep, const cJSON *changes,
    const int *act, const int *sent)
{
	const cJSON *c;
	struct keeper k;
	int i = 0, ok = 1, d;
	const char *why;

	if (read_keeper(u, keep, changes, &k) < 0)
		return -1;
	cJSON_ArrayForEach(c, changes) {
		if (act[i] == U_DO && sent[i]) {
			d = decide(c, &k, &why);
			if (d != U_ALREADY) {
				rec_error(u->rec, u->in, keep, "%s%s%s was not "
				    "taken back", rec_str(c, "field"),
				    rec_str(c, "value") ? " " : "",
				    rec_str(c, "value") ? rec_str(c,
				    "value") : "");
				ok = 0;
			}
		}
		i++;
	}
	keeper_free(&k);
	return ok ? 0 : -1;
}

/* A copy of change ch for "undone" or "kept" (with reason why). */
static void
note(cJSON *list, const cJSON *ch, const char *why, int already)
{
	cJSON *n = cJSON_Duplicate(ch, 1);

	if (why)
		cJSON_AddStringToObject(n, "reason", why);
	if (already)
		cJSON_AddTrueToObject(n, "already");
	cJSON_AddItemToArray(list, n);
}

/* Every change names a field, and a tag, album or face its id. */
static int
check_changes(struct undo *u, const char *keep, const cJSON *changes)
{
	const cJSON *ch;
	const char *f;

	cJSON_ArrayForEach(ch, changes) {
		if ((f = rec_str(ch, "field")) != NULL && (strcmp(f, "face") ==
		    0 ? rec_get(ch, "faceId") == NULL ||
		    valid_uuid(rec_str(ch, "faceId")) :
		    merge_is_asset_field(ch) || valid_uuid(rec_str(ch,
		    "value"))))
			continue;
		rec_error(u->rec, u->in, keep, "a change in \"consolidated\" "
		    "has no field, or no valid id: the keeper's metadata is not "
		    "taken back");
		return -1;
	}
	return 0;
}

/*
 * Decide each change (act[i]) from the keeper now (k), note it in the
 * keeper's entry e, send what goes alone (tags, albums, faces; sent[i])
 * and add the fields to body.  -1 when one failed or was held.
 */
static int
take_back(struct undo *u, const char *keep, const cJSON *changes,
    const struct keeper *k, int *act, int *sent, cJSON *body, cJSON *e)
{
	cJSON *undone = cJSON_CreateArray(), *kept = cJSON_CreateArray();
	const cJSON *ch, *was;
	const char *f, *why;
	int i = 0, rv = 0;

	rec_set(e, "undone", undone);
	rec_set(e, "kept", kept);
	cJSON_ArrayForEach(ch, changes) {
		f = rec_str(ch, "field");
		switch (act[i] = decide(ch, k, &why)) {
		case U_DO:
			if (!merge_is_asset_field(ch) || strcmp(f, "face") == 0)
				sent[i] = send_other(u, keep, ch) == 0;
			else {
				undo_value(ch, &was);
				add_undo(u, body, f, was, keep);
				sent[i] = 1;
			}
			if (!sent[i])
				rv = -1;
			note(sent[i] ? undone : kept, ch, sent[i] ? NULL :
			    "failed (see errors)", 0);
			break;
		case U_ALREADY:
			note(undone, ch, NULL, 1);
			break;
		case U_CANNOT:
			note(kept, ch, why, 0);
			break;
		default:
			note(kept, ch, "changed since consolidation: left as "
			    "it is", 0);
			rec_error(u->rec, u->in, keep, "%s was changed since "
			    "consolidation: left as it is", f);
			rv = -1;
		}
		i++;
	}
	return rv;
}

int
undo_keeper(struct undo *u)
{
	const cJSON *c = rec_get(u->rec, "consolidated"), *ch, *changes;
	const char *keep;
	struct keeper k;
	cJSON *e, *body;
	int i, n, rv, *act, *sent;

	changes = rec_get(c, "changes");
	if (!cJSON_IsObject(c) || stopped(c) || u->keep_merged ||
	    (n = cJSON_GetArraySize(changes)) == 0)
		return 0;
	if ((keep = rec_str(c, "keep")) == NULL)
		keep = rec_str(u->rec, "keep");
	if (!valid_uuid(keep)) {
		rec_error(u->rec, u->in, NULL, "no keeper id in the record: "
		    "its metadata is not taken back");
		return -1;
	}
	if (check_changes(u, keep, changes) < 0 ||
	    read_keeper(u, keep, changes, &k) < 0)
		return -1;
	e = part(u, "keeper", "id", keep);
	act = xcalloc(n, sizeof(*act));
	sent = xcalloc(n, sizeof(*sent));
	body = cJSON_CreateObject();
	rv = take_back(u, keep, changes, &k, act, sent, body, e);
	keeper_free(&k);
	if (body->child && req(u, keep, "PUT", xasprintf("/assets/%s", keep),
	    body, NULL) < 0) {
		rv = -1;
		for (i = 0, ch = changes->child; ch; ch = ch->next, i++)
			if (act[i] == U_DO && merge_is_asset_field(ch) &&
			    strcmp(rec_str(ch, "field"), "face") != 0)
				sent[i] = 0;
	}
	for (i = 0; i < n && !(act[i] == U_DO && sent[i]); i++)
		;
	if (i < n && confirm(u, keep, changes, act, sent) < 0)
		rv = -1;
	part_ok(e, rv);
	cJSON_Delete(body);
	free(act);
	free(sent);
	return rv;
}

/* ---- the duplicate group */

/* Add id to the array of strings list unless it is there. */
static void
add_id(cJSON *list, const char *id)
{
	if (valid_uuid(id) && !rec_has_str(list, id))
		cJSON_AddItemToArray(list, cJSON_CreateString(id));
}

/* The group's members as the stages saw them. */
static cJSON *
members(const cJSON *rec)
{
	cJSON *m = cJSON_CreateArray();
	const cJSON *a;

	add_id(m, rec_str(rec, "keep"));
	cJSON_ArrayForEach(a, rec_get(rec, "assets"))
		add_id(m, rec_str(a, "id"));
	cJSON_ArrayForEach(a, rec_get(rec_get(rec, "dismissed"), "assets"))
		add_id(m, cJSON_GetStringValue(a));
	cJSON_ArrayForEach(a, rec_get(rec_get(rec, "stacked"), "assets"))
		add_id(m, cJSON_GetStringValue(a));
	return m;
}

/* Where member id is now: its own id, the id it was uploaded again
 * under, or NULL when it is not back, or is back as another live asset
 * that had its bytes ("exists": someone's own, left as it is). */
static const char *
now_id(struct undo *u, const char *id)
{
	const cJSON *r = rec_get(u->restored, id);
	const char *how = rec_str(r, "how");

	if (r == NULL || how == NULL)
		return id;
	if (!cJSON_IsTrue(rec_get(r, "ok")) || strcmp(how, "exists") == 0)
		return NULL;
	if (strcmp(how, "upload") == 0)
		return rec_str(r, "newId");
	return id;
}

/* Whether the run took the group apart: a loser restored, a stack or a
 * dismissal; the group's id then, else NULL. */
static const char *
group_of(struct undo *u)
{
	const cJSON *d = rec_get(u->rec, "dismissed");
	const cJSON *s = rec_get(u->rec, "stacked"), *r;
	const char *how;
	int any = 0;

	if (cJSON_IsObject(d) && !stopped(d) &&
	    valid_uuid(rec_str(d, "duplicateId")))
		return rec_str(d, "duplicateId");
	if (cJSON_IsObject(s) && !stopped(s) && rec_str(s, "id"))
		any = 1;
	cJSON_ArrayForEach(r, u->restored)
		if (cJSON_IsTrue(rec_get(r, "ok")) && (how = rec_str(r,
		    "how")) && strcmp(how, "exists") != 0)
			any = 1;
	return any && valid_uuid(rec_str(u->rec, "duplicateId")) ?
	    rec_str(u->rec, "duplicateId") : NULL;
}

/*
 * Read each member (ids: now_id of m[i], NULL for none; only those with
 * only[i] set, when only is not NULL): in the group now (in[i] 1), or to
 * be put in it (in[i] 2); trashed, gone, or in another group: 0.  -1
 * when a read failed.
 */
static int
read_members(struct undo *u, const char *gid, const char **ids, int n,
    const int *only, int *in)
{
	struct api_err err;
	const char *d;
	cJSON *a;
	int i, k;

	for (i = 0; i < n; i++) {
		in[i] = 0;
		if (ids[i] == NULL || (only && !only[i]))
			continue;
		if ((k = api_asset(ids[i], &a, &err)) < 0) {
			rec_error(u->rec, u->in, ids[i], "%s", err.msg);
			api_err_free(&err);
			return -1;
		}
		api_err_free(&err);
		if (k == 1 && !cJSON_IsTrue(rec_get(a, "isTrashed"))) {
			d = rec_str(a, "duplicateId");
			in[i] = d == NULL ? 2 : strcmp(d, gid) == 0 ? 1 : 0;
		}
		cJSON_Delete(a);
	}
	return 0;
}

/* The group in "undone" ({duplicateId, ok, assets: its members now}),
 * and duplicateId on the "restored" entry of each member brought back. */
static void
note_group(struct undo *u, const char *gid, const cJSON *m,
    const char **ids, const int *in, int n, int rv)
{
	cJSON *e = part(u, "group", "duplicateId", gid), *r;
	cJSON *a = cJSON_CreateArray();
	int i;

	part_ok(e, rv);
	rec_set(e, "assets", a);
	for (i = 0; rv == 0 && i < n; i++) {
		if (in[i] == 0)
			continue;
		cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]));
		r = rec_get(u->restored, cJSON_GetArrayItem(m, i)->valuestring);
		if (cJSON_IsObject(r))
			rec_set(r, "duplicateId", cJSON_CreateString(gid));
	}
}

int
undo_group(struct undo *u)
{
	const char *gid = group_of(u), **ids;
	cJSON *m, *b, *set;
	int i, n, nin = 0, nset = 0, rv = 0, *in, *again, *only;

	if (gid == NULL)
		return 0;
	m = members(u->rec);
	n = cJSON_GetArraySize(m);
	ids = xcalloc(n + 1, sizeof(*ids));
	in = xcalloc(n + 1, sizeof(*in));
	again = xcalloc(n + 1, sizeof(*again));
	only = xcalloc(n + 1, sizeof(*only));
	for (i = 0; i < n; i++)
		ids[i] = now_id(u, cJSON_GetArrayItem(m, i)->valuestring);
	if (read_members(u, gid, ids, n, NULL, in) < 0) {
		rv = -1;
		goto out;
	}
	set = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		nin += in[i] != 0;
		if (in[i] == 2) {
			cJSON_AddItemToArray(set, cJSON_CreateString(ids[i]));
			nset++;
		}
	}
	/* A group of one is no group: Immich would clear it again. */
	if (nin < 2 || nset == 0) {
		cJSON_Delete(set);
		goto note;
	}
	b = cJSON_CreateObject();
	cJSON_AddItemToObject(b, "ids", set);
	cJSON_AddStringToObject(b, "duplicateId", gid);
	rv = req(u, NULL, "PUT", xstrdup("/assets"), b, NULL);
	cJSON_Delete(b);
	if (rv == 0) {
		for (i = 0; i < n; i++)
			only[i] = in[i] == 2;
		if ((rv = read_members(u, gid, ids, n, only, again)) == 0)
			for (i = 0; i < n; i++)
				if (in[i] == 2 && again[i] != 1) {
					rec_error(u->rec, u->in, ids[i], "the "
					    "duplicate group %s did not arrive",
					    gid);
					rv = -1;
				}
	}
note:
	if (rv < 0 || nin >= 2)
		note_group(u, gid, m, ids, in, n, rv);
out:
	cJSON_Delete(m);
	free(ids);
	free(in);
	free(again);
	free(only);
	return rv;
}

/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "common/api.h"
#include "common/env.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/util.h"

static int unreachable;
static int major = -1;

const char *
api_prefix(void)
{
	static const char *prefix;
	const char *u, *p;

	if (prefix == NULL) {
		/* "scheme://host[:port]/base/api" -> "/base/api" */
		u = env_get()->api;
		p = strstr(u, "://");
		p = p ? strchr(p + 3, '/') : NULL;
		prefix = p ? p : "";
	}
	return prefix;
}

static void
seterr(struct api_err *e, long status, char *msg)
{
	if (e == NULL) {
		free(msg);
		return;
	}
	e->status = status;
	e->msg = msg;
}

static int
call(const char *method, const char *path, const cJSON *body,
    cJSON **reply, struct api_err *e, int once)
{
	struct http_resp r;
	char *json = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON *o = NULL;
	int rv;

	if (reply)
		*reply = NULL;
	if (e) {
		e->status = 0;
		e->msg = NULL;
	}
	memset(&r, 0, sizeof(r));
	rv = once ? http_json_once(method, path, json, &r) :
	    http_json(method, path, json, &r);
	free(json);
	if (rv != 0) {
		/* A status here is one still retried when the retries ran
		 * out (429, 5xx): no usable reply, said as it came. */
		if (r.status == 0) {
			unreachable++;
			seterr(e, 0, xasprintf("%s %s%s: no reply: %s", method,
			    api_prefix(), path, r.msg));
		} else
			seterr(e, r.status, xasprintf("%s %s%s: HTTP %ld: %s",
			    method, api_prefix(), path, r.status, r.msg));
		http_free(&r);
		return -1;
	}
	unreachable = 0;
	if (r.status < 200 || r.status > 299) {
		seterr(e, r.status, xasprintf("%s %s%s: HTTP %ld: %s", method,
		    api_prefix(), path, r.status, r.msg));
		rv = 1;
	} else if (r.len == 0)
		o = cJSON_CreateNull();
	else if ((o = cJSON_ParseWithLength(r.body, r.len)) == NULL) {
		seterr(e, r.status, xasprintf("%s %s%s: HTTP %ld: unreadable "
		    "reply", method, api_prefix(), path, r.status));
		rv = 1;
	}
	http_free(&r);
	if (reply)
		*reply = o;
	else
		cJSON_Delete(o);
	return rv;
}

int
api_call(const char *method, const char *path, const cJSON *body,
    cJSON **reply, struct api_err *e)
{
	return call(method, path, body, reply, e, 0);
}

int
api_call_once(const char *method, const char *path, const cJSON *body,
    cJSON **reply, struct api_err *e)
{
	return call(method, path, body, reply, e, 1);
}

int
api_upload(const char *const *fields, const char *path, const char *name,
    cJSON **reply, struct api_err *e)
{
	const char *pre = api_prefix();
	struct http_resp r;
	cJSON *o = NULL;
	int rv = 1;

	*reply = NULL;
	e->status = 0;
	e->msg = NULL;
	memset(&r, 0, sizeof(r));
	if (http_upload("/assets", fields, "assetData", path, name, &r) != 0) {
		if (r.status == 0)
			unreachable++;
		e->msg = xasprintf("POST %s/assets: no reply: %s", pre, r.msg);
		rv = -1;
	} else if ((e->status = r.status) != 200 && r.status != 201)
		e->msg = xasprintf("POST %s/assets: HTTP %ld: %s", pre,
		    r.status, r.msg);
	else if ((o = cJSON_ParseWithLength(r.body, r.len)) == NULL ||
	    !cJSON_IsObject(o))
		e->msg = xasprintf("POST %s/assets: HTTP %ld: unreadable "
		    "reply", pre, r.status);
	else {
		*reply = o;
		o = NULL;
		rv = 0;
	}
	if (rv >= 0)
		unreachable = 0;
	cJSON_Delete(o);
	http_free(&r);
	return rv;
}

int
api_asset(const char *id, cJSON **asset, struct api_err *e)
{
	char *path = xasprintf("/assets/%s", id);
	struct api_err e2 = { 0, NULL };
	int rv;

	rv = call("GET", path, NULL, asset, &e2, 0);
	if (rv == 0 && !cJSON_IsObject(*asset)) {
		cJSON_Delete(*asset);
		*asset = NULL;
		e2.status = 200;
		e2.msg = xasprintf("GET %s%s: HTTP 200: not an asset",
		    api_prefix(), path);
		rv = -1;
	} else if (rv == 0)
		rv = 1;
	else if (rv == 1 && (e2.status == 400 || e2.status == 404))
		rv = 0;
	else
		rv = -1;
	free(path);
	if (e)
		*e = e2;
	else
		api_err_free(&e2);
	return rv;
}

cJSON *
api_album_list(const cJSON *albums)
{
	cJSON *out = cJSON_CreateArray(), *o;
	const cJSON *a;

	cJSON_ArrayForEach(a, albums) {
		if (!valid_uuid(rec_str(a, "id")))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", rec_str(a, "id"));
		if (rec_str(a, "albumName"))
			cJSON_AddStringToObject(o, "albumName",
			    rec_str(a, "albumName"));
		cJSON_AddItemToArray(out, o);
	}
	return out;
}

cJSON *
api_albums_of(const char *id, struct api_err *e)
{
	char *path = xasprintf("/albums?assetId=%s", id);
	cJSON *list, *out = NULL;

	if (call("GET", path, NULL, &list, e, 0) == 0) {
		if (cJSON_IsArray(list))
			out = api_album_list(list);
		else
			seterr(e, 200, xasprintf("GET %s%s: HTTP 200: not a "
			    "list", api_prefix(), path));
	}
	cJSON_Delete(list);
	free(path);
	return out;
}

cJSON *
api_server(const char *path)
{
	struct api_err e;
	cJSON *o;

	if (call("GET", path, NULL, &o, &e, 0) != 0)
		errx(EX_FATAL, "%s", e.msg);
	if (!cJSON_IsObject(o))
		errx(EX_FATAL, "GET %s%s: HTTP 200: unreadable reply",
		    api_prefix(), path);
	return o;
}

int
api_server_major(void)
{
	const cJSON *m;
	cJSON *v;

	if (major >= 0)
		return major;
	v = api_server("/server/version");
	m = cJSON_GetObjectItemCaseSensitive(v, "major");
	major = cJSON_IsNumber(m) ? m->valueint : 3;
	cJSON_Delete(v);
	return major;
}

const char *
api_user_id(void)
{
	static char *id;
	cJSON *me;
	const char *s;

	if (id)
		return id;
	me = api_server("/users/me");
	if ((s = rec_str(me, "id")) == NULL || !valid_uuid(s))
		errx(EX_FATAL, "GET %s/users/me: no user id in the reply",
		    api_prefix());
	id = xstrdup(s);
	cJSON_Delete(me);
	return id;
}

const char *
api_trash_unsafe(void)
{
	cJSON *f, *t, *c;
	const char *why = NULL;

	f = api_server("/server/features");
	t = rec_get(f, "trash");
	if (!cJSON_IsBool(t))
		errx(EX_FATAL, "GET %s/server/features: no \"trash\" in the "
		    "reply", api_prefix());
	if (cJSON_IsFalse(t))
		why = "the server's trash is disabled";
	cJSON_Delete(f);
	c = api_server("/server/config");
	t = rec_get(c, "trashDays");
	if (!cJSON_IsNumber(t))
		errx(EX_FATAL, "GET %s/server/config: no \"trashDays\" in "
		    "the reply", api_prefix());
	if (why == NULL && t->valuedouble < 1)
		why = "the server keeps trashed assets for 0 days";
	cJSON_Delete(c);
	return why;
}

int
api_unreachable(void)
{
	return unreachable;
}

void
api_seen(long status)
{
	if (status == 0)
		unreachable++;
	else
		unreachable = 0;
}

void
api_err_free(struct api_err *e)
{
	if (e == NULL)
		return;
	free(e->msg);
	e->msg = NULL;
}

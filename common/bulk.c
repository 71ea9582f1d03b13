/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/api.h"
#include "common/bulk.h"
#include "common/env.h"
#include "common/http.h"
#include "common/ndjson.h"
#include "common/util.h"

static char *
body(const cJSON *extra, const char *const *ids, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray(), *e;
	char *s;
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]));
	cJSON_AddItemToObject(o, "ids", a);
	if (extra)
		cJSON_ArrayForEach(e, extra)
			cJSON_AddItemToObject(o, e->string,
			    cJSON_Duplicate(e, 1));
	if ((s = cJSON_PrintUnformatted(o)) == NULL)
		errx(EX_FATAL, "out of memory");
	cJSON_Delete(o);
	return s;
}

typedef int (*done_fn)(const char *);

static void run(const char *, const char *, const cJSON *,
    const char *const *, size_t, struct bulk_res *, done_fn);

static void
set_res(struct bulk_res *res, const char *method, const char *path,
    const struct http_resp *r)
{
	res->status = r->status;
	free(res->msg);
	res->msg = NULL;
	if (r->status < 200 || r->status > 299)
		res->msg = r->status == 0 ?
		    xasprintf("%s /api%s: no reply: %s", method, path, r->msg) :
		    xasprintf("%s /api%s: HTTP %ld: %s", method, path,
		    r->status, r->msg[0] ? r->msg : "refused");
}

static int
unknown(long status)
{
	return status == 0 || status == 408 || status == 429 ||
	    status >= 500;
}

/*
 * The request for ids may or may not have been carried out: count the
 * ids done(id) says are done, and send the rest again, with backoff.
 */
static void
settle(const char *method, const char *path, const cJSON *extra,
    const char *const *ids, size_t n, struct bulk_res *res, done_fn done,
    const struct http_resp *first)
{
	long tries = env_long("IMMICH_RETRIES", 5, 0, 100);
	double d = env_double("IMMICH_RETRY_DELAY", 1, 0, 60);
	const char **left = xcalloc(n, sizeof(*left));
	struct bulk_res **lres = xcalloc(n, sizeof(*lres));
	struct http_resp r = *first;
	struct timespec ts;
	size_t i, m;
	char *b;
	long t;

	r.body = NULL;
	for (t = 0;; t++) {
		for (i = m = 0; i < n; i++) {
			if (res[i].status >= 200 && res[i].status <= 299)
				continue;
			if (done(ids[i]) == 1) {
				free(res[i].msg);
				res[i].msg = NULL;
				res[i].status = 204;
				continue;
			}
			set_res(&res[i], method, path, &r);
			left[m] = ids[i];
			lres[m++] = &res[i];
		}
		if (m == 0 || t >= tries)
			break;
		warnx("%s /api%s: %s: %zu of %zu not done, sending them again",
		    method, path, r.status ? "unclear reply" : "no reply", m, n);
		ts.tv_sec = (time_t)d;
		ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		d = d * 2 > 60 ? 60 : d * 2;
		b = body(extra, left, m);
		memset(&r, 0, sizeof(r));
		if (http_json_once(method, path, b, &r) != 0)
			r.status = 0;
		free(b);
		if (!unknown(r.status)) {
			if (r.status == 400 && m > 1) {
				/* Isolate the refused ids among those left. */
				struct bulk_res *tmp = xcalloc(m, sizeof(*tmp));

				run(method, path, extra, left, m, tmp, done);
				for (i = 0; i < m; i++) {
					free(lres[i]->msg);
					*lres[i] = tmp[i];
				}
				free(tmp);
			} else
				for (i = 0; i < m; i++)
					set_res(lres[i], method, path, &r);
			http_free(&r);
			break;
		}
		http_free(&r);
	}
	free(left);
	free(lres);
}

static void
run(const char *method, const char *path, const cJSON *extra,
    const char *const *ids, size_t n, struct bulk_res *res, done_fn done)
{
	struct http_resp r;
	char *b;
	size_t i, h;

	if (n == 0)
		return;
	b = body(extra, ids, n);
	memset(&r, 0, sizeof(r));
	if ((done ? http_json_once : http_json)(method, path, b, &r) != 0)
		r.status = 0;
	free(b);
	if (r.status == 400 && n > 1) {
		http_free(&r);
		h = n / 2;
		run(method, path, extra, ids, h, res, done);
		run(method, path, extra, ids + h, n - h, res + h, done);
		return;
	}
	for (i = 0; i < n; i++)
		set_res(&res[i], method, path, &r);
	if (done && unknown(r.status))
		settle(method, path, extra, ids, n, res, done, &r);
	http_free(&r);
}

void
bulk_ids(const char *method, const char *path, const cJSON *extra,
    const char *const *ids, size_t n, struct bulk_res *res)
{
	run(method, path, extra, ids, n, res, NULL);
}

void
bulk_ids_once(const char *method, const char *path, const cJSON *extra,
    const char *const *ids, size_t n, struct bulk_res *res,
    int (*done)(const char *id))
{
	run(method, path, extra, ids, n, res, done);
}

int
bulk_checksums(const char *const *sums, size_t n, char tag,
    struct bulk_sum *out, int quiet)
{
	cJSON *body = cJSON_CreateObject(), *items, *it, *o = NULL;
	const cJSON *res, *r, *t;
	const char *id, *aid, *act;
	struct api_err e;
	char key[32], *end;
	unsigned long k;
	size_t i;
	int rv = 0;

	for (i = 0; i < n; i++) {
		out[i].asset[0] = '\0';
		out[i].reject = 0;
		out[i].trashed = -1;
	}
	items = cJSON_AddArrayToObject(body, "assets");
	for (i = 0; i < n; i++) {
		if (sums[i] == NULL)
			continue;
		it = cJSON_CreateObject();
		snprintf(key, sizeof(key), "%c%zu", tag, i);
		cJSON_AddStringToObject(it, "id", key);
		cJSON_AddStringToObject(it, "checksum", sums[i]);
		cJSON_AddItemToArray(items, it);
	}
	if (api_call("POST", "/assets/bulk-upload-check", body, &o, &e) != 0 ||
	    !cJSON_IsArray(res = rec_get(o, "results"))) {
		if (!quiet)
			warnx("%s%s: reading each asset instead", e.msg ?
			    e.msg : api_prefix(), e.msg ? "" :
			    "/assets/bulk-upload-check: HTTP 200: no results "
			    "in the reply");
		rv = -1;
		res = NULL;
	}
	cJSON_ArrayForEach(r, res) {
		id = rec_str(r, "id");
		aid = rec_str(r, "assetId");
		act = rec_str(r, "action");
		if (id == NULL || id[0] != tag || aid == NULL ||
		    strlen(aid) >= sizeof(out->asset))
			continue;
		k = strtoul(id + 1, &end, 10);
		if (*end != '\0' || end == id + 1 || k >= n)
			continue;
		strcpy(out[k].asset, aid);
		out[k].reject = act && strcmp(act, "reject") == 0;
		t = rec_get(r, "isTrashed");
		out[k].trashed = cJSON_IsBool(t) ? cJSON_IsTrue(t) : -1;
	}
	cJSON_Delete(o);
	cJSON_Delete(body);
	api_err_free(&e);
	return rv;
}

int
bulk_trashed(const char *id, int force)
{
	struct api_err e;
	cJSON *a;
	int kind = api_asset(id, &a, &e), rv;

	rv = kind > 0 ? cJSON_IsTrue(rec_get(a, "isTrashed")) : kind == 0 && force;
	cJSON_Delete(a);
	api_err_free(&e);
	return rv;
}

/*
 * After the DELETE: is each loser the server said it deleted (2xx) in
 * the trash now, or gone?  A server can answer 204 and do nothing.  One
 * POST /assets/bulk-upload-check with the losers' checksums settles those
 * it names, under their own id, as trashed; the rest (all under -G) are
 * read with GET /assets/{id}.  A loser that is not is given status 0,
 * *code and a message in res.  (bulk.h)
 */
void
bulk_confirm_trashed(const char **ids, const char **sums,
    struct bulk_res *res, const char **code, size_t n, int per_asset,
    int quiet)
{
	const char **ask = xcalloc(n ? n : 1, sizeof(*ask));
	struct bulk_sum *out = xcalloc(n ? n : 1, sizeof(*out));
	unsigned char *done = xcalloc(n ? n : 1, 1);
	const char *pre = api_prefix();
	struct api_err e;
	size_t i, nask = 0;
	cJSON *a;
	int kind;

	for (i = 0; !per_asset && i < n; i++)
		if (res[i].status >= 200 && res[i].status <= 299) {
			ask[i] = sums[i];
			nask++;
		}
	if (nask > 0 && bulk_checksums(ask, n, 'c', out, quiet) == 0)
		for (i = 0; i < n; i++)
			done[i] = out[i].trashed == 1 &&
			    strcmp(out[i].asset, ids[i]) == 0;
	for (i = 0; i < n; i++) {
		if (done[i] || res[i].status < 200 || res[i].status > 299)
			continue;
		kind = api_asset(ids[i], &a, &e);
		if (kind > 0 && !cJSON_IsTrue(rec_get(a, "isTrashed"))) {
			code[i] = "not-trashed";
			res[i].msg = xasprintf("DELETE %s/assets answered "
			    "HTTP %ld, but the asset is not in the trash "
			    "(GET %s/assets/%s: isTrashed false)", pre,
			    res[i].status, pre, ids[i]);
			res[i].status = 0;
		} else if (kind < 0) {
			res[i].msg = xasprintf("DELETE %s/assets answered "
			    "HTTP %ld, but whether the asset is in the trash "
			    "is unknown (%s): run again to see", pre,
			    res[i].status, e.msg);
			res[i].status = 0;
		}
		cJSON_Delete(a);
		api_err_free(&e);
	}
	free(ask);
	free(out);
	free(done);
}

/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "common/bulk.h"
#include "common/http.h"
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

void
bulk_ids(const char *method, const char *path, const cJSON *extra,
    const char *const *ids, size_t n, struct bulk_res *res)
{
	struct http_resp r;
	char *b;
	size_t i, h;

	if (n == 0)
		return;
	b = body(extra, ids, n);
	memset(&r, 0, sizeof(r));
	if (http_json(method, path, b, &r) != 0)
		r.status = 0;
	free(b);
	if (r.status == 400 && n > 1) {
		http_free(&r);
		h = n / 2;
		bulk_ids(method, path, extra, ids, h, res);
		bulk_ids(method, path, extra, ids + h, n - h, res + h);
		return;
	}
	for (i = 0; i < n; i++) {
		res[i].status = r.status;
		free(res[i].msg);
		res[i].msg = NULL;
		if (r.status < 200 || r.status > 299)
			res[i].msg = r.status == 0 ?
			    xasprintf("%s /api%s: no reply: %s", method, path,
			    r.msg) :
			    xasprintf("%s /api%s: HTTP %ld: %s", method, path,
			    r.status, r.msg[0] ? r.msg : "refused");
	}
	http_free(&r);
}

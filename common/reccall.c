/* SPDX-License-Identifier: ISC */
#include <err.h>
#include <string.h>

#include "common/http.h"
#include "common/reccall.h"
#include "common/stage.h"
#include "common/util.h"

int
rc_settle(cJSON *rec, const struct ndjson_in *in, const char *asset, int rv,
    struct api_err *e)
{
	if (rv < 0 && (e->status == 0 || e->status == 429 ||
	    e->status >= 502)) {
		rec_error(rec, in, asset, "%s", e->msg);
		ndjson_emit(rec);
		stage_end(http_requests(), NULL);
		errx(EX_FATAL, "%.*s: server unreachable, stopping",
		    (int)strcspn(e->msg, ":"), e->msg);
	}
	if (rv != 0 && e->msg)
		rec_error(rec, in, asset, "%s", e->msg);
	api_err_free(e);
	return rv == 0 ? 0 : -1;
}

cJSON *
rc_call(cJSON *rec, const struct ndjson_in *in, const char *asset,
    const char *method, const char *path, const cJSON *body)
{
	struct api_err e;
	cJSON *j;

	rc_settle(rec, in, asset, api_call(method, path, body, &j, &e), &e);
	return j;
}

cJSON *
rc_asset(cJSON *rec, const struct ndjson_in *in, const char *asset,
    const char *id)
{
	struct api_err e;
	cJSON *a;
	int rv = api_asset(id, &a, &e);

	rc_settle(rec, in, asset, rv == 1 ? 0 : rv == 0 ? 1 : -1, &e);
	return a;
}

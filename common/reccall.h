/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_RECCALL_H
#define IMMICH_RECCALL_H

#include <cjson/cJSON.h>

#include "common/api.h"
#include "common/ndjson.h"

/*
 * Requests made for one record, by the stages that stop when the server
 * is unreachable (immich-consolidate, immich-stack; immich(7) EXIT
 * STATUS): a failure is recorded on rec (in names its input line, asset
 * the asset it is about, or NULL); no answer, or only 429/502/503/504,
 * after every retry means the next group would fare no better: rec is
 * passed on, the summary line written, and the stage exits EX_FATAL.
 */

/* After a request (rv and e as api.h gives them): 0 when rv was 0, else
 * -1 with the failure recorded; e is freed. */
int	 rc_settle(cJSON *rec, const struct ndjson_in *in, const char *asset,
	    int rv, struct api_err *e);
/* A request whose 2xx reply is JSON; NULL (and an error) otherwise. */
cJSON	*rc_call(cJSON *rec, const struct ndjson_in *in, const char *asset,
	    const char *method, const char *path, const cJSON *body);
/* GET /assets/ID; NULL (and an error: gone, or another failure). */
cJSON	*rc_asset(cJSON *rec, const struct ndjson_in *in, const char *asset,
	    const char *id);

#endif

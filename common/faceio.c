/* SPDX-License-Identifier: ISC */
/*
 * Named people's faces through the API, for one record (cur names its
 * input line): whether the library has a named person, an asset's faces,
 * a face made on the keeper.  Failures are recorded on the record as
 * reccall does.  The planning (which face, scaled how) is face.c's.
 */
#include <stdlib.h>

#include "common/api.h"
#include "common/face.h"
#include "common/faceio.h"
#include "common/reccall.h"
#include "common/util.h"

static int named_people = -1;	/* GET /people shows a named person:
				 * 1, 0, or -1 not asked yet */

/*
 * Whether the library has a named person (GET /people, once a run): if
 * not, no loser can show one and their faces are not read.  People
 * whose faces are all on archived or trashed assets are not listed
 * there; immich-trash still holds such a loser.  -1 on a failure.
 */
int
faceio_named(cJSON *rec, const struct ndjson_in *cur)
{
	const cJSON *p;
	const char *n;
	cJSON *r;

	if (named_people >= 0)
		return named_people;
	r = rc_call(rec, cur, NULL, "GET", "/people?withHidden=true", NULL);
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
cJSON *
faceio_get(cJSON *rec, const struct ndjson_in *cur, const char *id)
{
	char *path = xasprintf("/faces?id=%s", id);
	cJSON *f = rc_call(rec, cur, id, "GET", path, NULL);

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
int
faceio_add(cJSON *rec, const struct ndjson_in *cur, const char *keep,
    const cJSON *c)
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
	return rc_settle(rec, cur, keep, rv, &e);
}

/* The losers' faces (faces[i], GET /faces?id=) when the library has a
 * named person; 0, or -1 on a failure. */
int
faceio_losers(cJSON *rec, const struct ndjson_in *cur, const cJSON **losers,
    int n, cJSON **faces)
{
	int i, has;

	if ((has = faceio_named(rec, cur)) <= 0)
		return has;
	for (i = 0; i < n; i++)
		if ((faces[i] = faceio_get(rec, cur,
		    rec_str(losers[i], "id"))) == NULL)
			return -1;
	return 0;
}

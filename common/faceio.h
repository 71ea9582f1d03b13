/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_FACEIO_H
#define IMMICH_FACEIO_H

#include <cjson/cJSON.h>

#include "common/ndjson.h"

/* Whether the library has a named person (GET /people, asked once a
 * run); -1 on a failure. */
int	 faceio_named(cJSON *rec, const struct ndjson_in *cur);
/* GET /faces?id=ID: the asset's faces, or NULL (an error). */
cJSON	*faceio_get(cJSON *rec, const struct ndjson_in *cur, const char *id);
/* POST /faces for one face change, sent once; 0 or -1. */
int	 faceio_add(cJSON *rec, const struct ndjson_in *cur, const char *keep,
	    const cJSON *c);
/* The losers' faces (faces[i]) when the library has a named person;
 * 0, or -1 on a failure. */
int	 faceio_losers(cJSON *rec, const struct ndjson_in *cur,
	    const cJSON **losers, int n, cJSON **faces);

#endif

/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_FACE_H
#define IMMICH_FACE_H

#include <cjson/cJSON.h>

/*
 * Named people on a duplicate group's losers whom the keeper does not
 * show (immich-consolidate): the faces to make on the keeper (POST
 * /faces), each box scaled to the keeper's size, or why a face cannot be
 * copied faithfully.  The rules are in immich-consolidate(1), PEOPLE.
 */

/* Aspect ratios closer than this (relative) are the same. */
#define FACE_ASPECT_TOL	0.01

struct face_in {
	const cJSON	*keeper;	/* AssetResponseDto, fresh */
	const cJSON	**losers;	/* AssetResponseDto per loser */
	const cJSON	**faces;	/* AssetFaceResponseDto[] per loser
					 * (GET /faces?id=), NULL: not read */
	int		 nlosers;
};

/*
 * Appends to changes one {field: "face", value: {personId, name,
 * imageWidth, imageHeight, x, y, width, height}, from, was: null} per
 * face of a named person the keeper lacks (a person once, from the first
 * loser that shows it), and to held one {asset, person, detail} per such
 * person it cannot copy.  Returns how many it held.
 */
int	 face_plan(const struct face_in *, cJSON *changes, cJSON *held);
/* Whether w1 x h1 and w2 x h2 have the same aspect ratio (within
 * FACE_ASPECT_TOL); 0 when a size is not positive. */
int	 face_same_aspect(double w1, double h1, double w2, double h2);
/* The id of the face among faces (GET /faces?id=keeper) that face change
 * c made: the same person and box; NULL when none. */
const char *face_find(const cJSON *c, const cJSON *faces);
/* The POST /faces body for face change c on asset keep. */
cJSON	*face_body(const cJSON *c, const char *keep);

#endif

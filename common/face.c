/* SPDX-License-Identifier: ISC */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/face.h"
#include "common/ndjson.h"
#include "common/util.h"

/* A finite number member, as a double: 1 and *d, or 0. */
static int
num(const cJSON *o, const char *key, double *d)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return 0;
	*d = v->valuedouble;
	return 1;
}

/* A whole number member: 1 and *n, or 0. */
static int
whole(const cJSON *o, const char *key, long *n)
{
	double d;

	if (!num(o, key, &d) || d != floor(d) || fabs(d) > 1e9)
		return 0;
	*n = (long)d;
	return 1;
}

int
face_same_aspect(double w1, double h1, double w2, double h2)
{
	double a, b;

	if (!(w1 > 0 && h1 > 0 && w2 > 0 && h2 > 0))
		return 0;
	a = w1 / h1;
	b = w2 / h2;
	return fabs(a - b) <= FACE_ASPECT_TOL * (a < b ? a : b);
}

static void
hold(cJSON *held, const char *loser, const char *pid, const char *name,
    const char *keep, const char *why)
{
	cJSON *h = cJSON_CreateObject();
	char *d;

	d = xasprintf("it shows %s (person %s), whom the keeper %s does "
	    "not, and the face cannot be copied faithfully: %s", name, pid,
	    keep ? keep : "(no id)", why);
	cJSON_AddStringToObject(h, "asset", loser);
	cJSON_AddStringToObject(h, "person", pid);
	cJSON_AddStringToObject(h, "detail", d);
	cJSON_AddItemToArray(held, h);
	free(d);
}

/* The list's entry whose key is id, or NULL. */
static cJSON *
find_by(const cJSON *list, const char *key, const char *id)
{
	cJSON *c;

	cJSON_ArrayForEach(c, list)
		if (rec_str(c, key) && strcmp(rec_str(c, key), id) == 0)
			return c;
	return NULL;
}

/* A face change for person pid already. */
static int
has_face(const cJSON *changes, const char *pid)
{
	const cJSON *c;
	const char *p;

	cJSON_ArrayForEach(c, changes)
		if ((p = rec_str(rec_get(c, "value"), "personId")) &&
		    strcmp(p, pid) == 0 && rec_str(c, "field") &&
		    strcmp(rec_str(c, "field"), "face") == 0)
			return 1;
	return 0;
}

/*
 * Face f of loser l scaled to the keeper k: the change's value, or NULL
 * with why (static text, or written into buf).
 */
static cJSON *
scale(const cJSON *k, const cJSON *l, const cJSON *f, const char **why,
    char *buf, size_t bufsz)
{
	long fw, fh, x1, y1, x2, y2, x, y, xe, ye;
	double kw, kh, sx, sy;
	cJSON *v;

	if (cJSON_IsTrue(rec_get(k, "isEdited"))) {
		*why = "the keeper has edits (Immich would map the box "
		    "through them)";
		return NULL;
	}
	if (cJSON_IsTrue(rec_get(l, "isEdited"))) {
		*why = "the loser has edits (its boxes are in the edited "
		    "image)";
		return NULL;
	}
	if (!num(k, "width", &kw) || !num(k, "height", &kh) || kw < 1 ||
	    kh < 1 || kw != floor(kw) || kh != floor(kh)) {
		*why = "the keeper's size (width, height) is unknown";
		return NULL;
	}
	if (!whole(f, "imageWidth", &fw) || !whole(f, "imageHeight", &fh) ||
	    fw < 1 || fh < 1) {
		*why = "the face has no image size";
		return NULL;
	}
	if (!whole(f, "boundingBoxX1", &x1) || !whole(f, "boundingBoxY1", &y1) ||
	    !whole(f, "boundingBoxX2", &x2) || !whole(f, "boundingBoxY2", &y2) ||
	    x2 <= x1 || y2 <= y1) {
		*why = "the face has no usable box";
		return NULL;
	}
	if (!face_same_aspect(kw, kh, fw, fh)) {
		snprintf(buf, bufsz, "the keeper is %.0fx%.0f, the face's "
		    "image %ldx%ld: aspect ratios more than %g%% apart", kw,
		    kh, fw, fh, FACE_ASPECT_TOL * 100);
		*why = buf;
		return NULL;
	}
	sx = kw / fw;
	sy = kh / fh;
	x = lround(x1 * sx);
	y = lround(y1 * sy);
	xe = lround(x2 * sx);
	ye = lround(y2 * sy);
	/* Within the keeper's frame (a detector's box may stick out). */
	x = x < 0 ? 0 : x;
	y = y < 0 ? 0 : y;
	xe = xe > (long)kw ? (long)kw : xe;
	ye = ye > (long)kh ? (long)kh : ye;
	if (xe <= x || ye <= y) {
		*why = "the face's box is outside its image";
		return NULL;
	}
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "personId", rec_str(rec_get(f, "person"),
	    "id"));
	cJSON_AddStringToObject(v, "name", rec_str(rec_get(f, "person"),
	    "name"));
	cJSON_AddNumberToObject(v, "imageWidth", kw);
	cJSON_AddNumberToObject(v, "imageHeight", kh);
	cJSON_AddNumberToObject(v, "x", x);
	cJSON_AddNumberToObject(v, "y", y);
	cJSON_AddNumberToObject(v, "width", xe - x);
	cJSON_AddNumberToObject(v, "height", ye - y);
	return v;
}

int
face_plan(const struct face_in *in, cJSON *changes, cJSON *held)
{
	const cJSON *f, *p, *lf, *kpeople = rec_get(in->keeper, "people");
	const char *pid, *name, *lid, *why = NULL, *keep = rec_str(in->keeper, "id");
	cJSON *v, *c, *mine, *pend = cJSON_CreateArray(), *h, *next;
	char buf[160];
	int i, n = 0;

	for (i = 0; i < in->nlosers; i++) {
		lid = rec_str(in->losers[i], "id");
		mine = cJSON_CreateObject();	/* people copied from it */
		lf = in->faces ? in->faces[i] : NULL;
		cJSON_ArrayForEach(f, lf) {
			p = rec_get(f, "person");
			name = rec_str(p, "name");
			if (!cJSON_IsObject(p) || name == NULL || *name == '\0')
				continue;	/* no one named it */
			pid = rec_str(p, "id");
			if (pid == NULL || !valid_uuid(pid)) {
				hold(held, lid, pid ? pid : "", name, keep,
				    "the person has no id");
				n++;
				continue;
			}
			/* Every face of a person from the first loser it
			 * can be copied from. */
			if (rec_has_id(kpeople, pid) || (has_face(changes,
			    pid) && !rec_get(mine, pid)))
				continue;
			if ((v = scale(in->keeper, in->losers[i], f, &why,
			    buf, sizeof(buf))) == NULL) {
				if (!find_by(pend, "person", pid))
					hold(pend, lid, pid, name, keep, why);
				continue;
			}
			if (!rec_get(mine, pid))
				cJSON_AddTrueToObject(mine, pid);
			c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "field", "face");
			cJSON_AddItemToObject(c, "value", v);
			cJSON_AddStringToObject(c, "from", lid);
			cJSON_AddNullToObject(c, "was");
			cJSON_AddItemToArray(changes, c);
		}
		cJSON_Delete(mine);
	}
	/* Held: a person no loser's face could be copied from. */
	for (h = pend->child; h; h = next) {
		next = h->next;
		if (has_face(changes, rec_str(h, "person")))
			continue;
		cJSON_AddItemToArray(held, cJSON_DetachItemViaPointer(pend, h));
		n++;
	}
	cJSON_Delete(pend);
	return n;
}

const char *
face_find(const cJSON *c, const cJSON *faces)
{
	const cJSON *v = rec_get(c, "value"), *f;
	const char *pid = rec_str(v, "personId"), *fp;
	double x, y, w, h, iw, ih, a, b, d, e, fw, fh;

	if (pid == NULL || !num(v, "x", &x) || !num(v, "y", &y) ||
	    !num(v, "width", &w) || !num(v, "height", &h) ||
	    !num(v, "imageWidth", &iw) || !num(v, "imageHeight", &ih))
		return NULL;
	cJSON_ArrayForEach(f, faces) {
		fp = rec_str(rec_get(f, "person"), "id");
		if (fp == NULL || strcmp(fp, pid) != 0 ||
		    !valid_uuid(rec_str(f, "id")) ||
		    !num(f, "boundingBoxX1", &a) ||
		    !num(f, "boundingBoxY1", &b) ||
		    !num(f, "boundingBoxX2", &d) ||
		    !num(f, "boundingBoxY2", &e) ||
		    !num(f, "imageWidth", &fw) || !num(f, "imageHeight", &fh))
			continue;
		if (a == x && b == y && d == x + w && e == y + h && fw == iw &&
		    fh == ih)
			return rec_str(f, "id");
	}
	return NULL;
}

cJSON *
face_body(const cJSON *c, const char *keep)
{
	static const char *const keys[] = { "imageWidth", "imageHeight", "x",
	    "y", "width", "height", NULL };
	const cJSON *v = rec_get(c, "value");
	cJSON *b = cJSON_CreateObject();
	int i;

	cJSON_AddStringToObject(b, "assetId", keep);
	cJSON_AddStringToObject(b, "personId", rec_str(v, "personId"));
	for (i = 0; keys[i]; i++)
		cJSON_AddItemToObject(b, keys[i],
		    cJSON_Duplicate(rec_get(v, keys[i]), 1));
	return b;
}

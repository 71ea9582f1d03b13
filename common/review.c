/* SPDX-License-Identifier: ISC */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/review.h"
#include "common/rules.h"
#include "common/util.h"

#define GPS_MAX_M	100.0	/* farther apart: a GPS conflict */
#define DATE_MAX_S	60.0	/* farther apart: a date conflict */
#define DUR_MAX_MS	1000.0	/* longer difference: a duration conflict */

static void
add(cJSON *review, const char *code, const char *asset, const char *fmt,
    ...)
{
	cJSON *o = cJSON_CreateObject();
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	cJSON_AddStringToObject(o, "code", code);
	if (asset)
		cJSON_AddStringToObject(o, "asset", asset);
	else
		cJSON_AddNullToObject(o, "asset");
	cJSON_AddStringToObject(o, "detail", s ? s : "");
	cJSON_AddItemToArray(review, o);
	free(s);
}

/* A string quoted, or the word none: three %s. */
#define Q(s)	(s) ? "\"" : "", (s) ? (s) : "none", (s) ? "\"" : ""

static const char *
or_none(const char *s)
{
	return s ? s : "none";
}

/* A loser's make/model or lens the keeper lacks or has otherwise. */
static void
camera(cJSON *rv, const cJSON *l, const cJSON *k, const char *id)
{
	const char *lm = exif_str(l, "make"), *lo = exif_str(l, "model");
	const char *km = exif_str(k, "make"), *ko = exif_str(k, "model");
	const char *ll = exif_str(l, "lensModel"), *kl = exif_str(k,
	    "lensModel");

	if ((lm && (!km || strcasecmp(lm, km))) ||
	    (lo && (!ko || strcasecmp(lo, ko))))
		add(rv, "camera", id, "make %s%s%s, model %s%s%s; keeper: "
		    "make %s%s%s, model %s%s%s", Q(lm), Q(lo), Q(km), Q(ko));
	if (ll && (!kl || strcasecmp(ll, kl)))
		add(rv, "lens", id, "lens \"%s\"; keeper: %s%s%s", ll,
		    Q(kl));
}

/*
 * A person someone named on the loser whom the keeper does not show.
 * (GET /duplicates gives every asset "people": [] on Immich 3.x, so this
 * fires only where a server fills them in; immich-trash checks the
 * loser's people on the server before it deletes.)
 */
static void
people(cJSON *rv, const cJSON *l, const cJSON *k, const char *id)
{
	const cJSON *lp = cJSON_GetObjectItemCaseSensitive(l, "people");
	const cJSON *kp = cJSON_GetObjectItemCaseSensitive(k, "people");
	const cJSON *x, *y;
	const char *name, *pid, *kid;
	int seen;

	cJSON_ArrayForEach(x, lp) {
		name = asset_str(x, "name");
		if ((pid = asset_str(x, "id")) == NULL || name == NULL ||
		    !*name)
			continue;
		seen = 0;
		cJSON_ArrayForEach(y, kp)
			if ((kid = asset_str(y, "id")) && !strcmp(kid, pid))
				seen = 1;
		if (!seen)
			add(rv, "people", id, "shows %s (person %s); the keeper "
			    "does not", name, pid);
	}
}

static int
has_value(const cJSON *a, const char *key)
{
	const cJSON *x = asset_exif(a), *v;

	v = x ? cJSON_GetObjectItemCaseSensitive(x, key) : NULL;
	return (cJSON_IsString(v) && v->valuestring[0]) ||
	    (cJSON_IsNumber(v) && v->valuedouble != 0);
}

static void
exposure(cJSON *rv, const cJSON *l, const cJSON *k, const char *id)
{
	static const char *const keys[] = {
		"fNumber", "exposureTime", "iso", "focalLength", NULL
	};
	char buf[128] = "";
	int i;

	for (i = 0; keys[i]; i++)
		if (has_value(l, keys[i]) && !has_value(k, keys[i])) {
			if (buf[0])
				strcat(buf, ", ");
			strcat(buf, keys[i]);
		}
	if (buf[0])
		add(rv, "exposure", id, "%s missing on the keeper", buf);
}

/* GPS: keeper and loser both located far apart; or the keeper has none
 * and the losers disagree (consolidation then copies nothing). */
static void
gps(cJSON *rv, cJSON *const *a, int n, int keep, int i, const char *id)
{
	double la, lo, kla, klo, d;
	int j;

	if (!asset_gps(a[i], &la, &lo))
		return;
	if (asset_gps(a[keep], &kla, &klo)) {
		if ((d = haversine_m(la, lo, kla, klo)) > GPS_MAX_M)
			add(rv, "gps-conflict", id, "%.0f m from the keeper's "
			    "location (%.6f,%.6f vs %.6f,%.6f)", d, la, lo,
			    kla, klo);
		return;
	}
	for (j = 0; j < n; j++)
		if (j != keep && j != i && asset_gps(a[j], &kla, &klo) &&
		    (d = haversine_m(la, lo, kla, klo)) > GPS_MAX_M) {
			add(rv, "gps-conflict", id, "keeper has no location; "
			    "%.0f m from %s's", d, or_none(asset_str(a[j],
			    "id")));
			return;
		}
}

static void
date(cJSON *rv, cJSON *const *a, int n, int keep, int i, const char *id)
{
	double t, kt, d;
	int j;

	if (!asset_taken(a[i], &t))
		return;
	/* A keeper whose date is only its file's has no capture time:
	 * consolidation gives it the losers' (if they agree). */
	if (asset_taken(a[keep], &kt) && !asset_file_dated(a[keep])) {
		if ((d = fabs(t - kt)) > DATE_MAX_S)
			add(rv, "date-conflict", id, "taken %s, keeper %s "
			    "(%.0f s apart)", exif_str(a[i],
			    "dateTimeOriginal"), exif_str(a[keep],
			    "dateTimeOriginal"), d);
		return;
	}
	for (j = 0; j < n; j++)
		if (j != keep && j != i && asset_taken(a[j], &kt) &&
		    (d = fabs(t - kt)) > DATE_MAX_S) {
			add(rv, "date-conflict", id, "keeper has %s; %.0f s "
			    "from %s's", asset_file_dated(a[keep]) ? "only its "
			    "file date" : "no capture time", d,
			    or_none(asset_str(a[j], "id")));
			return;
		}
}

/* 0 none, 1 rejected (-1), 2 rated (1..5), -1 not a valid rating. */
static int
rating(const cJSON *a, double *v)
{
	const cJSON *x = asset_exif(a), *r;

	r = x ? cJSON_GetObjectItemCaseSensitive(x, "rating") : NULL;
	if (r == NULL || cJSON_IsNull(r))
		return 0;
	if (!cJSON_IsNumber(r) || !isfinite(r->valuedouble))
		return -1;
	*v = r->valuedouble;
	if (*v == 0)
		return 0;
	if (*v == -1)
		return 1;
	if (*v >= 1 && *v <= 5 && *v == floor(*v))
		return 2;
	return -1;
}

static void
ratings(cJSON *rv, cJSON *const *a, int n, int i, const char *id)
{
	double v = 0, w = 0;
	int c, j;

	if ((c = rating(a[i], &v)) == -1) {
		add(rv, "rating-conflict", id, "rating is not -1..5");
		return;
	}
	if (c == 0)
		return;
	for (j = 0; j < n; j++)
		if (j != i && rating(a[j], &w) == 3 - c) {
			add(rv, "rating-conflict", id, "rating %g here, %g on "
			    "%s (rejected and rated)", v, w,
			    or_none(asset_str(a[j], "id")));
			return;
		}
}

static void
description(cJSON *rv, const cJSON *l, const char *id)
{
	const cJSON *x = asset_exif(l), *d;

	d = x ? cJSON_GetObjectItemCaseSensitive(x, "description") : NULL;
	if (d && !cJSON_IsNull(d) && !cJSON_IsString(d))
		add(rv, "description-conflict", id, "description is not text");
}

static int
is_video(const cJSON *a)
{
	const char *t = asset_str(a, "type");

	return t && strcmp(t, "VIDEO") == 0;
}

static void
duration(cJSON *rv, const cJSON *l, const cJSON *k, const char *id)
{
	double dl, dk;

	if (is_video(l) && is_video(k) && asset_duration(l, &dl) &&
	    asset_duration(k, &dk) && fabs(dl - dk) > DUR_MAX_MS)
		add(rv, "duration", id, "%.3f s long, keeper %.3f s",
		    dl / 1000, dk / 1000);
}

/* A base name without its extension, for RAW+JPEG pairing. */
static size_t
stem(const cJSON *a, const char **s)
{
	const char *e;

	if ((*s = asset_str(a, "originalFileName")) == NULL)
		return 0;
	e = strrchr(*s, '.');
	return e ? (size_t)(e - *s) : strlen(*s);
}

static int
pair(const cJSON *x, const cJSON *y)
{
	const char *sx, *sy;
	size_t nx, ny;
	double tx, ty;

	if (!((asset_format(x) == 2 && asset_is_jpeg(y)) ||
	    (asset_format(y) == 2 && asset_is_jpeg(x))))
		return 0;
	nx = stem(x, &sx);
	ny = stem(y, &sy);
	if (nx && nx == ny && strncasecmp(sx, sy, nx) == 0)
		return 1;
	return asset_taken(x, &tx) && asset_taken(y, &ty) &&
	    fabs(tx - ty) < 1;
}

static void
loser(cJSON *rv, cJSON *const *a, int n, int keep, int i)
{
	const cJSON *l = a[i], *k = a[keep], *lib;
	const char *id = asset_str(l, "id"), *lt, *kt;
	int j;

	lt = asset_str(l, "type");
	kt = asset_str(k, "type");
	if ((lt || kt) && (!lt || !kt || strcmp(lt, kt)))
		add(rv, "mixed-types", id, "%s, keeper %s", or_none(lt),
		    or_none(kt));
	camera(rv, l, k, id);
	people(rv, l, k, id);
	exposure(rv, l, k, id);
	gps(rv, a, n, keep, i, id);
	date(rv, a, n, keep, i, id);
	description(rv, l, id);
	ratings(rv, a, n, i, id);
	duration(rv, l, k, id);
	if (asset_true(l, "isEdited"))
		add(rv, "edited", id, "has edits, which trashing it loses");
	lib = cJSON_GetObjectItemCaseSensitive(l, "libraryId");
	if (lib && !cJSON_IsNull(lib))
		add(rv, "external", id, "from external library %s",
		    cJSON_IsString(lib) ? lib->valuestring : "?");
	if (asset_str(l, "livePhotoVideoId") &&
	    !asset_str(k, "livePhotoVideoId"))
		add(rv, "live-photo", id, "has live-photo video %s; the keeper "
		    "has none", asset_str(l, "livePhotoVideoId"));
	for (j = 0; j < n; j++)
		if (j != i && pair(l, a[j])) {
			add(rv, "raw-jpeg", id, "RAW+JPEG pair with %s",
			    or_none(asset_str(a[j], "id")));
			break;
		}
}

void
review_group(cJSON *rv, cJSON *const *a, int n, int keep)
{
	int i;

	if (n < 2)
		add(rv, "missing", NULL, "group has %d asset%s", n,
		    n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		const char *id = asset_str(a[i], "id");

		if (i != keep)
			loser(rv, a, n, keep, i);
		if (asset_true(a[i], "isTrashed"))
			add(rv, "trashed", id, "%s is in the trash",
			    i == keep ? "keeper" : "asset");
		if (asset_true(a[i], "isOffline"))
			add(rv, "offline", id, "%s is offline",
			    i == keep ? "keeper" : "asset");
	}
}

void
codes_add(struct codes *c, const char *list)
{
	char *copy = xstrdup(list), *p = copy, *tok;

	while ((tok = strsep(&p, ",")) != NULL) {
		if (*tok == '\0')
			continue;
		c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
		c->v[c->n++] = xstrdup(tok);
	}
	free(copy);
}

int
codes_has(const struct codes *c, const char *code)
{
	size_t i;

	for (i = 0; code && i < c->n; i++)
		if (strcmp(c->v[i], code) == 0)
			return 1;
	return 0;
}

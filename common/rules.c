/* SPDX-License-Identifier: ISC */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ndjson.h"
#include "common/rules.h"
#include "common/util.h"

enum {
	R_ONLINE, R_INTERNAL, R_EDITED, R_UNEDITED, R_PIXELS, R_FORMAT,
	R_SIZE, R_EXIF, R_OLDEST, R_FAVORITE, R_SUGGESTED, R_ID, R_N
};

static const char *const names[R_N] = {
	"online", "internal", "edited", "unedited", "pixels", "format",
	"size", "exif", "oldest", "favorite", "suggested", "id"
};

/* Camera RAW extensions (also the last part of image/x-VENDOR-EXT). */
static const char *const raw_ext[] = {
	"3fr", "ari", "arw", "cap", "cin", "cr2", "cr3", "crw", "dcr", "dng",
	"erf", "fff", "iiq", "k25", "kdc", "mef", "mos", "mrw", "nef", "nrw",
	"orf", "ori", "pef", "raf", "raw", "rw2", "rwl", "sr2", "srf", "srw",
	"x3f", NULL
};
static const char *const heif_ext[] = {
	"heic", "heif", "hif", "avif", "jxl", NULL
};

const char *
rules_names(void)
{
	return "online, internal, edited, unedited, pixels, format, size, "
	    "exif, oldest, favorite, suggested, id";
}

int
rules_parse(const char *spec, struct rules *r, char *err, size_t errsz)
{
	const char *p = spec, *e;
	size_t len;
	int i;

	r->n = 0;
	for (;;) {
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < R_N; i++)
			if (strlen(names[i]) == len &&
			    strncmp(p, names[i], len) == 0)
				break;
		if (i == R_N) {
			snprintf(err, errsz, "unknown rule \"%.*s\" "
			    "(rules: %s)", (int)(len > 40 ? 40 : len), p,
			    rules_names());
			return -1;
		}
		if (r->n == RULES_MAX) {
			snprintf(err, errsz, "too many rules");
			return -1;
		}
		r->rule[r->n++] = i;
		if (e == NULL)
			return 0;
		p = e + 1;
	}
}

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

const char *
asset_str(const cJSON *a, const char *key)
{
	return str_of(a, key);
}

const char *
exif_str(const cJSON *a, const char *key)
{
	const cJSON *x = asset_exif(a);

	return x ? str_of(x, key) : NULL;
}

static int
num_of(const cJSON *o, const char *key, double *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble))
		return 0;
	*v = n->valuedouble;
	return 1;
}

int
exif_num(const cJSON *a, const char *key, double *v)
{
	const cJSON *x = asset_exif(a);

	return x ? num_of(x, key, v) : 0;
}

int
asset_true(const cJSON *a, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, key));
}

double
asset_pixels(const cJSON *a)
{
	double w, h;

	if (num_of(a, "width", &w) && num_of(a, "height", &h) && w > 0 &&
	    h > 0)
		return w * h;
	if (exif_num(a, "exifImageWidth", &w) &&
	    exif_num(a, "exifImageHeight", &h) && w > 0 && h > 0)
		return w * h;
	return 0;
}

static int
in_list(const char *s, size_t len, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == len && strncasecmp(s, *list, len) == 0)
			return 1;
	return 0;
}

/* The lower-case-insensitive extension of the file name, else the part
 * of the MIME type after the last '/' or '-'. */
static const char *
ext_of(const cJSON *a, size_t *len)
{
	const char *s, *e;

	if ((s = asset_str(a, "originalFileName")) &&
	    (e = strrchr(s, '.')) && e[1] && !strchr(e, '/')) {
		*len = strlen(e + 1);
		return e + 1;
	}
	if ((s = asset_str(a, "originalMimeType")) &&
	    (e = strrchr(s, '/')) && e[1]) {
		s = e + 1;
		if ((e = strrchr(s, '-')) && e[1])
			s = e + 1;
		*len = strlen(s);
		return s;
	}
	return NULL;
}

int
asset_format(const cJSON *a)
{
	const char *e;
	size_t len;

	if ((e = ext_of(a, &len)) == NULL)
		return 0;
	if (in_list(e, len, raw_ext))
		return 2;
	if (in_list(e, len, heif_ext))
		return 1;
	return 0;
}

int
asset_is_jpeg(const cJSON *a)
{
	static const char *const jpeg[] = { "jpg", "jpeg", "jpe", NULL };
	const char *e;
	size_t len;

	return (e = ext_of(a, &len)) && in_list(e, len, jpeg);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char **p, int n, long *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
		(*p)++;
	}
	return 0;
}

int
parse_instant(const char *s, double *t)
{
	long y, mo, d, h, mi, sec = 0, oh = 0, om = 0;
	double frac = 0, scale = 0.1;
	int sign = 0;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) || (*s != 'T' && *s != 't' &&
	    *s != ' ') || (s++, digits(&s, 2, &h)) || *s++ != ':' ||
	    digits(&s, 2, &mi))
		return -1;
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &sec))
			return -1;
		if (*s == '.' || *s == ',') {
			s++;
			if (!isdigit((unsigned char)*s))
				return -1;
			for (; isdigit((unsigned char)*s); s++, scale /= 10)
				frac += (*s - '0') * scale;
		}
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh))
			return -1;
		if (*s == ':')
			s++;
		if (*s && digits(&s, 2, &om))
			return -1;
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 ||
	    mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -1;
	*t = (double)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec + frac - sign * (oh * 3600 + om * 60);
	return 0;
}

int
asset_taken(const cJSON *a, double *t)
{
	const char *s = exif_str(a, "dateTimeOriginal");

	return s && parse_instant(s, t) == 0;
}

int
asset_file_dated(const cJSON *a)
{
	const cJSON *x = asset_exif(a), *tz;
	const char *s;
	double t, m, l;

	if (!asset_taken(a, &t) || exif_str(a, "make") ||
	    exif_str(a, "model"))
		return 0;
	tz = x ? cJSON_GetObjectItemCaseSensitive(x, "timeZone") : NULL;
	if (tz && !cJSON_IsNull(tz))
		return 0;
	if ((s = exif_str(a, "modifyDate")) == NULL ||
	    parse_instant(s, &m) < 0 ||
	    (s = asset_str(a, "localDateTime")) == NULL ||
	    parse_instant(s, &l) < 0)
		return 0;
	return fabs(t - m) < 0.0005 && fabs(t - l) < 0.0005;
}

int
asset_duration(const cJSON *a, double *ms)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "duration");
	const char *s;
	double sec, part;
	int n = 0;
	char *end;

	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble >= 0) {
		*ms = v->valuedouble;
		return 1;
	}
	if (!cJSON_IsString(v))
		return 0;
	/* "H:MM:SS.ffffff": only the last part may have a fraction. */
	sec = 0;
	for (s = v->valuestring; ; s = end + 1) {
		if (!isdigit((unsigned char)*s) || ++n > 3)
			return 0;
		part = strtod(s, &end);
		if (!isfinite(part))
			return 0;
		sec = sec * 60 + part;
		if (*end == '\0')
			break;
		if (*end != ':' || memchr(s, '.', end - s))
			return 0;
	}
	*ms = sec * 1000;
	return 1;
}

int
asset_gps(const cJSON *a, double *lat, double *lon)
{
	return exif_num(a, "latitude", lat) && exif_num(a, "longitude", lon) &&
	    *lat >= -90 && *lat <= 90 && *lon >= -180 && *lon <= 180 &&
	    (*lat != 0 || *lon != 0);
}

int
exif_count(const cJSON *a)
{
	const cJSON *x = asset_exif(a), *v;
	int n = 0;

	if (x == NULL)
		return 0;
	cJSON_ArrayForEach(v, x) {
		if (cJSON_IsTrue(v) || (cJSON_IsString(v) &&
		    v->valuestring[0]) || (cJSON_IsNumber(v) &&
		    v->valuedouble != 0) || cJSON_IsObject(v) ||
		    cJSON_IsArray(v))
			n++;
	}
	return n;
}

double
haversine_m(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371008.8, rad = M_PI / 180;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad, h;

	h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) *
	    cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	if (h > 1)
		h = 1;
	return 2 * r * asin(sqrt(h));
}

static int
suggested(const cJSON *a, const cJSON *sugg)
{
	return cJSON_IsArray(sugg) && rec_has_str(sugg, asset_str(a, "id"));
}

/* Higher is better. */
static double
score(int rule, const cJSON *a, const cJSON *sugg)
{
	const cJSON *v;
	double d;

	switch (rule) {
	case R_ONLINE:
		return !asset_true(a, "isTrashed") &&
		    !asset_true(a, "isOffline");
	case R_INTERNAL:
		v = cJSON_GetObjectItemCaseSensitive(a, "libraryId");
		return v == NULL || cJSON_IsNull(v);
	case R_EDITED:
		return asset_true(a, "isEdited");
	case R_UNEDITED:
		return !asset_true(a, "isEdited");
	case R_PIXELS:
		return asset_pixels(a);
	case R_SIZE:
		return exif_num(a, "fileSizeInByte", &d) && d > 0 ? d : 0;
	case R_EXIF:
		return exif_count(a);
	case R_OLDEST:
		if (asset_taken(a, &d))
			return -d;
		if ((v = cJSON_GetObjectItemCaseSensitive(a,
		    "fileCreatedAt")) && cJSON_IsString(v) &&
		    parse_instant(v->valuestring, &d) == 0)
			return -d;
		return -INFINITY;
	case R_FAVORITE:
		return asset_true(a, "isFavorite");
	case R_SUGGESTED:
		return suggested(a, sugg);
	}
	return 0;
}

/*
 * format: of the format classes present, the best one whose largest
 * image has at least as many pixels as every other candidate wins.  So
 * a RAW or HEIF file beats a JPEG only with equal or more pixels.
 */
static int
by_format(cJSON *const *a, int *c, int n)
{
	double best[3] = { -1, -1, -1 };
	int t, i, m, cls;

	for (i = 0; i < n; i++) {
		cls = asset_format(a[c[i]]);
		if (asset_pixels(a[c[i]]) > best[cls])
			best[cls] = asset_pixels(a[c[i]]);
	}
	for (t = 2; t > 0; t--) {
		if (best[t] < 0)
			continue;
		for (i = 0; i < 3; i++)
			if (i != t && best[i] > best[t])
				break;
		if (i < 3)
			continue;
		for (i = m = 0; i < n; i++)
			if (asset_format(a[c[i]]) == t)
				c[m++] = c[i];
		return m;
	}
	return n;
}

int
rules_pick(const struct rules *r, cJSON *const *a, int n, const cJSON *sugg,
    const char **why)
{
	int *c, i, j, m, best;
	double *s, top;

	*why = "id";
	if (n <= 1)
		return 0;
	c = xcalloc(n, sizeof(*c));
	s = xcalloc(n, sizeof(*s));
	for (i = 0; i < n; i++)
		c[i] = i;
	for (j = 0; j < r->n && n > 1; j++) {
		if (r->rule[j] == R_ID)
			break;
		if (r->rule[j] == R_FORMAT)
			m = by_format(a, c, n);
		else {
			top = -INFINITY;
			for (i = 0; i < n; i++) {
				s[i] = score(r->rule[j], a[c[i]], sugg);
				if (s[i] > top)
					top = s[i];
			}
			for (i = m = 0; i < n; i++)
				if (s[i] == top)
					c[m++] = c[i];
		}
		if (m == 1) {
			*why = names[r->rule[j]];
			best = c[0];
			goto out;
		}
		n = m;
	}
	/* The lowest id; ids were checked to be strings by the caller. */
	best = c[0];
	for (i = 1; i < n; i++)
		if (strcmp(asset_str(a[c[i]], "id"),
		    asset_str(a[best], "id")) < 0)
			best = c[i];
out:
	free(c);
	free(s);
	return best;
}

/* SPDX-License-Identifier: ISC */
#include <sys/stat.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/asset.h"
#include "common/merge.h"
#include "common/ndjson.h"
#include "common/rules.h"
#include "common/util.h"

#define GPS_AGREE_M	100.0	/* losers' locations closer than this agree */
#define GPS_EPS		1e-6	/* a coordinate arrived if within this */
#define MAX_OFFSET	(18 * 3600)

static int
get_num(const cJSON *obj, const char *key, double *d)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(v))
		return 0;
	*d = v->valuedouble;
	return 1;
}

static int
get_gps(const cJSON *asset, double *lat, double *lon)
{
	const cJSON *e = asset_exif(asset);

	if (!get_num(e, "latitude", lat) || !get_num(e, "longitude", lon))
		return 0;
	/* (0, 0) is what broken writers store for "no location". */
	return *lat != 0 || *lon != 0;
}

/* Change list entries with this field and value (a string) already? */
static int
has_change(const cJSON *changes, const char *field, const char *value)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, changes) {
		const char *f = rec_str(c, "field"), *v = rec_str(c, "value");
		if (f && v && strcmp(f, field) == 0 && strcmp(v, value) == 0)
			return 1;
	}
	return 0;
}

static cJSON *
add_change(cJSON *changes, const char *field, cJSON *value, const char *from)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "field", field);
	cJSON_AddItemToObject(c, "value", value);
	cJSON_AddStringToObject(c, "from", from);
	cJSON_AddItemToArray(changes, c);
	return c;
}

static void
not_moved(cJSON *notmoved, const char *field, const char *from,
    const char *reason)
{
	cJSON *n = cJSON_CreateObject();

	cJSON_AddStringToObject(n, "field", field);
	cJSON_AddStringToObject(n, "from", from);
	cJSON_AddStringToObject(n, "reason", reason);
	cJSON_AddItemToArray(notmoved, n);
}

static void
plan_gps(const struct merge_in *in, cJSON *changes, cJSON *notmoved)
{
	double lat, lon, la, lo, lb, lob;
	int i, j, first = -1;
	cJSON *v;

	if (get_gps(in->keeper, &lat, &lon))
		return;
	for (i = 0; i < in->nlosers; i++) {
		if (!get_gps(in->losers[i], &la, &lo))
			continue;
		if (first < 0)
			first = i;
		for (j = 0; j < i; j++) {
			if (!get_gps(in->losers[j], &lb, &lob) ||
			    haversine_m(la, lo, lb, lob) <= GPS_AGREE_M)
				continue;
			not_moved(notmoved, "gps", rec_str(in->losers[i], "id"),
			    "the losers' locations are more than 100 m apart");
			return;
		}
	}
	if (first < 0)
		return;
	get_gps(in->losers[first], &la, &lo);
	v = cJSON_CreateObject();
	cJSON_AddNumberToObject(v, "latitude", la);
	cJSON_AddNumberToObject(v, "longitude", lo);
	add_change(changes, "gps", v, rec_str(in->losers[first], "id"));
}

int
merge_parse_instant(const char *s, long long *ms)
{
	struct tm tm;
	long long frac = 0, scale = 100;
	int n = 0, oh = 0, om = 0, sign = 0;
	time_t t;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || n != 19)
		return -1;
	s += n;
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++) {
			frac += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == 'Z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (!isdigit((unsigned char)s[0]) ||
		    !isdigit((unsigned char)s[1]))
			return -1;
		oh = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
		if (*s == ':')
			s++;
		if (isdigit((unsigned char)s[0]) &&
		    isdigit((unsigned char)s[1])) {
			om = (s[0] - '0') * 10 + (s[1] - '0');
			s += 2;
		}
	}
	if (*s != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60 || oh > 18 || om > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	t = timegm(&tm);
	*ms = ((long long)t - sign * (oh * 3600LL + om * 60)) * 1000 + frac;
	return 0;
}

/* "UTC", "UTC+2", "UTC-05:30", "GMT+1", "+02:00", "Z". */
static int
fixed_offset(const char *tz, long *off)
{
	int h = 0, m = 0, n = 0, sign;

	if (strncmp(tz, "UTC", 3) == 0 || strncmp(tz, "GMT", 3) == 0)
		tz += 3;
	if (*tz == '\0' || strcmp(tz, "Z") == 0) {
		*off = 0;
		return 0;
	}
	if (*tz != '+' && *tz != '-')
		return -1;
	sign = *tz++ == '-' ? -1 : 1;
	if (sscanf(tz, "%2d%n", &h, &n) != 1 || !isdigit((unsigned char)*tz))
		return -1;
	tz += n;
	if (*tz == ':')
		tz++;
	if (*tz != '\0') {
		if (sscanf(tz, "%2d%n", &m, &n) != 1 || n != 2 ||
		    tz[n] != '\0')
			return -1;
	}
	if (h > 18 || m > 59)
		return -1;
	*off = sign * (h * 3600L + m * 60L);
	return 0;
}

/* An IANA name, looked up in the system's time zone database. */
static int
iana_offset(const char *tz, long long ms, long *off)
{
	const char *dir = getenv("TZDIR"), *p;
	char *path, *old = NULL;
	struct stat st;
	struct tm tm;
	time_t t;
	int ok;

	if (!isalpha((unsigned char)*tz) || strstr(tz, ".."))
		return -1;
	for (p = tz; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return -1;
	path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
	    tz);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	if (!ok)
		return -1;
	if (getenv("TZ"))
		old = xstrdup(getenv("TZ"));
	setenv("TZ", tz, 1);
	tzset();
	t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	ok = localtime_r(&t, &tm) != NULL;
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else
		unsetenv("TZ");
	tzset();
	if (!ok)
		return -1;
	*off = tm.tm_gmtoff;
	return 0;
}

int
merge_zone_offset(const char *tz, long long ms, long *off)
{
	if (tz == NULL)
		return -1;
	if (fixed_offset(tz, off) == 0 || iana_offset(tz, ms, off) == 0)
		return 0;
	return -1;
}

/*
 * The loser's capture time as ISO 8601 with the offset of its own time
 * zone: exifInfo.timeZone if it names a fixed offset or a zone in the
 * database; else the difference between localDateTime (its wall clock
 * written as UTC) and dateTimeOriginal; else UTC.
 */
static char *
render_date(const cJSON *asset, long long ms)
{
	const char *tz = rec_str(asset_exif(asset), "timeZone");
	long long local, loc;
	long off;
	time_t t;
	struct tm tm;
	char z[16];

	if (merge_zone_offset(tz, ms, &off) < 0) {
		if (merge_parse_instant(rec_str(asset, "localDateTime"),
		    &loc) == 0 && llabs(loc - ms) <= MAX_OFFSET * 1000LL)
			off = (loc - ms) / 1000;
		else
			off = 0;
	}
	if (labs(off) > MAX_OFFSET)
		off = 0;
	off = (off >= 0 ? off + 30 : off - 30) / 60 * 60;
	local = ms + off * 1000LL;
	t = (time_t)(local >= 0 ? local / 1000 : -((-local + 999) / 1000));
	gmtime_r(&t, &tm);
	snprintf(z, sizeof(z), "%c%02d:%02d", off < 0 ? '-' : '+',
	    (int)(labs(off) / 3600 % 100), (int)(labs(off) % 3600 / 60));
	return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03lld%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, local - (long long)t * 1000, z);
}

static void
plan_date(const struct merge_in *in, cJSON *changes, cJSON *notmoved)
{
	long long ms, first_ms = 0;
	int i, first = -1, filed = asset_file_dated(in->keeper);
	char *s;

	/* A keeper dated only by its file takes a loser's capture time (one
	 * not dated by its file either). */
	if (merge_parse_instant(rec_str(asset_exif(in->keeper), "dateTimeOriginal"),
	    &ms) == 0 && !filed)
		return;
	for (i = 0; i < in->nlosers; i++) {
		if (filed && asset_file_dated(in->losers[i]))
			continue;
		if (merge_parse_instant(rec_str(asset_exif(in->losers[i]),
		    "dateTimeOriginal"), &ms) < 0)
			continue;
		if (first < 0) {
			first = i;
			first_ms = ms;
		} else if (llabs(ms - first_ms) >= 1000) {
			not_moved(notmoved, "dateTimeOriginal",
			    rec_str(in->losers[i], "id"),
			    "the losers' capture times differ");
			return;
		}
	}
	if (first < 0)
		return;
	s = render_date(in->losers[first], first_ms);
	add_change(changes, "dateTimeOriginal", cJSON_CreateString(s),
	    rec_str(in->losers[first], "id"));
	free(s);
}

/* Append text's non-blank lines not yet contained in *acc. */
static int
merge_lines(char **acc, const char *text)
{
	const char *p = text, *e;
	size_t len;
	char *line, *n;
	int added = 0;

	while (*p) {
		e = p + strcspn(p, "\n");
		while (p < e && isspace((unsigned char)*p))
			p++;
		len = e - p;
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len > 0) {
			line = xasprintf("%.*s", (int)len, p);
			if (strstr(*acc, line) == NULL) {
				n = xasprintf("%s%s%s", *acc, **acc ? "\n" : "",
				    line);
				free(*acc);
				*acc = n;
				added = 1;
			}
			free(line);
		}
		p = *e ? e + 1 : e;
	}
	return added;
}

static int
blank(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

static void
plan_description(const struct merge_in *in, cJSON *changes)
{
	const char *kd = rec_str(asset_exif(in->keeper), "description"), *d;
	const char *from = NULL;
	char *acc;
	int i;

	acc = xstrdup(blank(kd) ? "" : kd);
	for (i = 0; i < in->nlosers; i++) {
		d = rec_str(asset_exif(in->losers[i]), "description");
		if (blank(d))
			continue;
		if (*acc == '\0') {
			/* The keeper has none: the first one verbatim. */
			free(acc);
			acc = xstrdup(d);
			from = rec_str(in->losers[i], "id");
		} else if (merge_lines(&acc, d) && from == NULL)
			from = rec_str(in->losers[i], "id");
	}
	if (from)
		add_change(changes, "description", cJSON_CreateString(acc),
		    from);
	free(acc);
}

int
merge_valid_rating(double r)
{
	return r == floor(r) && (r == -1 || (r >= 1 && r <= 5));
}

/* A rating merge moves: one Immich takes that is not "rejected" (-1). */
static int
good_rating(double r)
{
	return merge_valid_rating(r) && r >= 1;
}

static void
plan_flags(const struct merge_in *in, cJSON *changes)
{
	const char *kv = rec_str(in->keeper, "visibility"), *v;
	double kr, r, best = 0;
	int i, bi = -1, fav = -1, arch = -1;

	for (i = 0; i < in->nlosers; i++) {
		if (get_num(asset_exif(in->losers[i]), "rating", &r) && r > best &&
		    good_rating(r)) {
			best = r;
			bi = i;
		}
		if (fav < 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		    in->losers[i], "isFavorite")))
			fav = i;
		v = rec_str(in->losers[i], "visibility");
		if (arch < 0 && v && strcmp(v, "archive") == 0)
			arch = i;
	}
	/* Only a positive rating moves; a keeper's -1 gives way to it. */
	if (bi >= 0 && (!get_num(asset_exif(in->keeper), "rating", &kr) ||
	    kr < best))
		add_change(changes, "rating", cJSON_CreateNumber((int)best),
		    rec_str(in->losers[bi], "id"));
	if (fav >= 0 && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    in->keeper, "isFavorite")))
		add_change(changes, "isFavorite", cJSON_CreateTrue(),
		    rec_str(in->losers[fav], "id"));
	/* Never hidden or locked; only timeline becomes archive. */
	if (arch >= 0 && kv && strcmp(kv, "timeline") == 0)
		add_change(changes, "visibility", cJSON_CreateString("archive"),
		    rec_str(in->losers[arch], "id"));
}

/* Each member of list (tags or albums, by id) that have lacks and no
 * change adds yet, as a change of field from loser from. */
static void
add_members(cJSON *changes, const char *field, const cJSON *list,
    const cJSON *have, const char *namekey, const char *from)
{
	const cJSON *t;
	const char *id;
	cJSON *c;

	if (!cJSON_IsArray(list))
		return;
	cJSON_ArrayForEach(t, list) {
		id = rec_str(t, "id");
		if (!valid_uuid(id) || rec_has_id(have, id) ||
		    has_change(changes, field, id))
			continue;
		c = add_change(changes, field, cJSON_CreateString(id), from);
		if (rec_str(t, namekey))
			cJSON_AddStringToObject(c, "name", rec_str(t, namekey));
	}
}

/* Tags and albums: the union, by id (every tag first, then albums). */
static void
plan_sets(const struct merge_in *in, cJSON *changes)
{
	int i;

	for (i = 0; i < in->nlosers; i++)
		add_members(changes, "tag", rec_get(in->losers[i], "tags"),
		    rec_get(in->keeper, "tags"), "value",
		    rec_str(in->losers[i], "id"));
	for (i = 0; in->loser_albums && i < in->nlosers; i++)
		add_members(changes, "album", in->loser_albums[i],
		    in->keeper_albums, "albumName",
		    rec_str(in->losers[i], "id"));
}

/* A copy of member key of obj, or JSON null when it has none. */
static cJSON *
was_of(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

/*
 * "was": the keeper's value of the change's field before it (JSON null
 * when it had none), as GET /assets/{id} gave it, so that an undo can put
 * it back.  A tag, album or face the keeper lacked: null.
 */
static void
add_was(cJSON *c, const cJSON *keeper)
{
	const char *f = rec_str(c, "field");
	const cJSON *e = asset_exif(keeper);
	cJSON *w = NULL;
	double lat, lon;

	if (f == NULL)
		return;
	if (strcmp(f, "gps") == 0) {
		if (get_num(e, "latitude", &lat) &&
		    get_num(e, "longitude", &lon)) {
			w = cJSON_CreateObject();
			cJSON_AddNumberToObject(w, "latitude", lat);
			cJSON_AddNumberToObject(w, "longitude", lon);
		}
	} else if (strcmp(f, "dateTimeOriginal") == 0 ||
	    strcmp(f, "description") == 0 || strcmp(f, "rating") == 0)
		w = was_of(e, f);
	else if (strcmp(f, "isFavorite") == 0 ||
	    strcmp(f, "visibility") == 0)
		w = was_of(keeper, f);
	cJSON_AddItemToObject(c, "was", w ? w : cJSON_CreateNull());
}

cJSON *
merge_plan(const struct merge_in *in, cJSON *notmoved)
{
	cJSON *changes = cJSON_CreateArray(), *c;

	plan_gps(in, changes, notmoved);
	plan_date(in, changes, notmoved);
	plan_description(in, changes);
	plan_flags(in, changes);
	plan_sets(in, changes);
	cJSON_ArrayForEach(c, changes)
		add_was(c, in->keeper);
	return changes;
}

int
merge_is_asset_field(const cJSON *c)
{
	const char *f = rec_str(c, "field");

	return f && strcmp(f, "tag") != 0 && strcmp(f, "album") != 0 &&
	    strcmp(f, "face") != 0;
}

cJSON *
merge_update_body(const cJSON *changes)
{
	const cJSON *c, *v;
	cJSON *body = NULL;
	const char *f;

	cJSON_ArrayForEach(c, changes) {
		if (!merge_is_asset_field(c))
			continue;
		if (body == NULL)
			body = cJSON_CreateObject();
		f = rec_str(c, "field");
		v = cJSON_GetObjectItemCaseSensitive(c, "value");
		if (strcmp(f, "gps") == 0) {
			/* Immich wants both or neither. */
			cJSON_AddItemToObject(body, "latitude",
			    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(v,
			    "latitude"), 1));
			cJSON_AddItemToObject(body, "longitude",
			    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(v,
			    "longitude"), 1));
		} else
			cJSON_AddItemToObject(body, f, cJSON_Duplicate(v, 1));
	}
	return body;
}

int
merge_arrived(const cJSON *c, const cJSON *keeper, const cJSON *albums)
{
	const char *f = rec_str(c, "field"), *s;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
	long long a, b;
	double lat, lon, r;

	if (f == NULL)
		return 0;
	if (strcmp(f, "gps") == 0) {
		double wl, wo;
		return get_num(v, "latitude", &wl) &&
		    get_num(v, "longitude", &wo) &&
		    get_num(asset_exif(keeper), "latitude", &lat) &&
		    get_num(asset_exif(keeper), "longitude", &lon) &&
		    fabs(lat - wl) <= GPS_EPS && fabs(lon - wo) <= GPS_EPS;
	}
	if (strcmp(f, "dateTimeOriginal") == 0)
		return merge_parse_instant(v->valuestring, &a) == 0 &&
		    merge_parse_instant(rec_str(asset_exif(keeper),
		    "dateTimeOriginal"), &b) == 0 && a == b;
	if (strcmp(f, "description") == 0)
		return (s = rec_str(asset_exif(keeper), "description")) != NULL &&
		    strcmp(s, v->valuestring) == 0;
	if (strcmp(f, "rating") == 0)
		return get_num(asset_exif(keeper), "rating", &r) &&
		    r == v->valuedouble;
	if (strcmp(f, "isFavorite") == 0)
		return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(keeper,
		    "isFavorite"));
	if (strcmp(f, "visibility") == 0)
		return (s = rec_str(keeper, "visibility")) != NULL &&
		    strcmp(s, v->valuestring) == 0;
	if (strcmp(f, "tag") == 0)
		return rec_has_id(cJSON_GetObjectItemCaseSensitive(keeper, "tags"),
		    v->valuestring);
	if (strcmp(f, "album") == 0)
		return rec_has_id(albums, v->valuestring);
	return 0;
}

/* A loser's description as merge_plan reads it: "" for none. */
static const char *
desc_of(const cJSON *asset)
{
	const char *d = rec_str(asset_exif(asset), "description");

	return blank(d) ? "" : d;
}

/* Its rating as merge_plan reads it: 0 unless a whole 1 to 5. */
static double
rating_of(const cJSON *asset)
{
	double r;

	return get_num(asset_exif(asset), "rating", &r) && good_rating(r) ? r : 0;
}

static int
archived(const cJSON *asset)
{
	const char *v = rec_str(asset, "visibility");

	return v && strcmp(v, "archive") == 0;
}

char *
merge_render_date(const cJSON *asset)
{
	long long ms;

	if (merge_parse_instant(rec_str(asset_exif(asset), "dateTimeOriginal"),
	    &ms) < 0)
		return NULL;
	return render_date(asset, ms);
}

/* Every valid tag id of a is on b. */
static int
tags_within(const cJSON *a, const cJSON *b)
{
	const cJSON *t, *ta = cJSON_GetObjectItemCaseSensitive(a, "tags");
	const cJSON *tb = cJSON_GetObjectItemCaseSensitive(b, "tags");
	const char *id;

	if (!cJSON_IsArray(ta))
		return 1;
	cJSON_ArrayForEach(t, ta) {
		id = rec_str(t, "id");
		if (valid_uuid(id) && !rec_has_id(tb, id))
			return 0;
	}
	return 1;
}

int
merge_loser_changed(const cJSON *snap, const cJSON *fresh, char *why,
    size_t whysz)
{
	const char *what = NULL;
	double la, lo, lb, lob;
	int ga, gb;
	char *da, *db;

	if (!cJSON_IsObject(snap) || !cJSON_IsObject(fresh)) {
		if (whysz > 0)
			snprintf(why, whysz, "no copy of the loser %s",
			    cJSON_IsObject(snap) ? "from the server" :
			    "in the record");
		return 1;
	}
	ga = get_gps(snap, &la, &lo);
	gb = get_gps(fresh, &lb, &lob);
	da = merge_render_date(snap);
	db = merge_render_date(fresh);
	if (strcmp(desc_of(snap), desc_of(fresh)) != 0)
		what = "description";
	else if (rating_of(snap) != rating_of(fresh))
		what = "rating";
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(snap,
	    "isFavorite")) != cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    fresh, "isFavorite")))
		what = "favorite";
	else if (archived(snap) != archived(fresh))
		what = "visibility";
	else if (ga != gb || (ga && (fabs(la - lb) > GPS_EPS ||
	    fabs(lo - lob) > GPS_EPS)))
		what = "location";
	else if ((da == NULL) != (db == NULL) || (da && strcmp(da, db) != 0))
		what = "capture time";
	else if (!tags_within(snap, fresh) || !tags_within(fresh, snap))
		what = "tags";
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(fresh,
	    "isEdited")) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    snap, "isEdited")))
		what = "edits (isEdited)";
	free(da);
	free(db);
	if (what == NULL)
		return 0;
	if (whysz > 0)
		snprintf(why, whysz, "%s changed since the plan was made", what);
	return 1;
}

/* The keeper's entry of a BulkIdResponseDto[] reply: NULL when added or
 * already there ("duplicate"), else the reason. */
const char *
merge_bulk_failure(const cJSON *reply, const char *keep)
{
	const cJSON *e, *hit = NULL;
	const char *why;

	cJSON_ArrayForEach(e, reply) {
		const char *id = rec_str(e, "id");
		if (hit == NULL || (id && strcmp(id, keep) == 0))
			hit = e;
	}
	if (hit == NULL)
		return "empty reply";
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hit, "success")))
		return NULL;
	why = rec_str(hit, "error");
	if (why && strcmp(why, "duplicate") == 0)
		return NULL;
	return why ? why : "refused";
}

int
merge_held(const cJSON *rec, const char *const *accepted, size_t n)
{
	const cJSON *r, *review = cJSON_GetObjectItemCaseSensitive(rec,
	    "review");
	const char *code;
	size_t i;

	cJSON_ArrayForEach(r, review) {
		code = rec_str(r, "code");
		for (i = 0; code && i < n; i++)
			if (strcmp(accepted[i], code) == 0)
				break;
		if (code == NULL || i == n)
			return 1;
	}
	return 0;
}

cJSON *
merge_restore_body(const cJSON *old, const char *video)
{
	const cJSON *e = asset_exif(old);
	cJSON *b = cJSON_CreateObject();
	double r, lat, lon;
	const char *s;
	char *d;

	cJSON_AddBoolToObject(b, "isFavorite",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(old, "isFavorite")));
	if ((s = rec_str(old, "visibility")) && strcmp(s, "archive") == 0)
		cJSON_AddStringToObject(b, "visibility", s);
	if ((s = rec_str(e, "description")) && *s)
		cJSON_AddStringToObject(b, "description", s);
	if (get_num(e, "rating", &r) && merge_valid_rating(r))
		cJSON_AddNumberToObject(b, "rating", r);
	if (get_num(e, "latitude", &lat) && get_num(e, "longitude", &lon) &&
	    (lat != 0 || lon != 0)) {
		cJSON_AddNumberToObject(b, "latitude", lat);
		cJSON_AddNumberToObject(b, "longitude", lon);
	}
	if ((d = merge_render_date(old)) != NULL) {
		cJSON_AddStringToObject(b, "dateTimeOriginal", d);
		free(d);
	}
	if (video)
		cJSON_AddStringToObject(b, "livePhotoVideoId", video);
	return b;
}

/* Whether field f of an update body is on asset a. */
static int
field_arrived(const cJSON *f, const cJSON *a)
{
	const char *k = f->string;
	const cJSON *v;
	long long m1, m2;

	if (strcmp(k, "isFavorite") == 0 || strcmp(k, "visibility") == 0 ||
	    strcmp(k, "livePhotoVideoId") == 0)
		v = cJSON_GetObjectItemCaseSensitive(a, k);
	else
		v = cJSON_GetObjectItemCaseSensitive(asset_exif(a), k);
	if (cJSON_IsNumber(f))
		return cJSON_IsNumber(v) &&
		    fabs(v->valuedouble - f->valuedouble) <= GPS_EPS;
	if (cJSON_IsBool(f))
		return cJSON_IsBool(v) && cJSON_IsTrue(v) == cJSON_IsTrue(f);
	if (strcmp(k, "dateTimeOriginal") == 0)
		return merge_parse_instant(cJSON_GetStringValue(v), &m1) == 0 &&
		    merge_parse_instant(f->valuestring, &m2) == 0 && m1 == m2;
	return cJSON_IsString(v) && strcmp(v->valuestring, f->valuestring) == 0;
}

char *
merge_missing(const cJSON *body, const cJSON *fresh)
{
	const cJSON *f;
	char *out = NULL;

	cJSON_ArrayForEach(f, body) {
		if (field_arrived(f, fresh))
			continue;
		xappend(&out, ", ", f->string);
	}
	return out;
}

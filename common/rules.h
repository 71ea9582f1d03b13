/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_RULES_H
#define IMMICH_RULES_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/asset.h"

/*
 * Choosing the keeper of a duplicate group (immich-dupes), and typed
 * reads of AssetResponseDto fields.  A field of the wrong type reads as
 * absent: nothing here trusts the server's types.
 */

#define RULES_DEFAULT \
	"online,internal,edited,pixels,format,size,exif,oldest,favorite"
#define RULES_MAX 32

struct rules {
	int	 n;
	int	 rule[RULES_MAX];
};

/* Parse a comma-separated rule list; -1 with a message in err if a name
 * is unknown or the list is empty or too long. */
int	 rules_parse(const char *, struct rules *, char *err, size_t errsz);
/* All rule names, comma-separated, for messages. */
const char *rules_names(void);
/*
 * The index of the keeper among n assets (n >= 1), by the rules in order
 * and then the lowest id; *why is the name of the rule that left one
 * candidate ("id" when the rules all tied).  sugg is the group's
 * suggestedKeepAssetIds (may be NULL).
 */
int	 rules_pick(const struct rules *, cJSON *const *assets, int n,
	    const cJSON *sugg, const char **why);

/* Typed reads (asset_exif and the rest are in asset.h). */
/* A non-empty string member of the asset, or of its exifInfo. */
const char *asset_str(const cJSON *a, const char *key);
const char *exif_str(const cJSON *a, const char *key);
/* A finite number member of exifInfo: 1 and *v, or 0. */
int	 exif_num(const cJSON *a, const char *key, double *v);
/* 1 only for a JSON true. */
int	 asset_true(const cJSON *a, const char *key);
/* width*height, else exifImageWidth*exifImageHeight; 0 if unknown. */
double	 asset_pixels(const cJSON *a);
/* Format class: 2 camera RAW, 1 HEIF family (heic, heif, hif, avif, jxl),
 * 0 anything else.  By originalFileName extension, else originalMimeType. */
int	 asset_format(const cJSON *a);
int	 asset_is_jpeg(const cJSON *a);
/* Capture instant (exifInfo.dateTimeOriginal) in seconds since the epoch:
 * 1 and *t, or 0. */
int	 asset_taken(const cJSON *a, double *t);
/*
 * Whether that capture time is only the date of the file: Immich gives a
 * file with no date in it the earliest of the upload's fileCreatedAt and
 * the file's mtime (metadata.service.ts, getDates), and stores the mtime
 * as exifInfo.modifyDate.  Told by: dateTimeOriginal equal to modifyDate
 * and to localDateTime (to the millisecond), no timeZone, no camera make
 * or model.  The reasoning and its limits: immich-consolidate(1), CAVEATS.
 */
int	 asset_file_dated(const cJSON *a);
/* Duration in milliseconds: an integer (3.x) or "H:MM:SS.ffffff"
 * (2.x); 1 and *ms, or 0. */
int	 asset_duration(const cJSON *a, double *ms);
/* latitude and longitude, both present, in range and not exactly 0,0
 * (which counts as none, as in immich-consolidate): 1, else 0. */
int	 asset_gps(const cJSON *a, double *lat, double *lon);
/* Non-empty exifInfo values, counted as the server counts them. */
int	 exif_count(const cJSON *a);

/* An ISO 8601 date-time ("YYYY-MM-DD[T ]hh:mm:ss[.f][Z|+hh:mm]"; no
 * offset means UTC) as seconds since the epoch: 0 and *t, or -1. */
int	 parse_instant(const char *, double *t);
/* Great-circle distance in metres. */
double	 haversine_m(double lat1, double lon1, double lat2, double lon2);

#endif

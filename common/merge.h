/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_MERGE_H
#define IMMICH_MERGE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * What a keeper lacks that its losers have, as a list of changes
 * {field, value, from [, name], was}; the rules are in
 * immich-consolidate(1); "was" is the keeper's value before (null if
 * none; null for a tag or album).
 * Fields: "gps" (value {latitude, longitude}), "dateTimeOriginal"
 * (ISO 8601 with offset), "description", "rating", "isFavorite",
 * "visibility", "tag" and "album" (value: the tag's or album's id).
 */
struct merge_in {
	const cJSON	*keeper;	/* AssetResponseDto, fresh */
	const cJSON	*keeper_albums;	/* AlbumResponseDto[] or NULL */
	const cJSON	**losers;	/* AssetResponseDto, fresh */
	const cJSON	**loser_albums;	/* AlbumResponseDto[] per loser */
	int		 nlosers;
};

/* The changes (an array, maybe empty); things that could not be moved
 * are appended to notmoved as {field, from, reason}. */
cJSON	*merge_plan(const struct merge_in *, cJSON *notmoved);
/* The PUT /assets/{id} body (UpdateAssetDto) for the asset-field
 * changes, or NULL when there are none. */
cJSON	*merge_update_body(const cJSON *changes);
/* Whether change c is present on the re-read keeper (and its albums). */
int	 merge_arrived(const cJSON *c, const cJSON *keeper,
	    const cJSON *keeper_albums);
/* Whether c is one of the fields sent in the update body (not a tag,
 * album or face). */
int	 merge_is_asset_field(const cJSON *c);

/* The keeper's entry of a BulkIdResponseDto[] reply (PUT /albums/{id}/assets,
 * PUT /tags/{id}/assets): NULL when added or already there ("duplicate"),
 * else the reason. */
const char *merge_bulk_failure(const cJSON *reply, const char *keep);
/* 1 when the record's review list holds a code not among accepted[n]. */
int	 merge_held(const cJSON *rec, const char *const *accepted, size_t n);

/*
 * Whether a loser changed, since the plan was made, in anything
 * consolidation reads: snapshot is its copy in the record's "assets",
 * fresh what GET /assets/{id} says now.  Compared as merge_plan reads
 * them: description (all blanks = none), rating (only a whole 1 to 5
 * counts), isFavorite, archived or not, location (0,0 = none; within
 * 10^-6 degrees), capture time (as it would be sent, offset included),
 * the set of tag ids, and isEdited (true now, not in the snapshot).  1 with a short reason in why (when whysz > 0) if one
 * differs or snapshot is not an object; 0 if not.
 */
int	 merge_loser_changed(const cJSON *snapshot, const cJSON *fresh,
	    char *why, size_t whysz);

/*
 * immich-restore's PUT /assets/{id} body for an asset uploaded again from
 * its backup: old (the sidecar's copy) is the truth for favorite,
 * archive, description, rating (any Immich takes, -1 "rejected" too),
 * GPS (0,0 = none) and capture time (merge_render_date); video, when
 * not NULL, is its live-photo video's id.
 */
cJSON	*merge_restore_body(const cJSON *old, const char *video);
/* The fields of an update body that are not on fresh (the re-read
 * asset), as "a, b, c" (caller frees), or NULL when all arrived. */
char	*merge_missing(const cJSON *body, const cJSON *fresh);
/* The asset's capture time (exifInfo.dateTimeOriginal) as merge sends
 * it: ISO 8601 in its own time zone (exifInfo.timeZone, else the offset
 * localDateTime shows, else UTC), to the minute.  NULL when it has none. */
char	*merge_render_date(const cJSON *asset);
/* A rating Immich takes: a whole -1 ("rejected") or 1 to 5. */
int	 merge_valid_rating(double r);

/* Helpers, exposed for tests.  An ISO 8601 instant to milliseconds
 * since the epoch (no offset = UTC); -1 if it is not one. */
int	 merge_parse_instant(const char *, long long *ms);
/* The offset in seconds east of UTC of time zone tz at instant ms:
 * "UTC", "UTC+2", "UTC-05:30", "+02:00" or an IANA name found in the
 * time zone database.  -1 if tz is neither. */
int	 merge_zone_offset(const char *tz, long long ms, long *off);

#endif

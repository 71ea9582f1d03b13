/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_MEMBERS_H
#define IMMICH_MEMBERS_H

#include <cjson/cJSON.h>

/*
 * Which assets are in which album, and which show which named person,
 * for a whole run rather than asked per asset: GET /albums (one request:
 * every album the user can see, with its updatedAt and assetCount), then
 * POST /search/metadata {albumIds: [id]} per album, 1,000 assets a page.
 * Asked again, only albums new, gone, or with another updatedAt or
 * assetCount since the last read are read again (Immich sets an album's
 * updatedAt when assets are added to it).  People: GET /people, then
 * POST /search/metadata {personIds: [id]} per person with a name.
 */
struct members;

struct members *members_new(void);
/* Read the albums, again only those changed: 0, or -1 with *msg (the
 * caller frees it); after -1 nothing is known (members_albums fails). */
int	 members_albums_read(struct members *, char **msg);
/* [{id, albumName}] of the albums asset id is in (a new array), or NULL
 * when they were not read. */
cJSON	*members_albums(const struct members *, const char *id);
/* Record that asset id was added to album aid (by this run). */
void	 members_album_add(struct members *, const char *aid, const char *id);
/* How many people have a name (GET /people, once per call): the number,
 * or -1 with *msg. */
long	 members_people_count(struct members *, char **msg);
/* Read which assets show each named person: 0 or -1 with *msg. */
int	 members_people_read(struct members *, char **msg);
/* [{id, name}] of the named people asset id shows (a new array), or NULL
 * when not read. */
cJSON	*members_people(const struct members *, const char *id);
void	 members_free(struct members *);

#endif

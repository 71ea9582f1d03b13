/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_API_H
#define IMMICH_API_H

#include <cjson/cJSON.h>

/*
 * The Immich API over http.h: JSON requests with one way of saying what
 * went wrong, and the few typed calls every stage makes (an asset, the
 * albums of an asset, the server's version, features and settings).
 * Messages name the request as the server sees it: the method and the
 * path with the prefix of IMMICH_INSTANCE_URL ("GET /api/assets/ID",
 * "GET /photos/api/assets/ID" for https://host/photos).
 *
 * Unreachable: a call that got no reply at all after the retries (no
 * HTTP status) counts towards api_unreachable(); any final reply sets it
 * back to 0; a retried status that outlasted the retries (429, 5xx)
 * leaves it as it is.  Each stage decides what it does about it (its
 * policy is in immich(7), EXIT STATUS).
 *
 * The seam agreed for issue 16, adjusted: api_call also returns 1 for
 * a 2xx reply that is not JSON; a 429 or 5xx that outlasted the retries
 * (-1) is said "HTTP n: text", not "no reply"; api_server exits; added
 * api_upload (restore's POST /assets) and api_album_list (the
 * projection, for albums a record already holds).
 */

struct api_err {
	long	 status;	/* HTTP status of the reply; 0 if none */
	char	*msg;		/* "METHOD PREFIX/path: HTTP n: text" or
				 * "METHOD PREFIX/path: no reply: why" (no
				 * status at all); NULL on success */
};

/*
 * A request with an optional JSON body.  0: a 2xx reply, *reply its
 * parsed body (cJSON null for an empty one; reply may be NULL to drop
 * it).  1: a final non-2xx reply, or a 2xx one that is not JSON.  -1: no
 * usable reply after the retries.  On 1 and -1, *reply is NULL and e is
 * set (free it with api_err_free); e may be NULL.
 */
int	 api_call(const char *method, const char *path, const cJSON *body,
	    cJSON **reply, struct api_err *e);
/* The same over http_json_once: a request never sent twice. */
int	 api_call_once(const char *method, const char *path,
	    const cJSON *body, cJSON **reply, struct api_err *e);
/* POST /assets, multipart: fields ("name=value", NULL-terminated), then
 * the file at path as assetData named name.  0 with *reply (an object)
 * on 200 or 201; 1 or -1 with e set, as api_call.  Retried as
 * http_upload says. */
int	 api_upload(const char *const *fields, const char *path,
	    const char *name, cJSON **reply, struct api_err *e);
/* GET /assets/ID: 1 found (*asset, an object), 0 not on the server
 * (400 or 404; e set), -1 another failure (e set). */
int	 api_asset(const char *id, cJSON **asset, struct api_err *e);
/* GET /albums?assetId=ID as [{id, albumName}] (albums with an id that
 * is a UUID; albumName when it has one), or NULL with e set. */
cJSON	*api_albums_of(const char *id, struct api_err *e);
/* The [{id, albumName}] projection of a list of albums (a new array). */
cJSON	*api_album_list(const cJSON *albums);
/* GET a JSON object from the server (/server/features, /server/config,
 * /users/me, ...), or exit EX_FATAL saying why. */
cJSON	*api_server(const char *path);
/* The server's major version (GET /server/version once; 3 when the
 * reply does not say); exits EX_FATAL when it cannot be read. */
int	 api_server_major(void);
/* The user's id (GET /users/me, once), or exit EX_FATAL saying why. */
const char *api_user_id(void);
/* Why trashing on this server would delete for good, or NULL: its trash
 * is off (GET /server/features), or keeps things for 0 days
 * (GET /server/config: trashDays).  Exits EX_FATAL on an unreadable
 * reply. */
const char *api_trash_unsafe(void);
/* Calls in a row that got no reply at all. */
int	 api_unreachable(void);
/* A request made over http.h directly (a streamed download) counts as
 * api_call's do: status 0 (no reply at all) adds one to
 * api_unreachable(), any other sets it back to 0. */
void	 api_seen(long status);
/* The API path prefix from IMMICH_INSTANCE_URL, e.g. "/api". */
const char *api_prefix(void);
void	 api_err_free(struct api_err *);

#endif

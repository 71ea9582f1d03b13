/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_REUPLOAD_H
#define IMMICH_REUPLOAD_H

#include <cjson/cJSON.h>

#include "common/ndjson.h"

/*
 * Bring asset id, gone from the server, back from the backup the record
 * names (its "backup" entry and sidecar, checked by sidecar_checked):
 * POST /assets, the new asset's checksum must be the backup's SHA-1,
 * then the sidecar's metadata, albums and tags are put back; a live
 * photo's video first.  Returns the "restored" entry {ok, how ("upload",
 * or "exists": the bytes are another live asset's, left as it is),
 * newId, newVideoId, duplicate, metadataFailed} or {ok: false, detail,
 * newId}; *ok set when the asset is back with the backup's bytes.  What
 * failed on the way is also a rec_error of rec (in names its line).
 */
cJSON	*reupload_asset(cJSON *rec, const struct ndjson_in *in,
	    const char *id, int *ok);

#endif

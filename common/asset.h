/* SPDX-License-Identifier: ISC */
#ifndef IMMICH_ASSET_H
#define IMMICH_ASSET_H

#include <cjson/cJSON.h>

/* Fields of Immich's AssetResponseDto, read in one place. */

/* exifInfo.fileSizeInByte, or -1 when it does not say. */
long long asset_size(const cJSON *);
/* In an external library (it has a libraryId): the file is the user's. */
int	 asset_external(const cJSON *);
/* exifInfo when it is an object, else NULL. */
const cJSON *asset_exif(const cJSON *);
/* The SHA-1 of the original, base64 (checksum), or NULL. */
const char *asset_checksum(const cJSON *);
/* The id of its live-photo video (livePhotoVideoId), or NULL. */
const char *asset_video(const cJSON *);

#endif

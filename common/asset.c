/* SPDX-License-Identifier: ISC */
#include "common/asset.h"
#include "common/ndjson.h"

const cJSON *
asset_exif(const cJSON *a)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, "exifInfo");

	return cJSON_IsObject(x) ? x : NULL;
}

long long
asset_size(const cJSON *a)
{
	return rec_num(asset_exif(a), "fileSizeInByte");
}

int
asset_external(const cJSON *a)
{
	return rec_str(a, "libraryId") != NULL;
}

const char *
asset_checksum(const cJSON *a)
{
	return rec_str(a, "checksum");
}

const char *
asset_video(const cJSON *a)
{
	return rec_str(a, "livePhotoVideoId");
}
